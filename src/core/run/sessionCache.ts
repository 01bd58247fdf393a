/**
 * Loaded models kept between traceModel calls (the CLI's repeated traces, benchmarks, tests). Decoding,
 * planning probes and creating a session cost far more than a run (hundreds of ms against a few), so a
 * second trace of the same model reuses its LoadedModel, with its sessions and tokenizers. Keyed by the
 * model's bytes (a fingerprint of length and sampled content), its manifest, name and tokenizer.
 */
import { LoadedModel } from './loadedModel.js';
import { memoized } from './memoized.js';
import { readModelFiles, type ModelSource } from './modelFiles.js';

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

export class TraceSessionCache {
  private readonly byIdentity = new WeakMap<Uint8Array, string>();
  private readonly models = new Map<string, Promise<LoadedModel>>();
  private readonly loaded = new Set<LoadedModel>();

  private fingerprintOf(bytes: Uint8Array): string {
    let fp = this.byIdentity.get(bytes);
    if (!fp) {
      fp = fingerprint(bytes);
      this.byIdentity.set(bytes, fp);
    }
    return fp;
  }

  /** The model these files make, loaded once. A failed load is not kept. */
  async model(source: ModelSource): Promise<LoadedModel> {
    const read = await readModelFiles(source);
    const key = JSON.stringify([source.name, source.manifest, source.tokenizer, read.files.map((f) => this.fingerprintOf(f.bytes))]);
    return memoized(this.models, key, async () => {
      const m = LoadedModel.fromBytes(source, read);
      this.loaded.add(m);
      return m;
    });
  }

  /** Sessions alive (or being created) over every model and backend. */
  get size(): number {
    let n = 0;
    for (const m of this.loaded) n += m.sessionCount;
    return n;
  }

  /** Releases every session; the cache is empty afterwards. */
  async dispose(): Promise<void> {
    const all = [...this.loaded];
    this.models.clear();
    this.loaded.clear();
    for (const m of all) await m.dispose();
  }
}
