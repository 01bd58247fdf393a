/**
 * NumPy .npy files (format 1.0: little-endian float32, C order) for `seqlens trace --dump`, so every
 * probe tensor opens with `numpy.load`. Browser-safe: bytes in, bytes out, no Buffer.
 */
import { SeqLensError } from '../errors.js';
import type { FloatTensor } from '../run/backend.js';
import { halfToFloat } from '../onnx/float16.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function shapeLiteral(dims: readonly number[]): string {
  if (dims.length === 0) return '()';
  if (dims.length === 1) return `(${dims[0]},)`;
  return `(${dims.join(', ')})`;
}

export function encodeNpy(tensor: FloatTensor): Uint8Array {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.data.length) throw new SeqLensError('runtime', `tensor dims [${tensor.dims.join(', ')}] hold ${count} values, data has ${tensor.data.length}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeLiteral(tensor.dims)}, }`;
  // magic(6) + version(2) + length(2) + header + '\n' is padded with spaces to a multiple of 64 bytes.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + count * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const offset = 10 + header.length;
  if (littleEndian) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, count * 4), offset);
  } else {
    const view = new DataView(out.buffer, offset);
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, tensor.data[i]!, true);
  }
  return out;
}

const DTYPES: Record<string, { size: number; read: (v: DataView, at: number, le: boolean) => number }> = {
  f4: { size: 4, read: (v, at, le) => v.getFloat32(at, le) },
  f8: { size: 8, read: (v, at, le) => v.getFloat64(at, le) },
  i4: { size: 4, read: (v, at, le) => v.getInt32(at, le) },
  i8: { size: 8, read: (v, at, le) => Number(v.getBigInt64(at, le)) },
  f2: { size: 2, read: (v, at, le) => halfToFloat(v.getUint16(at, le)) },
};

/** Reads a .npy file (v1/v2/v3; float16/32/64, int32/64, either byte order, C order) as float32. */
export function decodeNpy(bytes: Uint8Array): FloatTensor {
  const bad = (why: string): never => {
    throw new SeqLensError('runtime', `not a readable .npy file: ${why}`);
  };
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) bad('missing \\x93NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) bad(`format version ${major} is not 1, 2 or 3`);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) bad('truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerStart + headerLength > bytes.length) bad(`the header claims ${headerLength} bytes, more than the file holds`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  // The header is file content: it is not repeated in the message (it may be long or binary).
  const descr = /'descr':\s*'([<>|=])([a-z]\d+)'/.exec(header) ?? bad('the header has no descr');
  if (/'fortran_order':\s*True/.test(header)) bad('Fortran order is not supported');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header) ?? bad('no shape');
  const dims = shapeText[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  // Claimed sizes are checked before anything is allocated from them.
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) bad('the shape is not a list of sizes');
  const dtype = DTYPES[descr[2]!] ?? bad(`dtype ${descr[1]}${descr[2]} is not supported`);
  const le = descr[1] !== '>';
  const count = dims.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLength;
  if (!(start + count * dtype.size <= bytes.length)) bad('truncated data');
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = dtype.read(view, start + i * dtype.size, le);
  return { dims, data };
}
