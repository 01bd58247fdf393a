/**
 * The probe plan's structure on graphs made several ways: how many attention layers per stream,
 * heads, hidden states per block, the logits and the logit-lens projection, and what is reported
 * as unavailable. Expected values come from how each fixture was built (fixtures.json), not from
 * the code under test. Running the probes is in instrument.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModel, type ModelProto } from '../../src/core/onnx/decode.js';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { floatTensor, makeNode } from '../../src/core/onnx/graphDelta.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { indexGraph } from '../../src/core/onnx/graphIndex.js';
import { constantDims } from '../../src/core/probes/graphWalk.js';
import type { AttentionStream } from '../../src/core/types.js';
import { fixtureInfo, readFixture } from './fixturesHelpers.js';

const info = fixtureInfo();

for (const [file, i] of Object.entries(info)) {
  if (i.exportError || !Object.keys(i.streams).length) continue;
  test(`probes of ${file}: attention per stream, heads, hidden states, logits`, () => {
    const model = decodeModel(readFixture(file), file);
    const { plan, delta } = planProbes(model, i.role ? { role: i.role } : {});
    for (const stream of ['encoder', 'decoder', 'cross'] as AttentionStream[]) {
      const att = plan.probes.filter((p) => p.kind === 'attention' && p.stream === stream);
      const want = i.streams[stream] ?? 0;
      assert.equal(att.length, want, `${stream} attention layers`);
      assert.deepEqual(att.map((p) => p.layer), [...Array(want).keys()], `${stream} layers numbered in order`);
      for (const p of att) {
        assert.equal(p.heads, i.heads, `${p.name} heads`);
        assert.deepEqual(p.axes, ['batch', 'head', 'query', 'key']);
        assert.ok(delta.outputs.includes(p.name), `${p.name} exposed`);
      }
      if (stream !== 'cross' && want > 0) {
        const hidden = plan.probes.filter((p) => p.kind === 'hidden' && p.stream === stream);
        assert.equal(hidden.length, want + 1, `${stream}: embeddings + one hidden state per block`);
        assert.deepEqual(hidden.map((p) => p.layer), [...Array(want + 1).keys()]);
        assert.equal(new Set(hidden.map((p) => p.name)).size, hidden.length, 'distinct tensors');
        // Graphs built here know which tensors are the residual stream.
        if (i.hiddenTensors) assert.deepEqual(hidden.map((p) => p.name), i.hiddenTensors);
      }
    }
    if (i.logits) {
      const logits = plan.probes.filter((p) => p.kind === 'logits');
      assert.deepEqual(logits.map((p) => p.name), [i.logits]);
      const lens = plan.logitLens;
      assert.ok(lens, 'logit lens found');
      assert.equal(lens.vocabSize, i.vocab);
      assert.equal(lens.hiddenSize, i.hidden);
      const dims = constantDims(indexGraph(model.graph as never), lens.weight);
      assert.deepEqual(dims, lens.transposed ? [i.vocab, i.hidden] : [i.hidden, i.vocab]);
      // Pre-LN stacks normalise the last residual state before the head; post-LN ones do not.
      if (i.norm === 'pre') assert.ok(lens.finalNorm?.scale, 'pre-LN: final norm recorded');
      if (i.norm === 'post') assert.equal(lens.finalNorm, undefined);
    }
  });
}

test('Llama style: the final RMSNorm (written out) is reported for the lens', () => {
  const { plan } = planProbes(decodeModel(readFixture('llama_style_rmsnorm_gqa.onnx')));
  assert.deepEqual(plan.logitLens?.finalNorm, { kind: 'rms', scale: 'final_rms_w', bias: undefined, epsilon: Math.fround(1e-6), node: 'final_rms_weight' });
});

test('GPT-2 style: the tied head is found, the final LayerNorm is reported for the lens', () => {
  for (const opset of [13, 14, 17]) {
    const { plan } = planProbes(decodeModel(readFixture(`gpt2_preln_opset${opset}.onnx`)));
    assert.equal(plan.logitLens?.finalNorm?.kind, 'layer');
    // torch dedups equal weights through Identity nodes: the lens names the initializer that holds the values.
    const model = decodeModel(readFixture(`gpt2_preln_opset${opset}.onnx`));
    const scale = model.graph?.initializer.find((t) => t.name === plan.logitLens?.finalNorm?.scale);
    assert.deepEqual(scale?.dims.map(Number), [32]);
    assert.ok(Math.abs((plan.logitLens?.finalNorm?.epsilon ?? 0) - 1e-5) < 1e-9, `opset ${opset} epsilon`);
  }
});

test('fused ops: opset-23 Attention and com.microsoft MultiHeadAttention get a duplicate node, com.microsoft Attention is recomputed', () => {
  const a23 = planProbes(decodeModel(readFixture('onnx_attention_opset23.onnx')));
  const dup = a23.delta.nodes.filter((n) => n.opType === 'Attention');
  assert.equal(dup.length, 2);
  for (const n of dup) {
    assert.equal(n.output?.length, 4);
    assert.equal(Number(n.attribute?.find((a) => a.name === 'qk_matmul_output_mode')?.i), 3);
    assert.equal(Number(n.attribute?.find((a) => a.name === 'is_causal')?.i), 1, 'other attributes kept');
  }
  assert.ok(a23.plan.probes.filter((p) => p.kind === 'attention').every((p) => p.stream === 'decoder' && !p.postprocess));

  const mha = planProbes(decodeModel(readFixture('ms_multihead_attention.onnx')));
  assert.equal(mha.delta.nodes.filter((n) => n.opType === 'MultiHeadAttention' && n.domain === 'com.microsoft').length, 2);
  assert.ok(mha.plan.probes.filter((p) => p.kind === 'attention').every((p) => p.postprocess === 'softmax-last-axis'));
  // With a key padding mask the weights are computed in the graph (mask added, then Softmax): no postprocess left.
  const masked = planProbes(decodeModel(readFixture('ms_mha_padding_mask.onnx')));
  assert.ok(masked.plan.probes.filter((p) => p.kind === 'attention').every((p) => p.postprocess === undefined && p.name.endsWith('/weights')));
  assert.equal(masked.delta.nodes.filter((n) => n.opType === 'Softmax').length, 2);

  // No weights output: the weights are recomputed from its inputs by added nodes (fusedAttention.test.ts checks the values).
  const ms = planProbes(decodeModel(readFixture('ms_attention.onnx')));
  assert.deepEqual(ms.plan.unavailable, []);
  assert.equal(ms.delta.nodes.filter((n) => n.opType === 'Attention').length, 0, 'no duplicate of the fused op');
  assert.ok(ms.plan.probes.filter((p) => p.kind === 'attention').every((p) => p.postprocess === undefined && p.name.endsWith('/weights')));
});

test('constant-condition If: the taken branch is inlined under seqlens/ and its attention exposed', () => {
  const { plan, delta } = planProbes(decodeModel(readFixture('const_if.onnx')));
  const att = plan.probes.filter((p) => p.kind === 'attention');
  assert.equal(att.length, 1);
  assert.match(att[0].name, /^seqlens\/if\//);
  assert.ok(delta.nodes.some((n) => n.opType === 'Softmax' && n.output?.[0] === att[0].name), 'branch nodes travel in the delta');
  assert.ok(delta.nodes.every((n) => (n.output ?? []).every((o) => o.startsWith('seqlens/'))), 'added tensors are all renamed');
});

test('attention inside a Loop body is reported as unavailable, not guessed', () => {
  const { plan } = planProbes(decodeModel(readFixture('loop_softmax.onnx')));
  assert.equal(plan.probes.filter((p) => p.kind === 'attention').length, 0);
  assert.match(plan.unavailable[0].what, /inside Loop repeat_block/);
});

/** A tiny graph for rule edge cases: x [1, 4, 6, 6] scores; a classifier head; opset chosen per test. */
function tinyModel(nodes: onnx.INodeProto[], inits: onnx.ITensorProto[], opset: number, outputs: string[]): ModelProto {
  const bytes = onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 't', node: nodes, initializer: inits,
      input: [{ name: 'q', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }, { dimValue: 6 }, { dimValue: 8 }] } } } },
        { name: 'k', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }, { dimValue: 8 }, { dimValue: 6 }] } } } }],
      output: outputs.map((name) => ({ name })),
    },
  }).finish();
  return decodeModel(bytes);
}

