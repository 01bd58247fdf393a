/**
 * Next-token predictions: softmax and top-k over logits, and the logit lens (nostalgebraist, 2020):
 * every layer's hidden state pushed through the model's own final norm and output projection, to see
 * what the model "would predict" at that depth.
 */
import { SeqLensError } from '../errors.js';
import type { FloatTensor } from '../run/backend.js';
import type { Matrix } from './tensorAxes.js';

/** Numerically stable softmax of a vector (float64 accumulation). -Infinity entries get exactly 0. */
export function softmax(logits: ArrayLike<number>): Float32Array {
  const n = logits.length;
  const out = new Float32Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  if (max === -Infinity || Number.isNaN(max)) return out;
  let sum = 0;
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    e[i] = Math.exp(logits[i]! - max);
    sum += e[i]!;
  }
  for (let i = 0; i < n; i++) out[i] = e[i]! / sum;
  return out;
}

/** Log-sum-exp of a vector, stable. */
export function logSumExp(v: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) max = Math.max(max, v[i]!);
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i]! - max);
  return max + Math.log(s);
}

export interface Ranked {
  index: number;
  value: number;
}

/** The k largest entries, largest first; ties keep the lower index first. NaN entries are ignored. */
export function topK(values: ArrayLike<number>, k: number): Ranked[] {
  const best: Ranked[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (best.length === k && v <= best[best.length - 1]!.value) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]!.value < v) at--;
    best.splice(at, 0, { index: i, value: v });
    if (best.length > k) best.pop();
  }
  return best;
}

export interface Prediction {
  id: number;
  logit: number;
  prob: number;
}

/** Top-k of one logits row, with softmax probabilities over the whole row. */
export function predictRow(row: ArrayLike<number>, k: number): Prediction[] {
  const lse = logSumExp(row);
  return topK(row, k).map(({ index, value }) => ({ id: index, logit: value, prob: Math.exp(value - lse) }));
}

/**
 * What the predictions need of a run's logits, for when the whole [positions × vocabulary] matrix is too big to
 * move (a 151k vocabulary is 0.6 MB a position): per position the k largest logits and their ids, the
 * log-sum-exp of the whole row (so exp(logit − lse) is the exact softmax probability), and the logit of the
 * token that follows in the input. Ids travel as float32 (exact below 2^24, far above any vocabulary).
 */
export interface TopLogits {
  rows: number;
  /** The full logits' last axis. */
  vocab: number;
  k: number;
  /** [rows × k], largest logit first; -1 pads a row with fewer than k numbers (NaN logits are skipped). */
  ids: Float32Array;
  /** [rows × k]: their logits (NaN where padded). */
  logits: Float32Array;
  /** [rows]: log-sum-exp of each whole row. */
  logSumExp: Float32Array;
  /** [rows]: the logit of the token at position t + 1 of the input in row t; NaN where there is none. */
  next: Float32Array;
}

/** The top `k` of every row of `logits`, with each row's log-sum-exp and the logit of `nextIds[row]`. */
export function topLogitsOf(logits: FloatTensor, k: number, nextIds: ArrayLike<number> = []): TopLogits {
  const m = logitsMatrix(logits);
  const kk = Math.max(0, Math.min(k, m.cols));
  const out: TopLogits = {
    rows: m.rows, vocab: m.cols, k: kk, ids: new Float32Array(m.rows * kk).fill(-1), logits: new Float32Array(m.rows * kk).fill(NaN),
    logSumExp: new Float32Array(m.rows), next: new Float32Array(m.rows).fill(NaN),
  };
  for (let r = 0; r < m.rows; r++) {
    const row = m.data.subarray(r * m.cols, (r + 1) * m.cols);
    out.logSumExp[r] = logSumExp(row);
    topK(row, kk).forEach(({ index, value }, i) => {
      out.ids[r * kk + i] = index;
      out.logits[r * kk + i] = value;
    });
    const next = r < nextIds.length ? nextIds[r]! : -1;
    if (Number.isInteger(next) && next >= 0 && next < m.cols) out.next[r] = row[next]!;
  }
  return out;
}

/** Top-k next-token predictions for every position from TopLogits (k at most `top.k`): what nextTokenTopK gives on the full logits. */
export function predictFromTop(top: TopLogits, k: number): Prediction[][] {
  const kk = Math.min(k, top.k);
  return Array.from({ length: top.rows }, (_, r) => {
    const row: Prediction[] = [];
    for (let i = 0; i < kk; i++) {
      const id = top.ids[r * top.k + i]!;
      if (id < 0) break;
      const logit = top.logits[r * top.k + i]!;
      row.push({ id, logit, prob: Math.exp(logit - top.logSumExp[r]!) });
    }
    return row;
  });
}

