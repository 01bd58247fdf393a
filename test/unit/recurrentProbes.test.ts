/**
 * Recurrent probes, checked by running the instrumented models with onnxruntime-node:
 *  1. the model's own outputs are bit-for-bit those of the uninstrumented model;
 *  2. the exposed gates and cell reproduce what the op itself computed (ORT's LSTM/GRU kernels are
 *     the reference): LSTM h_t = o_t⊙tanh(c_t) and c at the last processed step = Y_c; GRU
 *     h_t = (1−z_t)⊙h̃_t + z_t⊙h_{t−1}; within 1e-5 (relative to max(1, |value|), which only matters for c);
 *  3. sigmoid gates lie in [0, 1] and candidates in [−1, 1]; padded steps are zero.
 * Fixtures: tools/fixtures/make_recurrent_fixtures.py (PyTorch exports and onnx.helper graphs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeModel, type ModelProto, type NodeProto } from '../../src/core/onnx/decode.js';
import { indexGraph, type GraphIndex } from '../../src/core/onnx/graphIndex.js';
import { applyDelta, makeNode } from '../../src/core/onnx/graphDelta.js';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { attrInt, attrString } from '../../src/core/onnx/attributes.js';
import { recurrentProbes, type RecurrentProbeOptions } from '../../src/core/probes/recurrentProbes.js';
import type { ProbeContribution } from '../../src/core/probes/contribution.js';
import type { Probe } from '../../src/core/types.js';
import { mulberry32 } from '../../tools/mulberry32.js';

const FIXTURES = 'test/fixtures/recurrent';
const TOL = 1e-5;
/** One float32 ulp at 1. */
const ULP = 2 ** -23;
const STEPS = 6;
const BATCH = 3;

/** Deterministic pseudo-random numbers in [0, 1), so failures reproduce. */
const rng = mulberry32;

/** Feeds for every graph input: batch-like dims → BATCH, other symbolic dims → STEPS; lengths vary per row. */
function makeFeeds(model: ModelProto, steps = STEPS, seed = 1): Record<string, ort.Tensor> {
  const rand = rng(seed);
  const graph = model.graph;
  assert.ok(graph);
  const inits = new Set(graph.initializer.map((t) => t.name));
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of graph.input) {
    if (inits.has(v.name)) continue;
    const tt = v.type?.tensorType;
    assert.ok(tt, `input ${v.name} is a tensor`);
    const dims = (tt.shape?.dim ?? []).map((d) => {
      if (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0) return Number(d.dimValue);
      return /batch/i.test(d.dimParam ?? '') ? BATCH : steps;
    });
    const size = dims.reduce((a, d) => a * d, 1);
    if (tt.elemType === 1) {
      feeds[v.name] = new ort.Tensor('float32', Float32Array.from({ length: size }, () => rand() * 2 - 1), dims);
    } else if (tt.elemType === 6) {
      // sequence_lens: full length for the first row, shorter for the others.
      feeds[v.name] = new ort.Tensor('int32', Int32Array.from({ length: size }, (_, i) => Math.max(1, steps - 2 * i)), dims);
    } else if (tt.elemType === 7) {
      feeds[v.name] = new ort.Tensor('int64', BigInt64Array.from({ length: size }, () => BigInt(Math.floor(rand() * 20))), dims);
    } else {
      assert.fail(`input ${v.name} has element type ${tt.elemType}`);
    }
  }
  return feeds;
}

interface Instrumented {
  bytes: Uint8Array;
  model: ModelProto;
  index: GraphIndex;
  contribution: ProbeContribution;
  plainOutputs: string[];
}

function instrument(bytes: Uint8Array, extraOutputs: (index: GraphIndex) => string[] = () => [], opts: RecurrentProbeOptions = {}): Instrumented {
  const model = decodeModel(bytes);
  assert.ok(model.graph);
  const index = indexGraph(model.graph);
  const contribution = recurrentProbes(index, model, opts);
  const delta = { ...contribution.delta, outputs: [...contribution.delta.outputs, ...extraOutputs(index)] };
  const plainOutputs = model.graph.output.map((o) => o.name);
  const out = applyDelta(bytes, delta, plainOutputs, model.opsetImport.map((o) => o.domain));
  return { bytes: out, model, index, contribution, plainOutputs };
}

