/**
 * The positional-encoding view's math: how alike two positions' encodings are. Finding the encoding in a
 * graph is core's (src/core/trace/positionalSource.ts), done once per model by its LoadedModel.
 */
import type { PositionalEncoding } from '../../src/core/trace/positionalSource.js';

/** Cosine similarity between every pair of positions: [P, P]. */
export function positionSimilarity(pe: PositionalEncoding, maxPositions: number): { n: number; data: Float32Array } {
  const n = Math.min(pe.rows, maxPositions), d = pe.cols;
  const norms = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += pe.data[i * d + k] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += pe.data[i * d + k] * pe.data[j * d + k];
    data[i * n + j] = data[j * n + i] = s / (norms[i] * norms[j]);
  }
  return { n, data };
}
