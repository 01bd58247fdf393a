/** Drawing pieces several views share: token axes, colour legends, matrix → CSV. */
import type { TokenSpan } from '../../src/core/trace/traceTypes.js';
import { tokenLabel } from '../data/runData.js';
import { labelOf } from '../data/tokenDisplay.js';
import type { Matrix } from '../data/tensorSlice.js';
import type { Scene } from '../render/scene.js';
import type { Theme } from '../render/theme.js';
import { lutColor } from '../render/theme.js';
import { rasterize } from '../render/rasterize.js';

/** Labels tokens [i0, i1) along an axis of length `len` px; thins labels so none overlap. */
export function tokenAxis(s: Scene, th: Theme, tokens: TokenSpan[], i0: number, i1: number, x: number, y: number, len: number, dir: 'down' | 'right', pinned?: number): void {
  const n = i1 - i0;
  if (n <= 0) return;
  const cell = len / n;
  const every = Math.max(1, Math.ceil(11 / cell));
  for (let i = i0; i < i1; i++) {
    if ((i - i0) % every !== 0 && i !== pinned) continue;
    const c = (i - i0 + 0.5) * cell;
    const fill = i === pinned ? th.pin : tokens[i]?.generated ? th.accent : th.fg;
    const label = every > 1 ? `${i}` : tokenLabel(tokens[i], 10);
    if (dir === 'down') s.text(x - 4, y + c, label, fill, Math.min(11, Math.max(8, cell)), 'right', 'middle', { mono: true, bold: i === pinned });
    else s.text(x + c, y - 4, label, fill, Math.min(11, Math.max(8, cell)), 'left', 'middle', { mono: true, bold: i === pinned, rotate: -Math.PI / 2 });
  }
}

/** A cell at least this tall (px) shows its token's label; smaller cells show thinned token indices. */
export const LABEL_CELL = 11;

/** Width (px) of `chars` characters of the monospace font at `size` px (labels are measured before any canvas exists). */
export function monoWidth(chars: number, size: number): number {
  return Math.ceil(chars * size * 0.62);
}

/** The longest token label (characters, at most `max`) of an axis. */
export function longestLabel(tokens: TokenSpan[], max = 10): number {
  let n = 1;
  for (const t of tokens) n = Math.max(n, tokenLabel(t, max).length);
  return n;
}

/** The smallest round step (1, 2, 5, 10, 20, 50, …) of at least k: thinned labels then fall on round indices. */
export function roundStep(k: number): number {
  if (k <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(k));
  for (const m of [1, 2, 5, 10]) if (m * p >= k) return m * p;
  return 10 * p;
}

/**
 * Labels the tokens of a scrolled or scaled axis: token i is centred at `at + (i + 0.5) * cell` px, and
 * only centres inside [lo, hi) are labelled (the visible part). `pos` is the x of a 'down' axis (labels
 * end there) or the y of a 'right' axis (labels rise from there). Cells of LABEL_CELL px or more show
 * the token; smaller ones show every k-th index, k round, so that labels never overlap.
 */
export function axisLabels(s: Scene, th: Theme, tokens: TokenSpan[], n: number, at: number, cell: number, pos: number, dir: 'down' | 'right', lo: number, hi: number, pinned?: number): void {
  if (n <= 0 || cell <= 0) return;
  const full = cell >= LABEL_CELL;
  const every = full ? 1 : roundStep(Math.ceil(12 / cell));
  const i0 = Math.max(0, Math.floor((lo - at) / cell)), i1 = Math.min(n, Math.ceil((hi - at) / cell));
  const put = (i: number, bold: boolean): void => {
    const c = at + (i + 0.5) * cell;
    if (c < lo || c >= hi) return;
    const label = full ? tokenLabel(tokens[i], 10) : `${i}`;
    // Tokens the model generated (a continued text) are drawn in the accent colour.
    const fill = bold ? th.pin : tokens[i]?.generated ? th.accent : th.fg;
    if (dir === 'down') s.text(pos - 4, c, label, fill, full ? 11 : 10, 'right', 'middle', { mono: true, bold });
    else s.text(c, pos - 4, label, fill, full ? 11 : 10, 'left', 'middle', { mono: true, bold, rotate: -Math.PI / 2 });
  };
  // The pinned token is always labelled; regular labels too close to it make way.
  const clear = (i: number): boolean => pinned === undefined || (i !== pinned && (full || Math.abs(i - pinned) * cell >= 12));
  for (let i = Math.ceil(i0 / every) * every; i < i1; i += every) if (clear(i)) put(i, false);
  if (pinned !== undefined && pinned >= 0 && pinned < n) put(pinned, true);
}

