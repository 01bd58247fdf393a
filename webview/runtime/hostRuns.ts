/**
 * Runs made outside the page (the native backend, onnxruntime-node beside the extension host): the page
 * only draws them. A WireRun becomes the same RunData a page run gives, over a LayerStore whose deferred
 * layers are fetched by asking the host (fetchLayers → layersResult / hostError), so views, eviction and
 * "Loading the attention of layer N…" work as on the webview backends. The model's bytes never reach the page.
 */
import type { ErrorInfo, WebviewNotification, WireRun } from '../../src/shared/protocol.js';
import type { ProbeTensor } from '../../src/core/trace/traceTypes.js';
import { LayerStore } from '../../src/core/run/layerStore.js';
import { freezeTrace } from '../../src/core/trace/frozenTrace.js';
import { parseManifest, type ModelManifest } from '../../src/core/manifest.js';
import { SeqLensError, knownErrorCode } from '../../src/core/errors.js';
import { RunData } from '../data/runData.js';

interface Waiting {
  resolve(probes: ProbeTensor[]): void;
  reject(e: Error): void;
}

/** The page's requests to the host for deferred attention, paired by the page's own ids. */
export class HostLayers {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(private readonly post: (m: WebviewNotification) => void) {}

  /** Deferred attention of run `runKey`, by probe name; `signal` cancels (the host stops the worker's fetch). */
  fetch(runKey: string, names: string[], signal?: AbortSignal): Promise<ProbeTensor[]> {
    if (signal?.aborted) return Promise.reject(new SeqLensError('cancelled', 'Loading the attention was cancelled.'));
    const id = this.nextId++;
    return new Promise<ProbeTensor[]>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.waiting.delete(id)) return;
        this.post({ type: 'cancelHostWork', id, what: 'fetch' });
        reject(new SeqLensError('cancelled', 'Loading the attention was cancelled.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      this.waiting.set(id, {
        resolve: (p) => { done(); resolve(p); },
        reject: (e) => { done(); reject(e); },
      });
      this.post({ type: 'fetchLayers', id, runKey, names });
    });
  }

  /** The host's answer to fetch `inReplyTo` (one not waited for any more is dropped). */
  settle(inReplyTo: number, answer: { probes: ProbeTensor[] } | { error: ErrorInfo }): boolean {
    const w = this.waiting.get(inReplyTo);
    if (!w) return false;
    this.waiting.delete(inReplyTo);
    if ('probes' in answer) w.resolve(answer.probes);
    else {
      const code = knownErrorCode(answer.error.code);
      w.reject(new SeqLensError(code, answer.error.message));
    }
    return true;
  }

  /** Fetches waiting now (tests). */
  get pending(): number {
    return this.waiting.size;
  }
}

/** A run from the host as the views read it; its deferred layers come through `layers`. */
export function runDataFromWire(wire: WireRun, label: string, layers: HostLayers): RunData {
  let manifest: ModelManifest | undefined;
  try {
    manifest = wire.manifest === undefined ? undefined : parseManifest(wire.manifest);
  } catch {
    // The worker ran this manifest; a page that cannot read it still shows the run, without the task's labels.
    manifest = undefined;
  }
  const store = new LayerStore({
    resident: wire.attention, deferred: wire.trace.deferred, pooled: wire.trace.pooled, budget: wire.budget,
    fetch: (probes, signal) => layers.fetch(wire.runKey, probes.map((p) => p.name), signal),
  });
  const vocab = wire.vocab;
  const some = wire.someVocab ? new Map(wire.someVocab.ids.map((id, i) => [id, wire.someVocab!.texts[i]!])) : undefined;
  return new RunData(freezeTrace(wire.trace), label, manifest, {
    layers: store,
    ...(wire.positional ? { positional: wire.positional } : {}),
    ...(wire.lens ? { lens: wire.lens } : {}),
    // Whole logits when they came; else only their top entries (the views read either through derived.ts).
    ...(wire.topLogits && !wire.trace.logits ? { topLogits: wire.topLogits } : {}),
    ...(vocab ? { outputVocab: (id: number) => vocab[id] ?? `#${id}` } : some ? { outputVocab: (id: number) => some.get(id) ?? `#${id}` } : {}),
  });
}
