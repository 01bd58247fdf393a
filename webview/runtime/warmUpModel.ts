/**
 * The warm-up model: one small pre-LN Transformer block and its head (64 tokens, width 64, 4 heads, seeded
 * weights), written with the ops common exports use (Gather, LayerNormalization, MatMul, Add, Reshape,
 * Transpose, Div, Trilu/ConstantOfShape/Where for the causal mask, Softmax, Pow/ReduceMean/Sqrt written-out
 * norm, Erf GELU, Tanh). The webview creates it and runs it a few times when the panel starts (see warmUp in
 * ortWebBackend.ts), so that onnxruntime-web's worker and wasm instance exist before the user's first run,
 * and so does the compiled code that a Transformer's session creation and run need: V8 compiles each wasm
 * function on its first call (baseline code) and re-compiles the hot ones in the background (optimised code).
 * A one-node model left that to the user's first runs: the first warm runs of the zoo Transformer in the
 * worker were 2-3x their steady state. Built here as bytes with core's protobuf bindings rather than shipped
 * as a file: nothing more to fetch, nothing to keep in sync.
 */
import { onnx } from '../../src/core/onnx/onnxProto.js';

/** Input name and shape of the warm-up model (int64 token ids below WARM_UP_VOCAB). */
export const WARM_UP_INPUT = 'ids';
export const WARM_UP_TOKENS = 64;
export const WARM_UP_VOCAB = 128;

const D = 64, HEADS = 4, FFN = 256;

export function warmUpModelBytes(): Uint8Array {
  const S = WARM_UP_TOKENS, V = WARM_UP_VOCAB, dh = D / HEADS;
  const T = onnx.TensorProto.DataType, A = onnx.AttributeProto.AttributeType;
  let seed = 7;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5) * 0.2;
  const initializer: onnx.ITensorProto[] = [];
  const f32 = (name: string, dims: number[], fill: () => number = rnd): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    initializer.push({ name, dims, dataType: T.FLOAT, floatData: Array.from({ length: n }, fill) });
    return name;
  };
  const i64 = (name: string, values: number[]): string => {
    initializer.push({ name, dims: [values.length], dataType: T.INT64, int64Data: values });
    return name;
  };
  const node: onnx.INodeProto[] = [];
  const op = (opType: string, input: string[], attribute: onnx.IAttributeProto[] = [], out = `t${node.length}`): string => {
    node.push({ opType, input, output: [out], name: `n${node.length}`, attribute });
    return out;
  };
  const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: A.INTS, ints: v });
  const int = (name: string, v: number): onnx.IAttributeProto => ({ name, type: A.INT, i: v });
  const layerNorm = (x: string, n: string): string =>
    op('LayerNormalization', [x, f32(`${n}.g`, [D], () => 1), f32(`${n}.b`, [D], () => 0)], [int('axis', -1), { name: 'epsilon', type: A.FLOAT, f: 1e-5 }]);

  const x = op('Add', [op('Gather', [f32('wte', [V, D]), WARM_UP_INPUT]), f32('wpe', [S, D])]);
  const h = layerNorm(x, 'ln1');
  const heads = (w: string, perm: number[]): string => op('Transpose', [op('Reshape', [
    op('Add', [op('MatMul', [h, f32(w, [D, D])]), f32(`${w}.b`, [D])]), i64(`${w}.shape`, [1, S, HEADS, dh])])], [ints('perm', perm)]);
  const q = heads('wq', [0, 2, 1, 3]), kT = heads('wk', [0, 2, 3, 1]), v = heads('wv', [0, 2, 1, 3]);
  const scores = op('Div', [op('MatMul', [q, kT]), f32('scale', [], () => Math.sqrt(dh))]);
  const ones = op('ConstantOfShape', [i64('mask.shape', [S, S])], [{ name: 'value', type: A.TENSOR, t: { dims: [1], dataType: T.BOOL, int32Data: [1] } }]);
  const mask = op('Trilu', [ones], [int('upper', 0)]);
  const att = op('Softmax', [op('Where', [mask, scores, f32('neg', [], () => -1e9)])], [int('axis', -1)], 'att');
  const ctx = op('Reshape', [op('Transpose', [op('MatMul', [att, v])], [ints('perm', [0, 2, 1, 3])]), i64('ctx.shape', [1, S, D])]);
  const x1 = op('Add', [x, op('Add', [op('MatMul', [ctx, f32('wo', [D, D])]), f32('wo.b', [D])])], [], 'h1');
  // A norm written out (RMS), then an MLP with both GELUs exports write (Erf, tanh-based).
  const meanSquare = op('ReduceMean', [op('Pow', [x1, f32('two', [], () => 2)])], [ints('axes', [-1]), int('keepdims', 1)]);
  const n2 = op('Mul', [op('Div', [x1, op('Sqrt', [op('Add', [meanSquare, f32('eps', [], () => 1e-6)])])]), f32('ln2.g', [D], () => 1)]);
  const u = op('Add', [op('MatMul', [n2, f32('w1', [D, FFN])]), f32('w1.b', [FFN])]);
  const erfGelu = op('Mul', [op('Mul', [u, op('Add', [op('Erf', [op('Div', [u, f32('sqrt2', [], () => Math.SQRT2)])]), f32('one', [], () => 1)])]), f32('half', [], () => 0.5)]);
  const x2 = op('Add', [x1, op('MatMul', [op('Add', [erfGelu, op('Tanh', [u])]), f32('w2', [FFN, D])])]);
  op('MatMul', [layerNorm(x2, 'lnf'), f32('head', [D, V])], [], 'logits');

  const valueInfo = (name: string, elemType: number, dims: number[]): onnx.IValueInfoProto =>
    ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const bytes = onnx.ModelProto.encode({
    // IR 8 / opset 17 (LayerNormalization), as recent exporters write.
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'sequence-lens warm-up',
    graph: {
      name: 'warm-up', node, initializer,
      input: [valueInfo(WARM_UP_INPUT, T.INT64, [1, S])],
      // Several outputs, as a traced model hands back probes beside its logits.
      output: [valueInfo('logits', T.FLOAT, [1, S, V]), valueInfo('att', T.FLOAT, [1, HEADS, S, S]), valueInfo('h1', T.FLOAT, [1, S, D])],
    },
  }).finish();
  // A copy of its own: protobufjs may hand small messages out of a shared slab, and onnxruntime-web's
  // worker mode transfers the model's whole buffer, which would detach the slab under later encodes.
  return bytes.slice();
}

/** The warm-up model's input: token ids 0, 1, 2, … */
export function warmUpIds(): BigInt64Array {
  return BigInt64Array.from({ length: WARM_UP_TOKENS }, (_, i) => BigInt(i % WARM_UP_VOCAB));
}
