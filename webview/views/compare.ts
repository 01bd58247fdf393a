/**
 * 9. Compare: the same text through two models (e.g. the zoo's LSTM and Transformer), or two texts
 * through one model. Top: the probability each run gave the token that really came next, per position,
 * with bits per token; below, side by side, each run's last-layer attention (mean of heads) or, for
 * recurrent models, its last hidden state over the tokens.
 */
import { attentionMatrix, hiddenLayers, layerNeeds, logitTensors, meanKey, nextTokenProb } from '../data/derived.js';
import { tokenHoverText, tokenLabel, tokenRecords, type RunData } from '../data/runData.js';
import { labelOf } from '../data/tokenDisplay.js';
import { transpose, type Matrix } from '../data/tensorSlice.js';
import { Scene } from '../render/scene.js';
import { cellMark, drawMatrix, fmt, hitMatrix, range, title, type MatrixLayout } from './drawing.js';
import { accuracyOf } from '../data/heldoutAccuracy.js';
import { accuracyHover, drawAccuracyCurve, LEGEND_W, type CurveLayout, type CurveSeries } from './bottleneckChart.js';
import type { AttentionNeed, Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const CHART_H = 140, LEFT = 56, CURVE_H = 150;

function panelMatrix(run: RunData): { m: Matrix; what: string; attention: boolean } | undefined {
  const streams = run.streams();
  const st = streams.includes('encoder') ? 'encoder' : streams[0];
  if (st) {
    const layers = run.layers(st);
    const l = layers[layers.length - 1];
    const m = attentionMatrix(run, st, l, 'mean');
    if (m) return { m, what: `${st} attention, layer ${l}, mean of heads (query ↓ key →)`, attention: true };
  }
  const hs = hiddenLayers(run);
  const h = hs[hs.length - 1];
  return h ? { m: transpose(h.m), what: `hidden state ${h.label} (units ↓ × tokens →)`, attention: false } : undefined;
}

export class CompareView implements View {
  readonly id = 'compare';
  readonly title = 'Compare';
  private chart?: { x: number; y: number; w: number; h: number };
  private span = 1;
  private panels: { run: RunData; L: MatrixLayout; attention: boolean }[] = [];
  /** The bottleneck curve, when the runs' models come with held-out accuracy by source length. */
  private curve?: { L: CurveLayout; series: CurveSeries[] };

  unavailable(env: ViewEnv): string | undefined {
    if (!env.runs[0]) return 'No run yet.';
    return env.runs.length > 1 ? undefined : 'Run with a second model (Compare With…) or type a second text above to compare two runs side by side.';
  }

  controls(): Control[] {
    return [];
  }

  /** Each run's last-layer mean (what panelMatrix draws). */
  needs(env: ViewEnv): AttentionNeed[] {
    return env.runs.flatMap((run) => {
      const streams = run.streams();
      const st = streams.includes('encoder') ? 'encoder' : streams[0];
      const last = st ? run.layers(st).at(-1) : undefined;
      return st && last !== undefined ? layerNeeds(run, st, [last], (l) => meanKey(st, l)) : [];
    });
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme;
    const [a, b] = env.runs;
    const sameModel = a.label === b.label;
    const s = new Scene(env.width, 100, th.bg, th.fonts);
    title(s, th, sameModel ? `${a.label} · two texts` : `Same text · ${a.label} vs ${b.label}`);
    let y = 30;
    const series = env.runs.slice(0, 2).flatMap((run, i) => {
      const curve = accuracyOf(run);
      return curve ? [{ label: sameModel ? `text ${i + 1}` : run.label, color: th.headColor(i), curve }] : [];
    });
    this.curve = undefined;
    if (series.length && !sameModel) {
      const L = drawAccuracyCurve(s, th, series, LEFT, y + 16, Math.min(env.width - LEFT - 16 - LEGEND_W, 720), CURVE_H, a.trace.input.length);
      this.curve = { L, series };
      y += 16 + CURVE_H + 36;
    }
    const probs = [nextTokenProb(a), nextTokenProb(b)];
    if (probs[0] && probs[1]) {
      const w = env.width - LEFT - 16;
      s.text(8, y + 6, 'p(actual next token) per position', th.fg, 11, 'left', 'middle', { bold: true });
      y += 16;
      s.rect(LEFT, y, w, CHART_H, undefined, th.border);
      for (const v of [0, 0.5, 1]) { s.line(LEFT, y + CHART_H * (1 - v), LEFT + w, y + CHART_H * (1 - v), th.border, 0.5); s.text(LEFT - 4, y + CHART_H * (1 - v), String(v), th.muted, 10, 'right', 'middle'); }
      // One x scale for both runs (position t at the same x), so different lengths are not stretched to match.
      const span = Math.max(...probs.map((p) => p?.length ?? 0), 1);
      this.span = span;
      probs.forEach((p, i) => {
        if (!p) return;
        const pts: number[] = [];
        const step = Math.max(1, Math.floor(span / (w * 2)));
        for (let t = 0; t < p.length; t += step) pts.push(LEFT + ((t + 0.5) / span) * w, y + CHART_H * (1 - p[t]));
        s.path(pts, th.headColor(i), 1.5, 0.9);
        let bits = 0;
        for (const v of p) bits -= Math.log2(Math.max(v, 1e-12));
        const run = env.runs[i];
        s.text(LEFT + w - 6, y + 12 + i * 14, `${sameModel ? `text ${i + 1}` : run.label}: ${(bits / Math.max(1, p.length)).toFixed(2)} bits/token`, th.headColor(i), 11, 'right', 'middle');
      });
      this.chart = { x: LEFT, y, w, h: CHART_H };
      y += CHART_H + 16;
    } else {
      this.chart = undefined;
    }
    const colW = (env.width - 24) / 2;
    let bottom = y;
    this.panels = [];
    env.runs.slice(0, 2).forEach((run, i) => {
      const x0 = 8 + i * (colW + 8);
      const pm = panelMatrix(run);
      const output = run.trace.generated ? ` → ${run.trace.generated.map((t) => t.text).join('').split('').filter((ch) => ch >= ' ').join('')}` : '';
      s.text(x0, y + 6, `${sameModel ? `text ${i + 1}` : run.label} · ${run.tokens.length} tokens${output}`, th.headColor(i), 12, 'left', 'middle', { bold: true });
      if (!pm) { s.text(x0, y + 26, 'nothing to show', th.muted); return; }
      s.text(x0, y + 22, pm.what, th.muted, 10, 'left', 'middle');
      const size = Math.min(colW, 480);
      const h = pm.attention ? size : Math.min(size, Math.max(80, pm.m.rows));
      const r = range(pm.m);
      const L = drawMatrix(s, th, pm.m, x0, y + 32, size, h, pm.attention ? th.seq : th.div, pm.attention ? 0 : -r.absMax, pm.attention ? r.max : r.absMax, undefined, pm.attention ? 'max' : 'absmax');
      this.panels.push({ run, L, attention: pm.attention });
      bottom = Math.max(bottom, y + 32 + h + 12);
    });
    s.height = bottom;
    return s;
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const K = this.curve;
    if (K && x >= K.L.x && x < K.L.x + K.L.w && y >= K.L.y && y < K.L.y + K.L.h) {
      const text = accuracyHover(K.L, K.series, x);
      return text ? { text, marks: [{ x, y: K.L.y, w: 1, h: K.L.h }] } : undefined;
    }
    const C = this.chart;
    if (C && x >= C.x && x < C.x + C.w && y >= C.y && y < C.y + C.h) {
      const lines: string[] = [];
      env.runs.slice(0, 2).forEach((run) => {
        const p = nextTokenProb(run);
        if (!p) return;
        const t = Math.floor(((x - C.x) / C.w) * this.span);
        if (t >= p.length) return;
        lines.push(`${run.label} pos ${t} "${tokenLabel(run.tokens[t], 8)}" → "${tokenLabel(run.tokens[t + 1], 8)}": p ${fmt(p[t])}`);
      });
      return { text: lines.join('\n'), marks: [{ x, y: C.y, w: 1, h: C.h }] };
    }
    for (const p of this.panels) {
      const hit = hitMatrix(p.L, x, y);
      if (!hit) continue;
      const pm = panelMatrix(p.run)!;
      const v = pm.m.data[hit.r * pm.m.cols + hit.c];
      const text = p.attention
        ? `${p.run.label}\nquery ${hit.r} ${tokenHoverText(p.run.tokens[hit.r])}\nkey ${hit.c} ${tokenHoverText(p.run.tokens[hit.c])}\n${fmt(v)}`
        : `${p.run.label}\nunit ${hit.r} token ${hit.c} ${tokenHoverText(p.run.tokens[hit.c])}\n${fmt(v)}`;
      return { text, marks: [cellMark(p.L, hit.r, hit.c)] };
    }
    return undefined;
  }

  numbers(env: ViewEnv): ExportNumbers {
    return {
      name: 'compare',
      json: env.runs.slice(0, 2).map((run) => ({ model: run.label, text: run.trace.input, tokens: run.tokens.map((t) => t.text), tokenLabels: tokenRecords(run.tokens), nextTokenProb: Array.from(nextTokenProb(run) ?? []), accuracyByLength: accuracyOf(run)?.buckets })),
      csv: ['run,position,token,p_next,label,id', ...env.runs.slice(0, 2).flatMap((run, i) => Array.from(nextTokenProb(run) ?? [], (p, t) =>
        `${i},${t},${JSON.stringify(run.tokens[t].text)},${p},${JSON.stringify(labelOf(run.tokens[t]).label)},${run.tokens[t].id}`))].join('\n'),
      tensors: env.runs.slice(0, 2).flatMap((run, i) => logitTensors(run, `run${i}-`)),
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    env.runs.slice(0, 2).forEach((run, i) => { out[`nextP${i}`] = Array.from(nextTokenProb(run) ?? []); });
    return out;
  }
}
