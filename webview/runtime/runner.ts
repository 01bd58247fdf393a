/**
 * Runs a model on a text in the webview: picks the backend (auto → WebGPU if an adapter is granted,
 * else WASM), fetches the model's files through their webview URIs (no second copy through messages),
 * and hands everything to core's traceModel, the same runner the CLI uses. Sessions stay alive in a
 * TraceSessionCache per backend; switching backends releases the old one's sessions.
 */
import type { Backend, ModelRef } from '../../src/shared/protocol.js';
import { parseManifest, type ModelManifest } from '../../src/core/manifest.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { loadTokenizer } from '../../src/core/tokenize/loadTokenizer.js';
import { TraceSessionCache } from '../../src/core/run/sessionCache.js';
import { SeqLensError } from '../../src/core/errors.js';
import { RunData } from '../data/runData.js';
import { configureOrt, detectBackend, OrtWebBackend, type ConcreteBackend } from './ortWebBackend.js';
import { inspectBytes, type InspectInfo } from './inspectModel.js';
import { findPositionalSource, type PositionalSource } from '../data/positional.js';
import { applyDelta } from '../../src/core/onnx/graphDelta.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import type { SessionHandle } from '../../src/core/run/backend.js';
import type { PositionalEncoding } from '../data/runData.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { resolveOutputProjection } from '../../src/core/trace/outputProjection.js';
import { DEFAULT_ATTENTION_BUDGET } from '../../src/core/run/fetchPlan.js';

export interface RunOutcome {
  run: RunData;
  backend: ConcreteBackend;
  timings: Record<string, number>;
  /** Set when WebGPU was chosen but this model had to run on WASM. */
  fallbackReason?: string;
}