test('a classifier Softmax over a weight projection is not attention', () => {
  const m = tinyModel([
    makeNode('MatMul', ['q', 'w'], ['cls'], 'classifier'),
    makeNode('Softmax', ['cls'], ['probs'], 'output_softmax', { axis: -1 }),
  ], [floatTensor('w', new Float32Array(8 * 3), [8, 3])], 17, ['probs']);
  assert.equal(planProbes(m).plan.probes.filter((p) => p.kind === 'attention').length, 0);
});

test('Softmax axis: a non-key axis and the pre-opset-13 default are reported, the last axis is accepted', () => {
  const build = (attrs: Record<string, number>, opset: number): ModelProto => tinyModel([
    makeNode('MatMul', ['q', 'k'], ['scores'], 'qk'),
    makeNode('Softmax', ['scores'], ['w'], 'sm', attrs),
  ], [], opset, ['w']);
  const last = planProbes(build({ axis: 3 }, 11)).plan;
  assert.equal(last.probes.filter((p) => p.kind === 'attention').length, 1);
  const wrong = planProbes(build({ axis: 2 }, 17)).plan;
  assert.equal(wrong.probes.length, 0);
  assert.match(wrong.unavailable[0].reason, /axis 2 is not the key axis/);
  const legacy = planProbes(build({}, 11)).plan;
  assert.match(legacy.unavailable[0].reason, /pre-opset-13 default axis 1/);
  const modern = planProbes(build({}, 13)).plan;
  assert.equal(modern.probes.filter((p) => p.kind === 'attention').length, 1);
});