type Outputs = Record<string, { data: Float32Array; dims: number[] }>;

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Outputs> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const res = await session.run(feeds);
    const out: Outputs = {};
    for (const [k, v] of Object.entries(res)) {
      assert.ok(v.data instanceof Float32Array, `${k} is float32`);
      out[k] = { data: v.data, dims: v.dims.map(Number) };
    }
    return out;
  } finally {
    await session.release();
  }
}

/** Every graph input of the recurrent nodes we need beside the probes: Y_h, Y_c, initial states, lengths. */
function stateTensors(index: GraphIndex): string[] {
  const names: string[] = [];
  for (const n of index.topoOrder) {
    if (!['LSTM', 'GRU', 'RNN'].includes(n.opType)) continue;
    for (const o of n.output.slice(1)) if (o) names.push(o);
    for (const k of [5, 6]) { const i = n.input[k]; if (i && !index.inputs.has(i)) names.push(i); }
  }
  return names;
}

/** Reads [T, D, B, H] element (t, d, b, u) from a tensor laid out per `axes`. */
function at(t: { data: Float32Array; dims: number[] }, axes: string[], pos: Record<string, number>): number {
  let off = 0;
  for (let k = 0; k < axes.length; k++) off = off * t.dims[k] + (pos[axes[k]] ?? 0);
  return t.data[off];
}

interface CheckStats { checked: number; maxErr: number }