export function legend(s: Scene, th: Theme, map: Uint8ClampedArray, x: number, y: number, w: number, min: number, max: number, caption: string): void {
  const steps = 64;
  for (let i = 0; i < steps; i++) s.rect(x + (i * w) / steps, y, w / steps + 0.5, 8, lutColor(map, i / (steps - 1)));
  s.rect(x, y, w, 8, undefined, th.border);
  s.text(x, y + 14, fmt(min), th.muted, 10, 'left', 'top');
  s.text(x + w, y + 14, fmt(max), th.muted, 10, 'right', 'top');
  // Caption under the numbers so long captions never overlap them.
  if (caption) s.text(x, y + 26, caption, th.muted, 10, 'left', 'top');
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toFixed(a < 1 ? 4 : a < 100 ? 3 : 1);
}

export function matrixCsv(m: Matrix, rowNames: string[], colNames: string[]): string {
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['', ...colNames.map(q)].join(',')];
  for (let r = 0; r < m.rows; r++) {
    const cells: string[] = [q(rowNames[r] ?? String(r))];
    for (let c = 0; c < m.cols; c++) cells.push(String(m.data[r * m.cols + c]));
    lines.push(cells.join(','));
  }
  return lines.join('\n');
}

/** CSV row/column names: position, label, then the id and vocabulary entry the label does not show. */
export function tokenNames(tokens: TokenSpan[], n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const t = tokens[i];
    if (!t) return String(i);
    const l = labelOf(t);
    return `${i}:${l.label} (id ${l.id}: ${l.vocab})`;
  });
}

/** Caption line at the top of a view. */
export function title(s: Scene, th: Theme, text: string, x = 8, y = 12): void {
  s.text(x, y, text, th.fg, 12, 'left', 'middle', { bold: true });
}

export interface MatrixLayout { x: number; y: number; w: number; h: number; rows: number; cols: number; r0: number; c0: number }

/** Draws m (or its window) as one raster in the box; returns what hit-testing needs. */
export function drawMatrix(s: Scene, th: Theme, m: Matrix, x: number, y: number, w: number, h: number, lut: Uint8ClampedArray, min: number, max: number,
  win?: { r0: number; r1: number; c0: number; c1: number }, pool: 'max' | 'mean' | 'absmax' = 'max'): MatrixLayout {
  const wnd = win ?? { r0: 0, r1: m.rows, c0: 0, c1: m.cols };
  const raster = rasterize(m, { lut, min, max, maxRows: Math.max(1, Math.ceil(h * 2)), maxCols: Math.max(1, Math.ceil(w * 2)), window: wnd, pool });
  s.image(x, y, w, h, raster);
  s.rect(x, y, w, h, undefined, th.border);
  return { x, y, w, h, rows: wnd.r1 - wnd.r0, cols: wnd.c1 - wnd.c0, r0: wnd.r0, c0: wnd.c0 };
}

export function hitMatrix(L: MatrixLayout | undefined, px: number, py: number): { r: number; c: number } | undefined {
  if (!L || px < L.x || py < L.y || px >= L.x + L.w || py >= L.y + L.h) return undefined;
  return { r: L.r0 + Math.floor(((py - L.y) / L.h) * L.rows), c: L.c0 + Math.floor(((px - L.x) / L.w) * L.cols) };
}

export function cellMark(L: MatrixLayout, r: number, c: number): { x: number; y: number; w: number; h: number } {
  const cw = L.w / L.cols, ch = L.h / L.rows;
  return { x: L.x + (c - L.c0) * cw, y: L.y + (r - L.r0) * ch, w: Math.max(2, cw), h: Math.max(2, ch) };
}

export function range(m: Matrix): { min: number; max: number; absMax: number } {
  let min = Infinity, max = -Infinity;
  for (const v of m.data) { if (!Number.isFinite(v)) continue; if (v < min) min = v; if (v > max) max = v; }
  if (min === Infinity) { min = 0; max = 0; }
  return { min, max, absMax: Math.max(Math.abs(min), Math.abs(max)) || 1 };
}

/** Shows a token window [t0, t1) of a long sequence; the rest is reached with the window control. */
export function tokenWindow(n: number, start: number, size: number): { t0: number; t1: number } {
  const t0 = Math.max(0, Math.min(Math.max(0, n - size), start));
  return { t0, t1: Math.min(n, t0 + size) };
}
