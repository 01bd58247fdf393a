/**
 * GRU gates for one direction of an ONNX GRU node, given h_{t-1} for every step (the op's own Y
 * shifted by one step, built by recurrentNative.ts). ONNX block order in W/R/B is z, r, h.
 *
 * One Gemm over all steps gives every pre-activation at once, [X_t, h_{t-1}] · M + bias, where M
 * stacks [Wz|Rz], [Wr|Rr], [Wh|0] and, with linear_before_reset=1, [0|Rh] (the zero blocks are
 * built from the weights and folded by onnxruntime at load time):
 *   z = f(·), r = f(·),
 *   linear_before_reset=1: h̃ = g(X·Whᵀ + Wbh + r⊙(h_{t-1}·Rhᵀ + Rbh))
 *   linear_before_reset=0: h̃ = g(X·Whᵀ + Wbh + Rbh + (r⊙h_{t-1})·Rhᵀ)   (one more MatMul)
 */
import type { RecurrentBuilder } from './recurrentBuilder.js';

export interface GruDirectionInput {
  x4: string; // [T,1,B,I]
  hPrev: string; // [T,1,B,H]
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
  const wd = b.pick(p.w, p.d, 0); // [3H, I]
  const rd = b.pick(p.r, p.d, 0); // [3H, H]
  const rows = (m: string, k: number): string => b.slice(m, k * H, (k + 1) * H, 0);
  const zerosLike = (m: string): string => b.op('Sub', [m, m]);
  const wh = rows(wd, 2);
  const rh = rows(rd, 2);
  const stacked = [
    b.op('Concat', [rows(wd, 0), rows(rd, 0)], { axis: 1 }),
    b.op('Concat', [rows(wd, 1), rows(rd, 1)], { axis: 1 }),
    b.op('Concat', [wh, zerosLike(rh)], { axis: 1 }),
  ];
  if (p.linearBeforeReset) stacked.push(b.op('Concat', [zerosLike(wh), rh], { axis: 1 }));
  const mT = b.transpose(b.op('Concat', stacked, { axis: 0 }), [1, 0]); // [I+H, 3H or 4H]

  const a = b.op('Flatten', [b.op('Concat', [p.x4, p.hPrev], { axis: 3 })], { axis: 3 }); // [T·B, I+H]
  let pre: string;
  if (p.bias) {
    const bd = b.pick(p.bias, p.d, 0); // [6H] = Wb (z r h) ++ Rb (z r h)
    const wb = (k: number): string => b.slice(bd, k * H, (k + 1) * H, 0);
    const rb = (k: number): string => b.slice(bd, (3 + k) * H, (4 + k) * H, 0);
    const parts = [b.add(wb(0), rb(0)), b.add(wb(1), rb(1))];
    parts.push(p.linearBeforeReset ? wb(2) : b.add(wb(2), rb(2)));
    if (p.linearBeforeReset) parts.push(rb(2));
    pre = b.op('Gemm', [a, mT, b.op('Concat', parts, { axis: 0 })]);
  } else {
    pre = b.op('MatMul', [a, mT]);
  }
  const block = (k: number): string => b.slice(pre, k * H, (k + 1) * H, 1);
  const clipped = (t: string): string => (p.clip !== undefined ? b.clip(t, p.clip) : t);
  const z = b.op(p.fAct, [clipped(block(0))]);
  const r = b.op(p.fAct, [clipped(block(1))]);
  const candidatePre = p.linearBeforeReset
    ? b.add(block(2), b.mul(r, block(3)))
    : b.add(block(2), b.op('MatMul', [b.mul(r, b.op('Flatten', [p.hPrev], { axis: 3 })), b.transpose(rh, [1, 0])]));
  const hh = b.op(p.gAct, [clipped(candidatePre)]);
  return [z, r, hh].map((t, k) => b.op('Reshape', [t, p.dirShape], {}, { out: p.outNames?.[k] }));
}
