/**
 * Weights stored in other types than float32, on one small GPT-style decoder (tools/fixtures/weightTypes.ts)
 * in four forms: the whole graph float16 (as onnxconverter-common writes it), int8 by onnxruntime's
 * quantize_dynamic (DynamicQuantizeLinear → MatMulInteger → Cast → Mul), int8 weight-only QDQ
 * (DequantizeLinear → MatMul) and 4-bit com.microsoft MatMulNBits. In each the plan finds 2 causal
 * attention layers of 4 heads, the residual stream and the logits; the logit lens dequantizes the head;
 * the inspector names the weight type. Probe values equal what onnxruntime-node gives when the same
 * tensors are simply added as outputs of the plain model, at 1e-4 (float16 probes: onnxruntime's own
 * float16 values converted to float32, both sides the same conversion, so they must be equal too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WEIGHT_FORMS, WT, floatDecoder, weightTypeModel, type WeightForm } from '../../tools/fixtures/weightTypes.js';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { analyzeGraph } from '../../src/core/probes/analyzeGraph.js';
import { detectArchitecture } from '../../src/core/architecture.js';
import { inspectModel } from '../../src/core/inspect.js';
import { summarize } from '../../src/core/onnx/summarize.js';
import { tensorToFloat32 } from '../../src/core/onnx/tensorData.js';
import { resolveOutputProjection } from '../../src/core/trace/outputProjection.js';
import { floatToHalf, halfToFloat } from '../../src/core/onnx/float16.js';
import { toFloat32 } from '../../src/core/run/ortBackend.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { makeTensor } from '../../src/core/run/feeds.js';
import { getBackend } from '../../src/node/backends.js';
import { makeNode } from '../../src/core/onnx/graphDelta.js';
import { attrInt } from '../../src/core/onnx/attributes.js';
import type { Trace } from '../../src/core/trace/traceTypes.js';
import { checkAttention, ids, maxAbsDiff, ort, run, withOutputs } from './fixturesHelpers.js';

const TEXT = 'A=(B+C)*2;';
const MODELS = Object.fromEntries(WEIGHT_FORMS.map((f) => [f, weightTypeModel(f)])) as Record<WeightForm, Uint8Array>;
const WEIGHT_TYPE: Record<WeightForm, string> = { fp16: 'float16', 'int8-dynamic': 'int8', 'int8-qdq': 'int8', int4: '4-bit' };
const LENS_FORM: Record<WeightForm, string | undefined> = { fp16: undefined, 'int8-dynamic': 'linear', 'int8-qdq': 'linear', int4: 'nbits' };

/** An onnxruntime output as float32; float16 arrives as its bits (Uint16Array) in Node 20, converted here on its own. */
function floats(t: ort.Tensor): Float32Array {
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, halfToFloat);
  assert.equal(t.type, 'float32');
  return t.data as Float32Array;
}

async function traceForm(form: WeightForm): Promise<Trace> {
  // A character vocabulary as large as the embedding (' ' to 'O'), so every id is in range.
  const chars = Array.from({ length: WT.vocab }, (_, i) => String.fromCharCode(32 + i));
  return traceModel({
    backend: await getBackend('native'), files: async () => new TextEncoder().encode(JSON.stringify(chars)),
    modelBytes: MODELS[form], modelName: `decoder_${form}.onnx`, text: TEXT, tokenizer: { type: 'char', vocab: 'vocab.json' },
  });
}

test('float16 bits: every finite half survives float → half → float; onnxruntime float16 outputs are read as numbers; float16 feeds', () => {
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaN
    assert.equal(floatToHalf(halfToFloat(h)), h === 0x8000 ? 0x8000 : h, `bits ${h.toString(16)}`);
  }
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00, 'a tie rounds to even');
  assert.equal(floatToHalf(70000), 0x7c00, 'past 65504: infinity');
  assert.deepEqual([...toFloat32(Uint16Array.of(0x3c00, 0xc000, 0x3555), 'float16')], [1, -2, halfToFloat(0x3555)]);
  assert.deepEqual([...toFloat32(Uint16Array.of(7), 'uint16')], [7], 'a real uint16 stays an integer');
  // Feeds into float16 inputs (an fp16 model's mask, features or cache) go as bits.
  assert.deepEqual(makeTensor('float16', [3], [1, -2, 0.5]), { type: 'float16', dims: [3], data: Uint16Array.of(0x3c00, 0xc000, 0x3800) });
});

