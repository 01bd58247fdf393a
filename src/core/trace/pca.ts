/**
 * A 2-D PCA of token hidden states through layers: one shared basis fitted on every (layer, token)
 * point, so a token's trajectory across layers can be drawn in one plane. Computed by block power
 * iteration on the covariance without forming it (cost ∝ points × units per iteration), in float64,
 * with a deterministic start and sign convention so the same trace always draws the same picture.
 */
import { SeqLensError } from '../errors.js';
import type { Matrix } from './tensorAxes.js';

export interface PcaResult {
  /** Number of components actually computed (≤ requested, ≤ units). */
  components: number;
  /** Unit-length principal axes, one Float64Array of `units` per component. */
  axes: Float64Array[];
  /** Mean point that was subtracted. */
  mean: Float64Array;
  /** Variance along each axis (eigenvalues of the covariance, divisor n - 1). */
  variance: number[];
  /** Total variance (trace of the covariance), for explained-variance ratios. */
  totalVariance: number;
  /** Block power iterations used (diagnostics). */
  iterations: number;
}

export interface PcaOptions {
  components?: number;
  maxIterations?: number;
  tolerance?: number;
}

/** Deterministic pseudo-random start vectors (a fixed LCG; no Math.random). */
function startVectors(k: number, d: number): Float64Array[] {
  let s = 0x2545f491;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000 - 0.5;
  };
  return Array.from({ length: k }, () => Float64Array.from({ length: d }, next));
}

