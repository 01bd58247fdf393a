/**
 * Instrumented sessions kept between runs. Decoding, planning probes and creating a session cost far
 * more than a run (hundreds of ms against a few), so the panel's second run on the same model and the
 * benchmarks' repetitions reuse them. Keyed by backend and by the model's bytes: by identity when the
 * caller hands the same array again, else by a fingerprint of length and sampled content.
 */
import type { InferenceBackend, SessionHandle } from './backend.js';
import type { ProbePlan } from '../types.js';
import type { TensorSummary } from '../onnx/summarize.js';
import type { TextTokenizer } from '../tokenize/textTokenizer.js';

/** One .onnx file, instrumented and loaded. */
export interface PreparedModel {
  plan: ProbePlan;
  /** Graph inputs of the original model (names, element types, symbolic shapes). */
  inputs: TensorSummary[];
  /** Graph outputs of the original model, before instrumentation. */
  outputs: TensorSummary[];
  session: SessionHandle;
  /** Milliseconds spent decoding + instrumenting, and creating the session, when it was built. */
  instrumentMs: number;
  sessionMs: number;
  /** Set once a trace has counted instrumentMs/sessionMs in its timings. */
  timingsReported?: boolean;
}

/** FNV-1a over the length and up to 64 evenly spread 4 KiB windows: cheap on a 400 MB model. */
export function fingerprint(bytes: Uint8Array): string {
  let h = 0x811c9dc5 ^ bytes.length;
  const mix = (b: number): void => {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  const window = 4096;
  const windows = Math.min(64, Math.ceil(bytes.length / window));
  const stride = windows > 1 ? Math.floor((bytes.length - window) / (windows - 1)) : 0;
  for (let w = 0; w < windows; w++) {
    const start = Math.max(0, Math.min(bytes.length - window, w * stride));
    const end = Math.min(bytes.length, start + window);
    for (let i = start; i < end; i++) mix(bytes[i]);
  }
  // The tail holds an instrumented model's appended delta and often the graph itself.
  for (let i = Math.max(0, bytes.length - window); i < bytes.length; i++) mix(bytes[i]);
  return `${bytes.length}:${h.toString(16)}`;
}

/** One build per key, shared by concurrent callers; a rejected build is forgotten so the next call retries. */
function memoized<T>(cache: Map<string, Promise<T>>, key: string, build: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = build();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

export class TraceSessionCache {
  private readonly byIdentity = new WeakMap<Uint8Array, string>();
  private readonly models = new Map<string, Promise<PreparedModel>>();
  private readonly tokenizers = new Map<string, Promise<TextTokenizer>>();
  private readonly backendIds = new WeakMap<InferenceBackend, number>();
  private nextBackendId = 1;

  private key(backend: InferenceBackend, bytes: Uint8Array): string {
    let fp = this.byIdentity.get(bytes);
    if (!fp) {
      fp = fingerprint(bytes);
      this.byIdentity.set(bytes, fp);
    }
    let id = this.backendIds.get(backend);
    if (id === undefined) {
      id = this.nextBackendId++;
      this.backendIds.set(backend, id);
    }
    return `${backend.name}#${id}|${fp}`;
  }

  /** The prepared model for these bytes on this backend, built once. A failed build is not kept. */
  model(backend: InferenceBackend, bytes: Uint8Array, build: () => Promise<PreparedModel>): Promise<PreparedModel> {
    return memoized(this.models, this.key(backend, bytes), build);
  }

  tokenizer(key: string, build: () => Promise<TextTokenizer>): Promise<TextTokenizer> {
    return memoized(this.tokenizers, key, build);
  }

  get size(): number {
    return this.models.size;
  }

  /** Releases every session; the cache is empty afterwards. */
  async dispose(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    this.tokenizers.clear();
    for (const p of all) {
      try {
        await (await p).session.dispose();
      } catch {
        // A build that failed has no session to release.
      }
    }
  }
}
