/**
 * An encoder-decoder run: the encoder once over the source tokens, then the decoder step greedily, one
 * run per generated token, stacking every step's decoder probes on a leading step axis.
 */
import type { FloatTensor, HostTensor } from './backend.js';
import type { Architecture, Probe } from '../types.js';
import type { Seq2SeqIO } from '../manifest.js';
import type { ProbeTensor, TokenSpan, Trace } from '../trace/traceTypes.js';
import type { TextTokenizer } from '../tokenize/textTokenizer.js';
import { SeqLensError } from '../errors.js';
import { emptyPast, feedFor, makeTensor, zerosFor } from './feeds.js';
import { firstRunFlags, isPastInput } from '../cacheInputs.js';
import { applyPostprocess, lastPosition, stackSteps } from './probeTensors.js';
import { checkAbort, now, runStep, withFile, type PreparedFile, type Progress } from './runSteps.js';

export interface Seq2SeqRun {
  name: string;
  architecture: Architecture;
  backendName: string;
  text: string;
  /** Source tokens (already truncated to the model's maximum). */
  tokens: TokenSpan[];
  io: Seq2SeqIO;
  encoder: PreparedFile;
  decoder: PreparedFile;
  /** Decodes generated ids into the target text. */
  target: TextTokenizer;
  warnings: string[];
  timings: Record<string, number>;
  signal?: AbortSignal;
  progress: Progress;
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

export async function runSeq2Seq(r: Seq2SeqRun): Promise<Trace> {
  const { io, encoder: enc, decoder: dec, timings, warnings } = r;
  const S = r.tokens.length;
  const ids = r.tokens.map((t) => t.id);

  // Encoder: once over the source.
  const encProbes = withFile(enc.plan.probes, 'encoder', 'encoder');
  const encFeeds: Record<string, HostTensor> = { [io.encoder.ids]: feedFor(enc.inputs, io.encoder.ids, [1, S], ids) };
  if (io.encoder.mask) encFeeds[io.encoder.mask] = feedFor(enc.inputs, io.encoder.mask, [1, S], new Array<number>(S).fill(1));
  const encFetches = [io.encoder.outputs, ...(io.encoder.state ? [io.encoder.state] : []), ...encProbes.map((p) => p.name)];
  r.progress(`Encoding ${S} tokens`);
  const encOut = await runStep(enc.session, encFeeds, encFetches, r.signal, timings);
  const encoderOut = encOut[io.encoder.outputs];
  if (!encoderOut) throw new SeqLensError('bad-manifest', `The encoder has no output "${io.encoder.outputs}" (manifest io.encoder.outputs).`);

  // Decoder: one step per generated token.
  const decProbes = withFile(dec.plan.probes, 'decoder', 'decoder');
  const known = new Set<string>([io.decoder.tokens, io.decoder.encoderOut, io.decoder.stateIn, io.decoder.srcMask]
    .filter((v): v is string => typeof v === 'string'));
  // A merged decoder (If on use_cache_branch): every step takes the branch without the cache, over the whole
  // prefix, so its cache inputs are fed empty and the flag false, as a first run of a one-file decoder is.
  const flags = firstRunFlags(dec.inputs);
  const cacheFeeds: Record<string, HostTensor> = {};
  for (const t of flags.size && io.decoder.tokensMode === 'prefix' ? dec.inputs : []) {
    const flag = flags.get(t.name);
    if (flag) cacheFeeds[t.name] = makeTensor('bool', t.shape?.length ? t.shape.map(() => 1) : [], flag);
    else if (!known.has(t.name) && isPastInput(t)) cacheFeeds[t.name] = emptyPast(t);
  }
  const unknownInput = dec.inputs.find((i) => !known.has(i.name) && !(i.name in cacheFeeds));
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
    checkAbort(r.signal);
    const feeds: Record<string, HostTensor> = { ...cacheFeeds };
    const toks = prefixMode ? prefix : [prefix[prefix.length - 1]];
    feeds[io.decoder.tokens] = feedFor(dec.inputs, io.decoder.tokens, [1, toks.length], toks);
    if (io.decoder.encoderOut) feeds[io.decoder.encoderOut] = hostFloat(encoderOut);
    if (io.decoder.stateIn && state) feeds[io.decoder.stateIn] = state;
    if (io.decoder.srcMask) feeds[io.decoder.srcMask] = feedFor(dec.inputs, io.decoder.srcMask, [1, S], new Array<number>(S).fill(1));
    const out = await runStep(dec.session, feeds, decFetches, r.signal, timings);

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
    r.progress(`Decoding: ${generated.length} tokens`, (step + 1) / maxSteps);
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
  stepLogits.forEach((row, i) => logitsData.set(row, i * vocab));
  timings.extract += now() - te;

  return {
    model: r.name,
    architecture: r.architecture,
    backend: r.backendName,
    input: r.text,
    tokens: r.tokens,
    generated: generatedSpans(r.target, generated, io.eos),
    probes: probeTensors,
    logits: { dims: [stepLogits.length, vocab], data: logitsData },
    timings,
    warnings,
  };
}