/** The identity checks for one native LSTM/GRU node against the op's own Y, Y_h and Y_c. */
function checkNative(
  node: NodeProto, layer: number, probes: Probe[], out: Outputs, feeds: Record<string, ort.Tensor>, stats: CheckStats,
): void {
  const mine = probes.filter((p) => p.layer === layer);
  const hiddenProbe = mine.find((p) => p.kind === 'hidden');
  assert.ok(hiddenProbe, `hidden probe for layer ${layer}`);
  const y = out[hiddenProbe.name];
  assert.ok(y, `output ${hiddenProbe.name}`);
  const layout = attrInt(node, 'layout', 0);
  const direction = attrString(node, 'direction') ?? 'forward';
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const [T, D, B, H] = layout === 1 ? [y.dims[1], y.dims[2], y.dims[0], y.dims[3]] : y.dims;
  assert.equal(D, dirs);
  assert.equal(H, attrInt(node, 'hidden_size'));
  const yAt = (t: number, d: number, b: number, u: number): number => at(y, hiddenProbe.axes, { seq: t, direction: d, batch: b, unit: u });
  const lensName = node.input[4];
  const lens = lensName ? Array.from(feeds[lensName].data as Int32Array) : Array<number>(B).fill(T);
  const stateAt = (name: string | undefined, d: number, b: number, u: number): number => {
    if (!name) return 0;
    const s = out[name] ?? { data: feeds[name].data as Float32Array, dims: feeds[name].dims.map(Number) };
    return at(s, layout === 1 ? ['batch', 'direction', 'unit'] : ['direction', 'batch', 'unit'], { direction: d, batch: b, unit: u });
  };
  const gate = (g: string): { data: Float32Array; dims: number[] } => {
    const p = mine.find((q) => q.kind === 'gate' && q.gate === g);
    assert.ok(p, `gate ${g} of layer ${layer}`);
    assert.deepEqual(p.axes, ['seq', 'direction', 'batch', 'unit']);
    const t = out[p.name];
    assert.deepEqual(t.dims, [T, D, B, H], `shape of gate ${g}`);
    return t;
  };
  const g4 = (t: { data: Float32Array }, ti: number, d: number, b: number, u: number): number => t.data[((ti * D + d) * B + b) * H + u];
  // Gates and h are bounded by 1: 1e-5 absolute. Cell states of trained LSTMs reach |c| ≈ 75 on
  // 1k characters, where one float32 ulp is already 7.6e-6, so for them 1e-5 is relative to max(1, |c|).
  const close = (a: number, e: number, what: string): void => {
    const err = Math.abs(a - e) / Math.max(1, Math.abs(e));
    stats.maxErr = Math.max(stats.maxErr, err);
    stats.checked++;
    if (!(err <= TOL)) assert.fail(`${what}: ${a} vs ${e} (|diff| ${err})`);
  };

  if (node.opType === 'LSTM') {
    const [i, o, f, c] = ['input', 'output', 'forget', 'cell-candidate'].map(gate);
    const cellProbe = mine.find((p) => p.kind === 'cell');
    assert.ok(cellProbe);
    const cell = out[cellProbe.name];
    const yc = node.output[2];
    for (let d = 0; d < D; d++) {
      const reverse = direction === 'reverse' || d === 1;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          for (let u = 0; u < H; u++) {
            if (t >= lens[b]) {
              for (const g of [i, o, f, c, cell]) assert.ok(g4(g, t, d, b, u) === 0, 'padded step is zero');
              continue;
            }
            // onnxruntime's vectorised tanh/sigmoid may overshoot ±1 by one float32 ulp (1.0000001 seen).
            for (const g of [i, o, f]) { const v = g4(g, t, d, b, u); assert.ok(v >= 0 && v <= 1 + ULP, `sigmoid gate ${v}`); }
            const cand = g4(c, t, d, b, u);
            assert.ok(Math.abs(cand) <= 1 + ULP, `candidate ${cand}`);
            close(g4(o, t, d, b, u) * Math.tanh(g4(cell, t, d, b, u)), yAt(t, d, b, u), `LSTM h (t${t} d${d} b${b} u${u})`);
            // The cell update from the exposed gates: c_t = f_t⊙c_{t-1} + i_t⊙c̃_t.
            const prevT = reverse ? t + 1 : t - 1;
            const cPrev = prevT < 0 || prevT >= lens[b] ? stateAt(node.input[6], d, b, u) : g4(cell, prevT, d, b, u);
            close(g4(f, t, d, b, u) * cPrev + g4(i, t, d, b, u) * cand, g4(cell, t, d, b, u), `LSTM c (t${t} d${d} b${b} u${u})`);
          }
        }
        if (yc && out[yc]) {
          const last = reverse ? 0 : lens[b] - 1;
          for (let u = 0; u < H; u++) close(g4(cell, last, d, b, u), stateAt(yc, d, b, u), `LSTM Y_c (d${d} b${b} u${u})`);
        }
      }
    }
  } else {
    const [z, r, hh] = ['update', 'reset', 'hidden-candidate'].map(gate);
    const h0 = node.input[5];
    for (let d = 0; d < D; d++) {
      const reverse = direction === 'reverse' || d === 1;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < lens[b]; t++) {
          for (let u = 0; u < H; u++) {
            const zv = g4(z, t, d, b, u);
            const rv = g4(r, t, d, b, u);
            assert.ok(zv >= 0 && zv <= 1 + ULP && rv >= 0 && rv <= 1 + ULP, 'sigmoid gates');
            const prevT = reverse ? t + 1 : t - 1;
            const hPrev = prevT < 0 || prevT >= lens[b] ? stateAt(h0, d, b, u) : yAt(prevT, d, b, u);
            close((1 - zv) * g4(hh, t, d, b, u) + zv * hPrev, yAt(t, d, b, u), `GRU h (t${t} d${d} b${b} u${u})`);
          }
        }
        for (let t = lens[b]; t < T; t++) for (let u = 0; u < H; u++) assert.ok(g4(z, t, d, b, u) === 0, 'padded step is zero');
      }
    }
  }
}

