/**
 * 7. Predictions: the top-k next tokens at each position (with the probability the model gave the token
 * that really comes next), and the logit lens across layers where core exposes per-layer logits.
 * Long inputs are shown as a scrollable window of positions (wheel or the "From" control).
 */
import type { TokenSpan } from '../../src/core/trace/traceTypes.js';
import { lensAt, lensHidden, logitRows, logitTensors, nextTokenAt, nextTokenProb, topK } from '../data/derived.js';
import { tokenLabel, type RunData } from '../data/runData.js';
import type * as math from '../data/traceMath.js';
import { vocabDisplay, vocabHover, vocabText } from '../data/vocab.js';
import { cutLabel } from '../data/tokenDisplay.js';
import { Scene } from '../render/scene.js';
import { lutColor } from '../render/theme.js';
import { fmt, title, tokenWindow } from './drawing.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const ROW = 20, TOP = 56, K = 5, POS_W = 150, CELL_W = 78, WINDOW = 64, LENS_W = 60;

export class Predictions implements View {
  readonly id = 'predictions';
  readonly title = 'Predictions';
  private start = 0;
  /** What the CSV export holds: the top-k table or the logit-lens grid. */
  private csvOf: 'predictions' | 'lens' = 'predictions';
  private layout?: { t0: number; t1: number; lensX: number; lensLayers: number };

  unavailable(env: ViewEnv): string | undefined {
    const run = env.runs[0];
    if (!run) return 'No run yet.';
    return logitRows(run) !== undefined ? undefined : 'This model has no logits output to predict from.';
  }

  /** Tokens the rows stand for: inputs for language models, generated tokens for seq2seq. */
  private rowTokens(run: RunData): TokenSpan[] {
    return run.trace.generated ?? run.tokens;
  }

  controls(env: ViewEnv): Control[] {
    const n = logitRows(env.runs[0]) ?? 0;
    const out: Control[] = n > WINDOW ? [{ kind: 'number', id: 'from', label: 'From position', value: this.start, min: 0, max: n - 1, set: (v) => { this.start = v; env.redraw(); } }] : [];
    if (this.lensLayers(env.runs[0]).length) {
      out.push({ kind: 'select', id: 'csv', label: 'CSV export', value: this.csvOf, options: [{ value: 'predictions', label: 'top-k table' }, { value: 'lens', label: 'logit-lens grid' }],
        set: (v) => { this.csvOf = v === 'lens' ? 'lens' : 'predictions'; } });
    }
    return out;
  }

  /** Layers of the logit lens; empty when the plan has none (recurrent and seq2seq models). */
  private lensLayers(run: RunData | undefined): number[] {
    if (!run?.lens || run.trace.generated) return [];
    const layers = lensHidden(run);
    return layers.length >= 2 && layers[0].m.rows === logitRows(run) ? layers.map((l) => l.layer) : [];
  }

  /** lens[layer index][rank] at one position. */
  private lensCell(run: RunData, t: number): math.TopK[][] {
    return lensAt(run, t, K);
  }

