/**
 * One model (one .onnx file, or a manifest's encoder and decoder step) loaded once, for every run, layer
 * fetch and inspection that follows: its bytes are read and decoded once, each file's probe plan is built
 * once per instrumentation (WebGPU reads LSTM cells through Relu and has no pooled overviews, so it gets a
 * plan of its own), and the logit-lens projection and positional-encoding source are found once (all of
 * that in its DecodedModel). It owns
 * its tokenizers (parsed once), its instrumented sessions per backend, and hands out frozen traces; a run
 * for the panel (`run`) keeps its attention in a LayerStore that fetches deferred layers through this model.
 * Browser-safe: files arrive through the source's `files` function.
 */
import type { FloatTensor, InferenceBackend, ExternalFile, SessionOptionsExtra } from './backend.js';
import type { ModelManifest, SingleModelIO, TokenizerSpec } from '../manifest.js';
import { isSeq2SeqIO } from '../manifest.js';
import type { Probe, ProbePlan } from '../types.js';
import type { Trace, TokenSpan } from '../trace/traceTypes.js';
import type { TextTokenizer } from '../tokenize/textTokenizer.js';
import { externalDataFiles } from '../onnx/decode.js';
import { missingExternalFile } from '../onnx/externalData.js';
import { loadTokenizer } from '../tokenize/loadTokenizer.js';
import type { PositionalEncoding, PositionalSource } from '../trace/positionalSource.js';
import { freezeTrace } from '../trace/frozenTrace.js';
import { SeqLensError } from '../errors.js';
import { findSequenceInputs, type SingleInputs } from './sequenceInputs.js';
import { positionCount, positionTokens, tensorFeeds } from './tensorFeeds.js';
import { memoized } from './memoized.js';
import { foldingOnlyCopiesWeights } from '../onnx/constantFolding.js';
import { readModelFiles, type FileKey, type ModelBytes, type ModelSource } from './modelFiles.js';
import { DecodedModel, tensorsKey, variantFor, type FileInspection, type ModelFile, type ModelLens, type ModelStats, type Variant } from './decodedModel.js';
import { LayerStore, withoutAttention, type LayerFetch } from './layerStore.js';
import { logitsName, runSingle } from './singleRun.js';
import { cachePairs, continuedTokens, greedyContinue } from './continueText.js';
import { runSeq2Seq } from './seq2seqRun.js';
import { checkAbort, encodeText, newTimings, now, OneTimeCosts, type PreparedFile, type TraceProgress } from './runSteps.js';

export type { ModelSource } from './modelFiles.js';
export type { FileInspection, ModelLens } from './decodedModel.js';
export type LoadedModelStats = ModelStats;

export interface TraceRunOptions {
  backend: InferenceBackend;
  /** The text to tokenize ('' for a run on `inputs`). */
  text: string;
  /**
   * One-file models: run on these arrays (by input name: image, audio frames, features; e.g. decoded .npy
   * files) instead of text. The run fills masks, position ids and an empty cache; tokens are positions.
   */
  inputs?: Readonly<Record<string, FloatTensor>>;
  /** How messages name the file to give for an input (the CLI: `--input NAME=FILE.npy`). */
  inputFlag?: (name: string) => string;
  /** Caps the number of input tokens below the model's own maximum. */
  maxTokens?: number;
  signal?: AbortSignal;
  onProgress?: (p: TraceProgress) => void;
  /**
   * One-file models: at most this many bytes of attention come back from the run (see fetchPlan); the
   * rest is listed in `trace.deferred`. Absent: every probe comes back.
   */
  attentionBudgetBytes?: number;
  /** Attention probes to fetch first when a budget applies (e.g. the layer the panel shows). */
  preferProbe?: (p: Probe) => boolean;
  /** One-file models: fetch exactly these probes and no logits. */
  only?: readonly string[];
  /** When the caller started (performance.now()): `timings.total` counts from there (fetching the model included). */
  startedAt?: number;
  /** Warnings the caller adds to the trace (e.g. why it ran on another backend than chosen). */
  warnings?: readonly string[];
  /**
   * One-file models: tensors to expose by name as well, as probes of kind 'tensor' (`seqlens trace --probe`,
   * the inspector's "Probe this tensor"). Each set of names gets its own instrumented session.
   */
  probeTensors?: readonly string[];
  /**
   * One-file models with logits (decoder-only LMs): generate up to this many tokens greedily after the
   * text (run/continueText.ts), then trace prompt + generated tokens in one run (`trace.continuation`).
   */
  continueTokens?: number;
  /**
   * `run()` only: leave out a logit lens whose output projection is bigger than this (float32 bytes). The native
   * worker sends the page projections up to a size; reading a bigger one's weights as floats (an 80 MB decoder's
   * 151k × 128 embedding: 0.1-0.35 s) would hold up the first picture for nothing.
   */
  lensMaxBytes?: number;
}

