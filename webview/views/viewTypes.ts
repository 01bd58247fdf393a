/**
 * The contract every visualization implements. A view is pure drawing over RunData: it declares its
 * controls, builds a Scene for a width, answers hit-tests for hover/click, and hands out its numbers
 * for export. The ViewHost owns the canvas, the tooltip, the controls and the exports.
 */
import type { AttentionStream } from '../../src/core/types.js';
import type { FloatTensor } from '../../src/core/run/backend.js';
import type { RunData } from '../data/runData.js';
import type { Scene } from '../render/scene.js';
import type { Theme } from '../render/theme.js';

export type HeadPick = number | 'mean' | 'rollout';

/** Selection shared by all views (picking a layer in the model view opens it in the heatmap). */
export interface Selection {
  stream: AttentionStream;
  layer: number;
  head: HeadPick;
  /** Pinned token index (query axis), if any. */
  pinned?: number;
  /** Heads hidden in the head view. */
  hiddenHeads: number[];
  /** Units traced in the hidden-state view. */
  units: number[];
  threshold: number;
  /** Generated step shown by the encoder-decoder view. */
  step: number;
}

export interface ViewEnv {
  theme: Theme;
  sel: Selection;
  setSel(patch: Partial<Selection>): void;
  /** Switch to another view (e.g. model view → heatmap). */
  open(viewId: string): void;
  runs: RunData[];
  width: number;
  /** Re-render this view (after a view-local setting changed). */
  redraw(): void;
}

export type Control =
  | { kind: 'select'; id: string; label: string; value: string; options: { value: string; label: string }[]; set(v: string): void }
  | { kind: 'checkbox'; id: string; label: string; checked: boolean; set(v: boolean): void }
  | { kind: 'number'; id: string; label: string; value: number; min?: number; max?: number; step?: number; set(v: number): void }
  | { kind: 'text'; id: string; label: string; value: string; set(v: string): void }
  | { kind: 'button'; id: string; label: string; run(): void };

export interface HoverInfo {
  /** Tooltip text (plain; lines separated by \n). */
  text: string;
  /** Outlines drawn on the overlay (CSS px in scene coordinates). */
  marks?: { x: number; y: number; w: number; h: number }[];
}

export interface ExportNumbers {
  /** Base file name without extension. */
  name: string;
  csv?: string;
  json?: unknown;
  /** Whole tensors for .npy export. */
  tensors?: { name: string; tensor: FloatTensor }[];
}

/** A layer's attention a view must have in memory to draw (long inputs fetch it when shown). */
export interface AttentionNeed {
  run: RunData;
  stream: AttentionStream;
  layer: number;
}

export interface View {
  readonly id: string;
  readonly title: string;
  /** Why the view has nothing to show for these runs (undefined when it has). */
  unavailable(env: ViewEnv): string | undefined;
  controls(env: ViewEnv): Control[];
  scene(env: ViewEnv): Scene;
  hover?(env: ViewEnv, x: number, y: number): HoverInfo | undefined;
  click?(env: ViewEnv, x: number, y: number): void;
  wheel?(env: ViewEnv, x: number, y: number, deltaY: number): boolean;
  /** Keyboard access; returns true when it handled the key. */
  key?(env: ViewEnv, e: KeyboardEvent): boolean;
  numbers(env: ViewEnv): ExportNumbers;
  /** Deferred attention layers this view needs now; the app fetches them and draws the view again. */
  needs?(env: ViewEnv): AttentionNeed[];
  /** Numbers the tests compare with the CLI (plain JSON-able). */
  probeValues?(env: ViewEnv): Record<string, number[] | number>;
}
