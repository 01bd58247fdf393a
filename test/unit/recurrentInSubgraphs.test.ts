/**
 * Recurrent ops inside control flow. An If whose condition is known before the run (lstm_in_if.onnx:
 * Not(false)) has its taken branch lifted out: both LSTMs get hidden-state, gate and cell probes,
 * counted as 2 layers (each branch holds 2; 4 would count both). Where the condition depends on the
 * tokens, or the op sits in a Loop/Scan body, the plan says why in one sentence and still counts
 * what runs. The trace is compared with onnxruntime-node at 1e-4: hidden states with the same LSTMs
 * at top level (lstmInIf({ flat: true }), plain run), gates and cells with the LSTM equations
 * evaluated here from the weights. Fixture: tools/fixtures/buildSubgraphFixtures.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { floatTensor, makeNode } from '../../src/core/onnx/graphDelta.js';
import { tensorToFloat32 } from '../../src/core/onnx/tensorData.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { detectArchitecture } from '../../src/core/architecture.js';
import { inspectModel } from '../../src/core/inspect.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { getBackend } from '../../src/node/backends.js';
import type { GateName } from '../../src/core/types.js';
import { LSTM_IN_IF, lstmInIf } from '../../tools/fixtures/lstmInIf.js';
import { readFixture, run, ort, maxAbsDiff } from './fixturesHelpers.js';

const TEXT = 'LED A=(B+C)*2;';
const H = LSTM_IN_IF.hidden;


test('LSTM stack in an If with a known condition: the branch taken is lifted out, 2 layers with gates', () => {
  const bytes = readFixture('lstm_in_if.onnx');
  const model = decodeModel(bytes);
  const arch = detectArchitecture(model);
  assert.equal(arch.architecture, 'lstm');
  assert.equal(arch.layers, 2, 'two branches of two LSTMs: 2 layers, not 4');
  assert.equal(arch.hiddenSize, H);
  const { plan, delta } = planProbes(model);
  const kinds = (k: string): number => plan.probes.filter((p) => p.kind === k).length;
  assert.deepEqual([kinds('hidden'), kinds('gate'), kinds('cell'), kinds('logits')], [2, 8, 2, 1]);
  assert.deepEqual(plan.probes.filter((p) => p.kind === 'hidden').map((p) => p.name),
    ['seqlens/if/choose_stack/a/l0_Y', 'seqlens/if/choose_stack/a/l1_Y'], 'the then branch (condition Not(false))');
  assert.equal(plan.unavailable.length, 0);
  for (const name of delta.outputs) assert.ok(delta.nodes.some((n) => n.output?.includes(name)), `${name} is computed by an added node`);
  const inspected = inspectModel(bytes, 'lstm_in_if.onnx');
  assert.deepEqual(inspected.warnings, []);
  assert.equal(inspected.plan.logitLens?.hiddenSize, H);
});

test('condition computed from the tokens: counted once, and the plan says in one sentence why it cannot be read', () => {
  const model = decodeModel(lstmInIf({ condition: 'tokens' }));
  const arch = detectArchitecture(model);
  assert.equal(arch.architecture, 'lstm');
  assert.equal(arch.layers, 2);
  assert.equal(arch.hiddenSize, H);
  assert.ok(arch.evidence.includes('2 LSTM op(s) inside If choose_stack'), arch.evidence.join('\n'));
  const { plan } = planProbes(model);
  assert.equal(plan.probes.filter((p) => p.kind !== 'logits').length, 0);
  assert.equal(plan.unavailable.length, 1);
  const u = plan.unavailable[0];
  assert.equal(u.what, '2 LSTM op(s) inside If choose_stack');
  assert.match(u.reason, /condition is computed at run time from input_ids, so which branch runs is not known before the run/);
  assert.ok(!/\.\s+\S/.test(u.reason), 'one sentence');
});

/** ids -> embedding [seq, 1, 4] -> a Loop or Scan whose body holds a GRU -> output; nothing at top level to probe. */
function gruInBody(op: 'Loop' | 'Scan'): Uint8Array {
  const T = onnx.TensorProto.DataType;
  const vi = (name: string, dims: (number | string)[]): onnx.IValueInfoProto =>
    ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
  const gru = makeNode('GRU', [op === 'Loop' ? 'state_in' : 'x_t', 'W', 'R'], ['Y', 'Yh'], 'body_gru', { hidden_size: 4 });
  const body: onnx.IGraphProto = op === 'Loop'
    ? {
      name: 'body', node: [gru, makeNode('Identity', ['cond_in'], ['cond_out'], 'go_on'), makeNode('Squeeze', ['Y', 'one'], ['state_out'], 'sq')],
      input: [{ name: 'i', type: { tensorType: { elemType: T.INT64, shape: { dim: [] } } } }, { name: 'cond_in', type: { tensorType: { elemType: T.BOOL, shape: { dim: [] } } } }, vi('state_in', ['s', 1, 4])],
      output: [{ name: 'cond_out', type: { tensorType: { elemType: T.BOOL, shape: { dim: [] } } } }, vi('state_out', ['s', 1, 4])],
    }
    : {
      name: 'body', node: [makeNode('Unsqueeze', ['x_row', 'zero'], ['x_t'], 'unsq'), gru, makeNode('Identity', ['Yh'], ['y_t'], 'out')],
      input: [vi('x_row', [1, 4])], output: [vi('y_t', [1, 1, 4])],
    };
  const W = floatTensor('W', new Float32Array(12 * 4).fill(0.1), [1, 12, 4]);
  const R = floatTensor('R', new Float32Array(12 * 4).fill(0.1), [1, 12, 4]);
  const bytes = onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [
        makeNode('Gather', ['emb', 'input_ids'], ['x'], 'embed'),
        makeNode('Transpose', ['x'], ['x_sf'], 'seq_first', { perm: [1, 0, 2] }),
        op === 'Loop'
          ? makeNode('Loop', ['trips', 'go', 'x_sf'], ['out'], 'repeat', { body })
          : makeNode('Scan', ['x_sf'], ['out'], 'steps', { body, num_scan_inputs: 1 }),
      ],
      initializer: [floatTensor('emb', new Float32Array(10 * 4).fill(0.5), [10, 4]), W, R,
        { name: 'trips', dims: [], dataType: T.INT64, int64Data: [2] }, { name: 'go', dims: [], dataType: T.BOOL, int32Data: [1] },
        { name: 'one', dims: [1], dataType: T.INT64, int64Data: [1] }, { name: 'zero', dims: [1], dataType: T.INT64, int64Data: [0] }],
      input: [{ name: 'input_ids', type: { tensorType: { elemType: T.INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'seq' }] } } } }],
      output: [{ name: 'out' }],
    },
  }).finish();
  return bytes;
}

