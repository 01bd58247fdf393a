/**
 * core/graphBlocks.ts on real fixtures: the blocks the inspector draws (found from node names, else from the
 * probe plan), runs of blocks built alike collapsed into one part "× N", each block's attention / recurrent /
 * hidden-state marks with their probes, and a sentence wherever something is seen that no probe can read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { decodeModel, type ModelProto } from '../../src/core/onnx/decode.js';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { detectArchitecture } from '../../src/core/architecture.js';
import { blockOfName, graphBlocks, type ModelPicture } from '../../src/core/graphBlocks.js';

function picture(path: string): ModelPicture {
  return pictureOf(decodeModel(new Uint8Array(readFileSync(path)), path));
}

function pictureOf(m: ModelProto): ModelPicture {
  return graphBlocks(m, planProbes(m).plan, { evidence: detectArchitecture(m) });
}

/** [title, repeat] of every part, and the role sequence. */
const shape = (p: ModelPicture): [string, string, number][] => p.parts.map((x) => [x.role, x.title, x.blocks.length]);
const marksOf = (p: ModelPicture, role = 'block'): string[] => p.parts.filter((x) => x.role === role).flatMap((x) => x.blocks[0].marks.map((m) => `${m.kind}:${m.text}:${m.probes.length}`));

test('block names: the first indexed path component, never a node number at the end of a name', () => {
  assert.deepEqual(blockOfName('/model/layers.3/self_attn/MatMul'), { stem: '/model/layers.', index: 3 });
  assert.deepEqual(blockOfName('/h.11/attn/Softmax'), { stem: '/h.', index: 11 });
  assert.deepEqual(blockOfName('/blocks.0/ff/ff.1/Add'), { stem: '/blocks.', index: 0 });
  assert.deepEqual(blockOfName('l2_q_proj'), { stem: 'l', index: 2 });
  assert.deepEqual(blockOfName('/bert/encoder/layer.5/attention/self/Softmax'), { stem: '/bert/encoder/layer.', index: 5 });
  assert.equal(blockOfName('/Constant_3'), undefined);
  assert.equal(blockOfName('onnx::MatMul_123'), undefined);
  assert.equal(blockOfName('seq_len_2'), undefined);
});

test('GPT-2 style decoder (pre-LN): embedding → blocks.0 … blocks.1 × 2 (causal self-attention, 4 heads) → head', () => {
  const p = picture('test/fixtures/graphs/gpt2_preln_opset17.onnx');
  assert.equal(p.grouping, 'names');
  assert.deepEqual(shape(p), [['embedding', 'embedding', 1], ['block', 'blocks.0 … blocks.1', 2], ['head', 'output head', 1]]);
  assert.ok(marksOf(p).includes('attention:self-attention, 4 heads, causal:1'), marksOf(p).join(' | '));
  assert.equal(p.parts[1].edgeOut?.shape, 'batch × seq × 32');
  assert.deepEqual(p.inputs, [{ name: 'input_ids', shape: 'batch × seq' }]);
  assert.deepEqual(p.unread, []);
  // Every node is drawn exactly once.
  assert.equal(p.parts.reduce((k, x) => k + x.blocks.reduce((j, b) => j + b.nodes.length, 0), 0), p.nodeCount);
});

test('BERT style encoder (post-LN): self-attention not causal; hidden state after each block', () => {
  const p = picture('test/fixtures/graphs/bert_postln_opset17.onnx');
  assert.deepEqual(shape(p).map((x) => x[0]), ['embedding', 'block', 'head']);
  assert.equal(p.blockCount, 2);
  assert.ok(marksOf(p).includes('attention:self-attention, 4 heads, not causal:1'), marksOf(p).join(' | '));
  assert.ok(marksOf(p).some((m) => m.startsWith('hidden:hidden state after block 0')));
});

test('Llama style names (l0_..., l1_...) with GQA and RMSNorm: two blocks in one part', () => {
  const p = picture('test/fixtures/graphs/llama_style_rmsnorm_gqa.onnx');
  const blocks = p.parts.filter((x) => x.role === 'block');
  assert.equal(blocks.length, 1);
  assert.deepEqual(blocks[0].blocks.map((b) => b.label), ['l0', 'l1']);
  assert.ok(marksOf(p).includes('attention:self-attention, 4 heads, causal:1'));
});

test('encoder-decoder in one file: two stacks (enc × 2, dec × 2) with cross-attention in the decoder', () => {
  const p = picture('test/fixtures/graphs/encdec_opset17.onnx');
  const blocks = p.parts.filter((x) => x.role === 'block');
  assert.deepEqual(blocks.map((x) => [x.title, x.blocks.length]), [['enc.0 … enc.1', 2], ['dec.0 … dec.1', 2]]);
  const dec = blocks[1].blocks[0].marks.map((m) => `${m.kind}:${m.text}:${m.stream}`);
  assert.ok(dec.includes('attention:cross-attention, 4 heads:cross'), dec.join(' | '));
  assert.ok(dec.includes('attention:self-attention, 4 heads, causal:decoder'), dec.join(' | '));
  assert.equal(p.blockCount, 4);
});