test('plans: 2 causal attention layers of 4 heads, the residual stream, logits and the lens in every weight form', () => {
  const floatParams = summarize(decodeModel(onnx.ModelProto.encode(floatDecoder()).finish()), 0).parameterCount;
  for (const form of WEIGHT_FORMS) {
    const model = decodeModel(MODELS[form]);
    const { plan } = planProbes(model);
    const of = (k: string): string[] => plan.probes.filter((p) => p.kind === k).map((p) => p.name);
    assert.deepEqual(of('attention'), ['l0_probs', 'l1_probs'], form);
    assert.deepEqual(of('hidden'), ['h0', 'l0_out', 'l1_out'], form);
    assert.deepEqual(of('logits'), ['logits'], form);
    assert.ok(plan.probes.filter((p) => p.kind === 'attention').every((p) => p.stream === 'decoder' && p.heads === WT.heads), `${form}: decoder self attention, 4 heads`);
    const sites = analyzeGraph(model).sites;
    assert.ok(sites.every((s) => s.causal && /triangular constant causal_bias/.test(s.causalEvidence ?? '')), `${form}: causal from the triangular bias`);
    assert.ok(sites.every((s) => s.qSource === s.kSource && s.qSource === `l${s.layer}_ln1_y`), `${form}: Q and K projected from the block's norm (self, not cross)`);
    assert.deepEqual(plan.unavailable, [], form);
    const arch = detectArchitecture(model);
    assert.deepEqual([arch.architecture, arch.layers, arch.heads, arch.hiddenSize], ['transformer-decoder', WT.layers, WT.heads, WT.hidden], form);
    const lens = plan.logitLens;
    assert.ok(lens, `${form}: a logit lens`);
    assert.equal(lens.quantized?.form, LENS_FORM[form], `${form}: lens weight form`);
    assert.deepEqual([lens.hiddenSize, lens.vocabSize, lens.stream, lens.finalNorm?.scale], [WT.hidden, WT.vocab, 'decoder', 'lnf_scale'], form);
    const insp = inspectModel(MODELS[form], `decoder_${form}.onnx`);
    assert.equal(insp.summary.weightTypes[0], WEIGHT_TYPE[form], `${form}: ${insp.summary.weightText}`);
    assert.equal(insp.summary.weightText, `weights: ${insp.summary.weightTypes.join(', ')}`);
    assert.equal(insp.summary.parameterCount, floatParams, `${form}: quantized weights count as parameters, their scales do not`);
    assert.deepEqual(insp.warnings, [], form);
  }
  assert.deepEqual(summarize(decodeModel(MODELS.int4), 0).weightTypes, ['4-bit', 'float32'], 'embeddings stay float32');
  assert.deepEqual(summarize(decodeModel(MODELS.fp16), 0).weightTypes, ['float16']);
});

test('trace: probe values equal onnxruntime-node on the plain model with the same tensors as outputs', async () => {
  const report: string[] = [];
  for (const form of WEIGHT_FORMS) {
    const trace = await traceForm(form);
    assert.deepEqual(trace.warnings, [], form);
    assert.deepEqual(trace.probes.map((p) => p.probe.kind), ['attention', 'attention', 'hidden', 'hidden', 'hidden', 'logits'], form);
    const T = trace.tokens.length;
    const names = trace.probes.map((p) => p.probe.name);
    const ref = await run(withOutputs(MODELS[form], names.filter((n) => n !== 'logits')), ids('input_ids', trace.tokens.map((t) => t.id)));
    let worst = 0;
    for (const { probe, tensor } of trace.probes) {
      assert.ok(tensor.data instanceof Float32Array);
      const r = ref[probe.name];
      assert.equal(r.type, form === 'fp16' ? 'float16' : 'float32', `${form} ${probe.name}: the model's own type`);
      assert.deepEqual(tensor.dims, r.dims.map(Number), `${form} ${probe.name} dims`);
      const d = maxAbsDiff(tensor.data, floats(r));
      assert.ok(d < 1e-4, `${form} ${probe.name}: max |diff| ${d}`);
      worst = Math.max(worst, d);
      if (probe.kind === 'attention') {
        assert.deepEqual(tensor.dims, [1, WT.heads, T, T]);
        // float16 rows sum to 1 within float16 rounding (T values of 2^-11 relative error each), not 1e-5.
        if (form !== 'fp16') checkAttention(new ort.Tensor('float32', tensor.data, tensor.dims), probe, { causal: true });
        for (let r0 = 0; r0 < tensor.data.length / T; r0++) {
          const q = r0 % T;
          let s = 0;
          for (let k = 0; k < T; k++) {
            s += tensor.data[r0 * T + k];
            if (k > q) assert.equal(tensor.data[r0 * T + k], 0, `${form} ${probe.name}: causal zero`);
          }
          assert.ok(Math.abs(s - 1) < 1e-2, `${form} ${probe.name}: row ${r0} sums to ${s}`);
        }
      }
    }
    assert.ok(trace.logits);
    const dl = maxAbsDiff(trace.logits.data, floats(ref.logits));
    assert.ok(dl < 1e-4, `${form} logits: max |diff| ${dl}`);
    worst = Math.max(worst, dl);
    // The values are real activations, not float16 bit patterns read as integers.
    const h = trace.probes.find((p) => p.probe.name === 'l1_out')?.tensor.data ?? new Float32Array();
    assert.ok(Math.max(...h.map(Math.abs)) < 20, `${form}: hidden values in a sane range`);
    report.push(`${form} ${worst}`);
  }
  console.log(`# max |diff| vs onnxruntime-node on the plain model: ${report.join(', ')}`);
});

