/**
 * Runs a model on a text in the webview: picks the backend (auto → WebGPU on a hardware adapter, else
 * WASM), fetches the model's files once through their webview URIs (no second copy through messages), and
 * keeps one core LoadedModel per model for the page: it decodes and plans once, owns the tokenizers and
 * the sessions per backend, and serves the panel's runs, their deferred layers and the inspector alike.
 * Switching backends releases the old backend's sessions in every loaded model.
 */
import type { ModelRef, PageBackend } from '../../src/shared/protocol.js';
import { parseManifest, type ModelManifest } from '../../src/core/manifest.js';
import type { LoadedModel } from '../../src/core/run/loadedModel.js';
import type { FloatTensor } from '../../src/core/run/backend.js';
import { memoized } from '../../src/core/run/memoized.js';
import { SeqLensError } from '../../src/core/errors.js';
import { DEFAULT_ATTENTION_BUDGET } from '../../src/core/run/fetchPlan.js';
import { RunData } from '../data/runData.js';
import { configureOrt, detectBackend, ortLib, OrtWebBackend, type ConcreteBackend } from './ortWebBackend.js';
import type { InspectInfo } from './inspectModel.js';

/** What a run reads: text, or arrays by input name (a model whose inputs are not text; .npy files the user picked). */
export type RunInput = string | { arrays: Readonly<Record<string, FloatTensor>> };

export interface RunOutcome {
  run: RunData;
  backend: ConcreteBackend;
  /**
   * Milliseconds per part: ortLoad (onnxruntime-web's import and wasm, overlapping the model fetch), fetch,
   * decode, plan, instrument, sessionCreate, tokenizer (parse), tokenize, run, extract, total; the one-time
   * parts are non-zero only in the run that paid them. The tokenizer is parsed while the session is created,
   * so those two overlap (and with inference on the page thread, sessionCreate includes the parse).
   */
  timings: Record<string, number>;
  /** Set when WebGPU was chosen but this model had to run on WASM. */
  fallbackReason?: string;
}