async function fetchBytes(url: string, signal?: AbortSignal): Promise<Uint8Array> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new SeqLensError('runtime', `Could not read ${url} (HTTP ${res.status}).`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Resolves a manifest-relative path against the model's webview URIs. */
function fileResolver(model: ModelRef): (rel: string) => string {
  const byRel = new Map<string, string>();
  for (const [k, v] of Object.entries(model.tokenizerUris)) byRel.set(k, v);
  const base = model.manifestUri ?? Object.values(model.fileUris)[0];
  return (rel) => byRel.get(rel) ?? (base ? new URL(rel, base).toString() : rel);
}

export class Runner {
  preference: Backend = 'auto';
  activeBackend?: ConcreteBackend;
  maxTokens?: number;
  /** Bytes of attention one run hands back; the rest of a long input's attention is fetched when shown. */
  attentionBudget = DEFAULT_ATTENTION_BUDGET;
  /** The layer the panel shows: fetched first when not every layer fits the budget. */
  preferLayer = 0;
  private backend?: OrtWebBackend;
  private cache = new TraceSessionCache();
  private readonly bytes = new Map<string, Promise<Uint8Array>>();
  private readonly manifests = new Map<string, Promise<ModelManifest | undefined>>();

  constructor(private wasmBase: string) {}

  setWasmBase(base: string): void {
    this.wasmBase = base;
  }

  async setPreference(b: Backend): Promise<void> {
    if (b === this.preference && this.backend) return;
    this.preference = b;
    await this.reset();
  }

  /** Drops every session (they belong to the previous backend). */
  async reset(): Promise<void> {
    const old = this.cache, oldBackend = this.backend;
    this.cache = new TraceSessionCache();
    const pos = [...this.posSessions.values()];
    this.posSessions.clear();
    for (const p of pos) await p.then((s) => s.dispose(), () => undefined);
    this.backend = undefined;
    this.activeBackend = undefined;
    await old.dispose();
    await oldBackend?.dispose();
    await this.wasmFallback?.dispose();
    this.wasmFallback = undefined;
    this.needsWasm.clear();
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

  /** Model files are fetched once per URI and kept (the session cache keys on the same array). */
  private file(url: string, signal?: AbortSignal): Promise<Uint8Array> {
    let p = this.bytes.get(url);
    if (!p) {
      p = fetchBytes(url, signal);
      this.bytes.set(url, p);
      p.catch(() => this.bytes.delete(url));
    }
    return p;
  }

  manifest(model: ModelRef): Promise<ModelManifest | undefined> {
    const uri = model.manifestUri;
    if (!uri) return Promise.resolve(undefined);
    let p = this.manifests.get(uri);
    if (!p) {
      p = fetch(uri).then(async (r) => {
        if (!r.ok) throw new SeqLensError('bad-manifest', `Could not read the manifest ${uri} (HTTP ${r.status}).`);
        return parseManifest(await r.json());
      });
      this.manifests.set(uri, p);
      p.catch(() => this.manifests.delete(uri));
    }
    return p;
  }

  async run(model: ModelRef, text: string, signal: AbortSignal, progress: (m: string, f?: number) => void): Promise<RunOutcome> {
    const backend = await this.ensureBackend();
    if (backend.name === 'webgpu' && this.needsWasm.has(model.id)) return this.runOnWasm(model, text, signal, progress, this.needsWasm.get(model.id)!);
    try {
      return await this.runOn(backend, model, text, signal, progress);
    } catch (e) {
      // onnxruntime-web's WebGPU EP lacks some kernels (e.g. LSTM with an Affine activation) and only says so at
      // run time: run this model on WASM instead, say why, and remember it for the next runs.
      if (backend.name !== 'webgpu' || signal.aborted || (e instanceof SeqLensError && e.code !== 'runtime')) throw e;
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      this.needsWasm.set(model.id, why);
      progress(`WebGPU could not run ${model.label}; using WASM`);
      return this.runOnWasm(model, text, signal, progress, why);
    }
  }

  private readonly needsWasm = new Map<string, string>();
  private wasmFallback?: OrtWebBackend;

  private async runOnWasm(model: ModelRef, text: string, signal: AbortSignal, progress: (m: string, f?: number) => void, why: string): Promise<RunOutcome> {
    configureOrt(this.wasmBase);
    this.wasmFallback ??= new OrtWebBackend('wasm');
    const out = await this.runOn(this.wasmFallback, model, text, signal, progress);
    out.run.trace.warnings.push(`WebGPU could not run this model (${why}); it ran on WASM.`);
    out.fallbackReason = why;
    return out;
  }

  private async runOn(backend: OrtWebBackend, model: ModelRef, text: string, signal: AbortSignal, progress: (m: string, f?: number) => void): Promise<RunOutcome> {
    const resolve = fileResolver(model);
    const manifest = await this.manifest(model);
    const modelUri = model.fileUris.model;
    // Manifest paths map to the host's webview URIs by their `files` key; anything else resolves beside the manifest.
    const byRel = new Map<string, string>();
    for (const [k, rel] of Object.entries(manifest?.files ?? {})) if (model.fileUris[k]) byRel.set(rel, model.fileUris[k]);
    const cache = this.cache;
    const base = {
      backend,
      files: (rel: string) => this.file(byRel.get(rel) ?? resolve(rel)),
      manifest,
      modelBytes: !manifest && modelUri ? await this.file(modelUri, signal) : undefined,
      modelName: model.label,
      text,
      maxTokens: this.maxTokens,
      cache,
    };
    const prefer = this.preferLayer;
    const trace = await traceModel({
      ...base, signal, onProgress: (p) => progress(p.message, p.fraction),
      attentionBudgetBytes: this.attentionBudget, preferProbe: (p) => p.layer === prefer,
    });
    const run = new RunData(trace, model.label, manifest);
    run.budget = this.attentionBudget;
    // Deferred attention comes from another run of the same session on the same text, fetching only it.
    run.loader = async (probes, loadSignal) => {
      if (cache !== this.cache) throw new SeqLensError('runtime', 'The backend changed since this run: run the model again to see these layers.');
      return (await traceModel({ ...base, signal: loadSignal, only: probes.map((p) => p.name) })).probes;
    };
    if (manifest) {
      const spec = 'encoder' in manifest.io ? manifest.io.targetTokenizer : manifest.tokenizer;
      try {
        const tok = await loadTokenizer(spec, (rel) => this.file(byRel.get(rel) ?? resolve(rel), signal));
        run.outputVocab = (id) => tok.idToToken(id);
      } catch {
        run.outputVocab = undefined;
      }
    }
    if (modelUri && manifest && !('encoder' in manifest.io)) {
      try {
        run.positional = await this.positional(backend, modelUri, manifest.io.ids, trace.tokens.map((t) => t.id));
      } catch (e) {
        run.positional = undefined;
        trace.warnings.push(`Positional encoding not shown: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (modelUri && !(manifest && 'encoder' in manifest.io)) {
      try {
        const lens = await this.lens(modelUri);
        if (lens) run.lens = lens;
      } catch (e) {
        trace.warnings.push(`Logit lens not shown: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const bt = backend.timings;
    const timings = { ...trace.timings, sessionCreate: trace.timings.sessionCreate || 0, ortRun: bt.run, ortExtract: bt.extract };
    return { run, backend: backend.name, timings };
  }

  private readonly lenses = new Map<string, Promise<RunData['lens']>>();

  /**
   * The plan's logit lens resolved to numbers, once per model file: the projection and norm weights are
   * Float32Array views into the fetched model bytes (kept anyway for the session cache), not copies.
   */
  private lens(uri: string): Promise<RunData['lens']> {
    let p = this.lenses.get(uri);
    if (!p) {
      p = this.file(uri).then((bytes) => {
        const model = decodeModel(bytes);
        const lens = planProbes(model).plan.logitLens;
        return lens ? { projection: resolveOutputProjection(model, lens), ...(lens.stream ? { stream: lens.stream } : {}) } : undefined;
      });
      this.lenses.set(uri, p);
      p.catch(() => this.lenses.delete(uri));
    }
    return p;
  }

  private readonly posSources = new Map<string, PositionalSource | undefined>();
  private readonly posSessions = new Map<string, Promise<SessionHandle>>();

  /**
   * The model's positional encoding for these ids: a learned table straight from the weights, or the
   * output of the sinusoidal subgraph, exposed as one extra graph output in a session of its own.
   */
  private async positional(backend: OrtWebBackend, uri: string, idsName: string, ids: number[]): Promise<PositionalEncoding | undefined> {
    const bytes = await this.file(uri);
    if (!this.posSources.has(uri)) this.posSources.set(uri, findPositionalSource(bytes));
    const src = this.posSources.get(uri);
    if (!src) return undefined;
    if (src.kind === 'table') return src.encoding;
    const key = `${backend.name}|${uri}`;
    let session = this.posSessions.get(key);
    if (!session) {
      const model = decodeModel(bytes);
      const outs = (model.graph?.output ?? []).map((o) => o.name);
      const domains = model.opsetImport.map((o) => o.domain ?? '');
      session = backend.createSession(applyDelta(bytes, { nodes: [], initializers: [], outputs: [src.tensor] }, outs, domains));
      this.posSessions.set(key, session);
      session.catch(() => this.posSessions.delete(key));
    }
    const s = await session;
    const out = await s.run({ [idsName]: { type: 'int64', dims: [1, ids.length], data: BigInt64Array.from(ids, (v) => BigInt(v)) } }, [src.tensor]);
    const t = out[src.tensor];
    const cols = t.dims[t.dims.length - 1];
    return { source: `sinusoidal subgraph at ${src.node} (${src.tensor})`, rows: t.data.length / cols, cols, data: t.data };
  }

  async inspect(model: ModelRef): Promise<InspectInfo> {
    const uri = model.fileUris.model ?? model.fileUris.encoder ?? Object.values(model.fileUris)[0];
    if (!uri) throw new SeqLensError('bad-manifest', `${model.label} lists no .onnx file.`);
    const manifest = await this.manifest(model).catch(() => undefined);
    const files: Record<string, Uint8Array> = {};
    for (const [k, u] of Object.entries(model.fileUris)) if (/\.onnx($|\?)/i.test(u) || k === 'model' || k === 'encoder' || k === 'decoder') files[k] = await this.file(u);
    return inspectBytes(files, manifest, model.label);
  }
}
