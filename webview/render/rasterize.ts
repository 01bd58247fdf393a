/**
 * Matrix → Raster through a colour LUT. Long sequences are aggregated to the display resolution
 * (max-pooling by default, so one strong attention weight in a block of 4 tokens stays visible instead
 * of being averaged into noise); zooming re-rasterises the visible window at full detail.
 */
import type { Matrix } from '../data/tensorSlice.js';
import type { Raster } from './scene.js';

export interface Window { r0: number; r1: number; c0: number; c1: number }

export interface RasterOptions {
  lut: Uint8ClampedArray;
  min: number;
  max: number;
  /** Largest raster size; bigger windows are pooled down to it. */
  maxRows?: number;
  maxCols?: number;
  pool?: 'max' | 'mean' | 'absmax';
  window?: Window;
}

export interface PooledRaster extends Raster {
  /** Matrix rows (cols) covered by one raster row (col). */
  rowStep: number;
  colStep: number;
  window: Window;
}

export function fullWindow(m: Matrix): Window {
  return { r0: 0, r1: m.rows, c0: 0, c1: m.cols };
}

export function rasterize(m: Matrix, o: RasterOptions): PooledRaster {
  const w = o.window ?? fullWindow(m);
  const nr = w.r1 - w.r0, nc = w.c1 - w.c0;
  const height = Math.max(1, Math.min(nr, o.maxRows ?? nr));
  const width = Math.max(1, Math.min(nc, o.maxCols ?? nc));
  const rowStep = nr / height, colStep = nc / width;
  const pixels = new Uint8ClampedArray(width * height * 4);
  const span = o.max - o.min || 1;
  const pool = o.pool ?? 'max';
  for (let y = 0; y < height; y++) {
    const ra = w.r0 + Math.floor(y * rowStep), rb = Math.max(ra + 1, w.r0 + Math.floor((y + 1) * rowStep));
    for (let x = 0; x < width; x++) {
      const ca = w.c0 + Math.floor(x * colStep), cb = Math.max(ca + 1, w.c0 + Math.floor((x + 1) * colStep));
      let v: number;
      if (rb - ra === 1 && cb - ca === 1) {
        v = m.data[ra * m.cols + ca];
      } else if (pool === 'mean') {
        let s = 0;
        for (let r = ra; r < rb; r++) for (let c = ca; c < cb; c++) s += m.data[r * m.cols + c];
        v = s / ((rb - ra) * (cb - ca));
      } else {
        let best = pool === 'max' ? -Infinity : 0;
        for (let r = ra; r < rb; r++) {
          const base = r * m.cols;
          for (let c = ca; c < cb; c++) {
            const d = m.data[base + c];
            if (pool === 'max' ? d > best : Math.abs(d) > Math.abs(best)) best = d;
          }
        }
        v = best;
      }
      const t = Number.isFinite(v) ? (v - o.min) / span : 0;
      const li = Math.max(0, Math.min(255, Math.round(t * 255))) * 4;
      const pi = (y * width + x) * 4;
      pixels[pi] = o.lut[li]; pixels[pi + 1] = o.lut[li + 1]; pixels[pi + 2] = o.lut[li + 2]; pixels[pi + 3] = 255;
    }
  }
  return { width, height, pixels, rowStep, colStep, window: w };
}