/** The lens's head weight [K, N] as onnxruntime dequantizes it: DequantizeLinear alone, or MatMulNBits times the identity. */
async function ortHeadWeight(form: WeightForm): Promise<Float32Array> {
  const m = decodeModel(MODELS[form]);
  const g = m.graph;
  assert.ok(g);
  let node: onnx.INodeProto;
  const feeds: Record<string, ort.Tensor> = {};
  const inputs: onnx.IValueInfoProto[] = [];
  if (form === 'int4') {
    const nb = g.node.find((n) => n.opType === 'MatMulNBits' && n.output[0] === 'logits');
    assert.ok(nb);
    const attrs = Object.fromEntries(['K', 'N', 'bits', 'block_size'].map((a) => [a, attrInt(nb, a, 0)]));
    node = makeNode('MatMulNBits', ['eye', ...nb.input.slice(1)], ['w'], 'nbits', attrs, { domain: 'com.microsoft' });
    const eye = new Float32Array(WT.hidden * WT.hidden);
    for (let i = 0; i < WT.hidden; i++) eye[i * WT.hidden + i] = 1;
    feeds.eye = new ort.Tensor('float32', eye, [WT.hidden, WT.hidden]);
    inputs.push({ name: 'eye', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: WT.hidden }, { dimValue: WT.hidden }] } } } });
  } else {
    // QDQ: the model's own DequantizeLinear; quantize_dynamic: MatMulInteger's weight with its scale and zero point.
    const dq = g.node.find((n) => n.opType === 'DequantizeLinear' && n.input[0] === 'lm_head_quantized');
    node = dq ? makeNode('DequantizeLinear', dq.input, ['w'], 'dq', { axis: attrInt(dq, 'axis', 1) }) : makeNode('DequantizeLinear', ['lm_head_quantized', 'lm_head_scale', 'lm_head_zero_point'], ['w'], 'dq');
  }
  const keep = new Set(node.input);
  const bytes = onnx.ModelProto.encode({
    irVersion: 8, opsetImport: m.opsetImport, graph: {
      name: 'head', node: [node], initializer: g.initializer.filter((t) => keep.has(t.name)), input: inputs,
      output: [{ name: 'w', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }],
    },
  }).finish();
  return floats((await run(bytes, feeds)).w);
}

test('logit lens: the head weight dequantized as onnxruntime does it (DequantizeLinear, MatMulInteger\'s scale, MatMulNBits)', async () => {
  const report: string[] = [];
  for (const form of ['int8-dynamic', 'int8-qdq', 'int4'] as const) {
    const model = decodeModel(MODELS[form]);
    const lens = planProbes(model).plan.logitLens;
    assert.ok(lens?.quantized);
    const proj = resolveOutputProjection(model, lens);
    assert.deepEqual(proj.weight.dims, [WT.hidden, WT.vocab], form);
    const d = maxAbsDiff(proj.weight.data, await ortHeadWeight(form));
    assert.ok(d < 1e-6, `${form}: max |diff| ${d}`);
    report.push(`${form} ${d}`);
    // And close to the float weight it was quantized from (one quantization step at most).
    const float = decodeModel(onnx.ModelProto.encode(floatDecoder()).finish()).graph?.initializer.find((t) => t.name === 'lm_head');
    assert.ok(float);
    const f = tensorToFloat32(float);
    assert.ok(maxAbsDiff(proj.weight.data, f) < (form === 'int4' ? 0.05 : 0.005), `${form}: near the float head`);
  }
  console.log(`# lens head weight, max |diff| vs onnxruntime's dequantization: ${report.join(', ')}`);
});
