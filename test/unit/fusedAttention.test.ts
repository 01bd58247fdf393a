/**
 * Attention weights of fused ONNX Runtime ops without a weights output (com.microsoft Attention and
 * GroupQueryAttention), recomputed from the op's inputs by the instrumentation (src/core/probes/fusedRecompute.ts).
 * Each layer's probe is compared at 1e-4 with weights computed here in plain JS from the op's own inputs, read
 * by running the ORIGINAL model with them added as outputs (Q/K projections and rotary done here, from the
 * weights and caches), and weights · V is checked to reproduce the op's own output. Fixtures:
 * tools/fixtures/fusedAttention.ts (gqa_decoder, gqa_rotary_packed, ms_attention_mask; a GQA decoder with a
 * cache built in memory) and buildFusedFixtures.ts (ms_attention).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModel, type ModelProto } from '../../src/core/onnx/decode.js';
import { indexGraph } from '../../src/core/onnx/graphIndex.js';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { makeNode } from '../../src/core/onnx/graphDelta.js';
import { tensorToFloat32 } from '../../src/core/onnx/tensorData.js';
import { constantTensor } from '../../src/core/probes/graphWalk.js';
import { analyzeGraph } from '../../src/core/probes/analyzeGraph.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { detectArchitecture } from '../../src/core/architecture.js';
import { instrument } from '../../src/core/instrument.js';
import type { Probe } from '../../src/core/types.js';
import { GQA, gqaDecoder, ropeCaches } from '../../tools/fixtures/fusedAttention.js';
import { checkAttention, fixtureInfo, ids, maxAbsDiff, ort, readFixture, run, withOutputs, type Feeds } from './fixturesHelpers.js';

const info = fixtureInfo();
const SRC = [3, 17, 42, 8, 25, 11, 30];
const MASK = [1, 1, 1, 1, 1, 0, 0];
const S = SRC.length;
const FIXTURES = ['ms_attention.onnx', 'ms_attention_mask.onnx', 'gqa_decoder.onnx', 'gqa_rotary_packed.onnx'];

function feeds(file: string): Feeds {
  const f = ids('input_ids', SRC);
  if (info[file].inputs?.mask) f.attention_mask = new ort.Tensor('int32', Int32Array.from(MASK), [1, S]);
  return f;
}

function weight(model: ModelProto, name: string): Float32Array {
  const t = constantTensor(indexGraph(model.graph as never), name);
  assert.ok(t, `${name} is a weight of the model`);
  return tensorToFloat32(t);
}

/** Columns [from, from + width) of a row-major [rows, cols] matrix. */
function columns(m: Float32Array, rows: number, cols: number, from: number, width: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) out[r * width + c] = m[r * cols + from + c];
  return out;
}

/** x [rows, n] · W[:, from..from+width) + b[from..] for a packed [n, cols] weight. */
function project(x: Float32Array, rows: number, w: Float32Array, b: Float32Array | undefined, cols: number, from: number, width: number): Float64Array {
  const n = w.length / cols;
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) {
      let s = b ? b[from + c] : 0;
      for (let j = 0; j < n; j++) s += x[r * n + j] * w[j * cols + from + c];
      out[r * width + c] = s;
    }
  }
  return out;
}

/** Rotary embedding of x [rows, heads·d] at positions offset..offset+rows-1 (halves, or interleaved pairs). */
function rope(x: Float64Array, rows: number, heads: number, d: number, offset: number, interleaved: boolean): Float64Array {
  const { cos, sin } = ropeCaches(d);
  const half = d / 2;
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const base = r * heads * d + h * d;
      for (let i = 0; i < half; i++) {
        const c = cos[(offset + r) * half + i];
        const s = sin[(offset + r) * half + i];
        const [a, b] = interleaved ? [base + 2 * i, base + 2 * i + 1] : [base + i, base + i + half];
        out[a] = x[a] * c - x[b] * s;
        out[b] = x[b] * c + x[a] * s;
      }
    }
  }
  return out;
}

interface Reference { heads: number; kvHeads: number; d: number; scale: number; causalOffset?: number; keyMask?: number[] }

