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
  /**
   * Zoom per view id, as a multiple of the picture that fits the view's box (1 = fit, the default).
   * Kept in the selection because the app saves the selection with setState: the choice survives the
   * webview being hidden and shown again.
   */
  zoom?: Record<string, number>;
}

export interface ViewEnv {
  theme: Theme;
  sel: Selection;
  setSel(patch: Partial<Selection>): void;
  /** Switch to another view (e.g. model view → heatmap). */
  open(viewId: string): void;
  runs: RunData[];
  /** Width of the view's box (CSS px). */
  width: number;
  /**
   * Height of the view's box (CSS px): the viewport below the header, the tabs and the view's own
   * controls. The panel usually opens in the bottom area, a few hundred pixels tall, so views that can
   * shrink (the heatmap, head view, model view) size their first picture to it.
   */
  height: number;
  /** Re-render this view (after a view-local setting changed). */
  redraw(): void;
}

export type Control =
  | { kind: 'select'; id: string; label: string; value: string; options: { value: string; label: string }[]; set(v: string): void }
  | { kind: 'checkbox'; id: string; label: string; checked: boolean; set(v: boolean): void }
  | { kind: 'number'; id: string; label: string; value: number; min?: number; max?: number; step?: number; set(v: number): void }
  | { kind: 'text'; id: string; label: string; value: string; set(v: string): void }
  /** A slider over whole numbers min..max (arrow keys move it); `valueText` is shown beside it and read out. */
  | { kind: 'range'; id: string; label: string; value: number; min: number; max: number; valueText?: string; set(v: number): void }
  | { kind: 'button'; id: string; label: string; run(): void; title?: string };

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
  /** More tables exported beside `csv` (as `<name>-<table>.csv`), e.g. a ranked list of units. */
  tables?: { name: string; csv: string }[];
  /** Whole tensors for .npy export. */
  tensors?: { name: string; tensor: FloatTensor }[];
}

/**
 * The part of a view's picture that scrolls (a zoomed heatmap): the box it shows (scene px), the size of
 * everything that scrolls through that box, and where the box is now. The host lays native scrollbars
 * over the box and reports the user's scrolling back with View.scrolled.
 */
export interface ScrollArea {
  x: number;
  y: number;
  w: number;
  h: number;
  contentW: number;
  contentH: number;
  scrollX: number;
  scrollY: number;
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
  /** A click (or Enter on the keyboard pointer); `mods.shift` extends a selection where the view has one. */
  click?(env: ViewEnv, x: number, y: number, mods?: { shift: boolean }): void;
  /**
   * Pointer gestures with the button held (selecting a span of tokens by dragging): 'start' on press,
   * 'move' while held, 'end' on release. A view that returns true on 'start' takes the gesture: it gets
   * the moves and the release, and the click that follows the release is not sent.
   */
  drag?(env: ViewEnv, phase: 'start' | 'move' | 'end', x: number, y: number, mods: { shift: boolean }): boolean;
  wheel?(env: ViewEnv, x: number, y: number, deltaY: number): boolean;
  /** Views that zoom: Ctrl+wheel (and a touchpad pinch) zooms by `factor` around (x, y) in scene px. */
  zoomAt?(env: ViewEnv, factor: number, x: number, y: number): void;
  /** The scrolling part of the last scene, if any (see ScrollArea). */
  scrollArea?(): ScrollArea | undefined;
  /** The user scrolled the ScrollArea to (x, y); returns true when the picture must be drawn again. */
  scrolled?(x: number, y: number): boolean;
  /** Keyboard access; returns true when it handled the key. */
  key?(env: ViewEnv, e: KeyboardEvent): boolean;
  numbers(env: ViewEnv): ExportNumbers;
  /** Deferred attention layers this view needs now; the app fetches them and draws the view again. */
  needs?(env: ViewEnv): AttentionNeed[];
  /** Numbers the tests compare with the CLI (plain JSON-able). */
  probeValues?(env: ViewEnv): Record<string, number[] | number>;
}
