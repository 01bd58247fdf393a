/** IEEE 754 half precision (fp16 weights, `.npy` '<f2', onnxruntime-web float16 outputs) as a number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h & 0x7c00) >> 10, f = h & 0x03ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** A number as IEEE 754 half precision bits, rounded to nearest even (±Infinity past 65504). */
export function floatToHalf(v: number): number {
  const u = new Uint32Array(Float32Array.of(v).buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const man = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 112; // rebiased from 127 to 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: the 24-bit significand shifted right by 14 - e, rounded.
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let h = m >>> shift;
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent is the right rounding
  return sign | h;
}

/** Half-precision bits (onnxruntime's float16 outputs where the runtime has no Float16Array) as float32. */
export function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  return Float32Array.from(bits, halfToFloat);
}