/** The exposed hidden state (Y, or the duplicate's Y) at each row's last processed step is the op's own Y_h, exactly. */
function checkHiddenEndsAtYh(node: NodeProto, layer: number, probes: Probe[], out: Outputs, feeds: Record<string, ort.Tensor>): void {
  const hidden = probes.find((p) => p.layer === layer && p.kind === 'hidden');
  assert.ok(hidden);
  const y = out[hidden.name];
  const yh = node.output[1] ? out[node.output[1]] : undefined;
  if (!yh) return;
  const layout = attrInt(node, 'layout', 0);
  const direction = attrString(node, 'direction') ?? 'forward';
  const [T, D, B, H] = layout === 1 ? [y.dims[1], y.dims[2], y.dims[0], y.dims[3]] : y.dims;
  const lens = node.input[4] ? Array.from(feeds[node.input[4]].data as Int32Array) : Array<number>(B).fill(T);
  for (let d = 0; d < D; d++) {
    const reverse = direction === 'reverse' || d === 1;
    for (let b = 0; b < B; b++) {
      for (let u = 0; u < H; u++) {
        const last = at(y, hidden.axes, { seq: reverse ? 0 : lens[b] - 1, direction: d, batch: b, unit: u });
        const want = at(yh, layout === 1 ? ['batch', 'direction', 'unit'] : ['direction', 'batch', 'unit'], { direction: d, batch: b, unit: u });
        assert.equal(last, want, `Y_h of layer ${layer}`);
      }
    }
  }
}

function nativeNodes(index: GraphIndex): NodeProto[] {
  return index.topoOrder.filter((n) => ['LSTM', 'GRU', 'RNN'].includes(n.opType));
}

/** Runs plain and instrumented, checks outputs are unchanged and every native node's identities. */
async function verifyModel(
  path: string, steps = STEPS, givenFeeds?: Record<string, ort.Tensor>, opts: RecurrentProbeOptions = {},
): Promise<{ inst: Instrumented; stats: CheckStats }> {
  const bytes = new Uint8Array(readFileSync(path));
  const inst = instrument(bytes, stateTensors, opts);
  const feeds = givenFeeds ?? makeFeeds(inst.model, steps);
  const plain = await run(bytes, feeds);
  const probed = await run(inst.bytes, feeds);
  for (const name of inst.plainOutputs) {
    assert.deepEqual(probed[name].dims, plain[name].dims, `${name} shape unchanged`);
    assert.ok(Buffer.from(probed[name].data.buffer, probed[name].data.byteOffset, probed[name].data.byteLength)
      .equals(Buffer.from(plain[name].data.buffer, plain[name].data.byteOffset, plain[name].data.byteLength)),
    `${name} is bit-for-bit unchanged`);
  }
  const stats: CheckStats = { checked: 0, maxErr: 0 };
  const nodes = nativeNodes(inst.index);
  nodes.forEach((node, layer) => {
    checkHiddenEndsAtYh(node, layer, inst.contribution.probes, probed, feeds);
    if (node.opType === 'RNN') return;
    if (inst.contribution.probes.some((p) => p.layer === layer && p.kind === 'gate')) {
      checkNative(node, layer, inst.contribution.probes, probed, feeds, stats);
    }
  });
  return { inst, stats };
}

const fixtureFiles = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx')).sort() : [];

test('fixtures exist', () => {
  assert.ok(fixtureFiles.length >= 15, `fixtures in ${FIXTURES}; run /usr/bin/python3 tools/fixtures/make_recurrent_fixtures.py`);
});

for (const file of fixtureFiles.filter((f) => !f.includes('unrolled') && !f.includes('peephole_clip') && !f.startsWith('layout1'))) {
  test(`native recurrent op probes reproduce the op: ${file}`, async (t) => {
    const { inst, stats } = await verifyModel(join(FIXTURES, file));
    t.diagnostic(`${stats.checked} values checked, max |diff| ${stats.maxErr.toExponential(2)}`);
    const nodes = nativeNodes(inst.index);
    assert.ok(nodes.length > 0);
    const probes = inst.contribution.probes;
    assert.deepEqual(inst.contribution.unavailable, []);
    for (let layer = 0; layer < nodes.length; layer++) {
      const kinds = probes.filter((p) => p.layer === layer).map((p) => p.kind).sort();
      const expected = { RNN: ['hidden'], GRU: ['gate', 'gate', 'gate', 'hidden'], LSTM: ['cell', 'gate', 'gate', 'gate', 'gate', 'hidden'] };
      assert.deepEqual(kinds, expected[nodes[layer].opType as 'RNN' | 'GRU' | 'LSTM'], `probe kinds of layer ${layer}`);
      for (const p of probes) assert.equal(p.source.op, nodes[p.layer].opType);
    }
    if (nodes.some((n) => n.opType !== 'RNN')) assert.ok(stats.checked > 0, 'identities were checked');
    assert.ok(stats.maxErr <= TOL);
  });
}

