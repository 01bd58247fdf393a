/**
 * LSTM gates and cell state for one direction of an ONNX LSTM node, given h_{t-1} for every step
 * (the op's own Y shifted by one step, built by recurrentNative.ts). ONNX gate order is i, o, f, c̃.
 *
 * Gates: every step at once, one Gemm per gate, h_{t-1}·R_gᵀ + P_g, whose C input P_g is the gate's
 * input part with both biases (recurrentInput.ts: a row gather of a load-time table for embedding
 * inputs, else X·W_gᵀ + Wb + Rb), then the activation. Each gate is written once, already contiguous.
 *
 * Cell: c_t = f_t⊙c_{t-1} + i_t⊙c̃_t is element-wise per unit, a linear recurrence: by default a
 * log-depth scan over the steps (cellScan.ts). Two cases use onnxruntime's own LSTM kernel instead:
 * peepholes (i and f then depend on c_{t-1}, which no scan of known coefficients covers) and runtimes
 * that ask for it (RecurrentProbeOptions.cellVia: WebGPU, where Loop would run on the CPU). There
 * every block of k units of every batch row becomes its own small auxiliary LSTM node with hidden_size
 * k and batch B·H/k, whose input at step t is exactly that block's pre-activations (the four gates'
 * Gemm outputs interleaved by one Concat). Its W only routes (identity on the i, f, c̃ rows), R is
 * zero, the output gate is pinned to 1 by a large bias and the output activation is the identity
 * (Affine α=1, β=0), so its Y is c_t. Direction and sequence_lens are the original op's, so the
 * kernel handles reverse order and padding as the original did. k-unit rows avoid both the per-row
 * overhead of one-unit rows (measured ~9× slower) and a dense 4H×4H routing GEMM.
 */
import { onnx } from '../onnx/onnxProto.js';
import { floatTensor, makeNode } from '../onnx/graphDelta.js';
import type { RecurrentBuilder } from './recurrentBuilder.js';
import type { InputProjection } from './recurrentInput.js';
import type { CellReadout } from './recurrentProbes.js';
import { CELL_SCAN_MIN_OPSET, linearRecurrence } from './cellScan.js';

/** σ(30) is 1 in float32 (1 − 9e-14 rounds to 1). */
const OUTPUT_GATE_BIAS = 30;

/** Units per auxiliary row: the largest divisor of H up to 16 (16 and 32 measured best on a 160-unit LSTM). */
export function unitsPerRow(hidden: number): number {
  for (let k = Math.min(16, hidden); k > 1; k--) if (hidden % k === 0) return k;
  return 1;
}


export interface LstmDirectionInput {
  /** h_{t-1} for every step, [T·B, H]. */
  hPrev: string;
  proj: InputProjection;
  w: string; r: string; bias: string; d: number;
  hidden: number;
  clip?: number;
  fAct: string; gAct: string;
  /** c_0 of this direction, [1,B,H] (built on first use); `c0Zero`: it is zeros. */
  c0d: () => string;
  c0Zero: boolean;
  seqLens: string;
  /** valid[t,0,b,0] = t < len_b (bool), when seqLens is given. */
  valid: string;
  reverse: boolean;
  /** Shape of one direction's [T,1,B,H] tensor, to restore results to. */
  dirShape: string;
  /** [T] as a 1-D int64 tensor. */
  steps1d: string;
  /** Names for the [i, o, f, c̃] gates and the cell, when the caller wants them named directly. */
  outNames?: string[];
  /**
   * Peephole weights P [D, 3H] (order i, o, f), or ''. With peepholes i and f depend on c_{t-1} and
   * o on c_t, so the auxiliary LSTM gets one row per batch element (k = H) and the real P for i and
   * f, and the three gates are recomputed afterwards from the known cell states.
   */
  peepholes: string;
  /** h_{t-1}-style shift of a [T,1,B,H] per-step tensor, with `init` [1,1,B,H] entering at the start. */
  shift: (perStep: string, init: string) => string;
  /** How the cell is computed (see RecurrentProbeOptions.cellVia); default 'scan'. */
  cellVia?: CellReadout;
}

