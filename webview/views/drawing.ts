/** Drawing pieces several views share: token axes, colour legends, matrix → CSV. */
import type { TokenSpan } from '../../src/core/trace/traceTypes.js';
import { tokenLabel } from '../data/runData.js';
import type { Matrix } from '../data/tensorSlice.js';
import type { Scene } from '../render/scene.js';
import type { Theme } from '../render/theme.js';
import { lutColor } from '../render/theme.js';

/** Labels tokens [i0, i1) along an axis of length `len` px; thins labels so none overlap. */
export function tokenAxis(s: Scene, th: Theme, tokens: TokenSpan[], i0: number, i1: number, x: number, y: number, len: number, dir: 'down' | 'right', pinned?: number): void {
  const n = i1 - i0;
  if (n <= 0) return;
  const cell = len / n;
  const every = Math.max(1, Math.ceil(11 / cell));
  for (let i = i0; i < i1; i++) {
    if ((i - i0) % every !== 0 && i !== pinned) continue;
    const c = (i - i0 + 0.5) * cell;
    const fill = i === pinned ? th.pin : th.fg;
    const label = every > 1 ? `${i}` : tokenLabel(tokens[i], 10);
    if (dir === 'down') s.text(x - 4, y + c, label, fill, Math.min(11, Math.max(8, cell)), 'right', 'middle', { mono: true, bold: i === pinned });
    else s.text(x + c, y - 4, label, fill, Math.min(11, Math.max(8, cell)), 'left', 'middle', { mono: true, bold: i === pinned, rotate: -Math.PI / 2 });
  }
}

export function legend(s: Scene, th: Theme, map: Uint8ClampedArray, x: number, y: number, w: number, min: number, max: number, caption: string): void {
  const steps = 64;
  for (let i = 0; i < steps; i++) s.rect(x + (i * w) / steps, y, w / steps + 0.5, 8, lutColor(map, i / (steps - 1)));
  s.rect(x, y, w, 8, undefined, th.border);
  s.text(x, y + 14, fmt(min), th.muted, 10, 'left', 'top');
  s.text(x + w, y + 14, fmt(max), th.muted, 10, 'right', 'top');
  s.text(x + w / 2, y + 14, caption, th.muted, 10, 'center', 'top');
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

export function tokenNames(tokens: TokenSpan[], n: number): string[] {
  return Array.from({ length: n }, (_, i) => (tokens[i] ? `${i}:${tokens[i].text}` : String(i)));
}

/** Caption line at the top of a view. */
export function title(s: Scene, th: Theme, text: string, x = 8, y = 12): void {
  s.text(x, y, text, th.fg, 12, 'left', 'middle', { bold: true });
}