/** Logits of any rank as [positions × vocab]: the last axis is the vocabulary, the rest are flattened. */
export function logitsMatrix(t: FloatTensor): Matrix {
  const cols = t.dims.length ? t.dims[t.dims.length - 1]! : 1;
  return { rows: cols > 0 ? t.data.length / cols : 0, cols, data: t.data };
}

/** Top-k next-token predictions for every position: result[position]. */
export function nextTokenTopK(logits: Matrix | FloatTensor, k = 5): Prediction[][] {
  const m = 'rows' in logits ? logits : logitsMatrix(logits);
  return Array.from({ length: m.rows }, (_, r) => predictRow(m.data.subarray(r * m.cols, (r + 1) * m.cols), k));
}

export interface OutputProjection {
  /** [hidden, vocab] when transposed=false (h · W), [vocab, hidden] when transposed=true (h · Wᵀ). */
  weight: FloatTensor;
  transposed: boolean;
  bias?: Float32Array;
  /** The final norm applied before the projection (pre-LN models). */
  norm?: { kind: 'layer' | 'rms'; scale?: Float32Array; bias?: Float32Array; epsilon?: number };
}

/** Applies the final LayerNorm / RMSNorm to one hidden vector (float64 statistics). */
export function applyNorm(h: ArrayLike<number>, norm: NonNullable<OutputProjection['norm']>): Float32Array {
  const n = h.length;
  const eps = norm.epsilon ?? 1e-5;
  let mean = 0;
  if (norm.kind === 'layer') {
    for (let i = 0; i < n; i++) mean += h[i]!;
    mean /= n;
  }
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (h[i]! - mean) ** 2;
  const inv = 1 / Math.sqrt(sq / n + eps);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (h[i]! - mean) * inv * (norm.scale ? norm.scale[i]! : 1) + (norm.bias ? norm.bias[i]! : 0);
  return out;
}

/** Logits for one hidden vector through the projection (after the optional norm). */
export function projectHidden(h: ArrayLike<number>, proj: OutputProjection): Float32Array {
  const [a, b] = proj.weight.dims;
  if (proj.weight.dims.length !== 2 || a === undefined || b === undefined) throw new SeqLensError('runtime', `output projection must be 2-D; got [${proj.weight.dims.join(', ')}]`);
  const hidden = proj.transposed ? b : a;
  const vocab = proj.transposed ? a : b;
  if (h.length !== hidden) throw new SeqLensError('runtime', `hidden size ${h.length} does not match the output projection [${proj.weight.dims.join(', ')}]${proj.transposed ? ' (transposed)' : ''}`);
  const x = proj.norm ? applyNorm(h, proj.norm) : h;
  const w = proj.weight.data;
  const out = new Float64Array(vocab);
  if (proj.transposed) {
    for (let v = 0; v < vocab; v++) {
      let s = 0;
      const row = v * hidden;
      for (let i = 0; i < hidden; i++) s += x[i]! * w[row + i]!;
      out[v] = s;
    }
  } else {
    for (let i = 0; i < hidden; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const row = i * vocab;
      for (let v = 0; v < vocab; v++) out[v]! += xi * w[row + v]!;
    }
  }
  const res = new Float32Array(vocab);
  for (let v = 0; v < vocab; v++) res[v] = out[v]! + (proj.bias ? proj.bias[v]! : 0);
  return res;
}

export interface LogitLensOptions {
  k?: number;
  /** Only these positions (rows); default all. The projection costs hidden × vocab per position. */
  positions?: readonly number[];
}

/**
 * Logit lens: result[layer][i] = top-k predictions of `layers[layer]` at `positions[i]` (or row i).
 * `layers[l]` is a [positions × hidden] matrix (hiddenMatrix of the layer's probe).
 */
export function logitLens(layers: readonly Matrix[], proj: OutputProjection, options: LogitLensOptions = {}): Prediction[][][] {
  const k = options.k ?? 5;
  return layers.map((m) => {
    const rows = options.positions ?? Array.from({ length: m.rows }, (_, i) => i);
    return rows.map((r) => {
      if (r < 0 || r >= m.rows) throw new SeqLensError('runtime', `position ${r} is outside the ${m.rows} rows of the hidden state`);
      return predictRow(projectHidden(m.data.subarray(r * m.cols, (r + 1) * m.cols), proj), k);
    });
  });
}
