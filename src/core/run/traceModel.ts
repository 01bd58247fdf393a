/**
 * The shared trace runner: text in, Trace out. Tokenizes with source offsets, instruments each .onnx
 * file, runs it on whatever InferenceBackend the caller has (onnxruntime-node in the CLI,
 * onnxruntime-web in the webview) and gathers the probe tensors. One-file models run once over the
 * sequence; encoder-decoder manifests run the encoder once and then decode greedily, one step per
 * generated token, stacking every step's decoder probes on a leading step axis.
 * Browser-safe: files arrive through the caller's `files` function.
 */
import type { FloatTensor, HostTensor, InferenceBackend, SessionHandle } from './backend.js';
import type { ModelManifest, Seq2SeqIO, SingleModelIO, TokenizerSpec } from '../manifest.js';
import { isSeq2SeqIO } from '../manifest.js';
import type { Probe, ProbePlan } from '../types.js';
import type { ProbeTensor, TokenSpan, Trace } from '../trace/traceTypes.js';
import type { TextTokenizer } from '../tokenize/textTokenizer.js';
import { decodeModel, externalDataFiles } from '../onnx/decode.js';
import { tensorSummary } from '../onnx/summarize.js';
import { instrument } from '../instrument.js';
import { loadTokenizer } from '../tokenize/loadTokenizer.js';
import { SeqLensError } from '../errors.js';
import { TraceSessionCache, fingerprint, type PreparedModel } from './sessionCache.js';
import { feedFor, findSequenceInputs, graphInputs, singleFeeds, zerosFor, type SingleInputs } from './feeds.js';
import { applyPostprocess, lastPosition, stackSteps } from './probeTensors.js';
import { planFetch } from './fetchPlan.js';

export interface TraceProgress {
  message: string;
  /** 0..1 where known (decoding steps). */
  fraction?: number;
}

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
  /** Sessions kept between runs; a private one per call when absent. */
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
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SeqLensError('cancelled', 'The run was cancelled.');
}

function dirOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i >= 0 ? rel.slice(0, i + 1) : '';
}

/** Decodes, checks external data, instruments and creates the session for one .onnx file. */
async function prepare(
  opts: TraceOptions,
  cache: TraceSessionCache,
  bytes: Uint8Array,
  relPath: string,
  displayName: string,
  role?: 'encoder' | 'decoder',
  /** Checks that need only the graph; they run before the (slow) session creation. */
  validate?: (plan: ProbePlan, inputs: PreparedModel['inputs']) => void,
): Promise<PreparedModel> {
  return cache.model(opts.backend, bytes, async () => {
    const t0 = now();
    const model = decodeModel(bytes, displayName);
    const externalData = [];
    for (const location of externalDataFiles(model).keys()) {
      let data: Uint8Array;
      try {
        data = await opts.files(dirOf(relPath) + location);
      } catch {
        throw new SeqLensError('external-data',
          `${displayName} keeps its weights in an external data file "${location}", which is missing beside it.`);
      }
      externalData.push({ path: location, data });
    }
    const inputs = graphInputs(model);
    const outputs = (model.graph?.output ?? []).map(tensorSummary);
    // onnxruntime-web's WebGPU LSTM has no Affine activation: read the cell state through Relu there.
    // The pooled attention overviews made its runs 2.5× slower (measured on the zoo Transformer): not there.
    const webgpu = opts.backend.name === 'webgpu';
    const instrumented = instrument(bytes, model, {
      role, allowExternalData: true, fileName: displayName, recurrent: { cellVia: webgpu ? 'relu-pair' : 'affine' }, pooledAttention: !webgpu,
    });
    validate?.(instrumented.plan, inputs);
    const t1 = now();
    const session = await opts.backend.createSession(instrumented.bytes, externalData.length ? { externalData } : undefined);
    return { plan: instrumented.plan, inputs, outputs, session, instrumentMs: t1 - t0, sessionMs: now() - t1 };
  });
}

async function tokenizerFor(
  opts: TraceOptions,
  cache: TraceSessionCache,
  spec: TokenizerSpec,
  scope: string,
): Promise<TextTokenizer> {
  return cache.tokenizer(`${scope}|${JSON.stringify(spec)}`, () => loadTokenizer(spec, opts.files));
}

/** Nothing to look at: no attention, recurrent layer or hidden state was found. */
function noSequenceStructure(plan: ProbePlan): boolean {
  return plan.architecture === 'unknown' && plan.probes.every((p) => p.kind === 'logits');
}