// onnxruntime-web's WebGPU LSTM lacks the Affine activation: the cell can be read as relu(c) − relu(−c).
for (const file of fixtureFiles.filter((f) => /lstm/i.test(f) && !f.includes('unrolled') && !f.includes('peephole') && !f.startsWith('layout1'))) {
  test(`relu-pair cell read-out reproduces the op as well: ${file}`, async (t) => {
    const { inst, stats } = await verifyModel(join(FIXTURES, file), STEPS, undefined, { cellVia: 'relu-pair' });
    t.diagnostic(`${stats.checked} values checked, max |diff| ${stats.maxErr.toExponential(2)}`);
    const aux = inst.contribution.delta.nodes.filter((n) => n.opType === 'LSTM' && (n.name ?? '').includes('cells'));
    assert.ok(aux.length > 0, 'an auxiliary cell LSTM was added');
    for (const n of aux) {
      const acts = (n.attribute ?? []).find((a) => a.name === 'activations')?.strings?.map((b) => new TextDecoder().decode(b as Uint8Array));
      assert.equal(acts?.[2], 'Relu', 'the read-out activation is Relu, not Affine');
    }
    assert.ok(stats.checked > 0 && stats.maxErr <= TOL);
  });
}

test('the layer order follows the graph: 2 stacked layers give layers 0 and 1 with their own weights', () => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'lstm_2layer_bidir_bf_op13.onnx')));
  const inst = instrument(bytes);
  const hidden = inst.contribution.probes.filter((p) => p.kind === 'hidden');
  assert.deepEqual(hidden.map((p) => p.layer), [0, 1]);
  const lstms = nativeNodes(inst.index);
  assert.deepEqual(hidden.map((p) => p.name), lstms.map((n) => n.output[0]));
});

test('an empty Y output gets a duplicate node whose Y is exposed, the original node is untouched', () => {
  for (const file of ['lstm_reverse_clip_noY_op13.onnx', 'gru_noY_op13.onnx', 'rnn_noY_op13.onnx']) {
    const inst = instrument(new Uint8Array(readFileSync(join(FIXTURES, file))));
    const hidden = inst.contribution.probes.find((p) => p.kind === 'hidden');
    assert.ok(hidden?.name.startsWith('seqlens/'), file);
    const dup = inst.contribution.delta.nodes.filter((n) => n.opType === nativeNodes(inst.index)[0].opType && n.name?.endsWith('/duplicate'));
    assert.equal(dup.length, 1, file);
    assert.deepEqual(dup[0].input, nativeNodes(inst.index)[0].input);
  }
});

test('gates: false exposes the hidden states only, with no added computation', () => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'lstm_2layer_bidir_bf_op17.onnx')));
  const model = decodeModel(bytes);
  assert.ok(model.graph);
  const c = recurrentProbes(indexGraph(model.graph), model, { gates: false });
  assert.deepEqual(c.probes.map((p) => [p.kind, p.layer]), [['hidden', 0], ['hidden', 1]]);
  assert.deepEqual(c.delta.nodes, []);
});

test('peephole LSTM with clip: hidden state exposed, gates listed as unavailable with the reason', async () => {
  const path = join(FIXTURES, 'lstm_peephole_clip_op13.onnx');
  const { inst } = await verifyModel(path);
  assert.deepEqual(inst.contribution.probes.map((p) => p.kind), ['hidden']);
  assert.equal(inst.contribution.unavailable.length, 1);
  assert.match(inst.contribution.unavailable[0].reason, /peephole/);
});

