/**
 * `window.__seqlens`: what the headless-Chromium tests and the benchmark read — the numbers behind each
 * view, render and hover timings, exports. Read-only with respect to the model: it only drives the UI.
 */
import type { App } from './app.js';
import type { Trace } from '../src/core/trace/traceTypes.js';
import { RunData } from './data/runData.js';
import { labelOf } from './data/tokenDisplay.js';
import type { TokenLabel } from '../src/core/tokenize/tokenLabels.js';
import { inferenceInWorker, liveSessionCount, warmUpResult, type WarmUpResult } from './runtime/ortWebBackend.js';

export interface SeqLensHook {
  app: App;
  idle(): Promise<void>;
  /** Resolves when no run and no attention load is in flight and the shown view needs nothing more. */
  settled(): Promise<void>;
  backend(): string | undefined;
  /** onnxruntime-web sessions created and not yet released. */
  sessions(): number;
  /** Whether onnxruntime-web runs inference in its worker (off the UI thread). */
  inWorker(): boolean;
  /** The page-start warm-up of onnxruntime-web, once it has finished; undefined when none was started. */
  warmUp(): Promise<WarmUpResult | undefined>;
  viewIds(): string[];
  /** Shows a view and returns its render time (ms). */
  show(id: string): number;
  /** The numbers a view draws (for comparison with the CLI). */
  values(id: string): Record<string, number[] | number> | undefined;
  unavailable(id: string): string | undefined;
  hover(id: string, x: number, y: number): number;
  click(id: string, x: number, y: number): void;
  exportView(id: string): Promise<string[]>;
  trace(i?: number): unknown;
  /** How the views label run `i`'s tokens (source tokens, then generated ones), as the axes and hovers do. */
  labels(i?: number): { tokens: TokenLabel[]; generated: TokenLabel[] } | undefined;
  /** Why the latest run failed, if it did (a cancel is not a failure). */
  error(): string | undefined;
  /** Shows a Trace built outside a run (the benchmark's synthetic 12×12×2048 traces). */
  load(traces: Trace[]): void;
}

declare global {
  interface Window { __seqlens?: SeqLensHook }
}

export function installTestHook(app: App): void {
  const idx = (id: string): number => {
    const i = app.views.findIndex((v) => v.id === id);
    if (i < 0) throw new Error(`no view ${id}`);
    return i;
  };
  window.__seqlens = {
    app,
    idle: () => app.idle,
    settled: () => app.settled(),
    backend: () => app.runner.activeBackend,
    sessions: () => liveSessionCount(),
    inWorker: () => inferenceInWorker,
    warmUp: async () => warmUpResult(),
    viewIds: () => app.views.map((v) => v.id),
    show: (id) => { app.showView(idx(id)); return app.host(idx(id)).timings.render; },
    values: (id) => {
      const v = app.views[idx(id)];
      const env = app.env(v);
      return v.unavailable(env) ? undefined : v.probeValues?.(env);
    },
    unavailable: (id) => { const v = app.views[idx(id)]; return v.unavailable(app.env(v)); },
    hover: (id, x, y) => app.host(idx(id)).onHover(x, y),
    click: (id, x, y) => { const v = app.views[idx(id)]; v.click?.(app.env(v), x, y); },
    exportView: async (id) => {
      app.showView(idx(id));
      const names: string[] = [];
      for (const f of ['png', 'svg', 'csv', 'json', 'npy'] as const) names.push(...await app.host(idx(id)).export(f));
      return names;
    },
    // The run as it stands: its attention lives in the layer store (fetched and evicted there), not in the trace.
    trace: (i = 0) => app.runs[i]?.snapshot(),
    labels: (i = 0) => {
      const t = app.runs[i]?.trace;
      return t && { tokens: t.tokens.map(labelOf), generated: (t.generated ?? []).map(labelOf) };
    },
    error: () => app.lastError,
    load: (traces) => app.showTraces(traces.map((t) => new RunData(t, t.model))),
  };
}