  /** The whole grid (every position), for exports and tests: grid[layer index][position][rank]. */
  private lensGrid(run: RunData): math.TopK[][][] {
    const layers = this.lensLayers(run);
    const n = logitRows(run) ?? 0;
    const byPos = Array.from({ length: n }, (_, t) => this.lensCell(run, t));
    return layers.map((_, i) => byPos.map((cell) => cell[i]));
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, run = env.runs[0];
    const positions = logitRows(run)!;
    const top = topK(run, K)!;
    const rows = this.rowTokens(run);
    const seq2seq = !!run.trace.generated;
    const { t0, t1 } = tokenWindow(positions, this.start, WINDOW);
    const lens = this.lensLayers(run);
    const s = new Scene(env.width, TOP + (t1 - t0) * ROW + 20, th.bg, th.fonts);
    title(s, th, `${run.label} · top-${K} next-token predictions${positions > WINDOW ? ` · positions ${t0}–${t1 - 1} of ${positions}` : ''}`);
    s.text(8, TOP - 12, seq2seq ? 'step: emitted' : 'after token', th.muted, 10, 'left', 'middle');
    for (let k = 0; k < K; k++) s.text(POS_W + k * CELL_W + 4, TOP - 12, `#${k + 1}`, th.muted, 10, 'left', 'middle');
    const nextX = POS_W + K * CELL_W + 8;
    if (!seq2seq) s.text(nextX, TOP - 12, 'actual next: p (rank)', th.muted, 10, 'left', 'middle');
    const lensX = nextX + (seq2seq ? 0 : 150);
    if (lens.length) {
      s.text(lensX, TOP - 30, 'logit lens: top-1/layer', th.fg, 11, 'left', 'middle', { bold: true });
      lens.forEach((l, i) => s.text(lensX + i * LENS_W + 4, TOP - 12, `L${l}`, th.muted, 10, 'left', 'middle'));
    }
    for (let t = t0; t < t1; t++) {
      const y = TOP + (t - t0) * ROW;
      const label = seq2seq ? `${t}: ${tokenLabel(rows[t], 10)}` : `${t} ${tokenLabel(run.tokens[t], 12)}`;
      if (t === env.sel.pinned) s.rect(4, y, POS_W - 8, ROW - 2, undefined, th.pin, 1.5);
      s.text(8, y + ROW / 2, label, th.fg, 12, 'left', 'middle', { mono: true });
      top[t].forEach((p, k) => {
        const x = POS_W + k * CELL_W;
        s.rect(x, y + 1, CELL_W - 4, ROW - 3, lutColor(th.seq, Math.sqrt(p.p)));
        s.text(x + 4, y + ROW / 2, `${cutLabel(vocabDisplay(run, p.id), 5)} ${(p.p * 100).toFixed(0)}%`, p.p > 0.45 ? th.bg : th.fg, 11, 'left', 'middle', { mono: true });
      });
      const next = seq2seq ? undefined : nextTokenAt(run, t);
      if (next) {
        s.text(nextX, y + ROW / 2, `${tokenLabel(run.tokens[t + 1], 5)} ${(next.p * 100).toFixed(1)}% (${next.beyond ? `>${next.rank - 1}` : next.rank})`,
          next.rank === 1 ? th.fg : th.muted, 11, 'left', 'middle', { mono: true });
      }
      const cell = lens.length ? this.lensCell(run, t) : [];
      lens.forEach((_, i) => {
        const p = cell[i]?.[0];
        if (!p) return;
        const x = lensX + i * LENS_W;
        // The last layer's top-1 is the model's own prediction: outlined where an earlier layer already agrees.
        const final = cell[cell.length - 1]?.[0];
        s.rect(x, y + 1, LENS_W - 4, ROW - 3, lutColor(th.seq, Math.sqrt(p.p)), final && i < lens.length - 1 && p.id === final.id ? th.fg : undefined, 1);
        s.text(x + 4, y + ROW / 2, `${cutLabel(vocabDisplay(run, p.id), 3)} ${(p.p * 100).toFixed(0)}%`, p.p > 0.45 ? th.bg : th.fg, 10, 'left', 'middle', { mono: true });
      });
    }
    s.width = Math.max(env.width, lensX + (lens.length ? Math.max(lens.length * LENS_W, 160) : 0) + 8);
    this.layout = { t0, t1, lensX, lensLayers: lens.length };
    return s;
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const L = this.layout, run = env.runs[0];
    if (!L || y < TOP) return undefined;
    const t = L.t0 + Math.floor((y - TOP) / ROW);
    if (t >= L.t1) return undefined;
    if (x >= POS_W && x < POS_W + K * CELL_W) {
      const k = Math.floor((x - POS_W) / CELL_W);
      const p = topK(run, K)![t][k];
      return { text: `position ${t} prediction #${k + 1}\n${vocabHover(run, p.id)}\np ${fmt(p.p)} · logit ${fmt(p.logit)}`, marks: [{ x: POS_W + k * CELL_W, y: TOP + (t - L.t0) * ROW + 1, w: CELL_W - 4, h: ROW - 3 }] };
    }
    if (L.lensLayers && x >= L.lensX && x < L.lensX + L.lensLayers * LENS_W) {
      const i = Math.floor((x - L.lensX) / LENS_W);
      const layer = this.lensLayers(run)[i];
      const top = this.lensCell(run, t)[i] ?? [];
      const lines = top.map((p, k) => `#${k + 1} ${vocabHover(run, p.id)} p ${fmt(p.p)} · logit ${fmt(p.logit)}`);
      return { text: `logit lens layer ${layer}, position ${t} (hidden state → final norm → output projection)\n${lines.join('\n')}`, marks: [{ x: L.lensX + i * LENS_W, y: TOP + (t - L.t0) * ROW + 1, w: LENS_W - 4, h: ROW - 3 }] };
    }
    return undefined;
  }