for (const [file, steps] of [['lstm_unrolled_op13.onnx', 7], ['lstm_unrolled_sliced_op17.onnx', 5]] as const) {
  test(`decomposed (unrolled) LSTM: gates, cell and hidden stacked per step, in time order: ${file}`, async () => {
    const path = join(FIXTURES, file);
    const bytes = new Uint8Array(readFileSync(path));
    const inst = instrument(bytes);
    const feeds = makeFeeds(inst.model, steps);
    const plain = await run(bytes, feeds);
    const out = await run(inst.bytes, feeds);
    for (const name of inst.plainOutputs) assert.deepEqual(out[name].data, plain[name].data);
    const probes = inst.contribution.probes;
    assert.deepEqual(probes.map((p) => p.gate ?? p.kind),
      ['hidden', 'input', 'forget', 'output', 'cell-candidate', 'cell']);
    assert.ok(probes.every((p) => p.layer === 0));
    assert.deepEqual(inst.contribution.unavailable, []);
    const get = (k: string): { data: Float32Array; dims: number[] } => {
      const p = probes.find((q) => (q.gate ?? q.kind) === k);
      assert.ok(p);
      return out[p.name];
    };
    const [h, i, f, o, c] = ['hidden', 'input', 'forget', 'output', 'cell'].map(get);
    const [T, B, H] = h.dims;
    assert.deepEqual([T, B, H], [steps, BATCH, 6]);
    // The model's own output y is stack(h_t, dim=1) [B, T, H]: the stacked hidden must match it in order.
    const y = out.y;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        for (let u = 0; u < H; u++) {
          const k = (t * B + b) * H + u;
          assert.equal(h.data[k], y.data[(b * T + t) * H + u]);
          assert.ok(Math.abs(o.data[k] * Math.tanh(c.data[k]) - h.data[k]) <= TOL);
          for (const g of [i, f, o]) assert.ok(g.data[k] > 0 && g.data[k] < 1);
        }
      }
    }
    // The last step's cell is the model's c_last output.
    for (let k = 0; k < B * H; k++) assert.equal(c.data[(T - 1) * B * H + k], out.c_last.data[k]);
  });
}

test('decomposed GRU: its Sigmoid gates are reported as unavailable, not guessed', async () => {
  const path = join(FIXTURES, 'gru_unrolled_op13.onnx');
  const bytes = new Uint8Array(readFileSync(path));
  const inst = instrument(bytes);
  assert.deepEqual(inst.contribution.probes, []);
  assert.equal(inst.contribution.unavailable.length, 1);
  assert.match(inst.contribution.unavailable[0].what, /decomposed recurrent cell \(8 Sigmoid nodes\)/);
  assert.deepEqual(inst.bytes, bytes, 'nothing added');
});

test('layout=1: probes planned on the batch-first op check out against an equivalent layout-0 op', async () => {
  // onnxruntime's CPU LSTM refuses layout=1. So the plan is made on the real layout-1 graph, and its
  // delta is run on a stand-in graph where a layout-0 LSTM between Transposes produces the same
  // batch-first X/Y/Y_h/Y_c tensors under the same names.
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'layout1_lstm_bidir_seqlens_op14.onnx')));
  const model = decodeModel(bytes);
  assert.ok(model.graph);
  const index = indexGraph(model.graph);
  const contribution = recurrentProbes(index, model);
  const [node] = nativeNodes(index);
  assert.equal(attrInt(node, 'layout'), 1);
  assert.deepEqual(contribution.probes.find((p) => p.kind === 'hidden')?.axes, ['batch', 'seq', 'direction', 'unit']);
  assert.equal(contribution.probes.filter((p) => p.kind === 'gate').length, 4);
  const [x, w, r, b, lens, h0, c0] = node.input;
  const standIn = onnx.ModelProto.encode({
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    graph: {
      name: 'layout0-stand-in',
      node: [
        makeNode('Transpose', [x], ['x0'], 't_x', { perm: [1, 0, 2] }),
        makeNode('Transpose', [h0], ['h00'], 't_h0', { perm: [1, 0, 2] }),
        makeNode('Transpose', [c0], ['c00'], 't_c0', { perm: [1, 0, 2] }),
        makeNode('LSTM', ['x0', w, r, b, lens, 'h00', 'c00'], ['y0', 'yh0', 'yc0'], 'lstm0',
          { hidden_size: attrInt(node, 'hidden_size', 0), direction: 'bidirectional' }),
        makeNode('Transpose', ['y0'], [node.output[0]], 't_y', { perm: [2, 0, 1, 3] }),
        makeNode('Transpose', ['yh0'], [node.output[1]], 't_yh', { perm: [1, 0, 2] }),
        makeNode('Transpose', ['yc0'], [node.output[2]], 't_yc', { perm: [1, 0, 2] }),
      ],
      initializer: model.graph.initializer as onnx.ITensorProto[],
      input: model.graph.input as onnx.IValueInfoProto[],
      output: model.graph.output as onnx.IValueInfoProto[],
    },
  }).finish();
  const inst = applyDelta(standIn, contribution.delta, model.graph.output.map((o) => o.name), ['']);
  const feeds = makeFeeds(model);
  const out = await run(inst, feeds);
  const stats: CheckStats = { checked: 0, maxErr: 0 };
  checkNative(node, 0, contribution.probes, out, feeds, stats);
  assert.ok(stats.checked > 0);
});

