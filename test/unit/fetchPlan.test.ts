/**
 * Attention fetched within a byte budget: planFetch's split, and on the zoo Transformer a run with a
 * small budget hands back the preferred layer, defers the rest with their max-pooled overviews (exact
 * block maxima of the full tensors), and later `only` runs give the same numbers as one run that
 * fetched everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceModel } from '../../src/core/run/traceModel.js';
import { TraceSessionCache } from '../../src/core/run/sessionCache.js';
import { attentionBytes, planFetch } from '../../src/core/run/fetchPlan.js';
import { getBackend } from '../../src/node/backends.js';
import { loadModel } from '../../src/node/modelLoader.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { maxPoolBlocks } from '../../src/core/trace/pool.js';

const TEXT = 'export function debounce<T>(fn: (x: T) => void, ms: number) {\n  let timer: number | undefined;';

test('planFetch on the zoo Transformer plan: hidden states always, attention up to the budget, the preferred layer first', async () => {
  const m = await loadModel('transformer');
  const plan = planProbes(decodeModel(await m.files(m.manifest!.files.model!))).plan;
  const att = plan.probes.filter((p) => p.kind === 'attention');
  assert.ok(att.length >= 2, 'the zoo Transformer has attention in two layers');
  const T = 2048;
  const one = attentionBytes(att[0], T);
  assert.equal(one, (att[0].heads ?? 1) * T * T * 4);
  const all = planFetch(plan.probes, T, Number.MAX_SAFE_INTEGER);
  assert.equal(all.deferred.length, 0);
  assert.equal(all.fetch.length, plan.probes.length);
  const tight = planFetch(plan.probes, T, one, (p) => p.layer === 1);
  assert.deepEqual(tight.fetch.filter((p) => p.kind === 'attention').map((p) => p.layer), [1]);
  assert.deepEqual(tight.deferred.map((p) => p.layer), att.filter((p) => p.layer !== 1).map((p) => p.layer));
  assert.equal(tight.fetch.filter((p) => p.kind !== 'attention').length, plan.probes.filter((p) => p.kind !== 'attention').length);
  // Even a budget smaller than one layer fetches one layer, so the panel always has something to draw.
  assert.equal(planFetch(plan.probes, T, 10).fetch.filter((p) => p.kind === 'attention').length, 1);
});

test('zoo Transformer: deferred attention fetched later equals a run that fetched everything', async () => {
  const m = await loadModel('transformer');
  const backend = await getBackend('native');
  const cache = new TraceSessionCache();
  try {
    const base = { backend, files: m.files, manifest: m.manifest, modelName: m.name, text: TEXT, cache };
    const full = await traceModel(base);
    assert.equal(full.deferred, undefined);
    const T = full.tokens.length;
    const attFull = full.probes.filter((p) => p.probe.kind === 'attention');
    const budget = attentionBytes(attFull[0].probe, T);
    const lazy = await traceModel({ ...base, attentionBudgetBytes: budget, preferProbe: (p) => p.layer === 1 });
    const got = lazy.probes.filter((p) => p.probe.kind === 'attention');
    assert.deepEqual(got.map((p) => p.probe.layer), [1]);
    assert.deepEqual(lazy.deferred?.map((p) => p.layer), attFull.map((p) => p.probe.layer).filter((l) => l !== 1));
    assert.ok(lazy.logits, 'the first run still hands back the logits');
    assert.equal(lazy.probes.filter((p) => p.probe.kind === 'hidden').length, full.probes.filter((p) => p.probe.kind === 'hidden').length);
    // Every deferred layer still comes with its overview: the attention max-pooled over 16 × 16 blocks.
    assert.deepEqual(lazy.pooled?.map((p) => p.probe.layer), lazy.deferred?.map((p) => p.layer));
    for (const pt of lazy.pooled ?? []) {
      const ref = attFull.find((q) => q.probe.name === pt.probe.name)!;
      const [, H, Q, K] = ref.tensor.dims;
      const f = pt.pooledBy!;
      const R = Math.ceil(Q / f), C = Math.ceil(K / f);
      assert.deepEqual(pt.tensor.dims, [1, H, R, C]);
      let d = 0;
      for (let h = 0; h < H; h++) for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
        let m = -Infinity;
        for (let q = r * f; q < Math.min(Q, (r + 1) * f); q++) for (let k = c * f; k < Math.min(K, (c + 1) * f); k++) m = Math.max(m, ref.tensor.data[(h * Q + q) * K + k]);
        d = Math.max(d, Math.abs(m - pt.tensor.data[(h * R + r) * C + c]));
      }
      assert.equal(d, 0, `${pt.probe.name}: the overview is the exact block maximum`);
      // The page pools a layer it evicts itself (core maxPoolBlocks): the same numbers as the graph's MaxPool.
      assert.deepEqual(Array.from(maxPoolBlocks(ref.tensor, f).data), Array.from(pt.tensor.data));
    }
    const later = await traceModel({ ...base, only: lazy.deferred!.map((p) => p.name) });
    assert.equal(later.logits, undefined);
    for (const p of [...got, ...later.probes]) {
      const ref = attFull.find((q) => q.probe.name === p.probe.name);
      assert.ok(ref, p.probe.name);
      assert.deepEqual(p.tensor.dims, ref.tensor.dims);
      let d = 0;
      for (let i = 0; i < p.tensor.data.length; i++) d = Math.max(d, Math.abs(p.tensor.data[i] - ref.tensor.data[i]));
      assert.ok(d <= 1e-6, `${p.probe.name}: max |diff| ${d}`);
    }
    assert.equal(later.probes.length, lazy.deferred!.length);
  } finally {
    await cache.dispose();
  }
});
