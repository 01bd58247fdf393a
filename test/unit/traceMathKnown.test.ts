/** Trace math on cases whose answer is known without running the code: identities, lines, permutations. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { attentionMatrix, attentionRollout } from '../../src/core/trace/attention.js';
import { hiddenMatrix, layerCosine, tokenNorms } from '../../src/core/trace/hiddenStates.js';
import { fitPca, jacobiEigen, pcaTrajectory } from '../../src/core/trace/pca.js';
import { applyNorm, predictRow, projectHidden, softmax, topK } from '../../src/core/trace/predictions.js';
import { toMatrix, type Matrix } from '../../src/core/trace/tensorAxes.js';
import type { ProbeTensor } from '../../src/core/trace/traceTypes.js';
import type { AxisRole } from '../../src/core/types.js';

const eye = (n: number): Matrix => ({ rows: n, cols: n, data: Float32Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0)) });

function probe(axes: AxisRole[], dims: number[], data: Float32Array, stepAxis = false): ProbeTensor {
  return { probe: { name: 'p', kind: 'attention', layer: 0, axes, source: { op: 'Softmax', node: 'n' } }, tensor: { dims, data }, ...(stepAxis ? { stepAxis } : {}) };
}

test('rollout of identity attention is the identity, through any number of layers', () => {
  const r = attentionRollout([eye(5), eye(5), eye(5)]);
  assert.deepEqual([...r.final.data], [...eye(5).data]);
});

test('rollout of uniform attention: (A + I)/2 per layer, composed', () => {
  // Uniform attention over 2 tokens: A = [[.5,.5],[.5,.5]]; (A + I) row-normalised = [[.75,.25],[.25,.75]].
  const u: Matrix = { rows: 2, cols: 2, data: Float32Array.of(0.5, 0.5, 0.5, 0.5) };
  const one = attentionRollout([u]).final.data;
  assert.deepEqual([...one], [0.75, 0.25, 0.25, 0.75]);
  // Two layers: [[.75,.25],[.25,.75]]² = [[.625,.375],[.375,.625]].
  assert.deepEqual([...attentionRollout([u, u]).final.data], [0.625, 0.375, 0.375, 0.625]);
});

test('attention axes in any order give the same matrix', () => {
  // [batch=1, head=2, query=2, key=3] with value = 100*h + 10*q + k.
  const bhqk = Float32Array.from({ length: 12 }, (_, i) => {
    const h = Math.floor(i / 6), q = Math.floor(i / 3) % 2, k = i % 3;
    return 100 * h + 10 * q + k;
  });
  // The same tensor stored as [key, query, head, batch].
  const khqb = new Float32Array(12);
  for (let h = 0; h < 2; h++) for (let q = 0; q < 2; q++) for (let k = 0; k < 3; k++) khqb[k * 4 + q * 2 + h] = 100 * h + 10 * q + k;
  const a = attentionMatrix(probe(['batch', 'head', 'query', 'key'], [1, 2, 2, 3], bhqk), { head: 1 });
  const b = attentionMatrix(probe(['key', 'query', 'head', 'batch'], [3, 2, 2, 1], khqb), { head: 1 });
  assert.deepEqual([...a.data], [100, 101, 102, 110, 111, 112]);
  assert.deepEqual([...b.data], [...a.data]);
  assert.deepEqual([...attentionMatrix(probe(['batch', 'head', 'query', 'key'], [1, 2, 2, 3], bhqk)).data], [50, 51, 52, 60, 61, 62]);
  // Stacked steps: [step, batch, head, query=1, key]: rows are steps.
  const steps = Float32Array.from({ length: 3 * 2 * 4 }, (_, i) => i);
  const m = attentionMatrix(probe(['batch', 'head', 'query', 'key'], [3, 1, 2, 1, 4], steps, true), { head: 0 });
  assert.deepEqual([m.rows, m.cols], [3, 4]);
  assert.deepEqual([...m.data], [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19]);
  assert.throws(() => attentionMatrix(probe(['batch', 'query', 'key'], [1, 2], Float32Array.of(1, 2))), /axis roles/);
});

test('toMatrix picks a batch item and concatenates bidirectional states', () => {
  // [seq=2, direction=2, batch=2, unit=2], value = 1000*s + 100*d + 10*b + u.
  const data = new Float32Array(16);
  for (let s = 0; s < 2; s++) for (let d = 0; d < 2; d++) for (let b = 0; b < 2; b++) for (let u = 0; u < 2; u++) data[s * 8 + d * 4 + b * 2 + u] = 1000 * s + 100 * d + 10 * b + u;
  const pt = probe(['seq', 'direction', 'batch', 'unit'], [2, 2, 2, 2], data);
  assert.deepEqual([...hiddenMatrix(pt, { batch: 1 }).data], [10, 11, 110, 111, 1010, 1011, 1110, 1111]);
  assert.deepEqual([...hiddenMatrix(pt, { direction: 1 }).data], [100, 101, 1100, 1101]);
  assert.deepEqual([...toMatrix(pt.tensor, ['seq', 'direction', 'batch', 'unit'], { rows: ['unit'], cols: ['seq'], mean: ['direction', 'batch'] }).data], [55, 1055, 56, 1056]);
});

test('norms and cosines of known vectors', () => {
  const a: Matrix = { rows: 3, cols: 2, data: Float32Array.of(3, 4, 1, 0, 0, 0) };
  const b: Matrix = { rows: 3, cols: 2, data: Float32Array.of(6, 8, 0, 1, 1, 1) };
  assert.deepEqual([...tokenNorms([a])[0]!], [5, 1, 0]);
  assert.deepEqual([...layerCosine([a, b])[0]!], [1, 0, 0]);
});

test('PCA of points on a line: one axis along the line (positive sign), all variance explained', () => {
  // Points t·(1, 2, 2)/3 + (5, -1, 0) for t = -3..3: direction (1,2,2)/3, variance of t = 4.667.
  const rows = 7;
  const data = new Float32Array(rows * 3);
  for (let i = 0; i < rows; i++) {
    const t = i - 3;
    data.set([5 + t / 3, -1 + (2 * t) / 3, (2 * t) / 3], i * 3);
  }
  const pca = fitPca([{ rows, cols: 3, data }]);
  assert.ok(Math.abs(pca.axes[0]![0]! - 1 / 3) < 1e-6 && Math.abs(pca.axes[0]![1]! - 2 / 3) < 1e-6 && Math.abs(pca.axes[0]![2]! - 2 / 3) < 1e-6);
  assert.ok(Math.abs(pca.variance[0]! - 28 / 6) < 1e-5);
  assert.ok(pca.variance[1]! < 1e-9);
  const traj = pcaTrajectory([{ rows, cols: 3, data }]);
  assert.ok(Math.abs(traj.explained[0]! - 1) < 1e-9);
  for (let i = 0; i < rows; i++) {
    assert.ok(Math.abs(traj.points[0]![i * 2]! - (i - 3)) < 1e-5, 'coordinate along the line is t');
    assert.ok(Math.abs(traj.points[0]![i * 2 + 1]!) < 1e-5);
  }
  // Degenerate inputs do not throw: one point, all points equal.
  assert.equal(fitPca([{ rows: 1, cols: 3, data: Float32Array.of(1, 2, 3) }]).totalVariance, 0);
});

test('Jacobi eigen-decomposition of a known symmetric matrix', () => {
  // [[2,1],[1,2]] has eigenvalues 3 and 1 with eigenvectors (1,1)/√2 and (1,-1)/√2.
  const { values, vectors } = jacobiEigen([[2, 1], [1, 2]]);
  assert.ok(Math.abs(values[0]! - 3) < 1e-12 && Math.abs(values[1]! - 1) < 1e-12);
  assert.ok(Math.abs(Math.abs(vectors[0]![0]!) - Math.SQRT1_2) < 1e-12 && Math.abs(vectors[0]![0]! - vectors[0]![1]!) < 1e-12);
});

test('softmax is stable and masks -Infinity; top-k orders by value, ties by index', () => {
  assert.deepEqual([...softmax([1000, 1000])], [0.5, 0.5]);
  assert.deepEqual([...softmax([0, -Infinity])], [1, 0]);
  assert.deepEqual([...softmax([-Infinity, -Infinity])], [0, 0]);
  const p = softmax([Math.log(1), Math.log(2), Math.log(5)]);
  assert.ok(Math.abs(p[0]! - 0.125) < 1e-7 && Math.abs(p[1]! - 0.25) < 1e-7 && Math.abs(p[2]! - 0.625) < 1e-7);
  assert.deepEqual(topK([1, 3, 3, 2, NaN, 0], 3), [{ index: 1, value: 3 }, { index: 2, value: 3 }, { index: 3, value: 2 }]);
  assert.deepEqual(topK([1], 5), [{ index: 0, value: 1 }]);
  const top = predictRow([Math.log(1), Math.log(2), Math.log(5)], 2);
  assert.deepEqual(top.map((t) => t.id), [2, 1]);
  assert.ok(Math.abs(top[0]!.prob - 0.625) < 1e-12);
});

test('output projection: [H,V] and transposed [V,H] agree; LayerNorm and RMSNorm by hand', () => {
  const w = Float32Array.of(1, 2, 3, 4, 5, 6); // [H=2, V=3]
  const wt = Float32Array.of(1, 4, 2, 5, 3, 6); // [V=3, H=2]
  const h = [1, -1];
  assert.deepEqual([...projectHidden(h, { weight: { dims: [2, 3], data: w }, transposed: false, bias: Float32Array.of(0, 0, 1) })], [-3, -3, -2]);
  assert.deepEqual([...projectHidden(h, { weight: { dims: [3, 2], data: wt }, transposed: true })], [-3, -3, -3]);
  assert.throws(() => projectHidden([1, 2, 3], { weight: { dims: [2, 3], data: w }, transposed: false }), /hidden size 3/);
  // LayerNorm of (1, 3): mean 2, var 1 -> (-1, 1)/sqrt(1 + eps), then scale and shift.
  const ln = applyNorm([1, 3], { kind: 'layer', epsilon: 0, scale: Float32Array.of(2, 3), bias: Float32Array.of(1, 1) });
  assert.deepEqual([...ln], [-1, 4]);
  // RMSNorm of (3, 4): rms = sqrt(12.5).
  const rms = applyNorm([3, 4], { kind: 'rms', epsilon: 0 });
  assert.ok(Math.abs(rms[0]! - 3 / Math.sqrt(12.5)) < 1e-6 && Math.abs(rms[1]! - 4 / Math.sqrt(12.5)) < 1e-6);
});
