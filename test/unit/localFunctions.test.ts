/**
 * ONNX local functions (issue 8, section 1, newer exporters): a Transformer encoder whose blocks are
 * calls of a local function with a nested function inside (tools/fixtures/functionAttention.ts). Calls
 * are expanded before planning, so the attention inside them is found, one layer per call; the expanded,
 * instrumented model gives the same logits as onnxruntime-node running the original (which expands the
 * functions itself), and its attention rows are distributions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { functionAttention, FN } from '../../tools/fixtures/functionAttention.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { inlineLocalFunctions } from '../../src/core/onnx/localFunctions.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { inspectModel } from '../../src/core/inspect.js';
import { LoadedModel } from '../../src/core/run/loadedModel.js';
import { getBackend } from '../../src/node/backends.js';
import { run } from './fixturesHelpers.js';

const TEXT = 'abc def';

test('local functions: calls expanded before planning; attention found in each call', () => {
  const model = decodeModel(functionAttention());
  assert.equal(planProbes(model).plan.probes.filter((p) => p.kind === 'attention').length, 0, 'not visible without expanding');
  const inlined = inlineLocalFunctions(model, 'fn.onnx');
  assert.ok(inlined);
  const ops = inlined.model.graph!.node.map((n) => n.opType);
  assert.ok(!ops.includes('AttnBlock') && !ops.includes('Scores'), ops.join(','));
  const softmax = inlined.model.graph!.node.filter((n) => n.opType === 'Softmax');
  assert.deepEqual(softmax.map((n) => n.output[0]), ['block0/probs', 'block1/probs']);
  assert.deepEqual(softmax.map((n) => n.attribute.map((a) => [a.name, Number(a.i)])), [[['axis', -1]], [['axis', -1]]], 'ref_attr_name bound from the call');
  assert.ok(inlined.model.graph!.node.some((n) => n.opType === 'Mul' && n.name === 'block1/scores/scale_mul' && n.output[0] === 'block1/scaled'), 'nested call expanded');
  const { plan } = planProbes(inlined.model);
  const attn = plan.probes.filter((p) => p.kind === 'attention');
  assert.deepEqual(attn.map((p) => [p.name, p.layer, p.heads]), [['block0/probs', 0, FN.heads], ['block1/probs', 1, FN.heads]]);
  assert.equal(inspectModel(functionAttention(), 'fn.onnx').architecture.architecture, 'transformer-encoder');
  assert.equal(inlineLocalFunctions(decodeModel(new Uint8Array(inlined.bytes)), 'x'), undefined, 'nothing left to expand');
});

test('local functions: the traced model gives the original\'s logits and attention distributions', async () => {
  const bytes = functionAttention();
  const vocab = [...' abcdefghijklmnopqrstuvwxyz0123456789.,;'].slice(0, FN.vocab);
  const files = async (rel: string): Promise<Uint8Array> => {
    if (rel === 'vocab.json') return new TextEncoder().encode(JSON.stringify(vocab));
    throw new Error(`ENOENT ${rel}`);
  };
  const model = await LoadedModel.load({ files, modelBytes: bytes, name: 'fn.onnx', tokenizer: { type: 'char', vocab: 'vocab.json' } });
  try {
    const trace = await model.trace({ backend: await getBackend('native'), text: TEXT });
    const ids = trace.tokens.map((t) => t.id);
    assert.equal(ids.length, TEXT.length);
    const ref = await run(bytes, { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) });
    const want = ref.logits!.data as Float32Array;
    const got = trace.logits!.data;
    let d = 0;
    for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i]! - got[i]!));
    assert.ok(d < 1e-4, `logits max |Δ| ${d}`);
    const probs = trace.probes.filter((p) => p.probe.kind === 'attention');
    assert.equal(probs.length, FN.layers);
    for (const p of probs) {
      const K = p.tensor.dims[3]!;
      for (let r = 0; r < p.tensor.data.length / K; r++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += p.tensor.data[r * K + k]!;
        assert.ok(Math.abs(s - 1) < 1e-5);
      }
    }
  } finally {
    await model.dispose();
  }
});
