/**
 * The input part of recomputed LSTM/GRU gates (src/core/probes/recurrentInput.ts): when X is an
 * embedding lookup seen through Transpose/Unsqueeze/Squeeze, the gates gather rows of a load-time table
 * instead of multiplying X·Wᵀ. Checked by building the same model twice, once with X reaching the op
 * straight from the lookup (table) and once through a `Mul` by 1 that the lookup does not follow (Gemm,
 * the path test/unit/recurrentProbes.test.ts checks against the ops): every probe agrees to 1e-6, the
 * model's own outputs are untouched, and h_t = o_t⊙tanh(c_t) holds at every valid step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { floatTensor, int64Tensor, makeNode } from '../../src/core/onnx/graphDelta.js';
import { instrument } from '../../src/core/instrument.js';
import { mulberry32 } from '../../tools/mulberry32.js';

const V = 11;
const I = 5;
const H = 6;
const B = 3;
const T = 7;

/** Deterministic pseudo-random numbers in [-1, 1). */
function rng(seed: number): () => number {
  const r = mulberry32(seed);
  return () => r() * 2 - 1;
}

interface Spec { op: 'LSTM' | 'GRU'; opset: number; direction: 'forward' | 'reverse' | 'bidirectional'; lens: boolean; viaMul: boolean }

/** ids [B,T] → Gather(E) → Transpose → Unsqueeze(0) → Squeeze(0) → (Mul by 1) → X [T,B,I] → LSTM/GRU. */
function buildModel(s: Spec): Uint8Array {
  const rand = rng(7);
  const G = s.op === 'LSTM' ? 4 : 3;
  const D = s.direction === 'bidirectional' ? 2 : 1;
  const f = (n: number): Float32Array => Float32Array.from({ length: n }, () => rand() * 0.8);
  const axes = (name: string, a: number[]): { inputs: string[]; attrs: Record<string, number[]> } =>
    (s.opset >= 13 ? { inputs: [name], attrs: {} } : { inputs: [], attrs: { axes: a } });
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [
    floatTensor('E', f(V * I), [V, I]), floatTensor('W', f(D * G * H * I), [D, G * H, I]),
    floatTensor('R', f(D * G * H * H), [D, G * H, H]), floatTensor('Bias', f(D * 2 * G * H), [D, 2 * G * H]),
    floatTensor('h0', f(D * B * H), [D, B, H]), int64Tensor('axis0', [0]), floatTensor('one', [1], []),
  ];
  nodes.push(makeNode('Gather', ['E', 'ids'], ['emb'], 'gather'));
  nodes.push(makeNode('Transpose', ['emb'], ['tb'], 'transpose', { perm: [1, 0, 2] }));
  const un = axes('axis0', [0]);
  nodes.push(makeNode('Unsqueeze', ['tb', ...un.inputs], ['tb1'], 'unsqueeze', un.attrs));
  nodes.push(makeNode('Squeeze', ['tb1', ...un.inputs], ['x0'], 'squeeze', un.attrs));
  if (s.viaMul) nodes.push(makeNode('Mul', ['x0', 'one'], ['x'], 'mul'));
  const x = s.viaMul ? 'x' : 'x0';
  const outputs = s.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const inputs = [x, 'W', 'R', 'Bias', s.lens ? 'lens' : '', 'h0'];
  if (s.op === 'LSTM') {
    inits.push(floatTensor('c0', f(D * B * H), [D, B, H]));
    inputs.push('c0');
  }
  nodes.push(makeNode(s.op, inputs, outputs, 'rnn', {
    hidden_size: H, direction: s.direction, ...(s.op === 'GRU' ? { linear_before_reset: 1 } : {}),
  }));
  const vi = (name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: s.opset }],
    graph: {
      name: 'g', node: nodes, initializer: inits,
      input: [vi('ids', onnx.TensorProto.DataType.INT64, ['batch', 'seq']), ...(s.lens ? [vi('lens', onnx.TensorProto.DataType.INT32, ['batch'])] : [])],
      output: outputs.map((name) => ({ name })),
    },
  }).finish();
}

