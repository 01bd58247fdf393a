/**
 * A run made outside the page (the native backend: onnxruntime-node in a worker beside the extension host)
 * as it travels worker → host → page: the frozen trace without its attention, the resident attention, the
 * deferred list and overviews, and what the model adds (positional encoding, a small logit lens, the output
 * vocabulary). Every tensor stays a Float32Array: worker → host moves their ArrayBuffers (transfer list), and
 * `webview.postMessage` serializes typed arrays as binary, never as JSON arrays of numbers.
 * Guards check what arrives (nested fields, tensor sizes against their dims); the page trusts nothing else.
 */
import { ARCHITECTURES } from '../core/types.js';
import type { Probe } from '../core/types.js';
import type { FloatTensor } from '../core/run/backend.js';
import type { ProbeTensor, TokenSpan, Trace } from '../core/trace/traceTypes.js';
import type { PositionalEncoding } from '../core/trace/positionalSource.js';
import type { ModelLens } from '../core/run/decodedModel.js';
import type { TopLogits } from '../core/trace/predictions.js';
import { arrayOf, f32, fields, int, isObj, num, optional, str, type Check } from './guards.js';

export interface WireRun {
  /** The worker's key for this run's deferred attention (fetchLayers names it). */
  runKey: string;
  /** Everything the run handed back but attention (its `probes` hold no attention). */
  trace: Trace;
  /** Attention in memory after the run, within `budget`. */
  attention: ProbeTensor[];
  /** Bytes of attention the page keeps at most. */
  budget: number;
  positional?: PositionalEncoding;
  /** The logit lens, when its projection is small enough to send (copied out of the model's bytes). */
  lens?: ModelLens;
  /**
   * The logits' top entries per position, each row's log-sum-exp and the next token's logit: what the page's
   * predictions read. Always there when the run has logits; `trace.logits` itself travels only while small
   * (a 151k vocabulary is 0.6 MB a position, and a remote window moves a few MB a second).
   */
  topLogits?: TopLogits;
  /** The output vocabulary, id → text (what the page's predictions label tokens with), when it travels whole. */
  vocab?: string[];
  /** Else the texts of the ids `topLogits` names (a big vocabulary without a logit lens to label): ids[i] → texts[i]. */
  someVocab?: { ids: number[]; texts: string[] };
  /** The model's manifest as read by the worker (parsed again by the page). */
  manifest?: unknown;
}

/** A float tensor whose data holds exactly the elements its dims say. */
export const floatTensorProblem: Check = (v) => {
  const e = fields({ dims: arrayOf(int), data: f32 })(v);
  if (e) return e;
  const t = v as unknown as FloatTensor;
  if (t.dims.some((d) => d < 0)) return '.dims has a negative size';
  const n = t.dims.reduce((a, b) => a * b, 1);
  return n === t.data.length ? undefined : `.data has ${t.data.length} elements for dims [${t.dims.join(', ')}]`;
};

/** The parts of a Probe the page reads to place it (the rest travels as it is). */
export const probeProblem: Check = fields({
  name: str, kind: str, layer: int, axes: arrayOf(str), stream: optional(str), heads: optional(int), file: optional(str),
});

export const probeTensorProblem: Check = fields({ probe: probeProblem, tensor: floatTensorProblem, pooledBy: optional(int) });

const token: Check = fields({ id: int, text: str, start: int, end: int });

const traceProblem: Check = fields({
  model: str, architecture: (v) => ((ARCHITECTURES as readonly unknown[]).includes(v) ? undefined : 'is not a known architecture'),
  backend: str, input: str, tokens: arrayOf(token), generated: optional(arrayOf(token)), probes: arrayOf(probeTensorProblem),
  logits: optional(floatTensorProblem), warnings: arrayOf(str), deferred: optional(arrayOf(probeProblem)), pooled: optional(arrayOf(probeTensorProblem)),
  timings: (v) => (isObj(v) && Object.values(v).every((x) => typeof x === 'number') ? undefined : 'is not a record of numbers'),
});

