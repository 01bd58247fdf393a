/**
 * Adapter from the views' Matrix shape to the trace math. Interim: src/core/trace (rollout, norms,
 * cosine, PCA, top-k) is being written by the core helper; until it lands these small versions keep the
 * views working, and they are replaced by calls into core (same numbers the CLI prints) once it does.
 */
import type { Matrix } from './tensorSlice.js';

export interface TopK { id: number; p: number; logit: number }

/** Abnar & Zuidema rollout: Â = 0.5·A + 0.5·I, rows renormalised, multiplied bottom-up. */
export function rollout(layers: Matrix[]): Matrix | undefined {
  if (!layers.length) return undefined;
  const n = layers[0].rows;
  if (layers.some((m) => m.rows !== n || m.cols !== n)) return undefined;
  let acc: Float64Array | undefined;
  for (const m of layers) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) { const v = 0.5 * m.data[i * n + j] + (i === j ? 0.5 : 0); a[i * n + j] = v; s += v; }
      if (s > 0) for (let j = 0; j < n; j++) a[i * n + j] /= s;
    }
    if (!acc) { acc = a; continue; }
    const next = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
      const v = a[i * n + k];
      if (v === 0) continue;
      for (let j = 0; j < n; j++) next[i * n + j] += v * acc[k * n + j];
    }
    acc = next;
  }
  return { rows: n, cols: n, data: Float32Array.from(acc ?? []) };
}

export function norms(layers: Matrix[]): Matrix {
  const seq = layers[0]?.rows ?? 0;
  const data = new Float32Array(layers.length * seq);
  layers.forEach((m, l) => {
    for (let t = 0; t < m.rows; t++) {
      let s = 0;
      for (let u = 0; u < m.cols; u++) { const v = m.data[t * m.cols + u]; s += v * v; }
      data[l * seq + t] = Math.sqrt(s);
    }
  });
  return { rows: layers.length, cols: seq, data };
}

export function layerCosine(layers: Matrix[]): Matrix {
  const seq = layers[0]?.rows ?? 0;
  const rows = Math.max(0, layers.length - 1);
  const data = new Float32Array(rows * seq);
  for (let l = 0; l < rows; l++) {
    const a = layers[l], b = layers[l + 1];
    if (a.cols !== b.cols) { data.fill(NaN, l * seq, (l + 1) * seq); continue; }
    for (let t = 0; t < seq; t++) {
      let d = 0, na = 0, nb = 0;
      for (let u = 0; u < a.cols; u++) {
        const x = a.data[t * a.cols + u], y = b.data[t * b.cols + u];
        d += x * y; na += x * x; nb += y * y;
      }
      data[l * seq + t] = na > 0 && nb > 0 ? d / Math.sqrt(na * nb) : 0;
    }
  }
  return { rows, cols: seq, data };
}

/**
 * Joint 2-D PCA over every layer's token states. The components are fitted on at most `fitRows` evenly
 * sampled rows by power iteration on XᵀX·v (never forming the d×d covariance; at most 60 iterations,
 * stopping when the eigenvalue settles), then every row is projected: 12 layers × 2,048 tokens × 768
 * units stays well under a second.
 */
export function pca2(layers: Matrix[], fitRows = 512): { points: Matrix[]; explained: number[] } {
  const d = layers[0].cols;
  const total = layers.reduce((s, m) => s + m.rows, 0);
  const mean = new Float64Array(d);
  for (const m of layers) for (let t = 0; t < m.rows; t++) for (let u = 0; u < d; u++) mean[u] += m.data[t * d + u] / total;
  // Centred sample rows.
  const stride = Math.max(1, total / fitRows);
  const sample: Float64Array[] = [];
  let next = 0, idx = 0;
  for (const m of layers) for (let t = 0; t < m.rows; t++, idx++) {
    if (idx < next) continue;
    next += stride;
    const row = new Float64Array(d);
    for (let u = 0; u < d; u++) row[u] = m.data[t * d + u] - mean[u];
    sample.push(row);
  }
  let trace = 0;
  for (const r of sample) for (let u = 0; u < d; u++) trace += r[u] * r[u];
  const comps: Float64Array[] = [];
  const explained: number[] = [];
  const proj = new Float64Array(sample.length);
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(d).map((_, i) => Math.sin(i * 12.9898 + c * 78.233) + 1e-3);
    let lambda = 0;
    for (let it = 0; it < 60; it++) {
      // w = Xᵀ (X v), deflated against earlier components.
      for (let i = 0; i < sample.length; i++) { let s = 0; const r = sample[i]; for (let u = 0; u < d; u++) s += r[u] * v[u]; proj[i] = s; }
      const w = new Float64Array(d);
      for (let i = 0; i < sample.length; i++) { const p = proj[i]; if (p === 0) continue; const r = sample[i]; for (let u = 0; u < d; u++) w[u] += p * r[u]; }
      for (const q of comps) { let dot = 0; for (let i = 0; i < d; i++) dot += w[i] * q[i]; for (let i = 0; i < d; i++) w[i] -= dot * q[i]; }
      let nrm = 0;
      for (let i = 0; i < d; i++) nrm += w[i] * w[i];
      nrm = Math.sqrt(nrm);
      if (nrm === 0) break;
      let diff = 0;
      for (let i = 0; i < d; i++) { const x = w[i] / nrm; diff += Math.abs(x - v[i]); w[i] = x; }
      const settled = Math.abs(nrm - lambda) <= 1e-6 * nrm;
      v = w; lambda = nrm;
      if (diff < 1e-7 || settled) break;
    }
    // Fix the sign so the picture does not flip between runs.
    let big = 0;
    for (let i = 0; i < d; i++) if (Math.abs(v[i]) > Math.abs(big)) big = v[i];
    if (big < 0) v = v.map((x) => -x);
    comps.push(v);
    explained.push(trace > 0 ? lambda / trace : 0);
  }
  const points = layers.map((m) => {
    const data = new Float32Array(m.rows * 2);
    for (let t = 0; t < m.rows; t++) for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let u = 0; u < d; u++) s += (m.data[t * d + u] - mean[u]) * comps[c][u];
      data[t * 2 + c] = s;
    }
    return { rows: m.rows, cols: 2, data };
  });
  return { points, explained };
}

export function topKSoftmax(m: Matrix, k: number): TopK[][] {
  const out: TopK[][] = [];
  for (let r = 0; r < m.rows; r++) {
    const o = r * m.cols;
    let max = -Infinity;
    for (let c = 0; c < m.cols; c++) max = Math.max(max, m.data[o + c]);
    let z = 0;
    for (let c = 0; c < m.cols; c++) z += Math.exp(m.data[o + c] - max);
    const idx = Array.from({ length: m.cols }, (_, c) => c).sort((a, b) => m.data[o + b] - m.data[o + a]).slice(0, k);
    out.push(idx.map((c) => ({ id: c, logit: m.data[o + c], p: Math.exp(m.data[o + c] - max) / z })));
  }
  return out;
}
