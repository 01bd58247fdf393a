/**
 * The bottleneck curve in the Compare view: exact match against source length on held-out data, one
 * line per run whose model has that data (heldoutAccuracy.ts), with this input's length marked. The
 * numbers are the models' own (what docs/bottleneck.md tables and docs/bottleneck.svg plots).
 */
import type { AccuracyCurve } from '../data/heldoutAccuracy.js';
import type { Scene } from '../render/scene.js';
import type { Theme } from '../render/theme.js';

export interface CurveSeries {
  label: string;
  color: string;
  curve: AccuracyCurve;
}

/** Room the legend takes right of the chart. */
export const LEGEND_W = 190;

export interface CurveLayout { x: number; y: number; w: number; h: number; maxLen: number; y0: number }

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/** Draws the chart in the box (x, y, w, h): axes, one line per series, and a marker at `inputLength`. */
export function drawAccuracyCurve(s: Scene, th: Theme, series: CurveSeries[], x: number, y: number, w: number, h: number, inputLength?: number): CurveLayout {
  const maxLen = Math.max(...series.flatMap((c) => c.curve.buckets.map((b) => b.hi)), inputLength ?? 0, 1);
  const lowest = Math.min(...series.flatMap((c) => c.curve.buckets.map((b) => b.exactMatch)));
  // The lines sit high (70–100 % here): start the axis at a round step below the lowest point.
  const y0 = Math.max(0, Math.floor((lowest - 0.05) * 10) / 10);
  const X = (len: number): number => x + (len / maxLen) * w;
  const Y = (v: number): number => y + h * (1 - (v - y0) / (1 - y0));
  s.text(x - 48, y - 10, 'Exact match against source length (held-out data of each model)', th.fg, 11, 'left', 'middle', { bold: true });
  s.rect(x, y, w, h, undefined, th.border);
  for (let v = y0; v <= 1.0001; v += y0 >= 0.5 ? 0.1 : 0.25) {
    s.line(x, Y(v), x + w, Y(v), th.border, 0.5);
    s.text(x - 4, Y(v), `${Math.round(v * 100)}%`, th.muted, 10, 'right', 'middle');
  }
  const tick = maxLen > 40 ? 20 : 10;
  for (let len = 0; len <= maxLen; len += tick) s.text(X(len), y + h + 10, String(len), th.muted, 10, 'center', 'middle');
  s.text(x + w / 2, y + h + 24, 'source length (characters)', th.muted, 10, 'center', 'middle');
  if (inputLength !== undefined) {
    const right = X(inputLength) > x + w - 120;
    s.line(X(inputLength), y, X(inputLength), y + h, th.fg, 1, 0.6);
    s.text(X(inputLength) + (right ? -4 : 4), y + h - 8, `this input: ${inputLength} characters`, th.fg, 10, right ? 'right' : 'left', 'middle');
  }
  series.forEach((c, i) => {
    const pts = c.curve.buckets.flatMap((b) => [X((b.lo + b.hi) / 2), Y(b.exactMatch)]);
    s.path(pts, c.color, 2, 0.95);
    for (const b of c.curve.buckets) s.circle(X((b.lo + b.hi) / 2), Y(b.exactMatch), 2.5, c.color);
    // The legend, right of the chart (LEGEND_W): the lines fill the chart's top.
    s.rect(x + w + 12, y + 8 + i * 36, 12, 3, c.color);
    s.text(x + w + 30, y + 10 + i * 36, c.label, c.color, 11, 'left', 'middle', { bold: true });
    if (c.curve.overall !== undefined) s.text(x + w + 30, y + 24 + i * 36, `${pct(c.curve.overall)} exact over all`, th.muted, 10, 'left', 'middle');
  });
  return { x, y, w, h, maxLen, y0 };
}

/** The bucket under x in the chart, per series, for the tooltip. */
export function accuracyHover(L: CurveLayout, series: CurveSeries[], x: number): string | undefined {
  const len = ((x - L.x) / L.w) * L.maxLen;
  const lines = series.flatMap((c) => {
    const b = c.curve.buckets.find((k) => len >= k.lo - 0.5 && len <= k.hi + 0.5);
    return b ? [`${c.label}: ${pct(b.exactMatch)} exact on ${b.n} held-out sources of ${b.lo}–${b.hi} characters`] : [];
  });
  return lines.length ? lines.join('\n') : undefined;
}