const positionalProblem: Check = (v) => {
  const e = fields({ source: str, rows: int, cols: int, data: f32 })(v);
  if (e) return e;
  const p = v as unknown as PositionalEncoding;
  return p.rows * p.cols === p.data.length ? undefined : '.data does not hold rows × cols numbers';
};

const lensProblem: Check = fields({
  projection: fields({
    weight: floatTensorProblem, transposed: (v) => (typeof v === 'boolean' ? undefined : 'is not a boolean'), bias: optional(f32),
    norm: optional(fields({ kind: str, scale: optional(f32), bias: optional(f32), epsilon: optional(num) })),
  }),
  stream: optional(str),
});

const topLogitsProblem: Check = (v) => {
  const e = fields({ rows: int, vocab: int, k: int, ids: f32, logits: f32, logSumExp: f32, next: f32 })(v);
  if (e) return e;
  const t = v as unknown as TopLogits;
  if (t.rows < 0 || t.k < 0 || t.ids.length !== t.rows * t.k || t.logits.length !== t.rows * t.k) return '.ids and .logits do not hold rows × k numbers';
  if (t.logSumExp.length !== t.rows || t.next.length !== t.rows) return '.logSumExp and .next do not hold one number per row';
  return t.ids.every((id) => id === -1 || (Number.isInteger(id) && id >= 0 && id < t.vocab)) ? undefined : '.ids holds an id outside the vocabulary';
};

const someVocabProblem: Check = (v) => {
  const e = fields({ ids: arrayOf(int), texts: arrayOf(str) })(v);
  if (e) return e;
  const s = v as { ids: number[]; texts: string[] };
  return s.ids.length === s.texts.length ? undefined : '.ids and .texts differ in length';
};

export const wireRunProblem: Check = fields({
  runKey: str, trace: traceProblem, attention: arrayOf(probeTensorProblem), budget: num,
  positional: optional(positionalProblem), lens: optional(lensProblem), vocab: optional(arrayOf(str)),
  topLogits: optional(topLogitsProblem), someVocab: optional(someVocabProblem),
  manifest: (v) => (v === undefined || isObj(v) ? undefined : 'is not an object'),
});

/**
 * The ArrayBuffers a message may move instead of copy: each distinct buffer a tensor owns whole. A tensor
 * that is a view into a larger buffer (a slice of something the sender keeps, e.g. model bytes) is copied
 * into its own buffer first (`own`), so moving it never detaches anything the sender still reads.
 */
export class Transferables {
  readonly list: ArrayBuffer[] = [];
  private readonly seen = new Set<ArrayBufferLike>();

  /** The array itself when its buffer can move, else a copy of it in a buffer of its own. */
  own<T extends Float32Array | Uint8Array>(a: T): T {
    const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
    if (whole && !this.seen.has(a.buffer)) {
      this.seen.add(a.buffer);
      this.list.push(a.buffer as ArrayBuffer);
      return a;
    }
    const copy = a.slice() as T;
    this.seen.add(copy.buffer);
    this.list.push(copy.buffer as ArrayBuffer);
    return copy;
  }

  tensor(t: FloatTensor): FloatTensor {
    return { dims: [...t.dims], data: this.own(t.data) };
  }

  probeTensor(pt: ProbeTensor): ProbeTensor {
    return { ...pt, probe: plainProbe(pt.probe), tensor: this.tensor(pt.tensor) };
  }
}

/** A probe as plain (unfrozen) data. */
export function plainProbe(p: Probe): Probe {
  return { ...p, axes: [...p.axes], source: { ...p.source }, ...(p.pooled ? { pooled: { ...p.pooled } } : {}) };
}

/** A trace's tokens as plain data. */
export function plainTokens(tokens: readonly TokenSpan[]): TokenSpan[] {
  return tokens.map((t) => ({ id: t.id, text: t.text, start: t.start, end: t.end }));
}
