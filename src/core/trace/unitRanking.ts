/**
 * "Units that follow a pattern" (what LSTMVis is known for): given the per-token activations of a layer
 * [tokens × units] — a recurrent hidden state, an LSTM cell state, a gate, a Transformer hidden state —
 * rank the units by how well they are high on a chosen span of tokens and low elsewhere, or by how well
 * they follow a per-token signal (bracket depth, quote depth; see codeDepth.ts).
 *
 * Pure math over plain arrays: runs in the webview, the CLI and unit tests alike.
 */

/** Row-major [rows = tokens, cols = units]; structurally the Matrix of tensorAxes.ts and of the webview. */
export interface ActivationMatrix {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

/** Tokens [start, end) (end exclusive), in token indices. */
export interface TokenRange {
  start: number;
  end: number;
}

export interface SpanScore {
  unit: number;
  /**
   * The separation d = (mean on the span − mean elsewhere) / pooled standard deviation (Cohen's d).
   * Why d and not LSTMVis's thresholded on/off match or an AUC: it needs no threshold the user must
   * tune, it keeps growing with the margin (an AUC saturates at 1 as soon as a unit separates the span
   * at all, so on a short span dozens of units tie at the top and the ranking says nothing), and it is
   * one pass over the matrix (the panel re-ranks while a span is dragged over 2,048 tokens × 512 units).
   * The AUC is still reported beside it, as the plain-language "how often is a span token higher".
   */
  score: number;
  meanIn: number;
  meanOut: number;
  /** P(a random span token's value > a random other token's value), ties counting one half. */
  auc: number;
}

export interface CorrelationScore {
  unit: number;
  /** Pearson correlation of the unit's activation with the signal over the tokens (0 when either is constant). */
  r: number;
}

export interface SpanRankOptions {
  /**
   * 'high' (default): units high on the span and low elsewhere come first. 'either': units low on the span
   * and high elsewhere count as well (tanh units are symmetric; a unit at −1 exactly on a span is as much a
   * detector of it), ranked by |d|.
   */
  direction?: 'high' | 'either';
}

/** True for the tokens in any of the ranges (clipped to [0, n)). */
export function spanMask(n: number, ranges: readonly TokenRange[]): Uint8Array {
  const mask = new Uint8Array(n);
  for (const r of ranges) for (let t = Math.max(0, r.start); t < Math.min(n, r.end); t++) mask[t] = 1;
  return mask;
}

/**
 * Ranks every unit by its separation d between the tokens where `inSpan` is set and the rest (best first).
 * Units are all returned; with no token in (or out of) the span every score is 0.
 */
export function rankUnitsBySpan(m: ActivationMatrix, inSpan: ArrayLike<number | boolean>, opts: SpanRankOptions = {}): SpanScore[] {
  checkShape(m);
  if (inSpan.length !== m.rows) throw new RangeError(`span mask has ${inSpan.length} entries for ${m.rows} tokens`);
  const { rows: n, cols: u, data } = m;
  const isIn = (t: number): boolean => !!inSpan[t];
  let nIn = 0;
  for (let t = 0; t < n; t++) if (isIn(t)) nIn++;
  const nOut = n - nIn;
  // Sums per unit in one row-major pass (cache friendly: the matrix is read once, in order).
  const sIn = new Float64Array(u), sOut = new Float64Array(u), qIn = new Float64Array(u), qOut = new Float64Array(u);
  for (let t = 0; t < n; t++) {
    const s = isIn(t) ? sIn : sOut, q = isIn(t) ? qIn : qOut;
    const o = t * u;
    for (let j = 0; j < u; j++) { const v = data[o + j]; s[j] += v; q[j] += v * v; }
  }
  const out: SpanScore[] = [];
  for (let j = 0; j < u; j++) {
    if (nIn === 0 || nOut === 0) { out.push({ unit: j, score: 0, meanIn: nIn ? sIn[j] / nIn : 0, meanOut: nOut ? sOut[j] / nOut : 0, auc: 0.5 }); continue; }
    const meanIn = sIn[j] / nIn, meanOut = sOut[j] / nOut;
    // Sums of squared deviations within each group; max(0, …) guards float cancellation.
    const ssIn = Math.max(0, qIn[j] - nIn * meanIn * meanIn), ssOut = Math.max(0, qOut[j] - nOut * meanOut * meanOut);
    const dof = n - 2;
    const pooled = dof > 0 ? Math.sqrt((ssIn + ssOut) / dof) : 0;
    // A floor on the spread: a unit constant within both groups would otherwise divide by zero; the
    // floor is far below any real activation spread, so such a unit simply ranks first, as it should.
    const scale = Math.max(Math.abs(meanIn), Math.abs(meanOut), 1);
    const score = (meanIn - meanOut) / Math.max(pooled, 1e-6 * scale);
    out.push({ unit: j, score, meanIn, meanOut, auc: 0.5 });
  }
  const key = opts.direction === 'either' ? (s: SpanScore): number => Math.abs(s.score) : (s: SpanScore): number => s.score;
  out.sort((a, b) => key(b) - key(a) || a.unit - b.unit);
  return out;
}

/**
 * AUC of unit `j`: the Mann–Whitney U over (span, elsewhere), by sorting the unit's values once.
 * Kept separate from the ranking (O(n log n) per unit) so the panel computes it only for the units it lists.
 */
export function spanAuc(m: ActivationMatrix, inSpan: ArrayLike<number | boolean>, unit: number): number {
  checkShape(m);
  const n = m.rows;
  const idx = Array.from({ length: n }, (_, t) => t);
  const v = (t: number): number => m.data[t * m.cols + unit];
  idx.sort((a, b) => v(a) - v(b));
  let nIn = 0, rankSumIn = 0;
  // Average ranks over runs of equal values (ties count one half).
  for (let i = 0; i < n;) {
    let k = i;
    while (k + 1 < n && v(idx[k + 1]) === v(idx[i])) k++;
    const rank = (i + k) / 2 + 1;
    for (let q = i; q <= k; q++) if (inSpan[idx[q]]) { nIn++; rankSumIn += rank; }
    i = k + 1;
  }
  const nOut = n - nIn;
  if (!nIn || !nOut) return 0.5;
  return (rankSumIn - (nIn * (nIn + 1)) / 2) / (nIn * nOut);
}

/** Fills in the AUC of the first `k` entries of a span ranking (in place; returns it). */
export function withAuc(m: ActivationMatrix, inSpan: ArrayLike<number | boolean>, ranked: SpanScore[], k = ranked.length): SpanScore[] {
  for (const s of ranked.slice(0, k)) s.auc = spanAuc(m, inSpan, s.unit);
  return ranked;
}

/**
 * Pearson r of every unit with a per-token signal, ranked by |r| (best first): a unit that goes down as
 * bracket depth goes up follows it as closely as one that goes up.
 */
export function rankUnitsByCorrelation(m: ActivationMatrix, signal: ArrayLike<number>): CorrelationScore[] {
  const r = unitCorrelations(m, signal);
  const out = Array.from(r, (v, unit) => ({ unit, r: v }));
  out.sort((a, b) => Math.abs(b.r) - Math.abs(a.r) || a.unit - b.unit);
  return out;
}

/** Pearson r of each unit (column) with the signal; 0 for a constant unit or a constant signal. */
export function unitCorrelations(m: ActivationMatrix, signal: ArrayLike<number>): Float64Array {
  checkShape(m);
  if (signal.length !== m.rows) throw new RangeError(`signal has ${signal.length} entries for ${m.rows} tokens`);
  const { rows: n, cols: u, data } = m;
  const out = new Float64Array(u);
  if (n < 2) return out;
  let sMean = 0;
  for (let t = 0; t < n; t++) sMean += signal[t];
  sMean /= n;
  let sVar = 0;
  for (let t = 0; t < n; t++) sVar += (signal[t] - sMean) ** 2;
  if (!(sVar > 0)) return out;
  // Centred sums per unit: two passes (means, then co-moments) rather than raw sums of products,
  // because float32 activations over thousands of tokens lose digits in Σx² − n·x̄².
  const mean = new Float64Array(u);
  for (let t = 0; t < n; t++) { const o = t * u; for (let j = 0; j < u; j++) mean[j] += data[o + j]; }
  for (let j = 0; j < u; j++) mean[j] /= n;
  const cov = new Float64Array(u), vv = new Float64Array(u);
  for (let t = 0; t < n; t++) {
    const o = t * u, ds = signal[t] - sMean;
    for (let j = 0; j < u; j++) { const d = data[o + j] - mean[j]; cov[j] += d * ds; vv[j] += d * d; }
  }
  for (let j = 0; j < u; j++) out[j] = vv[j] > 0 ? Math.max(-1, Math.min(1, cov[j] / Math.sqrt(vv[j] * sVar))) : 0;
  return out;
}

/** Median of |x| (the baseline a "random unit" reaches, to compare the best unit with). */
export function medianAbs(xs: ArrayLike<number>): number {
  const a = Array.from(xs, Math.abs).sort((p, q) => p - q);
  if (!a.length) return 0;
  const h = a.length >> 1;
  return a.length % 2 ? a[h] : (a[h - 1] + a[h]) / 2;
}

/** One unit's activation over the tokens (a column of the matrix). */
export function unitTrace(m: ActivationMatrix, unit: number): Float32Array {
  const out = new Float32Array(m.rows);
  for (let t = 0; t < m.rows; t++) out[t] = m.data[t * m.cols + unit];
  return out;
}

function checkShape(m: ActivationMatrix): void {
  if (m.data.length < m.rows * m.cols) throw new RangeError(`matrix data has ${m.data.length} values for ${m.rows}×${m.cols}`);
}