  click(env: ViewEnv, _x: number, y: number): void {
    const L = this.layout;
    if (!L || y < TOP) return;
    const t = L.t0 + Math.floor((y - TOP) / ROW);
    if (t < L.t1) env.setSel({ pinned: env.sel.pinned === t ? undefined : t });
  }

  wheel(env: ViewEnv, _x: number, _y: number, deltaY: number): boolean {
    const n = logitRows(env.runs[0]) ?? 0;
    if (n <= WINDOW) return false;
    this.start = Math.max(0, Math.min(n - WINDOW, this.start + Math.sign(deltaY) * 8));
    env.redraw();
    return true;
  }

  numbers(env: ViewEnv): ExportNumbers {
    const run = env.runs[0];
    const top = topK(run, K)!;
    const layers = this.lensLayers(run);
    const grid = layers.length ? this.lensGrid(run) : [];
    const csvText = (id: number): string => JSON.stringify(vocabText(run, id));
    const csv = this.csvOf === 'lens' && layers.length
      ? ['layer,position,rank,token,id,p,logit', ...grid.flatMap((byPos, i) => byPos.flatMap((row, t) => row.map((p, k) => `${layers[i]},${t},${k + 1},${csvText(p.id)},${p.id},${p.p},${p.logit}`)))].join('\n')
      : ['position,rank,token,id,p,logit', ...top.flatMap((row, t) => row.map((p, k) => `${t},${k + 1},${csvText(p.id)},${p.id},${p.p},${p.logit}`))].join('\n');
    return {
      name: this.csvOf === 'lens' && layers.length ? 'logit-lens' : 'predictions',
      csv,
      json: {
        model: run.label,
        topK: top.map((row) => row.map((p) => ({ ...p, text: vocabText(run, p.id), label: vocabDisplay(run, p.id) }))),
        ...(layers.length ? { logitLens: layers.map((layer, i) => ({ layer, topK: grid[i].map((row) => row.map((p) => ({ ...p, text: vocabText(run, p.id), label: vocabDisplay(run, p.id) }))) })) } : {}),
      },
      tensors: logitTensors(run, ''),
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const run = env.runs[0];
    const top = topK(run, K)!;
    const layers = this.lensLayers(run);
    const grid = layers.length ? this.lensGrid(run) : [];
    return {
      topIds: top.flatMap((r) => r.map((p) => p.id)), topP: top.flatMap((r) => r.map((p) => p.p)),
      nextP: Array.from(nextTokenProb(run) ?? []),
      lensLayers: layers,
      // Top-1 id per (layer, position), layer-major: the last layer must be the model's own top-1.
      lensTop1: grid.flatMap((byPos) => byPos.map((r) => r[0]?.id ?? -1)),
      lensTop1P: grid.flatMap((byPos) => byPos.map((r) => r[0]?.p ?? 0)),
    };
  }
}
