/**
 * Shrinks a screenshot PNG to a 256-colour (palette) PNG, with nothing but node:zlib: decodes the 8-bit
 * RGB/RGBA PNG Chromium writes, picks the 256 most used colours (on a 5-bit-per-channel histogram, each
 * the mean of its bin), maps every pixel to the nearest, and writes PNG8. Screenshots of the views are
 * flat colours and text, so the picture keeps its look at a third to a fifth of the bytes. Used by
 * tools/walkthroughMedia.ts.
 */
import { deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

export interface Rgba { width: number; height: number; data: Uint8Array }

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** An 8-bit, non-interlaced RGB or RGBA PNG as RGBA pixels. */
export function decodePng(png: Buffer): Rgba {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let width = 0, height = 0, colorType = 0;
  const idat: Buffer[] = [];
  for (let o = 8; o < png.length;) {
    const len = png.readUInt32BE(o), type = png.toString('latin1', o + 4, o + 8), body = png.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      colorType = body[9];
      if (body[8] !== 8 || (colorType !== 2 && colorType !== 6) || body[12] !== 0) throw new Error('only 8-bit non-interlaced RGB/RGBA PNGs');
    } else if (type === 'IDAT') idat.push(body);
    o += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : 3, stride = width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  const cur = new Uint8Array(stride), prev = new Uint8Array(stride);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
      cur[i] = (row[i] + pred) & 255;
    }
    for (let x = 0; x < width; x++) {
      out.set([cur[x * bpp], cur[x * bpp + 1], cur[x * bpp + 2], bpp === 4 ? cur[x * bpp + 3] : 255], (y * width + x) * 4);
    }
    prev.set(cur);
  }
  return { width, height, data: out };
}

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/** The picture with at most 256 colours, as a palette PNG (alpha dropped: screenshots are opaque). */
export function encodePng8(img: Rgba): Buffer {
  const { width, height, data } = img;
  const key = (i: number): number => ((data[i] >> 3) << 10) | ((data[i + 1] >> 3) << 5) | (data[i + 2] >> 3);
  const count = new Float64Array(32768), sum = new Float64Array(32768 * 3);
  for (let i = 0; i < data.length; i += 4) {
    const k = key(i);
    count[k]++;
    sum[k * 3] += data[i]; sum[k * 3 + 1] += data[i + 1]; sum[k * 3 + 2] += data[i + 2];
  }
  const bins = Array.from(count.keys()).filter((k) => count[k] > 0).sort((a, b) => count[b] - count[a]).slice(0, 256);
  const palette = bins.map((k) => [0, 1, 2].map((c) => Math.round(sum[k * 3 + c] / count[k])));
  const nearest = new Int16Array(32768).fill(-1);
  bins.forEach((k, j) => { nearest[k] = j; });
  const index = (k: number): number => {
    if (nearest[k] >= 0) return nearest[k];
    const r = ((k >> 10) << 3) + 4, g = (((k >> 5) & 31) << 3) + 4, b = ((k & 31) << 3) + 4;
    let best = 0, bestD = Infinity;
    palette.forEach(([pr, pg, pb], j) => {
      const d = (pr - r) ** 2 + (pg - g) ** 2 + (pb - b) ** 2;
      if (d < bestD) { bestD = d; best = j; }
    });
    nearest[k] = best;
    return best;
  };
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0;
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = index(key((y * width + x) * 4));
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 3; // 8-bit palette
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('PLTE', Uint8Array.from(palette.flat())), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0))]);
}
