/**
 * What a one-file run and an encoder-decoder run share: a prepared (instrumented, loaded) file, timings
 * that name every part of a run, cancellation, one session.run call, tokenizing with the length limits,
 * and the file/stream each probe of a file belongs to.
 */
import type { FloatTensor, HostTensor, SessionHandle } from './backend.js';
import type { Probe, ProbePlan } from '../types.js';
import type { TensorSummary } from '../onnx/summarize.js';
import type { TokenSpan } from '../trace/traceTypes.js';
import type { TextTokenizer } from '../tokenize/textTokenizer.js';
import { SeqLensError } from '../errors.js';

export interface TraceProgress {
  message: string;
  /** 0..1 where known (decoding steps). */
  fraction?: number;
}

export type Progress = (message: string, fraction?: number) => void;

/** One .onnx file, instrumented for one backend and loaded in a session. */
export interface PreparedFile {
  /** The plan of this backend's instrumentation (WebGPU reads LSTM cells another way, without pooled overviews). */
  plan: ProbePlan;
  /** Graph inputs of the original model (names, element types, symbolic shapes). */
  inputs: TensorSummary[];
  /** Graph outputs of the original model, before instrumentation. */
  outputs: TensorSummary[];
  session: SessionHandle;
}

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SeqLensError('cancelled', 'The run was cancelled.');
}

/**
 * `work`, or a 'cancelled' rejection as soon as `signal` aborts. Session creation and a run inside
 * onnxruntime cannot be interrupted; this lets the caller answer a cancel at once while that work ends
 * in the background (its result is dropped, and its failure too).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new SeqLensError('cancelled', 'The run was cancelled.'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => undefined);
      reject(new SeqLensError('cancelled', 'The run was cancelled.'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/**
 * Milliseconds per part. A run always reports these keys; the one-time costs of a model (fetch, decode,
 * plan, instrument, sessionCreate, tokenizer) are non-zero only in the run that paid them.
 */
export function newTimings(): Record<string, number> {
  return { fetch: 0, decode: 0, plan: 0, instrument: 0, sessionCreate: 0, tokenizer: 0, tokenize: 0, run: 0, extract: 0, total: 0 };
}

export async function runStep(
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

export function truncate(tokens: TokenSpan[], max: number, warnings: string[], what: string): TokenSpan[] {
  if (tokens.length <= max) return tokens;
  const kept = tokens.slice(0, max);
  const end = kept[kept.length - 1]?.end ?? 0;
  warnings.push(`The ${what} is ${tokens.length} tokens; the model takes at most ${max}, so only the first ${max} ` +
    `tokens (characters 0-${end}) were traced.`);
  return kept;
}

/** The text's tokens, at most `limits`' smallest (the manifest's maximum, the caller's cap, a fixed graph length). */
export function encodeText(tok: TextTokenizer, text: string, limits: (number | undefined)[], warnings: string[], what: string): TokenSpan[] {
  if (text.length === 0) throw new SeqLensError('empty-input', 'The text is empty: select or type some text to trace.');
  const r = tok.encodeDetailed(text);
  warnings.push(...r.warnings);
  if (r.tokens.length === 0 || r.tokens.every((t) => t.start === t.end)) {
    throw new SeqLensError('empty-input', 'The text gives no tokens the model knows: nothing to trace.');
  }
  const max = limits.filter((v): v is number => typeof v === 'number' && v > 0);
  return max.length ? truncate(r.tokens, Math.min(...max), warnings, what) : r.tokens;
}

/** A file's planned probes as a trace lists them: with the file they live in and the stream they belong to. */
export function withFile(probes: readonly Probe[], file: string, role: 'encoder' | 'decoder' | undefined): Probe[] {
  return probes.map((p) => {
    const q: Probe = { ...p, file };
    // A decoder step graph seen alone: its self-attention looks like an encoder's to the planner.
    if (role === 'decoder' && q.stream === 'encoder') q.stream = 'decoder';
    if (role && q.stream === undefined && q.kind !== 'logits') q.stream = role;
    return q;
  });
}

/** A model's one-time costs (fetch, decode, plan, session...) until the next run reports them in its timings. */
export class OneTimeCosts {
  private pending: Record<string, number> = {};

  add(part: string, ms: number): void {
    this.pending[part] = (this.pending[part] ?? 0) + ms;
  }

  /** Moves them into `timings`: the run that paid them reports them, later runs do not. */
  reportTo(timings: Record<string, number>): void {
    for (const [k, v] of Object.entries(this.pending)) timings[k] = (timings[k] ?? 0) + v;
    this.clear();
  }

  clear(): void {
    this.pending = {};
  }
}
