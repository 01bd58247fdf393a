/**
 * c_t = a_t ⊙ c_{t−1} + b_t for every step at once (the LSTM cell update, a = f, b = i ⊙ c̃): a
 * Hillis–Steele scan over the steps. Each element is the affine map c ↦ a·c + b; after the round with
 * shift s, element t holds the composition of the maps of steps t−2s+1 … t (older ones become the
 * identity: a = 1, b = 0), so ⌈log₂ T⌉ rounds compose every prefix and c_t = A_t ⊙ c_0 + B_t.
 *
 * The rounds run in a Loop whose trip count follows T at run time (one graph serves every length). Each
 * round is five element-wise ops over [T, 1, B, H]. On the zoo LSTM (128 steps, 160 units, one thread)
 * the scan alone took 0.17 ms against 0.27–0.29 ms for the auxiliary LSTM node it replaces
 * (recurrentLstm.ts), whose per-step, per-row kernel overhead dominates at these sizes; unrolling the
 * rounds instead of looping saved under 0.02 ms at 128 steps and costs wasted rounds on short inputs.
 * The sums are taken in a tree order instead of step by step: the cell agrees with the step-by-step
 * update to float32 rounding (checked to 1e-5 relative in test/unit/recurrentProbes.test.ts).
 */
import { onnx } from '../onnx/onnxProto.js';
import { RecurrentBuilder } from './recurrentBuilder.js';

/** Pad takes its pads and value as inputs from opset 11; Loop and the rest are older. */
export const CELL_SCAN_MIN_OPSET = 11;

function valueInfo(name: string, elemType: number, dims?: number[]): onnx.IValueInfoProto {
  const shape = dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {};
  return { name, type: { tensorType: { elemType, ...shape } } };
}

/**
 * `a`, `b`: [T, 1, B, H], in step order; `c0`: [1, 1, B, H], or '' for zeros. `reverse`: the recurrence
 * runs from the last step to the first. Returns c as [T, 1, B, H], named `out` when given.
 */
export function linearRecurrence(b: RecurrentBuilder, a: string, bIn: string, c0: string, reverse: boolean, out?: string): string {
  const DT = onnx.TensorProto.DataType;
  const tlen = b.slice(b.op('Shape', [a]), 0, 1, 0); // [1]
  const one = b.i64([1]);

  // One round. Element t takes in the map s steps before it (after it, in reverse), or the identity
  // where there is none: a shift of the step axis, one Pad that adds s identity elements at the start
  // and drops s at the end (a negative pad), [s,0,0,0, −s,0,0,0] (reversed: [−s,0,0,0, s,0,0,0]).
  const body = new RecurrentBuilder(b.fresh('scan'), b.opset);
  const [iter, condIn, aIn, bBody, sIn] = ['iter', 'cond', 'a', 'b', 's'].map((t) => body.fresh(t));
  const zeros3 = body.i64([0, 0, 0]);
  const negS = body.op('Neg', [sIn]);
  const pads = body.op('Concat', reverse ? [negS, zeros3, sIn, zeros3] : [sIn, zeros3, negS, zeros3], { axis: 0 });
  const aShift = body.op('Pad', [aIn, pads, body.f32(1)]);
  const bShift = body.op('Pad', [bBody, pads, body.f32(0)]);
  const aOut = body.op('Mul', [aIn, aShift]); // (a, b) after (a', b') is (a·a', a·b' + b)
  const bOut = body.op('Add', [body.op('Mul', [aIn, bShift]), bBody]);
  const sOut = body.op('Add', [sIn, sIn]);
  const condOut = body.squeeze(body.op('Less', [sOut, tlen]), [0]);
  const graph: onnx.IGraphProto = {
    name: body.prefix,
    node: body.nodes,
    initializer: body.initializers,
    input: [valueInfo(iter, DT.INT64, []), valueInfo(condIn, DT.BOOL, []), valueInfo(aIn, DT.FLOAT), valueInfo(bBody, DT.FLOAT), valueInfo(sIn, DT.INT64, [1])],
    output: [valueInfo(condOut, DT.BOOL, []), valueInfo(aOut, DT.FLOAT), valueInfo(bOut, DT.FLOAT), valueInfo(sOut, DT.INT64, [1])],
  };

  const cond0 = b.squeeze(b.op('Less', [one, tlen]), [0]); // a single step needs no round
  const aAll = b.fresh('prefixA');
  const bAll = c0 || !out ? b.fresh('prefixB') : out;
  b.opMulti('Loop', ['', cond0, a, bIn, one], [aAll, bAll, b.fresh('shift')], { body: graph });
  return c0 ? b.op('Add', [b.mul(aAll, c0), bAll], {}, { out }) : bAll;
}
