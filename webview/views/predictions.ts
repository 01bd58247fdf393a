/**
 * 7. Predictions: the top-k next tokens at each position (with the probability the model gave the token
 * that really comes next), and the logit lens across layers where core exposes per-layer logits.
 * Long inputs are shown as a scrollable window of positions (wheel or the "From" control).
 */
import type { TokenSpan } from '../../src/core/trace/traceTypes.js';
import { lensLayers, logitsMatrix, topK } from '../data/derived.js';
import { tokenLabel, type RunData } from '../data/runData.js';
import * as math from '../data/traceMath.js';
import { vocabText } from '../data/vocab.js';
import { Scene } from '../render/scene.js';
import { lutColor } from '../render/theme.js';
import { fmt, title, tokenWindow } from './drawing.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const ROW = 20, TOP = 56, K = 5, POS_W = 150, CELL_W = 78, WINDOW = 64;

export class Predictions implements View {
  readonly id = 'predictions';
  readonly title = 'Predictions';
  private start = 0;
  private layout?: { t0: number; t1: number; lensX: number; lensLayers: number };

  unavailable(env: ViewEnv): string | undefined {
    const run = env.runs[0];
    if (!run) return 'No run yet.';
    return logitsMatrix(run) ? undefined : 'This model has no logits output to predict from.';
  }

  /** Tokens the rows stand for: inputs for language models, generated tokens for seq2seq. */
  private rowTokens(run: RunData): TokenSpan[] {
    return run.trace.generated ?? run.tokens;
  }

  controls(env: ViewEnv): Control[] {
    const n = logitsMatrix(env.runs[0])?.rows ?? 0;
    return n > WINDOW ? [{ kind: 'number', id: 'from', label: 'From position', value: this.start, min: 0, max: n - 1, set: (v) => { this.start = v; env.redraw(); } }] : [];
  }

