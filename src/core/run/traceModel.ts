/**
 * Text in, Trace out, in one call: the CLI's, the benchmarks' and the unit tests' face of LoadedModel
 * (the same code path the panel runs). The model is loaded through `cache` when given (its sessions and
 * tokenizers then serve later calls), else for this call only.
 */
import type { InferenceBackend } from './backend.js';
import type { ModelManifest, TokenizerSpec } from '../manifest.js';
import type { Probe } from '../types.js';
import type { Trace } from '../trace/traceTypes.js';
import { TraceSessionCache } from './sessionCache.js';
import { checkAbort, now, type TraceProgress } from './runSteps.js';

export type { TraceProgress } from './runSteps.js';

export interface TraceOptions {
  backend: InferenceBackend;
  /** Reads a file relative to the model's folder (manifest paths, tokenizer.json, external data). */
  files: (relPath: string) => Promise<Uint8Array>;
  manifest?: ModelManifest;
  /** The .onnx bytes of a model without a manifest (or of a one-file manifest model, to skip reading it). */
  modelBytes?: Uint8Array;
  /** Name shown in messages and `trace.model` (default: manifest name, else 'model.onnx'). */
  modelName?: string;
  /** Tokenizer for a model without a manifest; default: tokenizer.json beside the model. */
  tokenizer?: TokenizerSpec;
  text: string;
  /** Caps the number of input tokens below the model's own maximum. */
  maxTokens?: number;
  signal?: AbortSignal;
  onProgress?: (p: TraceProgress) => void;
  /** Loaded models kept between calls; a private one per call when absent. */
  cache?: TraceSessionCache;
  /**
   * One-file models: at most this many bytes of attention come back from the run (see fetchPlan); the
   * rest is listed in `trace.deferred`. Absent: every probe comes back (the CLI's dumps).
   */
  attentionBudgetBytes?: number;
  /** Attention probes to fetch first when a budget applies (e.g. the layer the panel shows). */
  preferProbe?: (p: Probe) => boolean;
  /** One-file models: fetch exactly these probes and no logits (loading deferred attention later). */
  only?: readonly string[];
  /** One-file models: tensors to expose by name as well (probes of kind 'tensor'). */
  probeTensors?: readonly string[];
}

export async function traceModel(opts: TraceOptions): Promise<Trace> {
  const startedAt = now();
  checkAbort(opts.signal);
  const cache = opts.cache ?? new TraceSessionCache();
  try {
    const model = await cache.model({
      files: opts.files, manifest: opts.manifest, modelBytes: opts.modelBytes, name: opts.modelName, tokenizer: opts.tokenizer,
    });
    return await model.trace({
      backend: opts.backend, text: opts.text, maxTokens: opts.maxTokens, signal: opts.signal, onProgress: opts.onProgress,
      attentionBudgetBytes: opts.attentionBudgetBytes, preferProbe: opts.preferProbe, only: opts.only, startedAt,
      ...(opts.probeTensors?.length ? { probeTensors: opts.probeTensors } : {}),
    });
  } finally {
    if (!opts.cache) await cache.dispose();
  }
}