// Every zoo file with a recurrent op (char LMs, seq2seq encoders and decoder steps), as they appear.
const ZOO_DIR = 'media/models';
const zooFiles = existsSync(ZOO_DIR)
  ? readdirSync(ZOO_DIR).flatMap((d) => (existsSync(join(ZOO_DIR, d)) && !d.includes('.')
    ? readdirSync(join(ZOO_DIR, d)).filter((f) => f.endsWith('.onnx')).map((f) => join(ZOO_DIR, d, f)) : []))
  : [];
const recurrentZoo = zooFiles.filter((f) => {
  const m = decodeModel(new Uint8Array(readFileSync(f)));
  return (m.graph?.node ?? []).some((n) => ['LSTM', 'GRU', 'RNN'].includes(n.opType));
});
test('the zoo has recurrent models to check', { skip: recurrentZoo.length === 0 && 'zoo not built yet' }, () => {
  assert.ok(recurrentZoo.length > 0);
});
test('zoo models without recurrence (Transformers) get no recurrent probes and no complaints', () => {
  for (const path of zooFiles.filter((f) => !recurrentZoo.includes(f))) {
    const inst = instrument(new Uint8Array(readFileSync(path)));
    assert.deepEqual(inst.contribution.probes, [], path);
    assert.deepEqual(inst.contribution.unavailable, [], path);
    assert.equal(inst.contribution.delta.nodes.length, 0, path);
  }
});

for (const path of recurrentZoo) {
  test(`zoo model ${path}: outputs unchanged and gate identities hold`, async (t) => {
    const { inst, stats } = await verifyModel(path, 64);
    t.diagnostic(`${stats.checked} values checked, max |diff| ${stats.maxErr.toExponential(2)}`);
    const nodes = nativeNodes(inst.index);
    assert.equal(inst.contribution.probes.filter((p) => p.kind === 'hidden').length, nodes.length);
    assert.deepEqual(inst.contribution.unavailable, []);
    if (nodes.some((n) => n.opType !== 'RNN')) assert.ok(stats.checked > 0);
    assert.ok(stats.maxErr <= TOL);
  });
}

// The char LMs on real text at their full length: trained cells grow large (|c| ≈ 75 seen) here.
for (const kind of ['lstm', 'gru', 'rnn']) {
  const dir = join(ZOO_DIR, kind);
  const ready = existsSync(join(dir, 'model.onnx')) && existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'manifest.json'));
  test(`zoo ${kind} char LM on 1024 characters of real TypeScript`, { skip: !ready && 'not built yet' }, async (t) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { maxLength: number; io?: { ids?: string } };
    const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as unknown;
    assert.ok(Array.isArray(vocab), 'vocab.json is a list of characters');
    const index = new Map((vocab as string[]).map((ch, i) => [ch, i] as const));
    const text = readFileSync('node_modules/typescript/lib/lib.es2016.array.include.d.ts', 'utf8').repeat(4)
      .slice(0, Math.min(1024, manifest.maxLength));
    const ids = BigInt64Array.from([...text].map((ch) => BigInt(index.get(ch) ?? 0)));
    const feeds = { [manifest.io?.ids ?? 'ids']: new ort.Tensor('int64', ids, [1, ids.length]) };
    const { stats } = await verifyModel(join(dir, 'model.onnx'), ids.length, feeds);
    t.diagnostic(`${stats.checked} values checked, max relative diff ${stats.maxErr.toExponential(2)}`);
    if (kind !== 'rnn') assert.ok(stats.checked > 0);
  });
}
