/** Reading initializer values as numbers. Views over raw_data where the bytes are aligned; a copy only when they are not. */
import { onnx, type TensorProto } from './decode.js';
import { SeqLensError } from '../errors.js';
import { halfToFloat } from './float16.js';

const DT = onnx.TensorProto.DataType;

export function tensorSize(t: TensorProto): number {
  return t.dims.reduce((a, d) => a * Number(d), 1);
}

/** Bytes per element in raw_data, and the typed field that holds the values otherwise. */
function storage(t: TensorProto): { width: number; field: ArrayLike<unknown> } | undefined {
  switch (t.dataType) {
    case DT.FLOAT: return { width: 4, field: t.floatData };
    case DT.FLOAT16: case DT.BFLOAT16: return { width: 2, field: t.int32Data };
    case DT.DOUBLE: return { width: 8, field: t.doubleData };
    case DT.INT64: return { width: 8, field: t.int64Data };
    case DT.INT32: return { width: 4, field: t.int32Data };
    case DT.INT8: case DT.UINT8: case DT.BOOL: return { width: 1, field: t.int32Data };
    default: return undefined;
  }
}

/**
 * The element count, checked against the values the tensor really holds. Dims are only a claim: a
 * damaged file may say [2^40] over 8 bytes, and nothing may be allocated or read on its word.
 */
function checkedSize(t: TensorProto): number {
  if (!t.dims.every((d) => Number.isSafeInteger(Number(d)) && Number(d) >= 0)) {
    throw new SeqLensError('truncated', `Tensor ${t.name} is damaged: its dims [${t.dims.join(', ')}] are not sizes.`);
  }
  const n = tensorSize(t);
  const s = storage(t);
  if (!s) return n;
  const held = t.rawData && t.rawData.length > 0 ? Math.floor(t.rawData.length / s.width) : s.field.length;
  if (!(n <= held)) throw new SeqLensError('truncated', `Tensor ${t.name} is damaged: its dims [${t.dims.join(', ')}] claim ${n} values, it holds ${held}.`);
  return n;
}

/** The tensor's values as float32 (float, float16, bfloat16, double, int32/64 and bool are converted). */
export function tensorToFloat32(t: TensorProto): Float32Array {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new SeqLensError('external-data', `Tensor ${t.name} keeps its data in an external file; load it with its data file.`);
  }
  const n = checkedSize(t);
  const raw = t.rawData;
  const hasRaw = raw && raw.length > 0;
  const view = hasRaw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  switch (t.dataType) {
    case DT.FLOAT:
      if (!view) return Float32Array.from(t.floatData);
      if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
      // new Uint8Array(view) copies; Buffer#slice (Node) would return a view of the whole file instead.
      return new Float32Array(new Uint8Array(raw.subarray(0, n * 4)).buffer, 0, n);
    case DT.FLOAT16:
    case DT.BFLOAT16: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const h = view ? view.getUint16(i * 2, true) : t.int32Data[i];
        out[i] = t.dataType === DT.FLOAT16 ? halfToFloat(h) : new Float32Array(new Uint32Array([h << 16]).buffer)[0];
      }
      return out;
    }
    case DT.DOUBLE: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view ? view.getFloat64(i * 8, true) : t.doubleData[i];
      return out;
    }
    case DT.INT64: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view ? Number(view.getBigInt64(i * 8, true)) : t.int64Data[i];
      return out;
    }
    case DT.INT32:
    case DT.INT8:
    case DT.UINT8:
    case DT.BOOL: {
      const out = new Float32Array(n);
      const width = t.dataType === DT.INT32 ? 4 : 1;
      for (let i = 0; i < n; i++) {
        if (!view) out[i] = t.int32Data[i];
        else if (width === 4) out[i] = view.getInt32(i * 4, true);
        else out[i] = t.dataType === DT.INT8 ? view.getInt8(i) : view.getUint8(i);
      }
      return out;
    }
    default:
      throw new SeqLensError('unsupported', `Tensor ${t.name} has data type ${t.dataType}, which Sequence Lens does not read.`);
  }
}

/** Integer values of a small shape-like tensor (int64/int32). */
export function tensorToInts(t: TensorProto): number[] {
  return Array.from(tensorToFloat32(t), (v) => Math.round(v));
}