/** softmax(Q·Kᵀ·scale + masks) as [heads, S, T] for q [S, heads·d], k [T, kvHeads·d]; head h reads kv head ⌊h / group⌋. */
function referenceWeights(q: Float64Array, k: Float64Array, r: Reference): Float64Array {
  const rows = q.length / (r.heads * r.d);
  const keys = k.length / (r.kvHeads * r.d);
  const group = r.heads / r.kvHeads;
  const out = new Float64Array(r.heads * rows * keys);
  for (let h = 0; h < r.heads; h++) {
    const kh = Math.floor(h / group);
    for (let i = 0; i < rows; i++) {
      const row = new Float64Array(keys);
      for (let j = 0; j < keys; j++) {
        let s = 0;
        for (let t = 0; t < r.d; t++) s += q[i * r.heads * r.d + h * r.d + t] * k[j * r.kvHeads * r.d + kh * r.d + t];
        row[j] = s * r.scale + (r.keyMask && r.keyMask[j] === 0 ? -10000 : 0);
        if (r.causalOffset !== undefined && j > r.causalOffset + i) row[j] = -Infinity;
      }
      const m = Math.max(...row);
      let sum = 0;
      for (let j = 0; j < keys; j++) sum += (row[j] = Math.exp(row[j] - m));
      for (let j = 0; j < keys; j++) out[(h * rows + i) * keys + j] = row[j] / sum;
    }
  }
  return out;
}

/** ctx [S, heads·d] = Σ_j w[h, i, j] · v[j, kvHead(h)·d + t]. */
function weightsTimesValues(w: Float32Array, v: Float64Array, r: Reference): Float64Array {
  const keys = v.length / (r.kvHeads * r.d);
  const rows = w.length / (r.heads * keys);
  const group = r.heads / r.kvHeads;
  const out = new Float64Array(rows * r.heads * r.d);
  for (let h = 0; h < r.heads; h++) {
    for (let i = 0; i < rows; i++) {
      for (let t = 0; t < r.d; t++) {
        let s = 0;
        for (let j = 0; j < keys; j++) s += w[(h * rows + i) * keys + j] * v[j * r.kvHeads * r.d + Math.floor(h / group) * r.d + t];
        out[i * r.heads * r.d + h * r.d + t] = s;
      }
    }
  }
  return out;
}

function attentionProbes(probes: Probe[]): Probe[] {
  return probes.filter((p) => p.kind === 'attention').sort((a, b) => a.layer - b.layer);
}

