/**
 * The LSTM cell state c_t for every step, computed by onnxruntime's own LSTM kernel.
 *
 * The gates are already known for all steps (see recurrentNative.ts); what is left is the
 * recurrence c_t = f_t⊙c_{t-1} + i_t⊙c̃_t, which is element-wise per unit. So every unit of every
 * batch row becomes its own one-unit LSTM: an auxiliary LSTM node with hidden_size 1 and batch
 * B·H whose input at step t is that unit's gate pre-activations (i, f, c̃). Its W only routes them
 * (0/1 entries), R is zero, the output gate is pinned to 1 by a large bias and the output
 * activation is the identity (Affine α=1, β=0), so its Y is c_t itself. Direction and
 * sequence_lens are the original op's, so the kernel handles reverse order and padding exactly as
 * the original did, and the arithmetic of the cell update is the original's too.
 *
 * Cost: one LSTM with a [T·B·H, 3D]×[3D, 4] input GEMM and an element-wise step — much cheaper
 * than a Scan that pays a subgraph call per step.
 */
import { onnx } from '../onnx/onnxProto.js';
import { floatTensor, makeNode } from '../onnx/graphDelta.js';
import type { RecurrentBuilder } from './recurrentBuilder.js';

/** σ(30) is 1 in float32 (1 − 9e-14 rounds to 1). */
const OUTPUT_GATE_BIAS = 30;

export interface CellInputs {
  /** Per direction: clipped pre-activations of the input, forget and candidate blocks, [T,1,B,H]. */
  pre: { i: string; f: string; c: string }[];
  /** Initial cell state, sequence-first [D,B,H]. */
  c0: string;
  /** The original op's sequence_lens input, or ''. */
  seqLens: string;
  direction: string;
  hidden: number;
  /** Per direction: the gate (f) and candidate (g) activation op names. */
  acts: string[][];
  /** [T,D,B,H] shape tensor to restore the result to. */
  shapeOf: string;
}

/**
 * Units per auxiliary row. Rows of one unit make the kernel pay its per-row overhead B·H times per
 * step (measured: slower than the model's own LSTM); one row of all H units makes the routing GEMM
 * dense (3H×4H). A block of up to 16 units keeps both small (16 and 32 measured best on a 160-unit LSTM).
 */
export function unitsPerRow(hidden: number): number {
  for (let k = Math.min(16, hidden); k > 1; k--) if (hidden % k === 0) return k;
  return 1;
}

/** Returns c [T,D,B,H] (zero on padded steps, as the original's Y). */
export function lstmCellStates(b: RecurrentBuilder, inp: CellInputs, k = unitsPerRow(inp.hidden)): string {
  const dirs = inp.pre.length;
  const H = inp.hidden;
  const width = 3 * k * dirs;
  // X' [T, B·H/k, 3k·D]: per row of k units, the pre-activations of i, f, c̃ per direction.
  const parts = inp.pre.flatMap((p) => [p.i, p.f, p.c].map((t) => b.op('Reshape', [t, b.i64([0, -1, k])])));
  const x = parts.length > 1 ? b.op('Concat', parts, { axis: 2 }) : parts[0];

  // W' [D, 4k, 3k·D] routes each unit's pre-activations to gate rows i, o, f, c (ONNX order);
  // the output gate gets none.
  const w = new Float32Array(dirs * 4 * k * width);
  for (let d = 0; d < dirs; d++) {
    for (let j = 0; j < k; j++) {
      const route = (gate: number, block: number): void => { w[((d * 4 + gate) * k + j) * width + (3 * d + block) * k + j] = 1; };
      route(0, 0);
      route(2, 1);
      route(3, 2);
    }
  }
  const bias = new Float32Array(dirs * 8 * k);
  for (let d = 0; d < dirs; d++) for (let j = 0; j < k; j++) bias[d * 8 * k + k + j] = OUTPUT_GATE_BIAS;
  const wName = b.fresh('cellW');
  const rName = b.fresh('cellR');
  const bName = b.fresh('cellB');
  b.initializers.push(floatTensor(wName, w, [dirs, 4 * k, width]));
  b.initializers.push(floatTensor(rName, new Float32Array(dirs * 4 * k * k), [dirs, 4 * k, k]));
  b.initializers.push(floatTensor(bName, bias, [dirs, 8 * k]));

  let lens = '';
  if (inp.seqLens) {
    // Each batch row's length, repeated for its H/k auxiliary rows: [B] → [B·H/k].
    const col = b.op('Reshape', [b.op('Cast', [inp.seqLens], { to: onnx.TensorProto.DataType.INT32 }), b.i64([-1, 1])]);
    lens = b.op('Reshape', [b.op('Expand', [col, b.i64([1, H / k])]), b.i64([-1])]);
  }
  const c0 = b.op('Reshape', [inp.c0, b.i64([0, -1, k])]); // [D, B·H/k, k]

  const y = b.fresh('cells');
  const node = makeNode('LSTM', [x, wName, rName, bName, lens, '', c0], [y], `${y}/node`, {
    hidden_size: k, direction: inp.direction,
  });
  const T = onnx.AttributeProto.AttributeType;
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  node.attribute?.push(
    { name: 'activations', type: T.STRINGS, strings: inp.acts.flatMap(([f, g]) => [enc(f), enc(g), enc('Affine')]) },
    { name: 'activation_alpha', type: T.FLOATS, floats: inp.acts.map(() => 1) },
    { name: 'activation_beta', type: T.FLOATS, floats: inp.acts.map(() => 0) },
  );
  b.nodes.push(node);
  return b.op('Reshape', [y, inp.shapeOf]); // [T, D, B·H/k, k] → [T, D, B, H]
}