  private lens(run: RunData): { layer: number; top: math.TopK[][] }[] {
    const layers = lensLayers(run);
    if (layers.length < 2) return [];
    return run.memo('lensTop', () => layers.map((l) => ({ layer: l.layer, top: math.topKSoftmax(l.m, 1) })));
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, run = env.runs[0];
    const m = logitsMatrix(run)!;
    const top = topK(run, K)!;
    const rows = this.rowTokens(run);
    const seq2seq = !!run.trace.generated;
    const { t0, t1 } = tokenWindow(m.rows, this.start, WINDOW);
    const lens = this.lens(run);
    const s = new Scene(env.width, TOP + (t1 - t0) * ROW + 20, th.bg, th.fonts);
    title(s, th, `${run.label} · top-${K} next-token predictions${m.rows > WINDOW ? ` · positions ${t0}–${t1 - 1} of ${m.rows}` : ''}`);
    s.text(8, TOP - 12, seq2seq ? 'step: emitted' : 'after token', th.muted, 10, 'left', 'middle');
    for (let k = 0; k < K; k++) s.text(POS_W + k * CELL_W + 4, TOP - 12, `#${k + 1}`, th.muted, 10, 'left', 'middle');
    const nextX = POS_W + K * CELL_W + 8;
    if (!seq2seq) s.text(nextX, TOP - 12, 'actual next: p (rank)', th.muted, 10, 'left', 'middle');
    const lensX = nextX + (seq2seq ? 0 : 150);
    if (lens.length) {
      s.text(lensX, TOP - 30, 'logit lens (top-1 per layer)', th.fg, 11, 'left', 'middle', { bold: true });
      lens.forEach((l, i) => s.text(lensX + i * 60 + 4, TOP - 12, `L${l.layer}`, th.muted, 10, 'left', 'middle'));
    }
    for (let t = t0; t < t1; t++) {
      const y = TOP + (t - t0) * ROW;
      const label = seq2seq ? `${t}: ${tokenLabel(rows[t], 10)}` : `${t} ${tokenLabel(run.tokens[t], 12)}`;
      if (t === env.sel.pinned) s.rect(4, y, POS_W - 8, ROW - 2, undefined, th.pin, 1.5);
      s.text(8, y + ROW / 2, label, th.fg, 12, 'left', 'middle', { mono: true });
      top[t].forEach((p, k) => {
        const x = POS_W + k * CELL_W;
        s.rect(x, y + 1, CELL_W - 4, ROW - 3, lutColor(th.seq, Math.sqrt(p.p)));
        s.text(x + 4, y + ROW / 2, `${tokenLabel({ text: vocabText(run, p.id), id: p.id, start: 0, end: 0 }, 5)} ${(p.p * 100).toFixed(0)}%`, p.p > 0.45 ? th.bg : th.fg, 11, 'left', 'middle', { mono: true });
      });
      if (!seq2seq && t + 1 < run.tokens.length) {
        const next = run.tokens[t + 1].id;
        const o = t * m.cols;
        let max = -Infinity, z = 0, rank = 1;
        for (let c = 0; c < m.cols; c++) max = Math.max(max, m.data[o + c]);
        for (let c = 0; c < m.cols; c++) { z += Math.exp(m.data[o + c] - max); if (m.data[o + c] > m.data[o + next]) rank++; }
        const p = Math.exp(m.data[o + next] - max) / z;
        s.text(nextX, y + ROW / 2, `${tokenLabel(run.tokens[t + 1], 5)} ${(p * 100).toFixed(1)}% (${rank})`, rank === 1 ? th.fg : th.muted, 11, 'left', 'middle', { mono: true });
      }
      lens.forEach((l, i) => {
        const p = l.top[t]?.[0];
        if (!p) return;
        const x = lensX + i * 60;
        s.rect(x, y + 1, 56, ROW - 3, lutColor(th.seq, Math.sqrt(p.p)));
        s.text(x + 4, y + ROW / 2, `${tokenLabel({ text: vocabText(run, p.id), id: p.id, start: 0, end: 0 }, 3)} ${(p.p * 100).toFixed(0)}%`, p.p > 0.45 ? th.bg : th.fg, 10, 'left', 'middle', { mono: true });
      });
    }
    s.width = Math.max(env.width, lensX + lens.length * 60 + 8);
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
      return { text: `position ${t} prediction #${k + 1}\n"${vocabText(run, p.id)}" (id ${p.id})\np ${fmt(p.p)} · logit ${fmt(p.logit)}`, marks: [{ x: POS_W + k * CELL_W, y: TOP + (t - L.t0) * ROW + 1, w: CELL_W - 4, h: ROW - 3 }] };
    }
    if (L.lensLayers && x >= L.lensX && x < L.lensX + L.lensLayers * 60) {
      const i = Math.floor((x - L.lensX) / 60);
      const l = this.lens(run)[i];
      const p = l.top[t][0];
      return { text: `logit lens layer ${l.layer}, position ${t}\n"${vocabText(run, p.id)}" p ${fmt(p.p)}`, marks: [{ x: L.lensX + i * 60, y: TOP + (t - L.t0) * ROW + 1, w: 56, h: ROW - 3 }] };
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
    const n = logitsMatrix(env.runs[0])?.rows ?? 0;
    if (n <= WINDOW) return false;
    this.start = Math.max(0, Math.min(n - WINDOW, this.start + Math.sign(deltaY) * 8));
    env.redraw();
    return true;
  }

  numbers(env: ViewEnv): ExportNumbers {
    const run = env.runs[0];
    const top = topK(run, K)!;
    return {
      name: 'predictions',
      csv: ['position,rank,token,id,p,logit', ...top.flatMap((row, t) => row.map((p, k) => `${t},${k + 1},${JSON.stringify(vocabText(run, p.id))},${p.id},${p.p},${p.logit}`))].join('\n'),
      json: { model: run.label, topK: top.map((row) => row.map((p) => ({ ...p, text: vocabText(run, p.id) }))), lens: this.lens(run).map((l) => ({ layer: l.layer, top1: l.top.map((r) => r[0]) })) },
      tensors: run.trace.logits ? [{ name: 'logits', tensor: run.trace.logits }] : [],
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const top = topK(env.runs[0], K)!;
    return { topIds: top.flatMap((r) => r.map((p) => p.id)), topP: top.flatMap((r) => r.map((p) => p.p)) };
  }
}