test('plan: com.microsoft Attention and GroupQueryAttention are attention layers with heads, weights recomputed', () => {
  for (const file of FIXTURES) {
    const i = info[file];
    const model = decodeModel(readFixture(file), file);
    const stream = i.architecture === 'transformer-decoder' ? 'decoder' : 'encoder';
    const sites = analyzeGraph(model).sites;
    assert.deepEqual(sites.map((s) => [s.form, s.stream, s.layer, s.heads, s.causal]),
      [0, 1].map((l) => ['recomputed', stream, l, 4, stream === 'decoder']), file);
    const { plan, delta } = planProbes(model);
    assert.deepEqual(plan.unavailable, [], `${file}: nothing unavailable`);
    const att = attentionProbes(plan.probes);
    assert.deepEqual(att.map((p) => [p.layer, p.stream, p.heads, p.name]),
      [0, 1].map((l) => [l, stream, 4, `seqlens/attention/${stream}/${l}/weights`]), file);
    for (const p of att) {
      assert.deepEqual(p.axes, ['batch', 'head', 'query', 'key']);
      assert.equal(p.postprocess, undefined, 'weights, not scores');
      assert.ok(delta.outputs.includes(p.name));
    }
    assert.equal(delta.nodes.filter((n) => n.opType === 'Attention' || n.opType === 'GroupQueryAttention').length, 0, 'the fused op is not duplicated');
    const a = detectArchitecture(model);
    assert.equal(a.architecture, i.architecture);
    assert.equal(a.layers, 2);
    assert.equal(a.heads, 4);
    assert.equal(a.hiddenSize, i.hidden);
    assert.ok(a.evidence.some((e) => /^2 fused com\.microsoft Attention\/GroupQueryAttention node\(s\) \(weights recomputed/.test(e)), a.evidence.join('\n'));
    assert.ok(!a.evidence.some((e) => /without a weights output/.test(e)));
  }
});

test('plan: what is not reproduced is unavailable with one sentence (past input, 1-D mask, sliding window, position_ids)', () => {
  const edit = (file: string, change: (g: onnx.IGraphProto) => void): ModelProto => {
    const m = onnx.ModelProto.decode(readFixture(file));
    change(m.graph as onnx.IGraphProto);
    return decodeModel(onnx.ModelProto.encode(m).finish());
  };
  const node = (g: onnx.IGraphProto, op: string): onnx.INodeProto => (g.node ?? []).find((n) => n.opType === op) as onnx.INodeProto;
  // [model, reason, layers without weights]: the edits touch layer 0's node, except the mask both layers read.
  const cases: [ModelProto, RegExp, number][] = [
    [edit('ms_attention.onnx', (g) => { node(g, 'Attention').input = [...(node(g, 'Attention').input ?? []), '', 'past']; }), /with a past key\/value input is not recomputed/, 1],
    [edit('ms_attention_mask.onnx', (g) => {
      const mask = (g.input ?? []).find((v) => v.name === 'attention_mask');
      mask?.type?.tensorType?.shape?.dim?.splice(1);
    }), /mask_index of rank 1 is not reproduced/, 2],
    [edit('gqa_decoder.onnx', (g) => {
      const n = node(g, 'GroupQueryAttention');
      n.attribute = [...(n.attribute ?? []), makeNode('X', [], [], 'x', { local_window_size: 4 }).attribute?.[0] as onnx.IAttributeProto];
    }), /sliding window \(local_window_size 4\) is not recomputed/, 1],
    [edit('gqa_rotary_packed.onnx', (g) => {
      const n = node(g, 'GroupQueryAttention');
      n.input = [...(n.input ?? []), 'x0'];
    }), /position_ids input is not recomputed/, 1],
  ];
  for (const [model, reason, without] of cases) {
    const { plan } = planProbes(model);
    assert.equal(attentionProbes(plan.probes).length, 2 - without, `${reason}: the other layers keep their weights`);
    assert.equal(plan.unavailable.length, without);
    for (const u of plan.unavailable) {
      assert.match(u.reason, reason);
      assert.ok(u.reason.endsWith('.') && !/\.\s/.test(u.reason), `one sentence: ${u.reason}`);
      assert.match(u.what, /attention weights, layer \d/);
    }
    assert.match(plan.unavailable[0].what, /attention weights, layer 0/);
  }
});

/** Runs the instrumented model and the original with `extra` as outputs; returns both and the attention probes. */
async function runBoth(bytes: Uint8Array, f: Feeds, extra: string[]): Promise<{ probed: Record<string, ort.Tensor>; plain: Record<string, ort.Tensor>; att: Probe[] }> {
  const inst = instrument(bytes);
  const probed = await run(inst.bytes, f);
  const plain = await run(withOutputs(bytes, extra), f);
  return { probed, plain, att: attentionProbes(inst.plan.probes) };
}

function compare(t: TestContext, what: string, got: ort.Tensor, want: Float64Array, ctx?: { got: Float64Array; want: Float32Array }): void {
  const diff = maxAbsDiff(got.data as Float32Array, want);
  t.diagnostic(`${what}: max |weights − reference| ${diff.toExponential(2)}${ctx ? `, max |weights·V − op output| ${maxAbsDiff(ctx.got, ctx.want).toExponential(2)}` : ''}`);
  assert.ok(diff < 1e-4, `${what}: max |diff| ${diff}`);
  if (ctx) assert.ok(maxAbsDiff(ctx.got, ctx.want) < 1e-4, `${what}: weights · V reproduces the op's output`);
}

for (const file of ['ms_attention.onnx', 'ms_attention_mask.onnx']) {
  test(`trace ${file}: recomputed weights equal softmax(Q·Kᵀ·scale + masks) from the op's input X and packed weights`, async (t) => {
    const bytes = readFixture(file);
    const model = decodeModel(bytes);
    const masked = file === 'ms_attention_mask.onnx';
    const D = 32;
    const xs = ['x0', 'l0_out'];
    const { probed, plain, att } = await runBoth(bytes, feeds(file), [...xs, 'l0_ctx', 'l1_ctx']);
    assert.equal(att.length, 2);
    for (const p of att) {
      const x = plain[xs[p.layer]].data as Float32Array;
      const w = weight(model, `l${p.layer}_qkv_w`);
      const b = weight(model, `l${p.layer}_qkv_b`);
      const q = project(x, S, w, b, 3 * D, 0, D);
      const k = project(x, S, w, b, 3 * D, D, D);
      const v = project(x, S, w, b, 3 * D, 2 * D, D);
      const r: Reference = { heads: 4, kvHeads: 4, d: 8, scale: masked ? Math.fround(0.3) : 1 / Math.sqrt(8),
        ...(masked ? { keyMask: MASK } : { causalOffset: 0 }) };
      const t4 = probed[p.name];
      assert.deepEqual(t4.dims, [1, 4, S, S]);
      checkAttention(t4, p, { causal: !masked, paddedKeys: masked ? [5, 6] : [] });
      compare(t, `${file} layer ${p.layer}`, t4, referenceWeights(q, k, r),
        { got: weightsTimesValues(t4.data as Float32Array, v, r), want: plain[`l${p.layer}_ctx`].data as Float32Array });
    }
  });
}

/** GQA layer inputs: Q [S, 4·d] and K, V [S, 2·d] from separate projections or the packed QKV. */
function gqaInputs(plain: Record<string, ort.Tensor>, l: number, packed: boolean, d: number): { q: Float64Array; k: Float64Array; v: Float64Array } {
  const H = GQA.heads;
  const KVH = GQA.kvHeads;
  if (!packed) {
    const f = (n: string): Float64Array => Float64Array.from(plain[`l${l}_${n}`].data as Float32Array);
    return { q: f('q'), k: f('k'), v: f('v') };
  }
  const qkv = plain[`l${l}_qkv`].data as Float32Array;
  const rows = qkv.length / ((H + 2 * KVH) * d);
  const cols = (H + 2 * KVH) * d;
  return { q: columns(qkv, rows, cols, 0, H * d), k: columns(qkv, rows, cols, H * d, KVH * d), v: columns(qkv, rows, cols, (H + KVH) * d, KVH * d) };
}

for (const file of ['gqa_decoder.onnx', 'gqa_rotary_packed.onnx']) {
  test(`trace ${file}: recomputed weights equal causal softmax(Q·Kᵀ/√d) from the op's query/key inputs, KV heads shared`, async (t) => {
    const rotary = file === 'gqa_rotary_packed.onnx';
    const d = info[file].hidden / GQA.heads;
    const extra = [0, 1].flatMap((l) => (rotary ? [`l${l}_qkv`] : [`l${l}_q`, `l${l}_k`, `l${l}_v`]).concat(`l${l}_ctx`));
    const { probed, plain, att } = await runBoth(readFixture(file), feeds(file), extra);
    assert.equal(att.length, 2);
    for (const p of att) {
      const inputs = gqaInputs(plain, p.layer, rotary, d);
      const { v } = inputs;
      // Layer 0 rotates halves, layer 1 interleaved pairs (the fixture's rotary_interleaved).
      const q = rotary ? rope(inputs.q, S, GQA.heads, d, 0, p.layer === 1) : inputs.q;
      const k = rotary ? rope(inputs.k, S, GQA.kvHeads, d, 0, p.layer === 1) : inputs.k;
      const r: Reference = { heads: GQA.heads, kvHeads: GQA.kvHeads, d, scale: 1 / Math.sqrt(d), causalOffset: 0 };
      const t4 = probed[p.name];
      assert.deepEqual(t4.dims, [1, GQA.heads, S, S]);
      checkAttention(t4, p, { causal: true });
      compare(t, `${file} layer ${p.layer}`, t4, referenceWeights(q, k, r),
        { got: weightsTimesValues(t4.data as Float32Array, v, r), want: plain[`l${p.layer}_ctx`].data as Float32Array });
    }
  });
}

test('trace GroupQueryAttention with a cache (rotary, built in memory): empty past, then 3 cached positions', async (t) => {
  const bytes = gqaDecoder({ rotary: true, past: true });
  const d = GQA.rotaryHidden / GQA.heads;
  for (const past of [0, 3]) {
    const f = ids('input_ids', SRC);
    const pastData: Record<string, Float32Array> = {};
    for (let l = 0; l < GQA.layers; l++) {
      for (const kv of ['key', 'value']) {
        const name = `past_key_values.${l}.${kv}`;
        pastData[name] = Float32Array.from({ length: GQA.kvHeads * past * d }, (_, j) => Math.sin(j * 0.7 + l + kv.length));
        f[name] = new ort.Tensor('float32', pastData[name], [1, GQA.kvHeads, past, d]);
      }
    }
    const extra = [0, 1].flatMap((l) => [`l${l}_q`, `l${l}_k`, `l${l}_v`, `l${l}_ctx`]);
    const { probed, plain, att } = await runBoth(bytes, f, extra);
    assert.equal(att.length, 2);
    for (const p of att) {
      const { q, k, v } = gqaInputs(plain, p.layer, false, d);
      const qr = rope(q, S, GQA.heads, d, past, p.layer === 1);
      const kr = rope(k, S, GQA.kvHeads, d, past, p.layer === 1);
      // Keys and values of all positions: the cached ones ([1, kvHeads, past, d] → [past, kvHeads·d]), then the new ones.
      const all = (cache: Float32Array, fresh: Float64Array): Float64Array => {
        const out = new Float64Array((past + S) * GQA.kvHeads * d);
        for (let j = 0; j < past; j++) for (let h = 0; h < GQA.kvHeads; h++) for (let x = 0; x < d; x++) out[(j * GQA.kvHeads + h) * d + x] = cache[(h * past + j) * d + x];
        out.set(fresh, past * GQA.kvHeads * d);
        return out;
      };
      const r: Reference = { heads: GQA.heads, kvHeads: GQA.kvHeads, d, scale: 1 / Math.sqrt(d), causalOffset: past };
      const t4 = probed[p.name];
      assert.deepEqual(t4.dims, [1, GQA.heads, S, past + S]);
      checkAttention(t4, p, { causal: true, offset: past });
      compare(t, `past ${past} layer ${p.layer}`, t4, referenceWeights(qr, all(pastData[`past_key_values.${p.layer}.key`], kr), r), {
        got: weightsTimesValues(t4.data as Float32Array, all(pastData[`past_key_values.${p.layer}.value`], v), r),
        want: plain[`l${p.layer}_ctx`].data as Float32Array,
      });
    }
  }
});