/** Removes the batch axis of size 1 from [1, seq, vocab] logits. */
function squeezeBatch(t: FloatTensor): FloatTensor {
  return t.dims.length === 3 && t.dims[0] === 1 ? { dims: t.dims.slice(1), data: t.data } : t;
}

/** The last row of logits [.., vocab] (the prediction for the next token). */
function lastRow(t: FloatTensor): Float32Array {
  const v = t.dims[t.dims.length - 1];
  return t.data.subarray(t.data.length - v);
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function truncate(tokens: TokenSpan[], max: number, warnings: string[], what: string): TokenSpan[] {
  if (tokens.length <= max) return tokens;
  const kept = tokens.slice(0, max);
  const end = kept[kept.length - 1]?.end ?? 0;
  warnings.push(`The ${what} is ${tokens.length} tokens; the model takes at most ${max}, so only the first ${max} ` +
    `tokens (characters 0-${end}) were traced.`);
  return kept;
}

function encodeText(tok: TextTokenizer, text: string, warnings: string[]): TokenSpan[] {
  if (text.length === 0) throw new SeqLensError('empty-input', 'The text is empty: select or type some text to trace.');
  const r = tok.encodeDetailed(text);
  warnings.push(...r.warnings);
  if (r.tokens.length === 0 || r.tokens.every((t) => t.start === t.end)) {
    throw new SeqLensError('empty-input', 'The text gives no tokens the model knows: nothing to trace.');
  }
  return r.tokens;
}

function logitsName(prepared: PreparedModel, named: string | undefined): string | undefined {
  if (named) return named;
  const probe = prepared.plan.probes.find((p) => p.kind === 'logits');
  if (probe) return probe.name;
  const rank3 = prepared.outputs.find((o) => o.shape?.length === 3 && o.type === 'float');
  return rank3?.name ?? (prepared.outputs.length === 1 ? prepared.outputs[0].name : undefined);
}

async function runStep(
  session: SessionHandle,
  feeds: Record<string, HostTensor>,
  fetches: string[],
  signal: AbortSignal | undefined,
  timings: Record<string, number>,
): Promise<Record<string, FloatTensor>> {
  checkAbort(signal);
  const t0 = now();
  const out = await session.run(feeds, [...new Set(fetches)], signal);
  timings.run += now() - t0;
  return out;
}

function withFile(probes: readonly Probe[], file: string, role: 'encoder' | 'decoder' | undefined): Probe[] {
  return probes.map((p) => {
    const q: Probe = { ...p, file };
    // A decoder step graph seen alone: its self-attention looks like an encoder's to the planner.
    if (role === 'decoder' && q.stream === 'encoder') q.stream = 'decoder';
    if (role && q.stream === undefined && q.kind !== 'logits') q.stream = role;
    return q;
  });
}

function newTimings(): Record<string, number> {
  return { tokenize: 0, instrument: 0, sessionCreate: 0, run: 0, extract: 0, total: 0 };
}

/** The run that built a session reports its cost; later runs on the cached session report 0. */
function addPrepareTimings(timings: Record<string, number>, p: PreparedModel): void {
  if (p.timingsReported) return;
  p.timingsReported = true;
  timings.instrument += p.instrumentMs;
  timings.sessionCreate += p.sessionMs;
}

export async function traceModel(opts: TraceOptions): Promise<Trace> {
  const t0 = now();
  const cache = opts.cache ?? new TraceSessionCache();
  const progress = (message: string, fraction?: number): void => opts.onProgress?.({ message, fraction });
  try {
    checkAbort(opts.signal);
    const manifest = opts.manifest;
    const trace = manifest && isSeq2SeqIO(manifest.io)
      ? await traceSeq2Seq(opts, cache, manifest, manifest.io, progress)
      : await traceSingle(opts, cache, progress);
    trace.timings.total = now() - t0;
    return trace;
  } finally {
    if (!opts.cache) await cache.dispose();
  }
}

async function traceSingle(
  opts: TraceOptions,
  cache: TraceSessionCache,
  progress: (m: string, f?: number) => void,
): Promise<Trace> {
  const manifest = opts.manifest;
  const timings = newTimings();
  const warnings: string[] = [];
  const rel = manifest?.files.model ?? '';
  const name = opts.modelName ?? manifest?.name ?? (rel || 'model.onnx');
  let bytes = opts.modelBytes;
  if (!bytes) {
    if (!manifest) throw new SeqLensError('bad-manifest', 'traceModel needs modelBytes or a manifest.');
    const modelRel = manifest.files.model;
    if (!modelRel) throw new SeqLensError('bad-manifest', 'Model manifest is invalid: "files.model" is required for one-file models.');
    bytes = await opts.files(modelRel);
  }

  progress(`Loading ${name}`);
  // Which inputs to feed: the manifest says, else the graph is read.
  const ioOf = (inputs: PreparedModel['inputs']): SingleInputs => (manifest && !isSeq2SeqIO(manifest.io)
    ? { ids: (manifest.io as SingleModelIO).ids, mask: (manifest.io as SingleModelIO).mask }
    : findSequenceInputs(inputs, name));
  const prepared = await prepare(opts, cache, bytes, rel, name, undefined, (plan, inputs) => {
    ioOf(inputs);
    if (!manifest && noSequenceStructure(plan)) {
      throw new SeqLensError('not-sequence-model',
        `${name} shows no sequence structure: no attention, recurrent layer or hidden-state probe was found in its graph.`);
    }
  });
  addPrepareTimings(timings, prepared);
  checkAbort(opts.signal);
  const io = ioOf(prepared.inputs);

  const tt = now();
  const spec = await tokenizerSpec(opts, name);
  const tok = await tokenizerFor(opts, cache, spec, fingerprint(bytes));
  let tokens = encodeText(tok, opts.text, warnings);
  const limits = [manifest?.maxLength, opts.maxTokens, io.fixedLength].filter((v): v is number => typeof v === 'number' && v > 0);
  if (limits.length) tokens = truncate(tokens, Math.min(...limits), warnings, 'text');
  if (io.fixedLength !== undefined && tokens.length < io.fixedLength) {
    throw new SeqLensError('unsupported',
      `${name} takes exactly ${io.fixedLength} tokens (a fixed sequence length); the text gives ${tokens.length}.`);
  }
  timings.tokenize = now() - tt;

  const planned = withFile(prepared.plan.probes, 'model', undefined);
  let probes = planned;
  let deferred: Probe[] = [];
  if (opts.only) {
    const want = new Set(opts.only);
    probes = planned.filter((p) => want.has(p.name));
  } else if (opts.attentionBudgetBytes !== undefined) {
    ({ fetch: probes, deferred } = planFetch(planned, tokens.length, opts.attentionBudgetBytes, opts.preferProbe));
  }
  const logits = opts.only ? undefined
    : logitsName(prepared, manifest && !isSeq2SeqIO(manifest.io) ? (manifest.io as SingleModelIO).logits : undefined);
  // Deferred attention still sends its pooled overview (1/256 of the bytes at a pool of 16).
  const overviews = deferred.filter((p) => p.pooled);
  const fetches = [...probes.map((p) => p.name), ...overviews.map((p) => p.pooled!.name), ...(logits ? [logits] : [])];
  progress(`Running ${name} on ${tokens.length} tokens`);
  const out = await runStep(prepared.session, singleFeeds(prepared.inputs, io, tokens.map((t) => t.id)), fetches, opts.signal, timings);

  const te = now();
  const probeTensors: ProbeTensor[] = [];
  for (const p of probes) {
    const raw = out[p.name];
    if (!raw) {
      warnings.push(`Probe ${p.name} (${p.kind}, layer ${p.layer}) produced no tensor.`);
      continue;
    }
    probeTensors.push({ probe: p, tensor: applyPostprocess(p, raw) });
  }
  const logitsTensor = logits && out[logits] ? squeezeBatch(out[logits]) : undefined;
  timings.extract = now() - te;
  return {
    model: name,
    architecture: manifest?.architecture ?? prepared.plan.architecture,
    backend: opts.backend.name,
    input: opts.text,
    tokens,
    probes: probeTensors,
    logits: logitsTensor,
    timings,
    warnings,
    ...(deferred.length ? { deferred } : {}),
    ...(overviews.length ? {
      pooled: overviews.filter((p) => out[p.pooled!.name]).map((p) => ({ probe: p, tensor: out[p.pooled!.name], pooledBy: p.pooled!.factor })),
    } : {}),
  };
}

async function tokenizerSpec(opts: TraceOptions, name: string): Promise<TokenizerSpec> {
  if (opts.manifest) return opts.manifest.tokenizer;
  if (opts.tokenizer) return opts.tokenizer;
  try {
    await opts.files('tokenizer.json');
  } catch {
    throw new SeqLensError('missing-tokenizer',
      `${name} has no tokenizer: put its Hugging Face tokenizer.json beside it, or describe it with a ` +
      `${name.replace(/\.onnx$/i, '')}.seqlens.json manifest.`);
  }
  return { type: 'hf', file: 'tokenizer.json' };
}

/** The cross-attention probe a decoder step returns as a named output (Bahdanau-style RNN decoders). */
function manifestAttentionProbe(name: string, dims: readonly number[]): Probe {
  const axes: Probe['axes'] = dims.length === 4 ? ['batch', 'head', 'query', 'key']
    : dims.length === 3 ? ['batch', 'query', 'key']
      : dims.length === 2 ? ['batch', 'key'] : ['key'];
  return {
    name, kind: 'attention', layer: 0, stream: 'cross', heads: dims.length === 4 ? dims[1] : 1, axes,
    source: { op: 'output', node: name }, postprocess: 'none', file: 'decoder',
  };
}

async function traceSeq2Seq(
  opts: TraceOptions,
  cache: TraceSessionCache,
  manifest: ModelManifest,
  io: Seq2SeqIO,
  progress: (m: string, f?: number) => void,
): Promise<Trace> {
  const timings = newTimings();
  const warnings: string[] = [];
  const name = opts.modelName ?? manifest.name;
  const encRel = manifest.files.encoder;
  const decRel = manifest.files.decoder;
  progress(`Loading ${name}`);
  const encBytes = await opts.files(encRel);
  const decBytes = await opts.files(decRel);
  const enc = await prepare(opts, cache, encBytes, encRel, `${name} encoder (${encRel})`, 'encoder');
  const dec = await prepare(opts, cache, decBytes, decRel, `${name} decoder (${decRel})`, 'decoder');
  addPrepareTimings(timings, enc);
  addPrepareTimings(timings, dec);

  const tt = now();
  const scope = fingerprint(encBytes);
  const srcTok = await tokenizerFor(opts, cache, manifest.tokenizer, scope);
  const tgtTok = await tokenizerFor(opts, cache, io.targetTokenizer, scope);
  let tokens = encodeText(srcTok, opts.text, warnings);
  const limits = [manifest.maxLength, opts.maxTokens].filter((v): v is number => typeof v === 'number' && v > 0);
  tokens = truncate(tokens, Math.min(...limits), warnings, 'source text');
  timings.tokenize = now() - tt;
  const S = tokens.length;
  const ids = tokens.map((t) => t.id);

  // Encoder: once over the source.
  const encProbes = withFile(enc.plan.probes, 'encoder', 'encoder');
  const encFeeds: Record<string, HostTensor> = { [io.encoder.ids]: feedFor(enc.inputs, io.encoder.ids, [1, S], ids) };
  if (io.encoder.mask) encFeeds[io.encoder.mask] = feedFor(enc.inputs, io.encoder.mask, [1, S], new Array<number>(S).fill(1));
  const encFetches = [io.encoder.outputs, ...(io.encoder.state ? [io.encoder.state] : []), ...encProbes.map((p) => p.name)];
  progress(`Encoding ${S} tokens`);
  const encOut = await runStep(enc.session, encFeeds, encFetches, opts.signal, timings);
  const encoderOut = encOut[io.encoder.outputs];
  if (!encoderOut) throw new SeqLensError('bad-manifest', `The encoder has no output "${io.encoder.outputs}" (manifest io.encoder.outputs).`);

  // Decoder: one step per generated token.
  const decProbes = withFile(dec.plan.probes, 'decoder', 'decoder');
  const known = new Set<string>([io.decoder.tokens, io.decoder.encoderOut, io.decoder.stateIn, io.decoder.srcMask]
    .filter((v): v is string => typeof v === 'string'));
  const unknownInput = dec.inputs.find((i) => !known.has(i.name));
  if (unknownInput) {
    throw new SeqLensError('bad-manifest',
      `The decoder step has an input "${unknownInput.name}" that the manifest's io.decoder does not name.`);
  }
  const decFetches = [io.decoder.logits, ...(io.decoder.stateOut ? [io.decoder.stateOut] : []),
    ...(io.decoder.attention ? [io.decoder.attention] : []), ...decProbes.map((p) => p.name)];
  const hostFloat = (t: FloatTensor): HostTensor => ({ type: 'float32', dims: t.dims, data: t.data });
  let state: HostTensor | undefined;
  if (io.decoder.stateIn) {
    const s = io.encoder.state ? encOut[io.encoder.state] : undefined;
    state = s ? hostFloat(s) : zerosFor(dec.inputs, io.decoder.stateIn);
  }
  const prefix = [io.bos];
  const generated: number[] = [];
  const perProbe = new Map<string, FloatTensor[]>();
  const stepLogits: Float32Array[] = [];
  let attentionProbe: Probe | undefined;
  const prefixMode = io.decoder.tokensMode === 'prefix';
  const maxSteps = io.maxTargetLength;
  for (let step = 0; step < maxSteps; step++) {
    checkAbort(opts.signal);
    const feeds: Record<string, HostTensor> = {};
    const toks = prefixMode ? prefix : [prefix[prefix.length - 1]];
    feeds[io.decoder.tokens] = feedFor(dec.inputs, io.decoder.tokens, [1, toks.length], toks);
    if (io.decoder.encoderOut) feeds[io.decoder.encoderOut] = hostFloat(encoderOut);
    if (io.decoder.stateIn && state) feeds[io.decoder.stateIn] = state;
    if (io.decoder.srcMask) feeds[io.decoder.srcMask] = feedFor(dec.inputs, io.decoder.srcMask, [1, S], new Array<number>(S).fill(1));
    const out = await runStep(dec.session, feeds, decFetches, opts.signal, timings);

    const te = now();
    const logits = out[io.decoder.logits];
    if (!logits) throw new SeqLensError('bad-manifest', `The decoder has no output "${io.decoder.logits}" (manifest io.decoder.logits).`);
    const row = lastRow(logits);
    stepLogits.push(row.slice());
    const next = argmax(row);
    if (io.decoder.stateOut) {
      const s = out[io.decoder.stateOut];
      if (!s) throw new SeqLensError('bad-manifest', `The decoder has no output "${io.decoder.stateOut}" (manifest io.decoder.stateOut).`);
      state = hostFloat(s);
    }
    // The step's own attention output, unless the planner already exposes the cross-attention.
    if (io.decoder.attention && out[io.decoder.attention] && !decProbes.some((p) => p.kind === 'attention' && p.stream === 'cross')) {
      attentionProbe ??= manifestAttentionProbe(io.decoder.attention, out[io.decoder.attention].dims);
    }
    const stepProbes = attentionProbe ? [attentionProbe, ...decProbes] : decProbes;
    for (const p of stepProbes) {
      const raw = out[p.name];
      if (!raw) continue;
      let t = applyPostprocess(p, raw);
      if (prefixMode) t = lastPosition(p, t);
      const list = perProbe.get(p.name) ?? [];
      list.push(t);
      perProbe.set(p.name, list);
    }
    timings.extract += now() - te;
    generated.push(next);
    prefix.push(next);
    progress(`Decoding: ${generated.length} tokens`, (step + 1) / maxSteps);
    if (next === io.eos) break;
  }
  if (generated[generated.length - 1] !== io.eos) {
    warnings.push(`Decoding stopped at the maximum target length (${maxSteps} tokens) without an end token.`);
  }

  const te = now();
  const probeTensors: ProbeTensor[] = [];
  for (const p of encProbes) {
    const raw = encOut[p.name];
    if (raw) probeTensors.push({ probe: p, tensor: applyPostprocess(p, raw) });
    else warnings.push(`Probe ${p.name} (${p.kind}, layer ${p.layer}) produced no tensor.`);
  }
  for (const p of attentionProbe ? [attentionProbe, ...decProbes] : decProbes) {
    const steps = perProbe.get(p.name);
    if (steps?.length) probeTensors.push({ probe: p, tensor: stackSteps(steps), stepAxis: true });
    else warnings.push(`Probe ${p.name} (${p.kind}, layer ${p.layer}) produced no tensor.`);
  }
  const vocab = stepLogits[0]?.length ?? 0;
  const logitsData = new Float32Array(stepLogits.length * vocab);
  stepLogits.forEach((r, i) => logitsData.set(r, i * vocab));
  timings.extract += now() - te;

  return {
    model: name,
    architecture: manifest.architecture,
    backend: opts.backend.name,
    input: opts.text,
    tokens,
    generated: generatedSpans(tgtTok, generated, io.eos),
    probes: probeTensors,
    logits: { dims: [stepLogits.length, vocab], data: logitsData },
    timings,
    warnings,
  };
}

/** Generated ids as spans over the decoded target string; the end token is a zero-width span at its end. */
function generatedSpans(tok: TextTokenizer, ids: readonly number[], eos: number): TokenSpan[] {
  const spans: TokenSpan[] = [];
  let pos = 0;
  for (const id of ids) {
    // A marker the model emits mid-sequence (a stray start token) decodes to nothing: show its vocabulary entry.
    const text = id === eos ? '' : tok.decode([id]) || tok.idToToken(id);
    spans.push({ id, text: id === eos ? tok.idToToken(id) : text, start: pos, end: pos + text.length });
    pos += text.length;
  }
  return spans;
}