test('damaged graphs (nodes dropped, inputs renamed) never make planning throw', () => {
  for (const file of ['bert_postln_opset13.onnx', 'gpt2_kvcache_opset17.onnx', 'encdec_opset17.onnx', 'llama_style_rmsnorm_gqa.onnx']) {
    for (const every of [3, 7, 11]) {
      const model = decodeModel(readFixture(file));
      const g = model.graph as NonNullable<ModelProto['graph']>;
      g.node = g.node.filter((_, k) => k % every !== 0);
      g.node.forEach((n, k) => {
        if (k % (every + 2) === 0 && n.input.length) n.input[0] = `missing_${k}`;
      });
      const { plan } = planProbes(model);
      assert.ok(Array.isArray(plan.probes) && Array.isArray(plan.unavailable), `${file} / ${every}`);
    }
  }
});

test('a key/value cache marks self-attention as decoder attention even without a visible causal mask', () => {
  const build = (cache: boolean): ModelProto => {
    const T = onnx.TensorProto.DataType.FLOAT;
    const vi = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
      name, type: { tensorType: { elemType: T, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
    const nodes = [
      makeNode('MatMul', ['x', 'wq'], ['q'], 'q_proj'),
      makeNode('MatMul', ['x', 'wk'], ['k_new'], 'k_proj'),
      cache ? makeNode('Concat', ['past_key', 'k_new'], ['k'], 'cache_concat', { axis: 1 }) : makeNode('Identity', ['k_new'], ['k'], 'no_cache'),
      makeNode('Transpose', ['k'], ['kT'], 'k_T', { perm: [0, 2, 1] }),
      makeNode('MatMul', ['q', 'kT'], ['scores'], 'qk'),
      makeNode('Softmax', ['scores'], ['w'], 'sm', { axis: -1 }),
    ];
    const bytes = onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'cache', node: nodes,
        initializer: [floatTensor('wq', new Float32Array(64), [8, 8]), floatTensor('wk', new Float32Array(64), [8, 8])],
        input: [vi('x', [1, 'seq', 8]), ...(cache ? [vi('past_key', [1, 'past', 8])] : [])],
        output: [{ name: 'w' }, ...(cache ? [vi('present_key', [1, 'total', 8])] : [])],
      },
    }).finish();
    return decodeModel(bytes);
  };
  const withCache = planProbes(build(true)).plan;
  assert.deepEqual(withCache.probes.filter((p) => p.kind === 'attention').map((p) => p.stream), ['decoder']);
  assert.equal(withCache.architecture, 'transformer-decoder');
  const without = planProbes(build(false)).plan;
  assert.deepEqual(without.probes.filter((p) => p.kind === 'attention').map((p) => p.stream), ['encoder']);
});