test('GRU inside a Loop or Scan body: 1 layer, and the inspector names it and why, not "nothing found"', async () => {
  for (const op of ['Loop', 'Scan'] as const) {
    const bytes = gruInBody(op);
    const model = decodeModel(bytes);
    const arch = detectArchitecture(model);
    assert.equal(arch.architecture, 'gru', op);
    assert.equal(arch.layers, 1, op);
    const { plan } = planProbes(model);
    assert.equal(plan.probes.length, 0);
    assert.match(plan.unavailable[0].what, new RegExp(`^1 GRU op\\(s\\) inside ${op} `));
    const warnings = inspectModel(bytes, 'gru.onnx').warnings;
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`^No probe can be read: 1 GRU op\\(s\\) inside ${op} \\S+ cannot be exposed because tensors computed inside a ${op} body`));
    assert.ok(!warnings[0].includes('No attention, hidden-state or recurrent structure was found'));
  }
  // The Loop model runs as built (the body is valid ONNX), so the counts describe a real graph.
  const out = await run(gruInBody('Loop'), { input_ids: new ort.Tensor('int64', BigInt64Array.from([1n, 2n, 3n]), [1, 3]) });
  assert.deepEqual(out.out.dims.map(Number), [3, 1, 4]);
});

/** ONNX LSTM (gate order i, o, f, c; sigmoid/tanh/tanh) evaluated in float64 from the weights; batch 1. */
function lstmByHand(x: Float32Array, T: number, inW: number, W: Float32Array, R: Float32Array, B: Float32Array):
  { gates: Record<GateName, Float64Array>; cell: Float64Array; y: Float64Array } {
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  const names: GateName[] = ['input', 'output', 'forget', 'cell-candidate'];
  const gates = Object.fromEntries(names.map((g) => [g, new Float64Array(T * H)])) as Record<GateName, Float64Array>;
  const cell = new Float64Array(T * H);
  const y = new Float64Array(T * H);
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    const pre = new Float64Array(4 * H);
    for (let r = 0; r < 4 * H; r++) {
      let s = B[r] + B[4 * H + r];
      for (let j = 0; j < inW; j++) s += W[r * inW + j] * x[t * inW + j];
      for (let j = 0; j < H; j++) s += R[r * H + j] * h[j];
      pre[r] = s;
    }
    for (let u = 0; u < H; u++) {
      const i = sig(pre[u]);
      const o = sig(pre[H + u]);
      const f = sig(pre[2 * H + u]);
      const g = Math.tanh(pre[3 * H + u]);
      c[u] = f * c[u] + i * g;
      h[u] = o * Math.tanh(c[u]);
      gates.input[t * H + u] = i;
      gates.output[t * H + u] = o;
      gates.forget[t * H + u] = f;
      gates['cell-candidate'][t * H + u] = g;
      cell[t * H + u] = c[u];
      y[t * H + u] = h[u];
    }
  }
  return { gates, cell, y };
}