test('LSTMs: one block per recurrent layer from the plan when names carry no structure', () => {
  const p = picture('test/fixtures/recurrent/lstm_2layer_bidir_bf_op17.onnx');
  assert.equal(p.grouping, 'recurrent');
  const blocks = p.parts.filter((x) => x.role === 'block');
  assert.deepEqual(blocks.map((x) => x.blocks.length), [2]);
  assert.deepEqual(marksOf(p), ['recurrent:LSTM, hidden 6, bidirectional:6']);
  assert.equal(blocks[0].edgeOut?.shape, 'seq × 2 × batch × 6');
  const zoo = picture('media/models/lstm/model.onnx');
  assert.deepEqual(shape(zoo).map((x) => x[0]), ['embedding', 'block', 'head']);
  assert.equal(zoo.parts[0].edgeOut?.shape, 'seq × batch × 48');
});

test('recurrent ops in an If branch taken: drawn from the inlined branch, with their probes', () => {
  const p = picture('test/fixtures/graphs/lstm_in_if.onnx');
  assert.equal(p.blockCount, 2);
  assert.ok(marksOf(p).every((m) => /^recurrent:LSTM, hidden \d+, forward:[1-9]/.test(m)), marksOf(p).join(' | '));
});

test('what is seen but cannot be read says why, in one sentence (fused attention, a Softmax inside a Loop)', () => {
  // com.microsoft Attention gets its weights recomputed (fusedAttention.test.ts); the same graph with a fused op
  // that is not recomputed (SparseAttention) is seen but not read.
  const recomputed = picture('test/fixtures/graphs/ms_attention.onnx');
  const read = recomputed.parts.flatMap((x) => x.blocks.flatMap((b) => b.marks)).filter((x) => x.kind === 'attention');
  assert.equal(read.length, 2);
  assert.ok(read.every((x) => x.probes.length === 1 && !x.why), JSON.stringify(read));
  assert.equal(recomputed.unread.length, 0);
  const proto = onnx.ModelProto.decode(new Uint8Array(readFileSync('test/fixtures/graphs/ms_attention.onnx')));
  for (const n of proto.graph?.node ?? []) if (n.opType === 'Attention') n.opType = 'SparseAttention';
  const fused = pictureOf(decodeModel(onnx.ModelProto.encode(proto).finish()));
  const m = fused.parts.flatMap((x) => x.blocks.flatMap((b) => b.marks)).filter((x) => x.kind === 'attention');
  assert.equal(m.length, 2);
  for (const x of m) {
    assert.deepEqual(x.probes, []);
    assert.match(x.why ?? '', /fused kernel and has no output for the weights/);
  }
  assert.equal(fused.unread.length, 2);
  const loop = picture('test/fixtures/graphs/loop_softmax.onnx');
  assert.equal(loop.grouping, 'none');
  assert.equal(loop.unread.length, 1);
  assert.match(loop.unread[0].why, /inside a Loop body are not visible/);
});

test('the zoo: every model draws blocks, and every attention or recurrent mark has a probe or a reason', () => {
  for (const name of ['transformer', 'lstm', 'gru', 'rnn', 'dates-transformer', 'dates-gru', 'dates-gru-attention']) {
    const dir = `media/models/${name}`;
    const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as { files: Record<string, string> };
    for (const rel of Object.values(manifest.files)) {
      if (!existsSync(`${dir}/${rel}`)) continue;
      const p = picture(`${dir}/${rel}`);
      assert.ok(p.blockCount >= 1, `${name}/${rel}: ${JSON.stringify(shape(p))}`);
      for (const part of p.parts) for (const b of part.blocks) for (const mk of b.marks) {
        assert.ok(mk.probes.length > 0 || (mk.why && mk.why.length > 10), `${name}/${rel} ${mk.text}`);
      }
    }
  }
  assert.deepEqual(shape(picture('media/models/transformer/model.onnx')), [['embedding', 'embedding', 1], ['block', 'blocks.0 … blocks.1', 2], ['head', 'output head', 1]]);
});

test('names without structure: blocks from the residual stream the plan reads (hidden state k to k+1)', () => {
  const m = decodeModel(new Uint8Array(readFileSync('test/fixtures/graphs/gpt2_preln_opset17.onnx')), 'gpt2');
  for (const n of m.graph!.node) n.name = '';
  const p = graphBlocks(m, planProbes(m).plan, { evidence: detectArchitecture(m) });
  assert.equal(p.grouping, 'hidden-states');
  assert.equal(p.blockCount, 2);
  const blocks = p.parts.filter((x) => x.role === 'block');
  assert.deepEqual(blocks.map((x) => x.blocks.length), [2]);
  assert.equal(blocks[0].blocks[0].marks.filter((x) => x.kind === 'attention').length, 1);
  assert.equal(blocks[0].blocks[1].marks.filter((x) => x.kind === 'attention').length, 1);
  assert.equal(p.parts.reduce((k, x) => k + x.blocks.reduce((j, b) => j + b.nodes.length, 0), 0), p.nodeCount);
});