/** A run for a view: the frozen trace (its attention is in `layers`), and what the model adds to it. */
export interface ModelRun {
  /** Everything the run handed back but attention. */
  trace: Trace;
  /** The run's attention: resident, deferred (fetched on demand through this model) and overviews. */
  layers: LayerStore;
  positional?: PositionalEncoding;
  lens?: ModelLens;
  /** Id → text in the output vocabulary (the target tokenizer of an encoder-decoder model). */
  vocab?: (id: number) => string;
}

function dirOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i >= 0 ? rel.slice(0, i + 1) : '';
}

/** The folder of an absolute path on disk ('/' or '\\' separated). */
function folderOf(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i > 0 ? path.slice(0, i) : i === 0 ? path.slice(0, 1) : '.';
}

/** Nothing to look at: no attention, recurrent layer or hidden state was found. */
function noSequenceStructure(plan: ProbePlan): boolean {
  return plan.architecture === 'unknown' && plan.probes.every((p) => p.kind === 'logits');
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class LoadedModel {
  readonly name: string;
  readonly manifest?: ModelManifest;
  readonly stats: LoadedModelStats = { decodes: 0, plans: 0, instruments: 0, sessions: 0, tokenizers: 0, positionalSearches: 0, lensResolves: 0 };
  private readonly costs = new OneTimeCosts();
  private readonly decoded: DecodedModel;
  private readonly sessions = new Map<InferenceBackend, Map<FileKey, Promise<PreparedFile>>>();
  /** Bumped when a backend's sessions are released: layer fetches of earlier runs then fail clearly. */
  private readonly generations = new Map<InferenceBackend, number>();
  private readonly tokenizers = new Map<string, Promise<TextTokenizer>>();

  private constructor(private readonly source: ModelSource, read: ModelBytes) {
    this.manifest = source.manifest;
    const one = read.files.length === 1 ? read.files[0] : undefined;
    this.name = source.name ?? this.manifest?.name ?? (one?.rel || 'model.onnx');
    this.costs.add('fetch', read.fetchMs);
    this.decoded = new DecodedModel(read, this.name, this.stats, this.costs);
  }

  /** Reads and decodes the model's .onnx files. */
  static async load(source: ModelSource): Promise<LoadedModel> {
    return new LoadedModel(source, await readModelFiles(source));
  }

  /** Decodes files already read (a cache read them to key on their bytes). */
  static fromBytes(source: ModelSource, read: ModelBytes): LoadedModel {
    return new LoadedModel(source, read);
  }

  /** Live and pending sessions over all backends. */
  get sessionCount(): number {
    let n = 0;
    for (const per of this.sessions.values()) n += per.size;
    return n;
  }

  /** Summary, architecture evidence and probe plan of every file (the inspector), from the decoded model. */
  inspect(): FileInspection[] {
    const out = this.decoded.inspect();
    // Inspection's costs are not a run's.
    this.costs.clear();
    return out;
  }

  /** The one-file model's positional encoding source, searched once (undefined: none found). */
  positionalSource(): PositionalSource | undefined {
    return this.decoded.positionalSource();
  }

  /** The logit lens of a one-file model, resolved to numbers once (undefined: the plan found none). */
  lens(): ModelLens | undefined {
    return this.decoded.lens();
  }

  /** A tokenizer, parsed once per spec. */
  tokenizer(spec: TokenizerSpec): Promise<TextTokenizer> {
    return memoized(this.tokenizers, JSON.stringify(spec), async () => {
      const t0 = now();
      const tok = await loadTokenizer(spec, this.source.files);
      this.stats.tokenizers++;
      this.costs.add('tokenizer', now() - t0);
      return tok;
    });
  }

  /** The tokenizer of the text a run reads. */
  async sourceTokenizer(): Promise<TextTokenizer> {
    const spec = this.manifest?.tokenizer ?? this.source.tokenizer;
    if (spec) return this.tokenizer(spec);
    try {
      return await this.tokenizer({ type: 'hf', file: 'tokenizer.json' });
    } catch (e) {
      if (!(e instanceof SeqLensError && e.code === 'missing-tokenizer')) throw e;
      throw new SeqLensError('missing-tokenizer',
        `${this.name} has no tokenizer: put its Hugging Face tokenizer.json (or vocab.txt, or vocab.json with merges.txt) beside it, or describe it with a ` +
        `${this.name.replace(/\.onnx$/i, '')}.seqlens.json manifest.`);
    }
  }

  /** The tokenizer of what the model outputs (an encoder-decoder's target tokenizer). */
  outputTokenizer(): Promise<TextTokenizer> {
    const io = this.manifest?.io;
    return io && isSeq2SeqIO(io) ? this.tokenizer(io.targetTokenizer) : this.sourceTokenizer();
  }

  /** The instrumentation a run gets: its backend's, plus the tensors it asks for by name. */
  private variant(backend: InferenceBackend, tensors: readonly string[] | undefined): Variant {
    return { ...variantFor(backend), ...(tensors?.length ? { tensors } : {}) };
  }

  /** This file instrumented for this backend (and these requested tensors) and loaded in a session, once per backend. */
  private prepared(backend: InferenceBackend, file: ModelFile, tensors?: readonly string[]): Promise<PreparedFile> {
    let per = this.sessions.get(backend);
    if (!per) {
      per = new Map();
      this.sessions.set(backend, per);
    }
    const key = tensors?.length ? `${file.key}|${tensorsKey(tensors)}` : file.key;
    return memoized(per, key, () => this.prepare(backend, file, tensors));
  }

  private async prepare(backend: InferenceBackend, file: ModelFile, tensors?: readonly string[]): Promise<PreparedFile> {
    const variant = this.variant(backend, tensors);
    const { plan } = this.decoded.plan(file, variant);
    const externalData = await this.externalData(file, backend);
    const bytes = this.decoded.instrumented(file, variant);
    // Once per session (this is memoized per backend and file), so the graph is read here, not kept.
    const extra = foldingOnlyCopiesWeights(file.model.graph) ? { ...externalData, skipConstantFolding: true } : externalData;
    const t0 = now();
    const session = await backend.createSession(bytes, extra);
    this.stats.sessions++;
    this.costs.add('sessionCreate', now() - t0);
    return { plan, inputs: file.inputs, outputs: file.outputs, session };
  }

  /**
   * The external data files the graph names, for a session (inspection needs none of them). onnxruntime-node
   * (the 'native' backend) reads them itself from the model's folder when the source says where it lies on
   * disk: the weights never pass through JavaScript, so they are not held twice while the session is created
   * (the 0.5B bench decoder, bench/bigModel.ts: peak memory at 512 tokens 2.84× → 1.58× its files, session 32 s → 10 s).
   * Else they are read here, beside the model, and handed over.
   */
  private async externalData(file: ModelFile, backend: InferenceBackend): Promise<SessionOptionsExtra | undefined> {
    const locations = [...externalDataFiles(file.model).keys()];
    if (!locations.length) return undefined;
    const t0 = now();
    const localPath = backend.name === 'native' ? this.source.localPath : undefined;
    const modelPath = localPath && await localPath(file.rel);
    if (localPath && modelPath) {
      for (const location of locations) {
        if (!(await localPath(dirOf(file.rel) + location))) throw missingExternalFile(file.displayName, location, locations.length);
      }
      this.costs.add('fetch', now() - t0);
      return { externalDataFolder: folderOf(modelPath) };
    }
    const out: ExternalFile[] = [];
    for (const location of locations) {
      try {
        out.push({ path: location, data: await this.source.files(dirOf(file.rel) + location) });
      } catch {
        throw missingExternalFile(file.displayName, location, locations.length);
      }
    }
    this.costs.add('fetch', now() - t0);
    return { externalData: out };
  }

  /** Which inputs take the ids: the manifest says, else the graph is read. Checks the model is worth running. */
  private singleInputs(file: ModelFile, plan: ProbePlan): SingleInputs {
    const io = this.manifest?.io;
    if (io && !isSeq2SeqIO(io)) return { ids: io.ids, mask: io.mask };
    const found = findSequenceInputs(file.inputs, this.name);
    if (!this.manifest && noSequenceStructure(plan)) {
      throw new SeqLensError('not-sequence-model',
        `${this.name} shows no sequence structure: no attention, recurrent layer or hidden-state probe was found in its graph.`);
    }
    return found;
  }

  /** Releases this backend's sessions; runs made on it can no longer fetch deferred layers. */
  async releaseBackend(backend: InferenceBackend): Promise<void> {
    this.generations.set(backend, (this.generations.get(backend) ?? 0) + 1);
    const per = this.sessions.get(backend);
    if (!per) return;
    this.sessions.delete(backend);
    for (const p of per.values()) {
      try {
        await (await p).session.dispose();
      } catch {
        // A build that failed has no session to release.
      }
    }
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    for (const b of [...this.sessions.keys()]) await this.releaseBackend(b);
  }

  /** A run over `text`, handed out frozen, with every probe in `trace.probes` (the CLI, tests). */
  async trace(opts: TraceRunOptions): Promise<Trace> {
    const { trace } = await this.produce(opts, false);
    return freezeTrace(trace);
  }

  /**
   * A run for the panel: the trace without its attention, which sits in a LayerStore within the byte
   * budget (deferred layers are fetched through this model, same session and tokens), plus the positional
   * encoding (fetched in the same run), the logit lens and the output vocabulary.
   */
  async run(opts: TraceRunOptions): Promise<ModelRun> {
    const { trace, extra, fetch } = await this.produce(opts, true);
    const positional = this.positional(extra, trace.warnings);
    let lens: ModelLens | undefined;
    if (!trace.generated && (opts.lensMaxBytes === undefined || (this.decoded.lensBytes() ?? 0) <= opts.lensMaxBytes)) {
      try {
        lens = this.lens();
      } catch (e) {
        trace.warnings.push(`Logit lens not shown: ${message(e)}`);
      }
    }
    const out = await this.outputTokenizer().catch(() => undefined);
    const { trace: frozen, attention } = withoutAttention(trace);
    const layers = new LayerStore({ resident: attention, deferred: trace.deferred, pooled: trace.pooled, budget: opts.attentionBudgetBytes, fetch });
    return {
      trace: frozen, layers,
      ...(positional ? { positional } : {}),
      ...(lens ? { lens } : {}),
      ...(out ? { vocab: (id: number) => out.idToToken(id) } : {}),
    };
  }

  private positional(extra: Record<string, FloatTensor>, warnings: string[]): PositionalEncoding | undefined {
    if (!this.decoded.has('model')) return undefined;
    try {
      const src = this.positionalSource();
      if (src?.kind === 'table') return src.encoding;
      const t = src && extra[src.tensor];
      if (!src || !t) return undefined;
      const cols = t.dims[t.dims.length - 1];
      return { source: `sinusoidal subgraph at ${src.node} (${src.tensor})`, rows: t.data.length / cols, cols, data: t.data };
    } catch (e) {
      warnings.push(`Positional encoding not shown: ${message(e)}`);
      return undefined;
    }
  }

  private async produce(opts: TraceRunOptions, forView: boolean): Promise<{ trace: Trace; extra: Record<string, FloatTensor>; fetch?: LayerFetch }> {
    const t0 = opts.startedAt ?? now();
    checkAbort(opts.signal);
    const progress = (m: string, fraction?: number): void => opts.onProgress?.({ message: m, fraction });
    progress(`Loading ${this.name}`);
    if (opts.inputs && !this.decoded.has('model')) {
      throw new SeqLensError('unsupported', `${this.name} is an encoder-decoder model: it runs on text, not on input arrays.`);
    }
    if (opts.continueTokens !== undefined && (opts.inputs || !this.decoded.has('model'))) {
      throw new SeqLensError('unsupported', `Continuing a text works on one-file decoder-only models run on text; ${this.name} is ${opts.inputs ? 'run on arrays' : 'an encoder and a decoder file'}.`);
    }
    if (opts.probeTensors?.length && !this.decoded.has('model')) {
      throw new SeqLensError('unsupported', `Probing a tensor by name works on one-file models; ${this.name} is an encoder and a decoder file.`);
    }
    const r = this.decoded.has('model')
      ? await this.produceSingle(opts, forView, progress)
      : { trace: await this.produceSeq2Seq(opts, progress), extra: {} };
    r.trace.warnings.push(...(opts.warnings ?? []));
    this.costs.reportTo(r.trace.timings);
    r.trace.timings.total = now() - t0;
    return r;
  }

  private async produceSingle(opts: TraceRunOptions, forView: boolean, progress: (m: string, f?: number) => void):
    Promise<{ trace: Trace; extra: Record<string, FloatTensor>; fetch: LayerFetch }> {
    const file = this.decoded.file('model');
    const backend = opts.backend;
    const timings = newTimings();
    const warnings: string[] = [];
    if (opts.inputs) return this.produceTensors(opts, opts.inputs, forView, progress);
    // Graph checks first: they need only the plan, and name the problem before a (slow) session is made.
    const io = this.singleInputs(file, this.decoded.plan(file, this.variant(backend, opts.probeTensors)).plan);
    // The session is created while the tokenizer is parsed (in the webview the session builds in a worker).
    const session = this.prepared(backend, file, opts.probeTensors);
    const tokenizer = this.sourceTokenizer();
    tokenizer.catch(() => undefined);
    // Say which step a first run waits on (each is done once per model): the status line and cancel name it.
    let sessionReady = false;
    void session.then(() => { sessionReady = true; }, () => undefined);
    await Promise.resolve();
    if (!sessionReady) progress(`Creating the ${backend.name} session for ${this.name}`);
    const prepared = await session;
    checkAbort(opts.signal);
    const tok = await tokenizer;
    progress(`Tokenizing ${opts.text.length.toLocaleString('en-US')} characters`);
    const tt = now();
    const tokens = encodeText(tok, opts.text, [this.manifest?.maxLength, opts.maxTokens, io.fixedLength], warnings, 'text');
    if (io.fixedLength !== undefined && tokens.length < io.fixedLength) {
      throw new SeqLensError('unsupported',
        `${this.name} takes exactly ${io.fixedLength} tokens (a fixed sequence length); the text gives ${tokens.length}.`);
    }
    timings.tokenize = now() - tt;
    const sinusoid = forView ? this.decoded.sinusoidTensor() : undefined;
    const manifestIo = this.manifest?.io as SingleModelIO | undefined;
    // A continued text: the greedy steps first, then the one traced run covers prompt + generated tokens.
    const shown = opts.continueTokens === undefined ? { text: opts.text, tokens }
      : await this.continued(opts, file, prepared, io, tok, tokens, manifestIo?.logits, warnings, timings, progress);
    const common = {
      name: this.name, architecture: this.manifest?.architecture ?? prepared.plan.architecture, backendName: backend.name,
      text: shown.text, tokens: shown.tokens, prepared, io, logits: manifestIo?.logits,
    };
    const { trace, extra } = await runSingle({
      ...common, warnings, timings, signal: opts.signal, progress,
      attentionBudgetBytes: opts.attentionBudgetBytes, preferProbe: opts.preferProbe, only: opts.only,
      ...(sinusoid ? { extra: [sinusoid] } : {}),
    });
    if ('continuation' in shown) trace.continuation = shown.continuation;
    const generation = this.generations.get(backend) ?? 0;
    // Deferred attention: another run of the same session over the same tokens, fetching only it.
    const fetch: LayerFetch = async (probes, signal) => {
      if ((this.generations.get(backend) ?? 0) !== generation) {
        throw new SeqLensError('runtime', 'The backend changed since this run: run the model again to see these layers.');
      }
      const again = await this.prepared(backend, file, opts.probeTensors);
      const more = await runSingle({
        ...common, prepared: again, warnings: [], timings: newTimings(), signal, progress: () => undefined, only: probes.map((p) => p.name),
      });
      return more.trace.probes;
    };
    return { trace, extra, fetch };
  }

  /**
   * Greedy continuation of `tokens` (at most `opts.continueTokens` new ones, within the model's maximum
   * length): the steps run on the model's own graph with its key/value cache when it has one (a plain
   * session: the instrumented one reads the branch without the cache), else on the instrumented session
   * over the whole prefix. Returns the prompt and generated tokens, marked, and the decoded text.
   */
  private async continued(opts: TraceRunOptions, file: ModelFile, prepared: PreparedFile, io: SingleInputs, tok: TextTokenizer,
    tokens: TokenSpan[], namedLogits: string | undefined, warnings: string[], timings: Record<string, number>,
    progress: (m: string, f?: number) => void): Promise<{ text: string; tokens: TokenSpan[]; continuation: NonNullable<Trace['continuation']> }> {
    const asked = Math.floor(opts.continueTokens ?? 0);
    if (!(asked >= 1)) throw new SeqLensError('unsupported', 'Continuing needs a number of tokens of at least 1.');
    if (io.fixedLength !== undefined) throw new SeqLensError('unsupported', `${this.name} takes a fixed number of tokens: it cannot continue a text.`);
    const logits = logitsName(prepared, namedLogits);
    if (!logits) throw new SeqLensError('unsupported', `${this.name} has no logits output to pick the next token from: it cannot continue a text.`);
    const limits = [this.manifest?.maxLength, opts.maxTokens].filter((v): v is number => typeof v === 'number' && v > 0);
    const room = limits.length ? Math.min(...limits) - tokens.length : asked;
    if (room < 1) throw new SeqLensError('unsupported', `The text already fills ${this.name}'s ${Math.min(...limits)} tokens: nothing to continue.`);
    const maxNew = Math.min(asked, room);
    if (maxNew < asked) warnings.push(`Continued ${maxNew} tokens, not ${asked}: ${this.name} reads at most ${Math.min(...limits)} tokens.`);
    const cached = cachePairs(file.inputs, file.outputs);
    progress(cached ? `Continuing with the key/value cache` : `Continuing`);
    const session = cached ? (await this.plainPrepared(opts.backend, file)).session : prepared.session;
    const t0 = now();
    const r = await greedyContinue({
      name: this.name, session, inputs: file.inputs, outputs: file.outputs, io, logits, promptIds: tokens.map((t) => t.id), maxNew,
      ...(tok.eos !== undefined ? { eos: [tok.eos] } : {}), signal: opts.signal, progress, timings: newTimings(),
    });
    timings.continue = now() - t0;
    const more = continuedTokens(tok, opts.text, r.ids);
    return {
      text: more.text, tokens: [...tokens, ...more.tokens],
      continuation: { from: tokens.length, steps: r.ids.length, cachedSteps: r.cachedSteps, stop: r.stop, text: more.text.slice(opts.text.length) },
    };
  }

  /** The file's own graph, not instrumented, in a session of this backend (a cached continuation's steps), once per backend. */
  private plainPrepared(backend: InferenceBackend, file: ModelFile): Promise<PreparedFile> {
    let per = this.sessions.get(backend);
    if (!per) {
      per = new Map();
      this.sessions.set(backend, per);
    }
    return memoized(per, `${file.key}|plain`, async () => {
      const externalData = await this.externalData(file, backend);
      const t0 = now();
      // A copy: onnxruntime-web's worker takes over the buffer it is handed (see DecodedModel.instrumented).
      const session = await backend.createSession(file.bytes.slice(), externalData);
      this.stats.sessions++;
      this.costs.add('sessionCreate', now() - t0);
      const { plan } = this.decoded.plan(file, variantFor(backend));
      return { plan, inputs: file.inputs, outputs: file.outputs, session };
    });
  }

  /** A one-file run on arrays (tensorFeeds.ts): the same probes, over positions instead of tokens. */
  private async produceTensors(opts: TraceRunOptions, inputs: Readonly<Record<string, FloatTensor>>, forView: boolean,
    progress: (m: string, f?: number) => void): Promise<{ trace: Trace; extra: Record<string, FloatTensor>; fetch: LayerFetch }> {
    const file = this.decoded.file('model');
    const backend = opts.backend;
    const plan = this.decoded.plan(file, this.variant(backend, opts.probeTensors)).plan;
    if (!this.manifest && noSequenceStructure(plan)) {
      throw new SeqLensError('not-sequence-model',
        `${this.name} shows no sequence structure: no attention, recurrent layer or hidden-state probe was found in its graph.`);
    }
    // The arrays are checked against the graph before a (slow) session is made.
    const given = tensorFeeds(file.inputs, inputs, this.name, opts.inputFlag);
    if (!this.sessionsOf(backend).has(file.key)) progress(`Creating the ${backend.name} session for ${this.name}`);
    const prepared = await this.prepared(backend, file, opts.probeTensors);
    checkAbort(opts.signal);
    const sinusoid = forView ? this.decoded.sinusoidTensor() : undefined;
    const manifestIo = this.manifest?.io as SingleModelIO | undefined;
    const common = {
      name: this.name, architecture: this.manifest?.architecture ?? prepared.plan.architecture, backendName: backend.name,
      text: '', tokens: positionTokens(given.length), prepared, feeds: given.feeds, logits: manifestIo?.logits,
    };
    const { trace, extra } = await runSingle({
      ...common, warnings: [], timings: newTimings(), signal: opts.signal, progress,
      attentionBudgetBytes: opts.attentionBudgetBytes, preferProbe: opts.preferProbe, only: opts.only,
      ...(sinusoid ? { extra: [sinusoid] } : {}),
    });
    // The probes say how many positions the model reads (an image model's patches are not its pixels).
    const n = positionCount(trace.probes);
    if (n !== undefined && n !== trace.tokens.length) {
      trace.tokens = positionTokens(n);
      common.tokens = trace.tokens;
    }
    trace.tensorInputs = given.given;
    const generation = this.generations.get(backend) ?? 0;
    const fetch: LayerFetch = async (probes, signal) => {
      if ((this.generations.get(backend) ?? 0) !== generation) {
        throw new SeqLensError('runtime', 'The backend changed since this run: run the model again to see these layers.');
      }
      const again = await this.prepared(backend, file, opts.probeTensors);
      const more = await runSingle({
        ...common, prepared: again, warnings: [], timings: newTimings(), signal, progress: () => undefined, only: probes.map((p) => p.name),
      });
      return more.trace.probes;
    };
    return { trace, extra, fetch };
  }

  private sessionsOf(backend: InferenceBackend): Map<FileKey, Promise<PreparedFile>> {
    return this.sessions.get(backend) ?? new Map<FileKey, Promise<PreparedFile>>();
  }

  private async produceSeq2Seq(opts: TraceRunOptions, progress: (m: string, f?: number) => void): Promise<Trace> {
    const manifest = this.manifest;
    if (!manifest || !isSeq2SeqIO(manifest.io)) throw new SeqLensError('bad-manifest', `${this.name} is not an encoder-decoder model.`);
    const io = manifest.io;
    const timings = newTimings();
    const warnings: string[] = [];
    // One session after the other (a backend creates them one at a time anyway, and each then times only
    // its own creation), while the tokenizers are parsed.
    const sessions = (async () => [
      await this.prepared(opts.backend, this.decoded.file('encoder')),
      await this.prepared(opts.backend, this.decoded.file('decoder')),
    ])();
    const source = this.tokenizer(manifest.tokenizer);
    const target = this.tokenizer(io.targetTokenizer);
    for (const p of [sessions, source, target]) (p as Promise<unknown>).catch(() => undefined);
    const [encoder, decoder] = await sessions;
    const [srcTok, tgtTok] = [await source, await target];
    const tt = now();
    const tokens: TokenSpan[] = encodeText(srcTok, opts.text, [manifest.maxLength, opts.maxTokens], warnings, 'source text');
    timings.tokenize = now() - tt;
    return runSeq2Seq({
      name: this.name, architecture: manifest.architecture, backendName: opts.backend.name, text: opts.text, tokens, io,
      encoder, decoder, target: tgtTok, warnings, timings, signal: opts.signal, progress,
    });
  }
}
