/**
 * GRU gates for one direction of an ONNX GRU node, given h_{t-1} for every step (the op's own Y
 * shifted by one step, built by recurrentNative.ts). ONNX block order in W/R/B is z, r, h.
 *
 * Every step at once, one Gemm per gate whose C input is that gate's input part (recurrentInput.ts:
 * a row gather of a load-time table, or X·Wᵀ + bias), so the sum costs nothing extra:
 *   z = f(h_{t-1}·Rzᵀ + Pz),  r = f(h_{t-1}·Rrᵀ + Pr)            (Pz, Pr carry Wb + Rb)
 *   linear_before_reset=1: h̃ = g(Ph + r⊙(h_{t-1}·Rhᵀ + Rbh))      (Ph carries Wbh)
 *   linear_before_reset=0: h̃ = g((r⊙h_{t-1})·Rhᵀ + Ph)            (Ph carries Wbh + Rbh)
 * No zero blocks, no Concat of [X, h] and no column slices: each gate is written once, in place.
 */
import type { RecurrentBuilder } from './recurrentBuilder.js';
import type { InputProjection } from './recurrentInput.js';

export interface GruDirectionInput {
  /** h_{t-1} for every step, [T·B, H]. */
  hPrev: string;
  proj: InputProjection;
  w: string; r: string; bias: string; d: number;
  hidden: number;
  clip?: number;
  linearBeforeReset: boolean;
  fAct: string; gAct: string;
  /** Shape of one direction's [T,1,B,H] tensor, to restore results to. */
  dirShape: string;
  /** Names for the [z, r, h̃] results, when the caller wants them named directly. */
  outNames?: string[];
}

/** Returns [z, r, h̃], each [T,1,B,H]. */
export function gruDirection(b: RecurrentBuilder, p: GruDirectionInput): string[] {
  const H = p.hidden;
  const rd = b.pick(p.r, p.d, 0); // [3H, H]
  const rT = (k: number): string => b.transpose(b.slice(rd, k * H, (k + 1) * H, 0), [1, 0]); // folded at load time
  const bd = p.bias ? b.pick(p.bias, p.d, 0) : ''; // [6H] = Wb (z r h) ++ Rb (z r h)
  const wb = (k: number): string => b.slice(bd, k * H, (k + 1) * H, 0);
  const rb = (k: number): string => b.slice(bd, (3 + k) * H, (4 + k) * H, 0);
  const inputPart = (k: number, withRb: boolean): string =>
    p.proj.gate(p.w, p.d, k * H, (k + 1) * H, bd ? (withRb ? b.add(wb(k), rb(k)) : wb(k)) : '');
  const clipped = (t: string): string => (p.clip !== undefined ? b.clip(t, p.clip) : t);
  // Pre-activations go to [T,1,B,H] before the activation (a Reshape of an intermediate is free; one
  // whose output is a graph output is a copy), so each activation writes its probe in place.
  const to4 = (t: string): string => b.op('Reshape', [t, p.dirShape]);
  const out = (k: number): { out?: string } => ({ out: p.outNames?.[k] });

  const z = b.op(p.fAct, [clipped(to4(b.op('Gemm', [p.hPrev, rT(0), inputPart(0, true)])))], {}, out(0));
  const r = b.op(p.fAct, [clipped(to4(b.op('Gemm', [p.hPrev, rT(1), inputPart(1, true)])))], {}, out(1));
  let candidatePre: string;
  if (p.linearBeforeReset) {
    const rh = bd ? b.op('Gemm', [p.hPrev, rT(2), rb(2)]) : b.op('MatMul', [p.hPrev, rT(2)]);
    candidatePre = b.add(to4(inputPart(2, false)), b.mul(r, to4(rh)));
  } else {
    const resetH = b.op('Reshape', [b.mul(r, to4(p.hPrev)), b.i64([-1, H])]);
    candidatePre = to4(b.op('Gemm', [resetH, rT(2), inputPart(2, true)]));
  }
  return [z, r, b.op(p.gAct, [clipped(candidatePre)], {}, out(2))];
}
