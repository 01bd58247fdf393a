/**
 * summarize() against facts the Python onnx package read from the same files when they were
 * generated (fixtures.json `onnxFacts`), and against the fixtures built with the protobuf bindings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { summarize } from '../../src/core/onnx/summarize.js';
import { fixtureInfo, readFixture } from './fixturesHelpers.js';

interface OnnxFacts {
  params: number;
  ops: Record<string, number>;
  opset: number;
  irVersion: number;
  producer: string;
  inputs: Record<string, (string | number)[]>;
  outputs: Record<string, (string | number)[]>;
}

const info = fixtureInfo() as Record<string, { onnxFacts?: OnnxFacts }>;
const exported = Object.entries(info).filter(([, i]) => i.onnxFacts);

test('fixtures with facts from the Python onnx package exist', () => {
  assert.ok(exported.length >= 9, `found ${exported.length}`);
});

for (const [file, i] of exported) {
  test(`summarize ${file} matches the Python onnx reading`, () => {
    const facts = i.onnxFacts as OnnxFacts;
    const bytes = readFixture(file);
    const s = summarize(decodeModel(bytes, file), bytes.byteLength);
    assert.equal(s.byteSize, bytes.byteLength);
    assert.equal(s.parameterCount, facts.params);
    assert.deepEqual(s.opHistogram, facts.ops);
    assert.equal(s.opsets.find((o) => o.domain === '')?.version, facts.opset);
    assert.equal(s.irVersion, facts.irVersion);
    assert.equal(s.producer.name, facts.producer);
    assert.deepEqual(Object.fromEntries(s.inputs.map((t) => [t.name, t.shape])), facts.inputs);
    assert.deepEqual(Object.fromEntries(s.outputs.map((t) => [t.name, t.shape])), facts.outputs);
    assert.ok(s.inputs.every((t) => t.type === 'int64' || t.type === 'float'));
    assert.deepEqual(s.externalDataFiles, []);
  });
}

test('summarize reads domains, symbolic dims and external data of protobuf-built fixtures', () => {
  const mha = readFixture('ms_multihead_attention.onnx');
  const s = summarize(decodeModel(mha), mha.byteLength);
  assert.equal(s.opHistogram['com.microsoft:MultiHeadAttention'], 2);
  assert.deepEqual(s.opsets, [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }]);
  assert.deepEqual(s.inputs, [{ name: 'input_ids', type: 'int64', shape: ['batch', 'seq'] }]);
  const masked = readFixture('ms_mha_padding_mask.onnx');
  assert.deepEqual(summarize(decodeModel(masked), masked.byteLength).inputs[1], { name: 'attention_mask', type: 'int32', shape: ['batch', 'seq'] });
  assert.deepEqual(s.outputs, [{ name: 'logits', type: 'float', shape: ['batch', 'seq', 48] }]);
  // 48x32 embedding + 2 layers x (4 x 32x32 + 2 x 32 LN) + 32x48 head + 48 bias
  assert.equal(s.parameterCount, 48 * 32 + 2 * (4 * 32 * 32 + 2 * 32) + 32 * 48 + 48);

  const ext = readFixture('external_data.onnx');
  const e = summarize(decodeModel(ext), ext.byteLength);
  assert.deepEqual(e.externalDataFiles, ['external_data.bin']);
});

test('summarize counts ops inside subgraphs (If branches, Loop bodies)', () => {
  const bytes = readFixture('loop_softmax.onnx');
  const s = summarize(decodeModel(bytes), bytes.byteLength);
  assert.equal(s.opHistogram.Loop, 1);
  assert.equal(s.opHistogram.Softmax, 1);
  assert.equal(s.opHistogram.LayerNormalization, 1);
});
