/**
 * Activation × weight products in the quantized forms onnxruntime's tools write, so the probe rules see
 * a projection where a float model has a MatMul:
 *
 *   quantize_dynamic   DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, W_zp) → Cast → Mul(x_scale · W_scale)
 *   QOperator static   QuantizeLinear(x) in place of DynamicQuantizeLinear, the same tail
 *   4-bit and 8-bit    com.microsoft MatMulNBits(x, B packed, scales[, zero points])
 *
 * A weight behind DequantizeLinear (QDQ) is already a weight to `isWeight`; `dequantizeLinearBehind` names
 * its parts for the logit lens, which multiplies by the weight itself.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import { isWeight } from '../onnx/graphIndex.js';
import type { NodeProto } from '../onnx/decode.js';
import { attrInt } from '../onnx/attributes.js';
import type { QuantizedWeight } from '../types.js';
import { constantDims, storedWeight } from './graphWalk.js';

export interface QuantizedProduct {
  /** The MatMulInteger or MatMulNBits node. */
  node: NodeProto;
  /** The float activation that is multiplied (before its QuantizeLinear). */
  activation: string;
  /** The float result (after MatMulInteger's Cast and scale Mul). */
  output: string;
  /** The weight's [K, N] where known. */
  dims?: [number, number];
  /** How the weight dequantizes; absent where it cannot be read on its own (MatMulNBits with g_idx). */
  weight?: QuantizedWeight;
  /** MatMulNBits' optional bias (input 5). */
  bias?: string;
}

function isDomain(n: NodeProto, domain: string): boolean {
  return (n.domain === 'ai.onnx' ? '' : n.domain ?? '') === domain;
}

function nbitsProduct(index: GraphIndex, n: NodeProto): QuantizedProduct | undefined {
  const K = attrInt(n, 'K');
  const N = attrInt(n, 'N');
  const blockSize = attrInt(n, 'block_size');
  const [a, b, scales, zp, gIdx, bias] = n.input;
  if (!K || !N || !blockSize || !a || isWeight(index, a) || !b || !isWeight(index, b) || !scales) return undefined;
  const weight: QuantizedWeight | undefined = gIdx ? undefined : {
    form: 'nbits', data: storedWeight(index, b), scales: storedWeight(index, scales),
    ...(zp ? { zeroPoints: storedWeight(index, zp) } : {}), bits: attrInt(n, 'bits', 4), blockSize, K, N,
  };
  return { node: n, activation: a, output: n.output[0], dims: [K, N], ...(weight ? { weight } : {}), ...(bias ? { bias: storedWeight(index, bias) } : {}) };
}

function integerProduct(index: GraphIndex, mm: NodeProto, output: string, scales: string): QuantizedProduct | undefined {
  const [a, b, , bZp] = mm.input;
  if (!a || !b || isWeight(index, a) || !isWeight(index, b)) return undefined;
  const q = index.producer.get(a);
  const dynamic = q?.opType === 'DynamicQuantizeLinear';
  const activation = dynamic || q?.opType === 'QuantizeLinear' ? q.input[0] : a;
  const aScale = dynamic ? q.output[1] : q?.opType === 'QuantizeLinear' ? q.input[1] : undefined;
  // The weight's scale: the constant factor of x_scale · W_scale (or the scale alone, multiplied in directly).
  const sp = index.producer.get(scales);
  const scale = sp?.opType === 'Mul' ? sp.input.find((i) => i !== aScale && isWeight(index, i))
    : isWeight(index, scales) && scales !== aScale ? scales : undefined;
  const dims = constantDims(index, b);
  return {
    node: mm, activation, output,
    ...(dims?.length === 2 ? { dims: [dims[0], dims[1]] as [number, number] } : {}),
    ...(scale ? { weight: { form: 'linear', data: storedWeight(index, b), scale: storedWeight(index, scale), ...(bZp ? { zeroPoint: storedWeight(index, bZp) } : {}), axis: 1 } } : {}),
  };
}

/** The quantized product whose float result is `name`, or undefined. */
export function quantizedProductBehind(index: GraphIndex, name: string): QuantizedProduct | undefined {
  const p = index.producer.get(name);
  if (!p) return undefined;
  if (p.opType === 'MatMulNBits' && isDomain(p, 'com.microsoft')) return nbitsProduct(index, p);
  if (p.opType !== 'Mul' || !isDomain(p, '')) return undefined;
  for (const [i, other] of [[0, 1], [1, 0]] as const) {
    const cast = index.producer.get(p.input[i]);
    if (cast?.opType !== 'Cast') continue;
    const mm = index.producer.get(cast.input[0]);
    if (mm?.opType === 'MatMulInteger') return integerProduct(index, mm, name, p.input[other]);
  }
  return undefined;
}

/** The quantized products that read the float activation `name` (directly, or through its QuantizeLinear). */
export function quantizedProductsReading(index: GraphIndex, name: string): QuantizedProduct[] {
  const out: QuantizedProduct[] = [];
  const after = (t: string, op: string): NodeProto[] => (index.consumers.get(t) ?? []).filter((c) => c.opType === op);
  for (const c of index.consumers.get(name) ?? []) {
    if (c.opType === 'MatMulNBits' && c.input[0] === name) {
      const q = nbitsProduct(index, c);
      if (q) out.push(q);
    }
    if (c.opType !== 'DynamicQuantizeLinear' && c.opType !== 'QuantizeLinear') continue;
    for (const mm of after(c.output[0], 'MatMulInteger')) {
      for (const cast of after(mm.output[0], 'Cast')) {
        for (const mul of after(cast.output[0], 'Mul')) {
          const q = quantizedProductBehind(index, mul.output[0]);
          if (q) out.push(q);
        }
      }
    }
  }
  return out;
}

/** The DequantizeLinear a weight operand comes from (through Identity/Cast/Transpose), as a QuantizedWeight. */
export function dequantizeLinearBehind(index: GraphIndex, name: string): QuantizedWeight | undefined {
  let t = name;
  for (let i = 0; i < 4; i++) {
    const p = index.producer.get(t);
    if (!p) return undefined;
    if (p.opType === 'DequantizeLinear') {
      const [data, scale, zp] = p.input;
      if (!data || !scale || !isWeight(index, data)) return undefined;
      return { form: 'linear', data: storedWeight(index, data), scale: storedWeight(index, scale), ...(zp ? { zeroPoint: storedWeight(index, zp) } : {}), axis: attrInt(p, 'axis', 1) };
    }
    if (!['Identity', 'Cast', 'Transpose'].includes(p.opType)) return undefined;
    t = p.input[0];
  }
  return undefined;
}
