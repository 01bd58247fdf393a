/**
 * Quantized weights as floats, for the few weights Sequence Lens multiplies by itself (the logit lens's
 * output projection): DequantizeLinear's (data - zero point) · scale, per tensor, per axis or per block,
 * and com.microsoft MatMulNBits' packed 2..8-bit blocks.
 */
import { SeqLensError } from '../errors.js';
import type { QuantizedWeight } from '../types.js';

/** A constant's dims, values as float32 and ONNX data type. */
export interface ConstantValues {
  dims: number[];
  data: Float32Array;
  dataType: number;
}

const FLOAT_TYPES = new Set([1, 10, 11, 16]); // FLOAT, FLOAT16, DOUBLE, BFLOAT16

function broken(what: string): SeqLensError {
  return new SeqLensError('unsupported', `The quantized weight ${what}; Sequence Lens cannot dequantize it.`);
}

/** (data - zeroPoint) · scale; the scale a scalar, one value per index of `axis`, or blocks along it (same rank as the data). */
function dequantizeLinear(q: Extract<QuantizedWeight, { form: 'linear' }>, read: (name: string) => ConstantValues): { dims: number[]; data: Float32Array } {
  const x = read(q.data);
  const scale = read(q.scale);
  const zp = q.zeroPoint ? read(q.zeroPoint) : undefined;
  const dims = x.dims;
  const axis = q.axis < 0 ? q.axis + dims.length : q.axis;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const along = dims[axis] ?? 1;
  const blocked = scale.dims.length === dims.length && scale.data.length > 1;
  const blocks = blocked ? scale.dims[axis] : along;
  const blockSize = blocked ? Math.ceil(along / Math.max(blocks, 1)) : 1;
  if (scale.data.length !== 1 && !blocked && scale.data.length !== along) throw broken(`${q.data} has ${scale.data.length} scales for ${along} channels`);
  if (zp && zp.data.length !== scale.data.length) throw broken(`${q.data} has ${zp.data.length} zero points for ${scale.data.length} scales`);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    if (scale.data.length > 1) {
      const a = Math.floor(i / inner) % along;
      const outer = Math.floor(i / (inner * along));
      s = blocked ? (outer * blocks + Math.floor(a / blockSize)) * inner + (i % inner) : a;
    }
    out[i] = (x.data[i] - (zp ? zp.data[s] : 0)) * scale.data[s];
  }
  return { dims, data: out };
}

/** MatMulNBits' B [N, blocks, blob] to the [K, N] matrix it multiplies by. */
function dequantizeNBits(q: Extract<QuantizedWeight, { form: 'nbits' }>, read: (name: string) => ConstantValues): { dims: number[]; data: Float32Array } {
  const { K, N, bits, blockSize } = q;
  if (![2, 4, 8].includes(bits) || blockSize < 1) throw broken(`${q.data} has ${bits} bits in blocks of ${blockSize}`);
  const blocks = Math.ceil(K / blockSize);
  const perByte = 8 / bits;
  const blob = (blockSize * bits) / 8;
  const mask = (1 << bits) - 1;
  const packed = read(q.data).data;
  const scales = read(q.scales).data;
  if (packed.length < N * blocks * blob || scales.length < N * blocks) throw broken(`${q.data} holds fewer values than K=${K}, N=${N} need`);
  const zps = q.zeroPoints ? read(q.zeroPoints) : undefined;
  if (zps && FLOAT_TYPES.has(zps.dataType)) throw broken(`${q.data} has floating-point zero points`);
  const zpStride = Math.ceil((blocks * bits) / 8);
  const out = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      const zp = zps ? (zps.data[n * zpStride + Math.floor(b / perByte)] >> ((b % perByte) * bits)) & mask : 1 << (bits - 1);
      const scale = scales[n * blocks + b];
      for (let i = 0; i < blockSize; i++) {
        const k = b * blockSize + i;
        if (k >= K) break;
        const byte = packed[(n * blocks + b) * blob + Math.floor(i / perByte)];
        out[k * N + n] = (((byte >> ((i % perByte) * bits)) & mask) - zp) * scale;
      }
    }
  }
  return { dims: [K, N], data: out };
}

/** The weight as floats; `read` gives a named constant of the model (throws when there is none). */
export function dequantizeWeight(q: QuantizedWeight, read: (name: string) => ConstantValues): { dims: number[]; data: Float32Array } {
  return q.form === 'linear' ? dequantizeLinear(q, read) : dequantizeNBits(q, read);
}
