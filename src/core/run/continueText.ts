/**
 * Continuing a text with a decoder-only model: greedy decoding, one token per step, up to N tokens or
 * an end token. A model with a key/value cache (past_key_values.* in, present.* out; cacheInputs.ts) is
 * fed its own cache: the first step runs the prompt with an empty past, every later step only the newest
 * token. A model without one runs the whole prefix again each step. The views then get one instrumented
 * run over prompt + generated ids (LoadedModel), so every position has its attention and hidden states.
 */
import type { HostTensor, SessionHandle } from './backend.js';
import type { TensorSummary } from '../onnx/summarize.js';
import type { TokenSpan } from '../trace/traceTypes.js';
import type { TextTokenizer } from '../tokenize/textTokenizer.js';
import { SeqLensError } from '../errors.js';
import { isPastInput } from '../cacheInputs.js';
import { singleFeeds } from './feeds.js';
import type { SingleInputs } from './sequenceInputs.js';
import { checkAbort, newTimings, runStep, type Progress } from './runSteps.js';

/** A cache input and the output that holds its next value. */
export interface CachePair { past: string; present: string }

/**
 * The model's cache inputs paired with their outputs (`past_key_values.0.key` → `present.0.key`,
 * `past_k0` → `present_k0`); undefined when it has none, or when one has no output to feed it from, or
 * is not float32 (float16 caches come back as float32 and could not be fed again).
 */
export function cachePairs(inputs: readonly TensorSummary[], outputs: readonly TensorSummary[]): CachePair[] | undefined {
  const pasts = inputs.filter(isPastInput);
  if (!pasts.length) return undefined;
  const names = new Set(outputs.map((o) => o.name));
  const pairs: CachePair[] = [];
  for (const p of pasts) {
    if (p.type !== 'float') return undefined;
    const present = [p.name.replace(/past_key_values/i, 'present'), p.name.replace(/past/i, 'present')].find((n) => n !== p.name && names.has(n));
    if (!present) return undefined;
    pairs.push({ past: p.name, present });
  }
  return pairs;
}

export interface GreedyRequest {
  /** The model's name, for messages. */
  name: string;
  session: SessionHandle;
  /** Graph inputs and outputs of the model the session runs. */
  inputs: readonly TensorSummary[];
  outputs: readonly TensorSummary[];
  io: SingleInputs;
  /** The logits output ([batch, seq, vocab] or [batch, vocab]). */
  logits: string;
  promptIds: readonly number[];
  /** At most this many new tokens. */
  maxNew: number;
  /** Ids that end the text (generated, then decoding stops). */
  eos?: readonly number[];
  /** Feed the model's key/value cache when it has one (default true); false re-runs the whole prefix every step. */
  useCache?: boolean;
  signal?: AbortSignal;
  timings?: Record<string, number>;
  progress?: Progress;
}

export interface GreedyResult {
  /** The generated ids, in order (an end token included). */
  ids: number[];
  /** Steps that were fed the cache instead of the whole prefix. */
  cachedSteps: number;
  /** Why decoding stopped: an end token, or N tokens. */
  stop: 'eos' | 'limit';
}

function argmaxLast(data: Float32Array, vocab: number): number {
  const row = data.subarray(data.length - vocab);
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Greedy decoding after the prompt: cancellable between steps (and inside one, where the backend can). */
export async function greedyContinue(r: GreedyRequest): Promise<GreedyResult> {
  if (!r.promptIds.length) throw new SeqLensError('empty-input', 'Continuing needs at least one token of text.');
  const timings = r.timings ?? newTimings();
  const pairs = r.useCache === false ? undefined : cachePairs(r.inputs, r.outputs);
  const fetches = [r.logits, ...(pairs ?? []).map((p) => p.present)];
  const eos = new Set(r.eos ?? []);
  const ids: number[] = [];
  let past: Record<string, HostTensor> | undefined;
  let cachedSteps = 0;
  for (let step = 0; step < r.maxNew; step++) {
    checkAbort(r.signal);
    const prefix = [...r.promptIds, ...ids];
    const feeds = past
      ? singleFeeds(r.inputs, r.io, prefix.slice(-1), { length: prefix.length - 1, tensors: past })
      : singleFeeds(r.inputs, r.io, prefix);
    const out = await runStep(r.session, feeds, fetches, r.signal, timings);
    if (past) cachedSteps++;
    const logits = out[r.logits];
    if (!logits) throw new SeqLensError('runtime', `${r.name} returned no "${r.logits}" output to pick the next token from.`);
    const next = argmaxLast(logits.data, logits.dims[logits.dims.length - 1]);
    ids.push(next);
    r.progress?.(`Continuing: ${ids.length} of ${r.maxNew} tokens`, ids.length / r.maxNew);
    if (eos.has(next)) return { ids, cachedSteps, stop: 'eos' };
    if (pairs) {
      past = {};
      for (const p of pairs) {
        const t = out[p.present];
        if (!t) throw new SeqLensError('runtime', `${r.name} returned no "${p.present}" output to feed its cache "${p.past}".`);
        past[p.past] = { type: 'float32', dims: t.dims, data: t.data };
      }
    }
  }
  return { ids, cachedSteps, stop: 'limit' };
}

/**
 * The generated ids as tokens after the prompt's: each covers the text it decodes to, appended to the
 * prompt text (`text`), and is marked `generated`. A token that decodes to nothing (an end token) is a
 * zero-width span labelled with its vocabulary entry.
 */
export function continuedTokens(tok: TextTokenizer, promptText: string, ids: readonly number[]): { text: string; tokens: TokenSpan[] } {
  // Each token covers what it adds to the decoded continuation (byte-level pieces decode in context).
  const full = tok.decode([...ids]);
  const tokens: TokenSpan[] = [];
  let end = 0;
  for (let i = 0; i < ids.length; i++) {
    const start = end;
    end = Math.max(start, Math.min(full.length, i === ids.length - 1 ? full.length : tok.decode(ids.slice(0, i + 1)).length));
    tokens.push({ id: ids[i], text: tok.idToToken(ids[i]), start: promptText.length + start, end: promptText.length + end, generated: true });
  }
  return { text: promptText + full, tokens };
}