/** Returns [i, o, f, c̃] gates and the cell state, each [T,1,B,H]. */
export function lstmDirection(b: RecurrentBuilder, p: LstmDirectionInput): { gates: string[]; cell: string } {
  const H = p.hidden;
  const rd = b.pick(p.r, p.d, 0); // [4H, H]
  const bd = p.bias ? b.pick(p.bias, p.d, 0) : ''; // [8H] = Wb (i o f c) ++ Rb (i o f c)
  const pre = [0, 1, 2, 3].map((g) => {
    const bias = bd ? b.add(b.slice(bd, g * H, (g + 1) * H, 0), b.slice(bd, (4 + g) * H, (5 + g) * H, 0)) : '';
    const rT = b.transpose(b.slice(rd, g * H, (g + 1) * H, 0), [1, 0]); // [H, H], folded at load time
    const t = b.op('Gemm', [p.hPrev, rT, p.proj.gate(p.w, p.d, g * H, (g + 1) * H, bias)]); // [T·B, H]
    return p.clip !== undefined ? b.clip(t, p.clip) : t;
  });
  const acts = [p.fAct, p.fAct, p.fAct, p.gAct];
  // To [T,1,B,H] before the activation (a Reshape of an intermediate is free; one whose output is a
  // graph output is a copy), so each activation writes its probe in place.
  const gateOf = (g: number): string => b.op(acts[g], [b.op('Reshape', [pre[g], p.dirShape])], {}, { out: p.outNames?.[g] });
  const scan = !p.peepholes && (p.cellVia ?? 'scan') === 'scan' && b.opset >= CELL_SCAN_MIN_OPSET;
  if (scan) {
    const gates = [0, 1, 2, 3].map(gateOf);
    let a = gates[2];
    let u = b.mul(gates[0], gates[3]);
    if (p.seqLens && p.reverse) {
      // Reverse order starts at each row's last valid step: the padded steps after it are the identity.
      a = b.op('Where', [p.valid, a, b.f32(1)]);
      u = b.op('Where', [p.valid, u, b.f32(0)]);
    }
    const c0 = p.c0Zero ? '' : b.unsqueeze(p.c0d(), [0]);
    return { gates, cell: linearRecurrence(b, a, u, c0, p.reverse, p.outNames?.[4]) };
  }

  const k = p.peepholes ? H : unitsPerRow(H);
  const blocks = H / k;
  const gates = p.peepholes ? [] : [0, 1, 2, 3].map(gateOf);
  // The auxiliary LSTM: input [T, B·H/k, 4k], block j holding the i, o, f, c̃ pre-activations of units j·k … j·k+k−1.
  const grouped = b.op('Concat', pre.map((t) => b.op('Reshape', [t, b.i64([-1, blocks, 1, k])])), { axis: 2 }); // [T·B, H/k, 4, k]
  const x = b.op('Reshape', [grouped, b.op('Concat', [p.steps1d, b.i64([-1, 4 * k])], { axis: 0 })]);
  const w = new Float32Array(4 * k * 4 * k);
  for (const g of [0, 2, 3]) for (let u = 0; u < k; u++) w[(g * k + u) * 4 * k + g * k + u] = 1;
  const bias = new Float32Array(8 * k);
  for (let u = 0; u < k; u++) bias[k + u] = OUTPUT_GATE_BIAS;
  const wName = b.fresh('cellW');
  const rName = b.fresh('cellR');
  const bName = b.fresh('cellB');
  b.initializers.push(floatTensor(wName, w, [1, 4 * k, 4 * k]));
  b.initializers.push(floatTensor(rName, new Float32Array(4 * k * k), [1, 4 * k, k]));
  b.initializers.push(floatTensor(bName, bias, [1, 8 * k]));
  let lens = '';
  if (p.seqLens) {
    // Each batch row's length, repeated for its H/k auxiliary rows: [B] → [B·H/k].
    const col = b.op('Reshape', [b.op('Cast', [p.seqLens], { to: onnx.TensorProto.DataType.INT32 }), b.i64([-1, 1])]);
    lens = b.op('Reshape', [b.op('Expand', [col, b.i64([1, blocks])]), b.i64([-1])]);
  }
  let c0 = b.op('Reshape', [p.c0d(), b.i64([1, -1, k])]); // [1, B·H/k, k]
  let auxX = x;
  // 'relu-pair': runtimes without the Affine activation (onnxruntime-web's WebGPU LSTM) read c_t as
  // relu(c) − relu(−c). A second set of rows carries −c exactly: its c̃ pre-activations and c_0 are
  // negated, and tanh is odd, so every step computes f⊙(−c) + i⊙(−c̃). Peepholes would see −c, and a
  // c̃ activation other than tanh need not be odd: those keep 'affine'.
  const pair = p.cellVia === 'relu-pair' && !p.peepholes && p.gAct === 'Tanh';
  if (pair) {
    const flip = new Float32Array(4 * k).fill(1);
    flip.fill(-1, 3 * k);
    const flipName = b.fresh('cellFlip');
    b.initializers.push(floatTensor(flipName, flip, [4 * k]));
    auxX = b.op('Concat', [x, b.op('Mul', [x, flipName])], { axis: 1 }); // [T, 2·B·H/k, 4k]
    c0 = b.op('Concat', [c0, b.op('Neg', [c0])], { axis: 1 });
    if (lens) lens = b.op('Concat', [lens, lens], { axis: 0 });
  }
  const y = b.fresh('cells');
  let peep = '';
  let pd = '';
  if (p.peepholes) {
    // Aux P = [Pi, 0, Pf]: the real peepholes for i and f, none on the pinned output gate.
    pd = b.pick(p.peepholes, p.d, 0);
    const po = b.slice(pd, H, 2 * H, 0);
    peep = b.unsqueeze(b.op('Concat', [b.slice(pd, 0, H, 0), b.op('Sub', [po, po]), b.slice(pd, 2 * H, 3 * H, 0)], { axis: 0 }), [0]);
  }
  const node = makeNode('LSTM', [auxX, wName, rName, bName, lens, '', c0, peep], [y], `${y}/node`, {
    hidden_size: k, direction: p.reverse ? 'reverse' : 'forward',
  });
  const T = onnx.AttributeProto.AttributeType;
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  node.attribute?.push(...(pair
    ? [{ name: 'activations', type: T.STRINGS, strings: [enc(p.fAct), enc(p.gAct), enc('Relu')] }]
    : [
      { name: 'activations', type: T.STRINGS, strings: [enc(p.fAct), enc(p.gAct), enc('Affine')] },
      { name: 'activation_alpha', type: T.FLOATS, floats: [1] },
      { name: 'activation_beta', type: T.FLOATS, floats: [0] },
    ]));
  b.nodes.push(node);
  let cells = y; // [T,1,B·H/k,k]
  if (pair) {
    const rows = b.op('Reshape', [y, b.i64([0, 0, 2, -1, k])]); // [T,1,2,B·H/k,k]: relu(c) rows, then relu(−c) rows
    cells = b.op('Sub', [b.slice(rows, 0, 1, 2), b.slice(rows, 1, 2, 2)]); // [T,1,1,B·H/k,k]
  }
  const cell = b.op('Reshape', [cells, p.dirShape], {}, { out: p.outNames?.[4] }); // → [T,1,B,H]
  if (!p.peepholes) return { gates, cell };
  // i = f(pre_i + Pi⊙c_{t-1}), f = f(pre_f + Pf⊙c_{t-1}), o = f(pre_o + Po⊙c_t).
  const cPrev = p.shift(cell, b.unsqueeze(p.c0d(), [0]));
  const preOf = (g: number): string => b.op('Reshape', [pre[g], p.dirShape]);
  const peepOf = (g: number): string => b.slice(pd, g * H, (g + 1) * H, 0);
  const withPeep = (g: number, c: string, out?: string): string =>
    b.op(p.fAct, [b.add(preOf(g), b.mul(peepOf(g), c))], {}, { out });
  return {
    gates: [
      withPeep(0, cPrev, p.outNames?.[0]),
      withPeep(1, cell, p.outNames?.[1]),
      withPeep(2, cPrev, p.outNames?.[2]),
      gateOf(3),
    ],
    cell,
  };
}
