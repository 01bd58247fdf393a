/**
 * 8. Positional encoding: the encoding matrix (positions × dimensions) and the cosine similarity between
 * positions, where the model has one — a learned table read from the weights, or the output of a
 * sinusoidal Sin/Cos subgraph exposed for this run's length.
 */
import type { PositionalEncoding } from '../data/runData.js';
import { positionSimilarity } from '../data/positional.js';
import { Scene } from '../render/scene.js';
import { cellMark, drawMatrix, fmt, hitMatrix, legend, matrixCsv, range, title, type MatrixLayout } from './drawing.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const LEFT = 56, MAX_POS = 512;

export class PositionalView implements View {
  readonly id = 'positional';
  readonly title = 'Positions';
  private matL?: MatrixLayout;
  private simL?: MatrixLayout;

  private pe(env: ViewEnv): PositionalEncoding | undefined {
    return env.runs[0]?.positional;
  }

  unavailable(env: ViewEnv): string | undefined {
    if (!env.runs[0]) return 'No run yet.';
    return this.pe(env) ? undefined : 'No positional encoding was found in this model (no positional-embedding table and no Sin/Cos position subgraph); recurrent models know order from recurrence.';
  }

  controls(): Control[] {
    return [];
  }

  private sim(env: ViewEnv): { n: number; data: Float32Array } {
    const pe = this.pe(env)!;
    return env.runs[0].memo('posSim', () => positionSimilarity(pe, MAX_POS));
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, pe = this.pe(env)!;
    const rows = Math.min(pe.rows, MAX_POS);
    const mat = { rows, cols: pe.cols, data: pe.data.subarray(0, rows * pe.cols) };
    const sim = this.sim(env);
    const half = Math.max(160, Math.min(440, (env.width - 3 * LEFT) / 2));
    const s = new Scene(env.width, 64 + half + 60, th.bg, th.fonts);
    title(s, th, `${env.runs[0].label} · positional encoding from ${pe.source} · ${pe.rows} positions × ${pe.cols} dims${pe.rows > MAX_POS ? ` (first ${MAX_POS} shown)` : ''}`);
    const r = range(mat);
    s.text(LEFT, 40, 'encoding: position ↓ × dimension →', th.fg, 11, 'left', 'middle', { bold: true });
    this.matL = drawMatrix(s, th, mat, LEFT, 52, half, half, th.div, -r.absMax, r.absMax, undefined, 'mean');
    legend(s, th, th.div, LEFT, 60 + half, Math.min(180, half), -r.absMax, r.absMax, 'value');
    const x2 = LEFT * 2 + half;
    s.text(x2, 40, 'cosine similarity: position × position', th.fg, 11, 'left', 'middle', { bold: true });
    this.simL = drawMatrix(s, th, { rows: sim.n, cols: sim.n, data: sim.data }, x2, 52, half, half, th.div, -1, 1, undefined, 'mean');
    legend(s, th, th.div, x2, 60 + half, Math.min(180, half), -1, 1, 'cosine');
    for (const L of [this.matL, this.simL]) {
      s.text(L.x - 4, L.y, '0', th.muted, 10, 'right', 'top');
      s.text(L.x - 4, L.y + L.h, String(L.rows - 1), th.muted, 10, 'right', 'bottom');
    }
    return s;
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const pe = this.pe(env)!;
    const a = hitMatrix(this.matL, x, y);
    if (a && this.matL) return { text: `position ${a.r}, dimension ${a.c}\n${fmt(pe.data[a.r * pe.cols + a.c])}`, marks: [cellMark(this.matL, a.r, a.c)] };
    const b = hitMatrix(this.simL, x, y);
    if (b && this.simL) { const sim = this.sim(env); return { text: `positions ${b.r} · ${b.c}\ncosine ${fmt(sim.data[b.r * sim.n + b.c])}`, marks: [cellMark(this.simL, b.r, b.c)] }; }
    return undefined;
  }

  numbers(env: ViewEnv): ExportNumbers {
    const pe = this.pe(env)!;
    const m = { rows: pe.rows, cols: pe.cols, data: pe.data };
    const sim = this.sim(env);
    return {
      name: 'positional-encoding',
      csv: matrixCsv(m, Array.from({ length: pe.rows }, (_, i) => `pos ${i}`), Array.from({ length: pe.cols }, (_, i) => `dim ${i}`)),
      json: { model: env.runs[0].label, source: pe.source, rows: pe.rows, cols: pe.cols, values: Array.from(pe.data), similarity: { n: sim.n, values: Array.from(sim.data) } },
      tensors: [{ name: 'positional-encoding', tensor: { dims: [pe.rows, pe.cols], data: pe.data } }],
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const pe = this.pe(env)!;
    return { encoding: Array.from(pe.data), shape: [pe.rows, pe.cols] };
  }
}