test('trace of the LSTMs in the If: hidden states equal the same LSTMs at top level, gates and cells the LSTM equations', async () => {
  const vocab = Array.from({ length: LSTM_IN_IF.vocab }, (_, i) => String.fromCharCode(32 + i));
  const files = async (rel: string): Promise<Uint8Array> =>
    (rel === 'vocab.json' ? new TextEncoder().encode(JSON.stringify(vocab)) : readFixture(rel));
  const trace = await traceModel({
    backend: await getBackend('native'), files, modelBytes: readFixture('lstm_in_if.onnx'), modelName: 'lstm_in_if.onnx', text: TEXT,
    tokenizer: { type: 'char', vocab: 'vocab.json' },
  });
  assert.equal(trace.architecture, 'lstm');
  assert.deepEqual(trace.warnings, []);
  const T = trace.tokens.length;
  const ids = trace.tokens.map((t) => t.id);

  // Reference 1: the equivalent model without the If, its LSTM outputs made graph outputs.
  const flat = onnx.ModelProto.decode(lstmInIf({ flat: true }));
  flat.graph?.output?.push(onnx.ValueInfoProto.create({ name: 'a/l0_Y' }), onnx.ValueInfoProto.create({ name: 'a/l1_Y' }));
  const ref = await run(onnx.ModelProto.encode(flat).finish(), { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]) });
  let worst = maxAbsDiff(trace.logits?.data ?? [], ref.logits.data as Float32Array);

  // Reference 2: the LSTM equations over the then-branch weights (read from the fixture's branch).
  const model = decodeModel(readFixture('lstm_in_if.onnx'));
  const ifNode = model.graph?.node.find((n) => n.opType === 'If');
  const branch = ifNode?.attribute.find((a) => a.name === 'then_branch')?.g;
  assert.ok(branch);
  const weight = (name: string): Float32Array => {
    const t = branch.initializer.find((i) => i.name === name) ?? model.graph?.initializer.find((i) => i.name === name);
    assert.ok(t, name);
    return tensorToFloat32(t);
  };
  const emb = weight('emb');
  const E = LSTM_IN_IF.embed;
  let x = Float32Array.from(ids.flatMap((id) => Array.from(emb.subarray(id * E, id * E + E))));
  let inW: number = E;
  for (let l = 0; l < 2; l++) {
    const hand = lstmByHand(x, T, inW, weight(`a/l${l}_W`), weight(`a/l${l}_R`), weight(`a/l${l}_B`));
    const got = (kind: string, gate?: GateName): Float32Array => {
      const p = trace.probes.find((q) => q.probe.kind === kind && q.probe.layer === l && q.probe.gate === gate);
      assert.ok(p, `${kind} ${gate ?? ''} layer ${l}`);
      assert.deepEqual(p.tensor.dims, [T, 1, 1, H]);
      return p.tensor.data;
    };
    const y = got('hidden');
    worst = Math.max(worst, maxAbsDiff(y, ref[`a/l${l}_Y`].data as Float32Array), maxAbsDiff(y, hand.y));
    for (const g of ['input', 'output', 'forget', 'cell-candidate'] as GateName[]) worst = Math.max(worst, maxAbsDiff(got('gate', g), hand.gates[g]));
    worst = Math.max(worst, maxAbsDiff(got('cell'), hand.cell));
    x = Float32Array.from(ref[`a/l${l}_Y`].data as Float32Array);
    inW = H;
  }
  assert.ok(worst < 1e-4, `max |diff| ${worst}`);
  console.log(`# lstm_in_if: ${trace.probes.length} probes, max |diff| vs references ${worst}`);
});