/** Gram–Schmidt in place; returns false for a vector that vanished (rank deficiency). */
function orthonormalise(vs: Float64Array[]): boolean[] {
  return vs.map((v, i) => {
    for (let j = 0; j < i; j++) {
      const u = vs[j]!;
      let dot = 0;
      for (let k = 0; k < v.length; k++) dot += v[k]! * u[k]!;
      for (let k = 0; k < v.length; k++) v[k]! -= dot * u[k]!;
    }
    let n = 0;
    for (let k = 0; k < v.length; k++) n += v[k]! * v[k]!;
    n = Math.sqrt(n);
    if (n < 1e-300) return false;
    for (let k = 0; k < v.length; k++) v[k]! /= n;
    return true;
  });
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Eigen-decomposition of a small symmetric matrix (cyclic Jacobi); vectors[i] goes with values[i], sorted descending. */
export function jacobiEigen(m: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = m.length;
  const a = m.map((r) => [...r]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!, akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!, aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!, vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = a.map((_, i) => i).sort((x, y) => a[y]![y]! - a[x]![x]!);
  return { values: order.map((i) => a[i]![i]!), vectors: order.map((i) => v.map((row) => row[i]!)) };
}

/** Fits PCA on the rows of `points` (all with the same number of columns). */
export function fitPca(points: readonly Matrix[], options: PcaOptions = {}): PcaResult {
  const d = points[0]?.cols ?? 0;
  for (const p of points) if (p.cols !== d) throw new SeqLensError('runtime', `PCA needs one width; got ${p.cols} and ${d}`);
  const n = points.reduce((a, p) => a + p.rows, 0);
  const k = Math.min(options.components ?? 2, d);
  const mean = new Float64Array(d);
  for (const p of points) for (let i = 0; i < p.rows; i++) for (let j = 0; j < d; j++) mean[j]! += p.data[i * d + j]!;
  if (n > 0) for (let j = 0; j < d; j++) mean[j]! /= n;
  let total = 0;
  for (const p of points) {
    for (let i = 0; i < p.rows; i++) {
      for (let j = 0; j < d; j++) {
        const c = p.data[i * d + j]! - mean[j]!;
        total += c * c;
      }
    }
  }
  const denom = Math.max(1, n - 1);
  total /= denom;
  /** C·v for a block of vectors in one pass over the points: Xcᵀ (Xc v) / (n - 1), never forming C. */
  const applyCov = (vs: readonly Float64Array[]): Float64Array[] => {
    const b = vs.length;
    const ys = vs.map(() => new Float64Array(d));
    const mv = vs.map((v) => dot(mean, v));
    const s = new Float64Array(b);
    for (const p of points) {
      for (let i = 0; i < p.rows; i++) {
        const row = i * d;
        for (let c = 0; c < b; c++) {
          const v = vs[c]!;
          let acc = -mv[c]!;
          for (let j = 0; j < d; j++) acc += p.data[row + j]! * v[j]!;
          s[c] = acc;
        }
        for (let c = 0; c < b; c++) {
          const sc = s[c]!;
          if (sc === 0) continue;
          const y = ys[c]!;
          for (let j = 0; j < d; j++) y[j]! += sc * (p.data[row + j]! - mean[j]!);
        }
      }
    }
    for (const y of ys) for (let j = 0; j < d; j++) y[j]! /= denom;
    return ys;
  };
  // A few extra vectors make the wanted ones converge at the rate λ(block+1)/λ(k) instead of λ(k+1)/λ(k).
  const block = Math.min(d, k + 4);
  let vs = startVectors(block, d);
  orthonormalise(vs);
  const maxIt = options.maxIterations ?? 300;
  const tol = options.tolerance ?? 1e-11;
  let iterations = 0;
  for (let it = 0; it < maxIt && total > 0; it++) {
    iterations = it + 1;
    // Rayleigh–Ritz: rotate the basis to the eigenvectors of Vᵀ C V, so each vector converges to its
    // own eigenvector even where two eigenvalues are close.
    const cvs = applyCov(vs);
    const t = Array.from({ length: block }, (_, i) => Array.from({ length: block }, (_, j) => dot(vs[i]!, cvs[j]!)));
    const { vectors } = jacobiEigen(t);
    const rotate = (basis: Float64Array[]): Float64Array[] =>
      vectors.map((q) => {
        const out = new Float64Array(d);
        q.forEach((w, i) => {
          for (let j = 0; j < d; j++) out[j]! += w * basis[i]![j]!;
        });
        return out;
      });
    const rotated = rotate(vs);
    const next = rotate(cvs);
    const alive = orthonormalise(next);
    let change = 0;
    for (let i = 0; i < k; i++) if (alive[i]) change = Math.max(change, 1 - Math.abs(dot(next[i]!, rotated[i]!)));
    // A vector that vanished (rank below the block) keeps its previous direction: its variance is 0.
    vs = next.map((v, i) => (alive[i] ? v : rotated[i]!));
    orthonormalise(vs);
    if (change < tol) break;
  }
  vs = vs.slice(0, k);
  const cv = applyCov(vs);
  const variance = vs.map((v, i) => Math.max(0, dot(v, cv[i]!)));
  // Order by variance, then fix each axis's sign: its largest-magnitude loading is positive.
  const order = variance.map((_, i) => i).sort((a, b) => variance[b]! - variance[a]!);
  const axes = order.map((i) => {
    const v = vs[i]!;
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[big]!) + 1e-12) big = j;
    return v[big]! < 0 ? v.map((x) => -x) : v;
  });
  return { components: k, axes, mean, variance: order.map((i) => variance[i]!), totalVariance: total, iterations };
}

/** Coordinates of each row of `m` on the fitted axes: [rows × components], row-major. */
export function projectPca(pca: PcaResult, m: Matrix): Float32Array {
  const d = m.cols;
  const out = new Float32Array(m.rows * pca.components);
  for (let i = 0; i < m.rows; i++) {
    for (let c = 0; c < pca.components; c++) {
      const a = pca.axes[c]!;
      let s = 0;
      for (let j = 0; j < d; j++) s += (m.data[i * d + j]! - pca.mean[j]!) * a[j]!;
      out[i * pca.components + c] = s;
    }
  }
  return out;
}

export interface Trajectory {
  pca: PcaResult;
  /** points[layer] = [tokens × 2] coordinates (x, y) of every token at that layer. */
  points: Float32Array[];
  /** Share of the total variance each axis explains. */
  explained: number[];
}

/** Tokens through layers in one shared 2-D PCA plane. `layers[l]` is [tokens × units]. */
export function pcaTrajectory(layers: readonly Matrix[], options: Omit<PcaOptions, 'components'> = {}): Trajectory {
  const pca = fitPca(layers, { ...options, components: 2 });
  return {
    pca,
    points: layers.map((m) => projectPca(pca, m)),
    explained: pca.variance.map((v) => (pca.totalVariance > 0 ? v / pca.totalVariance : 0)),
  };
}