async function runAll(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

const specs: Spec[] = [
  { op: 'LSTM', opset: 14, direction: 'bidirectional', lens: true, viaMul: false },
  { op: 'LSTM', opset: 11, direction: 'reverse', lens: false, viaMul: false },
  { op: 'GRU', opset: 14, direction: 'bidirectional', lens: true, viaMul: false },
  { op: 'GRU', opset: 11, direction: 'forward', lens: false, viaMul: false },
];

for (const spec of specs) {
  test(`embedding table and Gemm give the same gates: ${spec.op} ${spec.direction}${spec.lens ? ' with sequence_lens' : ''}, opset ${spec.opset}`, async () => {
    const tableModel = buildModel(spec);
    const gemmModel = buildModel({ ...spec, viaMul: true });
    const a = instrument(tableModel, decodeModel(tableModel));
    const b = instrument(gemmModel, decodeModel(gemmModel));
    // Row gathers of a table: a Gather whose data is an added MatMul (E·Wᵀ) or Add (+ bias).
    const addedGathers = (bytes: Uint8Array): number =>
      decodeModel(bytes).graph?.node.filter((n) => n.opType === 'Gather' && /^seqlens\/.*\/(MatMul|Add)_\d+$/.test(n.input[0])).length ?? 0;
    const perDirection = spec.op === 'LSTM' ? 4 : 3;
    assert.equal(addedGathers(a.bytes), perDirection * (spec.direction === 'bidirectional' ? 2 : 1), 'the lookup reads a table per gate and direction');
    assert.equal(addedGathers(b.bytes), 0, 'behind the Mul the gates multiply X·Wᵀ');
    assert.deepEqual(a.plan.probes.map((p) => p.name), b.plan.probes.map((p) => p.name));

    const rand = rng(3);
    const feeds: Record<string, ort.Tensor> = {
      ids: new ort.Tensor('int64', BigInt64Array.from({ length: B * T }, () => BigInt(Math.floor((rand() + 1) / 2 * V))), [B, T]),
    };
    const lens = [T, T - 2, 1];
    if (spec.lens) feeds.lens = new ort.Tensor('int32', Int32Array.from(lens), [B]);
    const plain = await runAll(tableModel, feeds);
    const ta = await runAll(a.bytes, feeds);
    const tb = await runAll(b.bytes, feeds);
    for (const name of Object.keys(plain)) assert.deepEqual(ta[name], plain[name], `${name} unchanged`);
    let maxDiff = 0;
    for (const p of a.plan.probes) {
      assert.equal(ta[p.name].length, tb[p.name].length, p.name);
      for (let k = 0; k < ta[p.name].length; k++) maxDiff = Math.max(maxDiff, Math.abs(ta[p.name][k] - tb[p.name][k]) / Math.max(1, Math.abs(tb[p.name][k])));
    }
    assert.ok(maxDiff <= 1e-6, `table vs Gemm: max relative difference ${maxDiff}`);

    if (spec.op === 'LSTM') {
      const get = (kind: string, gate?: string): Float32Array => {
        const p = a.plan.probes.find((q) => q.kind === kind && (gate === undefined || q.gate === gate));
        assert.ok(p, `${kind} ${gate ?? ''}`);
        return ta[p.name];
      };
      const [y, o, c] = [get('hidden'), get('gate', 'output'), get('cell')];
      const D = spec.direction === 'bidirectional' ? 2 : 1;
      for (let t = 0; t < T; t++) {
        for (let d = 0; d < D; d++) {
          for (let bi = 0; bi < B; bi++) {
            if (spec.lens && t >= lens[bi]) continue;
            for (let u = 0; u < H; u++) {
              const k = ((t * D + d) * B + bi) * H + u;
              assert.ok(Math.abs(o[k] * Math.tanh(c[k]) - y[k]) <= 1e-5, `h = o⊙tanh(c) at t${t} d${d} b${bi} u${u}`);
            }
          }
        }
      }
    }
  });
}
