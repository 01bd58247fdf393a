/**
 * The committed test graphs: small, described in fixtures.json, and really made the ways their
 * names say (exporter opsets, LayerNorm decomposed below opset 17, fused ops with their domains).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, opsetVersion } from '../../src/core/onnx/decode.js';
import { fixtureInfo, GRAPHS, readFixture } from './fixturesHelpers.js';

const info = fixtureInfo();
const files = readdirSync(GRAPHS).filter((f) => f.endsWith('.onnx'));

test('every fixture is small and described in fixtures.json', () => {
  assert.ok(files.length >= 15, `${files.length} fixtures`);
  for (const f of files) {
    assert.ok(statSync(join(GRAPHS, f)).size <= 1_000_000, `${f} is at most 1 MB`);
    assert.ok(info[f], `${f} has an entry`);
  }
  for (const [f, i] of Object.entries(info)) if (!i.exportError) assert.ok(files.includes(f), `${f} exists`);
});

test('exporter opsets are as named; below opset 17 LayerNorm is written out', () => {
  for (const f of files) {
    const m = /_opset(\d+)\.onnx$/.exec(f);
    if (!m) continue;
    const model = decodeModel(readFixture(f), f);
    assert.equal(opsetVersion(model), Number(m[1]), f);
    if (!f.startsWith('bert') && !f.startsWith('gpt2')) continue;
    const ops = new Set(model.graph?.node.map((n) => n.opType));
    assert.equal(ops.has('LayerNormalization'), Number(m[1]) >= 17, `${f}: fused LayerNormalization only from opset 17`);
    assert.equal(ops.has('ReduceMean'), Number(m[1]) < 17, `${f}: ReduceMean-based LayerNorm below opset 17`);
  }
});

test('protobuf-built fixtures use the ops they are named for', () => {
  const ops = (f: string): string[] => (decodeModel(readFixture(f)).graph?.node ?? []).map((n) => `${n.domain ? `${n.domain}.` : ''}${n.opType}`);
  assert.equal(ops('onnx_attention_opset23.onnx').filter((o) => o === 'Attention').length, 2);
  assert.equal(ops('ms_multihead_attention.onnx').filter((o) => o === 'com.microsoft.MultiHeadAttention').length, 2);
  assert.ok(ops('ms_attention.onnx').includes('com.microsoft.Attention'));
  assert.ok(ops('const_if.onnx').includes('If') && !ops('const_if.onnx').includes('Softmax'), 'attention only inside the branch');
  assert.ok(ops('loop_softmax.onnx').includes('Loop'));
});
