/**
 * Trace math on real probe tensors (zoo models run through onnxruntime-node, dumped as .npy) against
 * NumPy results computed independently by test/fixtures/traceMath/reference.py.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { attentionMatrix, attentionRollout, headCount, rolloutFromProbes } from '../../src/core/trace/attention.js';
import { hiddenMatrix, layerCosine, tokenNorms } from '../../src/core/trace/hiddenStates.js';
import { pcaTrajectory } from '../../src/core/trace/pca.js';
import { logitLens, logitsMatrix, nextTokenTopK, softmax, type OutputProjection } from '../../src/core/trace/predictions.js';
import { FIXTURES, loadDump, maxAbsDiff, npy } from './traceMathFixtures.js';

const transformer = loadDump('transformer');
const ofKind = (kind: string) => transformer.probes.filter((p) => p.probe.kind === kind).sort((a, b) => a.probe.layer - b.probe.layer);
const attention = ofKind('attention');
const hidden = ofKind('hidden').map((pt) => hiddenMatrix(pt));

test('attention matrices of a real 2-layer transformer: one head and the head mean match NumPy; rows sum to 1; causal zeros', () => {
  assert.equal(headCount(attention[0]!), 4);
  const head = attentionMatrix(attention[1]!, { head: 2 });
  const expectedHead = npy('transformer', 'expected_attention_L1_head2.npy');
  assert.deepEqual([head.rows, head.cols], expectedHead.dims);
  assert.ok(maxAbsDiff(head.data, expectedHead.data) === 0, 'a head slice is an exact copy');
  const mean = attentionMatrix(attention[0]!);
  assert.ok(maxAbsDiff(mean.data, npy('transformer', 'expected_attention_L0_mean.npy').data) < 1e-6);
  for (let i = 0; i < mean.rows; i++) {
    let sum = 0;
    for (let j = 0; j < mean.cols; j++) {
      sum += mean.data[i * mean.cols + j]!;
      if (j > i) assert.equal(mean.data[i * mean.cols + j], 0, 'causal mask: no attention to later tokens');
    }
    assert.ok(Math.abs(sum - 1) < 1e-5);
  }
});

test('attention rollout of the real transformer matches NumPy; rows stay distributions, stays causal', () => {
  const r = rolloutFromProbes(attention);
  const expected = npy('transformer', 'expected_rollout.npy');
  assert.deepEqual([r.final.rows, r.final.cols], expected.dims);
  assert.ok(maxAbsDiff(r.final.data, expected.data) < 1e-5);
  assert.equal(r.cumulative.length, 2);
  const n = r.final.rows;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      s += r.final.data[i * n + j]!;
      if (j > i) assert.equal(r.final.data[i * n + j], 0);
    }
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
});

test('hidden-state norms, layer-to-layer cosine and the 2-D PCA trajectory match NumPy', () => {
  assert.equal(hidden.length, 3);
  const norms = tokenNorms(hidden);
  assert.ok(maxAbsDiff(Float32Array.from(norms.flatMap((n) => [...n])), npy('transformer', 'expected_norms.npy').data) < 1e-3);
  const cos = layerCosine(hidden);
  assert.equal(cos.length, 2);
  assert.ok(maxAbsDiff(Float32Array.from(cos.flatMap((c) => [...c])), npy('transformer', 'expected_cosine.npy').data) < 1e-5);
  const traj = pcaTrajectory(hidden);
  const axes = npy('transformer', 'expected_pca_axes.npy');
  const d = hidden[0]!.cols;
  for (let c = 0; c < 2; c++) {
    assert.ok(maxAbsDiff(traj.pca.axes[c]!, axes.data.subarray(c * d, (c + 1) * d)) < 1e-4, `axis ${c} (same sign convention)`);
  }
  const coords = npy('transformer', 'expected_pca_coords.npy');
  assert.ok(maxAbsDiff(Float32Array.from(traj.points.flatMap((p) => [...p])), coords.data) < 1e-3);
  assert.ok(maxAbsDiff(traj.explained, npy('transformer', 'expected_pca_explained.npy').data) < 1e-5);
  // Deterministic: the same input gives bit-identical output.
  assert.deepEqual(pcaTrajectory(hidden).points, traj.points);
});

test('softmax and top-k next-token predictions of the real logits match NumPy', () => {
  const m = logitsMatrix(transformer.logits);
  const p = npy('transformer', 'expected_softmax.npy');
  const probs = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) probs.set(softmax(m.data.subarray(r * m.cols, (r + 1) * m.cols)), r * m.cols);
  assert.ok(maxAbsDiff(probs, p.data) < 1e-6);
  const top = nextTokenTopK(transformer.logits, 5);
  const expected = npy('transformer', 'expected_top5.npy');
  assert.deepEqual(top.flatMap((row) => row.map((x) => x.id)), [...expected.data]);
  for (const [r, row] of top.entries()) for (const x of row) assert.ok(Math.abs(x.prob - p.data[r * m.cols + x.id]!) < 1e-6);
});

test('logit lens through the final LayerNorm and output projection matches NumPy, and its last layer is the model\'s own logits', () => {
  const lens = JSON.parse(readFileSync(join(FIXTURES, 'transformer', 'lens.json'), 'utf8')) as {
    transposed: boolean;
    weight: string;
    bias?: string;
    norm: { kind: 'layer' | 'rms'; epsilon: number; scale?: string; bias?: string } | null;
  };
  const proj: OutputProjection = {
    weight: npy('transformer', lens.weight),
    transposed: lens.transposed,
    ...(lens.bias ? { bias: npy('transformer', lens.bias).data } : {}),
    ...(lens.norm
      ? {
          norm: {
            kind: lens.norm.kind,
            epsilon: lens.norm.epsilon,
            ...(lens.norm.scale ? { scale: npy('transformer', lens.norm.scale).data } : {}),
            ...(lens.norm.bias ? { bias: npy('transformer', lens.norm.bias).data } : {}),
          },
        }
      : {}),
  };
  const vocab = transformer.logits.dims[transformer.logits.dims.length - 1]!;
  const expected = npy('transformer', 'expected_lens_logits.npy'); // [layer, position, vocab]
  const T = hidden[0]!.rows;
  const result = logitLens(hidden, proj, { k: 5 });
  assert.equal(result.length, hidden.length);
  for (let l = 0; l < hidden.length; l++) {
    for (let t = 0; t < T; t++) {
      const row = expected.data.subarray((l * T + t) * vocab, (l * T + t + 1) * vocab);
      const order = [...row.keys()].sort((a, b) => row[b]! - row[a]! || a - b).slice(0, 5);
      assert.deepEqual(result[l]![t]!.map((x) => x.id), order, `layer ${l} position ${t}`);
      for (const x of result[l]![t]!) assert.ok(Math.abs(x.logit - row[x.id]!) < 1e-3);
    }
  }
  // The lens applied to the last hidden state is exactly what the model computes after it.
  const last = logitLens([hidden[hidden.length - 1]!], proj, { k: vocab })[0]!;
  const m = logitsMatrix(transformer.logits);
  let worst = 0;
  for (let t = 0; t < T; t++) for (const x of last[t]!) worst = Math.max(worst, Math.abs(x.logit - m.data[t * vocab + x.id]!));
  assert.ok(worst < 1e-3, `lens vs model logits: ${worst}`);
  // Positions can be limited (the projection costs hidden × vocab each).
  assert.deepEqual(logitLens(hidden, proj, { k: 3, positions: [T - 1] })[2]![0], result[2]![T - 1]!.slice(0, 3));
});

test('recurrent and encoder-decoder layouts: [seq, direction, batch, unit] and decoder steps stacked on a step axis', () => {
  const lstm = loadDump('lstm');
  const y = lstm.probes.find((p) => p.probe.kind === 'hidden')!;
  const h = hiddenMatrix(y);
  const expected = npy('lstm', 'expected_hidden.npy');
  assert.deepEqual([h.rows, h.cols], expected.dims);
  assert.equal(maxAbsDiff(h.data, expected.data), 0);
  assert.ok(maxAbsDiff(tokenNorms([h])[0]!, npy('lstm', 'expected_norms.npy').data) < 1e-4);

  const s2s = loadDump('dates-gru-attention');
  const enc = s2s.probes.find((p) => p.probe.kind === 'hidden' && p.probe.stream === 'encoder')!;
  assert.equal(maxAbsDiff(hiddenMatrix(enc).data, npy('dates-gru-attention', 'expected_encoder_hidden_concat.npy').data), 0);
  assert.equal(maxAbsDiff(hiddenMatrix(enc, { direction: 1 }).data, npy('dates-gru-attention', 'expected_encoder_hidden_backward.npy').data), 0);
  const cross = s2s.probes.find((p) => p.probe.kind === 'attention')!;
  const a = attentionMatrix(cross);
  const ea = npy('dates-gru-attention', 'expected_cross_attention.npy');
  assert.deepEqual([a.rows, a.cols], ea.dims, 'one row per generated step, one column per source token');
  assert.equal(maxAbsDiff(a.data, ea.data), 0);
  for (let i = 0; i < a.rows; i++) assert.ok(Math.abs(a.data.subarray(i * a.cols, (i + 1) * a.cols).reduce((x, v) => x + v, 0) - 1) < 1e-5);
  const step3 = attentionMatrix(cross, { step: 3 });
  assert.deepEqual([...step3.data], [...ea.data.subarray(3 * a.cols, 4 * a.cols)]);
  const dec = s2s.probes.find((p) => p.probe.kind === 'hidden' && p.probe.stream === 'decoder')!;
  assert.equal(maxAbsDiff(hiddenMatrix(dec).data, npy('dates-gru-attention', 'expected_decoder_hidden.npy').data), 0);
  assert.throws(() => attentionRollout([a]), /square/);
});
