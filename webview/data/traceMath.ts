/**
 * Adapter from the views' shapes to core's trace math (src/core/trace: rollout, norms, cosine, PCA,
 * top-k), so the panel shows the same numbers the CLI prints.
 */
import type { Matrix } from './tensorSlice.js';
import { attentionRollout } from '../../src/core/trace/attention.js';
import { layerCosine as coreCosine, tokenNorms } from '../../src/core/trace/hiddenStates.js';
import { pcaTrajectory } from '../../src/core/trace/pca.js';
import { nextTokenTopK, predictFromTop, type Prediction, type TopLogits } from '../../src/core/trace/predictions.js';

export interface TopK { id: number; p: number; logit: number }

/** Rollout up to the last of `layers` (head-averaged, lowest first). */
export function rollout(layers: Matrix[]): Matrix | undefined {
  if (!layers.length) return undefined;
  const n = layers[0].rows;
  if (layers.some((m) => m.rows !== n || m.cols !== n)) return undefined;
  return attentionRollout(layers).final;
}

/** Per-token L2 norm per layer: [layers, seq]. */
export function norms(layers: Matrix[]): Matrix {
  return stack(tokenNorms(layers), layers[0]?.rows ?? 0);
}

/** Cosine between consecutive layers per token: [layers-1, seq]. */
export function layerCosine(layers: Matrix[]): Matrix {
  return stack(coreCosine(layers), layers[0]?.rows ?? 0);
}

/**
 * Core's block power iteration, capped at 12 passes: each pass reads every (layer, token) state, and on
 * states without dominant directions (near-random, wide models) the default 300 passes froze the panel for
 * tens of seconds at 2,048 tokens; 12 passes settle the top-2 plane of real hidden states.
 */
export function pca2(layers: Matrix[]): { points: Matrix[]; explained: number[] } {
  const t = pcaTrajectory(layers, { maxIterations: 12 });
  return { points: t.points.map((data, l) => ({ rows: layers[l].rows, cols: 2, data })), explained: t.explained };
}

const asTopK = (rows: Prediction[][]): TopK[][] => rows.map((row) => row.map((p) => ({ id: p.id, p: p.prob, logit: p.logit })));

export function topKSoftmax(m: Matrix, k: number): TopK[][] {
  return asTopK(nextTokenTopK(m, k));
}

export function topKFromTop(top: TopLogits, k: number): TopK[][] {
  return asTopK(predictFromTop(top, k));
}

function stack(rows: Float32Array[], cols: number): Matrix {
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => data.set(r.subarray(0, cols), i * cols));
  return { rows: rows.length, cols, data };
}