async function fetchBytes(url: string, signal?: AbortSignal): Promise<Uint8Array> {
  // Revalidated, never taken from the HTTP cache as is: a model rewritten on disk must be read anew.
  const res = await fetch(url, { signal, cache: 'no-cache' });
  if (!res.ok) {
    const name = decodeURIComponent(url.split(/[?#]/)[0].split('/').pop() ?? url);
    throw new SeqLensError(res.status === 404 ? 'model-missing' : 'runtime', res.status === 404
      ? `The file ${name} was not found (deleted or moved?). Restore it, or pick another model.`
      : `Could not read ${name} (HTTP ${res.status}).`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

/** Resolves a manifest-relative path against the model's webview URIs. */
function fileResolver(model: ModelRef, manifest: ModelManifest | undefined): (rel: string) => string {
  const byRel = new Map<string, string>();
  for (const [k, v] of Object.entries(model.tokenizerUris)) byRel.set(k, v);
  // Manifest paths map to the host's webview URIs by their `files` key; anything else resolves beside the manifest.
  for (const [k, rel] of Object.entries(manifest?.files ?? {})) if (model.fileUris[k]) byRel.set(rel, model.fileUris[k]);
  const base = model.manifestUri ?? Object.values(model.fileUris)[0];
  return (rel) => byRel.get(rel) ?? (base ? new URL(rel, base).toString() : rel);
}

const now = (): number => performance.now();

export class Runner {
  preference: PageBackend = 'auto';
  activeBackend?: ConcreteBackend;
  maxTokens?: number;
  /** Bytes of attention one run hands back; the rest of a long input's attention is fetched when shown. */
  attentionBudget = DEFAULT_ATTENTION_BUDGET;
  /** The layer the panel shows: fetched first when not every layer fits the budget. */
  preferLayer = 0;
  /** Tensors picked in the inspector to probe by name in the next runs (Probe kind 'tensor'). */
  probeTensors: readonly string[] = [];
  private backend?: OrtWebBackend;
  private wasmFallback?: OrtWebBackend;
  private readonly needsWasm = new Map<string, string>();
  private readonly bytes = new Map<string, Promise<Uint8Array>>();
  private readonly manifests = new Map<string, Promise<ModelManifest | undefined>>();
  private readonly models = new Map<string, Promise<LoadedModel>>();
  /** The files' stamp each model id was last loaded with. */
  private readonly versions = new Map<string, string>();

  constructor(private wasmBase: string) {}

  setWasmBase(base: string): void {
    this.wasmBase = base;
  }

  async setPreference(b: PageBackend): Promise<void> {
    if (b === this.preference && this.backend) return;
    this.preference = b;
    await this.reset();
  }

  /** Drops every session (they belong to the previous backend); the decoded models stay. */
  async reset(): Promise<void> {
    const old = [this.backend, this.wasmFallback].filter((b): b is OrtWebBackend => !!b);
    this.backend = undefined;
    this.activeBackend = undefined;
    this.wasmFallback = undefined;
    this.needsWasm.clear();
    for (const m of this.models.values()) {
      const model = await m.catch(() => undefined);
      for (const b of old) await model?.releaseBackend(b);
    }
    for (const b of old) await b.dispose();
  }

  async ensureBackend(): Promise<OrtWebBackend> {
    if (this.backend) return this.backend;
    configureOrt(this.wasmBase);
    const chosen: ConcreteBackend = this.preference === 'auto' ? await detectBackend() : this.preference;
    this.backend = new OrtWebBackend(chosen);
    this.activeBackend = chosen;
    return this.backend;
  }

  get backendTimings(): OrtWebBackend['timings'] | undefined {
    return this.backend?.timings;
  }

  /** A file's bytes, fetched once per URI (the loaded model keeps the model's; tokenizers are parsed once). */
  private file(url: string, signal?: AbortSignal): Promise<Uint8Array> {
    return memoized(this.bytes, url, () => fetchBytes(url, signal));
  }

  manifest(model: ModelRef): Promise<ModelManifest | undefined> {
    const uri = model.manifestUri;
    // A manifest the host derived from the folder (no file to fetch): checked like a fetched one.
    if (!uri) return model.manifest ? Promise.resolve().then(() => parseManifest(model.manifest)) : Promise.resolve(undefined);
    return memoized(this.manifests, uri, () => fetch(uri).then(async (r) => {
      if (!r.ok) throw new SeqLensError('bad-manifest', `Could not read the manifest ${uri} (HTTP ${r.status}).`);
      return parseManifest(await r.json());
    }));
  }

  /**
   * The page's LoadedModel for this model: its files fetched and decoded once, shared by every run, layer
   * fetch and inspection of it. `manifest: false` loads the .onnx alone (an inspector whose manifest is broken).
   */
  model(ref: ModelRef, opts: { manifest?: false } = {}): Promise<LoadedModel> {
    const key = `${ref.id}|${ref.manifestUri ?? ''}|${opts.manifest === false ? 'bare' : ''}`;
    this.forgetIfChanged(ref);
    return memoized(this.models, key, async () => {
      // What decodes, plans and runs a model (~270 KB of script): loaded by the page's first own run, not by its
      // start (a native run's first picture needs none of it).
      const [{ LoadedModel }, manifest] = await Promise.all([
        import('../../src/core/run/loadedModel.js'),
        opts.manifest === false ? undefined : this.manifest(ref),
      ]);
      const resolve = fileResolver(ref, manifest);
      if (manifest) return LoadedModel.load({ files: (rel) => this.file(resolve(rel)), manifest, name: ref.label });
      // No manifest: the .onnx is read under its own name; what it names (tokenizer.json, external data) beside it.
      const modelUri = ref.fileUris.model ?? Object.values(ref.fileUris)[0];
      if (!modelUri) throw new SeqLensError('bad-manifest', `${ref.label} lists no .onnx file.`);
      const modelFile = decodeURIComponent(modelUri.split(/[?#]/)[0].split('/').pop() || 'model.onnx');
      const files = (rel: string): Promise<Uint8Array> => this.file(rel === modelFile ? modelUri : resolve(rel));
      return LoadedModel.load({ files, modelFile, name: ref.label });
    });
  }

  /**
   * A model whose files changed on disk since the page loaded it (the host's stamp differs): its bytes,
   * manifest and loaded model are dropped, its sessions released, so this run reads the files anew.
   */
  private forgetIfChanged(ref: ModelRef): void {
    if (ref.version === undefined) return;
    const seen = this.versions.get(ref.id);
    this.versions.set(ref.id, ref.version);
    if (seen === undefined || seen === ref.version) return;
    for (const url of [...Object.values(ref.fileUris), ...Object.values(ref.tokenizerUris), ...(ref.manifestUri ? [ref.manifestUri] : [])]) {
      this.bytes.delete(url);
      this.manifests.delete(url);
    }
    for (const [key, model] of [...this.models]) {
      if (!key.startsWith(`${ref.id}|`)) continue;
      this.models.delete(key);
      void model.then((m) => m.dispose(), () => undefined);
    }
  }

  /** `continueTokens`: generate up to that many tokens after the text first (decoder-only models; see core run/continueText.ts). */
  async run(model: ModelRef, text: RunInput, signal: AbortSignal, progress: (m: string, f?: number) => void, continueTokens?: number): Promise<RunOutcome> {
    const startedAt = now();
    const backend = await this.ensureBackend();
    if (backend.name === 'webgpu' && this.needsWasm.has(model.id)) return this.runOnWasm(model, text, signal, progress, this.needsWasm.get(model.id)!, startedAt, continueTokens);
    try {
      return await this.runOn(backend, model, text, signal, progress, startedAt, undefined, continueTokens);
    } catch (e) {
      // onnxruntime-web's WebGPU EP lacks some kernels (e.g. LSTM with an Affine activation) and only says so at
      // run time: run this model on WASM instead, say why, and remember it for the next runs.
      if (backend.name !== 'webgpu' || signal.aborted || (e instanceof SeqLensError && e.code !== 'runtime')) throw e;
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      this.needsWasm.set(model.id, why);
      progress(`WebGPU could not run ${model.label}; using WASM`);
      return this.runOnWasm(model, text, signal, progress, why, startedAt, continueTokens);
    }
  }

  private async runOnWasm(model: ModelRef, text: RunInput, signal: AbortSignal, progress: (m: string, f?: number) => void,
    why: string, startedAt: number, continueTokens?: number): Promise<RunOutcome> {
    configureOrt(this.wasmBase);
    this.wasmFallback ??= new OrtWebBackend('wasm');
    const out = await this.runOn(this.wasmFallback, model, text, signal, progress, startedAt,
      `WebGPU could not run this model (${why}); it ran on WASM.`, continueTokens);
    out.fallbackReason = why;
    return out;
  }

  private async runOn(backend: OrtWebBackend, ref: ModelRef, text: RunInput, signal: AbortSignal,
    progress: (m: string, f?: number) => void, startedAt: number, note?: string, continueTokens?: number): Promise<RunOutcome> {
    // onnxruntime-web loads (or has loaded, at page start) while the model is fetched and decoded.
    const ortStart = now();
    const ortLoad = ortLib().then(() => now() - ortStart, () => 0);
    const model = await this.model(ref);
    const prefer = this.preferLayer;
    const r = await model.run({
      backend, ...(typeof text === 'string' ? { text } : { text: '', inputs: text.arrays }), maxTokens: this.maxTokens, signal, onProgress: (p) => progress(p.message, p.fraction),
      attentionBudgetBytes: this.attentionBudget, preferProbe: (p) => p.layer === prefer, startedAt,
      ...(this.probeTensors.length ? { probeTensors: this.probeTensors } : {}),
      ...(note ? { warnings: [note] } : {}),
      ...(continueTokens !== undefined ? { continueTokens } : {}),
    });
    const bt = backend.timings;
    const timings = { ...r.trace.timings, ortLoad: await ortLoad, ortRun: bt.run, ortExtract: bt.extract };
    return { run: RunData.of(r, ref.label, model.manifest), backend: backend.name, timings };
  }

  /** The inspector's view of the model, from the same LoadedModel a run uses (so a run after it decodes nothing). */
  async inspect(ref: ModelRef): Promise<InspectInfo> {
    let model: LoadedModel;
    try {
      model = await this.model(ref);
    } catch (e) {
      // A broken manifest does not hide the model: inspect its .onnx alone.
      if (!(e instanceof SeqLensError && e.code === 'bad-manifest') || !ref.manifestUri) throw e;
      model = await this.model(ref, { manifest: false });
    }
    return (await import('./inspectModel.js')).inspectLoaded(model, ref.label);
  }
}
