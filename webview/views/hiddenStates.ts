/**
 * 4. Hidden-state traces: per-token norm per layer (heat strip), LSTMVis-style traces of chosen units
 * over the tokens with a threshold that marks where they are on, layer-to-layer cosine, and the 2-D PCA
 * trajectory of the tokens through the layers (one layer: through time). Under the traces, "units that
 * follow a pattern" (unitFinder.ts) ranks the trace layer's units by a span of tokens or a hypothesis.
 */
import { hiddenLayers, layerCosine, normStrip, pcaTrajectory, pcaTrajectoryAsync } from '../data/derived.js';
import { tokenLabel, tokenRecords, type RunData } from '../data/runData.js';
import type { Matrix } from '../data/tensorSlice.js';
import { Scene } from '../render/scene.js';
import { cellMark, drawMatrix, fmt, hitMatrix, legend, matrixCsv, range, title, tokenNames, tokenWindow, type MatrixLayout } from './drawing.js';
import { sourceTokens, UnitFinder, type FinderSource } from './unitFinder.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const LEFT = 70, STRIP_ROW = 16, TRACE_H = 150, PCA = 320, TRACE_WINDOW = 160;

/** Units with the largest variance over the tokens: a sensible default selection. */
export function busiestUnits(m: Matrix, n: number): number[] {
  const v: { u: number; var: number }[] = [];
  for (let u = 0; u < m.cols; u++) {
    let s = 0, s2 = 0;
    for (let t = 0; t < m.rows; t++) { const x = m.data[t * m.cols + u]; s += x; s2 += x * x; }
    v.push({ u, var: s2 / m.rows - (s / m.rows) ** 2 });
  }
  return v.sort((a, b) => b.var - a.var).slice(0, n).map((x) => x.u);
}

export class HiddenStates implements View {
  readonly id = 'hidden';
  readonly title = 'Hidden states';
  private layerIdx = -1;
  /** User threshold; undefined = automatic (the 80th percentile of the traced units' values). */
  private threshold?: number;
  private normL?: MatrixLayout;
  private cosL?: MatrixLayout;
  private trace?: { x: number; y: number; w: number; h: number; n: number; t0: number; min: number; max: number };
  private start = 0;
  private pca?: { x: number; y: number; pts: { x: number; y: number; layer: number; t: number }[] };
  private readonly finder = new UnitFinder();

  unavailable(env: ViewEnv): string | undefined {
    const run = env.runs[0];
    if (!run) return 'No run yet.';
    return hiddenLayers(run).length ? undefined : 'No hidden-state probes were found in this model.';
  }

  private layer(run: RunData): { layer: number; label: string; m: Matrix } {
    const all = hiddenLayers(run);
    const i = this.layerIdx < 0 || this.layerIdx >= all.length ? all.length - 1 : this.layerIdx;
    return all[i];
  }

  /** What the unit finder ranks: the trace layer. */
  private source(run: RunData): FinderSource {
    const cur = this.layer(run);
    return { label: cur.label, m: cur.m, ...sourceTokens(run, cur.m) };
  }

  private units(env: ViewEnv, m: Matrix): number[] {
    const u = env.sel.units.filter((x) => x < m.cols);
    return u.length ? u : busiestUnits(m, 4);
  }

  private thr(env: ViewEnv, m: Matrix): number {
    if (this.threshold !== undefined) return this.threshold;
    const vals = this.units(env, m).flatMap((u) => Array.from({ length: m.rows }, (_, t) => m.data[t * m.cols + u])).sort((a, b) => a - b);
    return vals.length ? vals[Math.floor(vals.length * 0.8)] : 0;
  }

  controls(env: ViewEnv): Control[] {
    const run = env.runs[0];
    const all = hiddenLayers(run);
    const cur = this.layer(run);
    return [
      { kind: 'select', id: 'traceLayer', label: 'Trace layer', value: String(all.indexOf(cur)), options: all.map((h, i) => ({ value: String(i), label: h.label })), set: (v) => { this.layerIdx = Number(v); this.threshold = undefined; env.setSel({ units: [] }); } },
      { kind: 'text', id: 'units', label: 'Units', value: this.units(env, cur.m).join(','), set: (v) => { this.threshold = undefined; env.setSel({ units: v.split(/[,\s]+/).map(Number).filter((x) => Number.isInteger(x) && x >= 0) }); } },
      { kind: 'number', id: 'threshold', label: 'Threshold', value: Number(this.thr(env, cur.m).toPrecision(3)), set: (v) => { this.threshold = v; env.redraw(); } },
      ...(cur.m.rows > TRACE_WINDOW ? [{ kind: 'number', id: 'from', label: 'From token', value: this.start, min: 0, max: cur.m.rows - 1, set: (v: number) => { this.start = v; env.redraw(); } } as Control] : []),
      ...this.finder.controls(env, this.source(run), [{
        kind: 'button', id: 'unitTrace', label: 'Trace top units', title: 'Show the four best-ranked units in the unit traces (with their threshold)',
        run: () => { const top = this.finder.top(run, this.source(run)); if (top.length) { this.threshold = undefined; env.setSel({ units: top }); } },
      }]),
    ];
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, run = env.runs[0];
    const norms = normStrip(run), cos = layerCosine(run);
    const layers = hiddenLayers(run);
    const n = run.tokens.length;
    const w = Math.max(100, env.width - LEFT - 16);
    let y = 32;
    const s = new Scene(env.width, 100, th.bg, th.fonts);
    title(s, th, `${run.label} · hidden states · ${layers.length} layer(s) × ${n} tokens`);

    // A. Norm strip.
    s.text(8, y + 6, 'L2 norm per token', th.fg, 11, 'left', 'middle', { bold: true });
    y += 16;
    const nr = range(norms);
    this.normL = drawMatrix(s, th, norms, LEFT, y, w, norms.rows * STRIP_ROW, th.seq, nr.min, nr.max, undefined, 'max');
    layers.forEach((h, i) => s.text(LEFT - 6, y + (i + 0.5) * STRIP_ROW, h.label, th.muted, 10, 'right', 'middle'));
    y += norms.rows * STRIP_ROW + 6;
    legend(s, th, th.seq, LEFT, y, Math.min(200, w), nr.min, nr.max, 'norm');
    y += 46;

    // B. Unit traces.
    const cur = this.layer(run);
    const units = this.units(env, cur.m);
    const thr = this.thr(env, cur.m);
    const tr = range({ rows: 1, cols: 0, data: Float32Array.from(units.flatMap((u) => Array.from({ length: cur.m.rows }, (_, t) => cur.m.data[t * cur.m.cols + u]))) });
    const lo = Math.min(tr.min, thr), hi = Math.max(tr.max, thr);
    // Long inputs: the traces show a window of tokens (LSTMVis-style), moved with the wheel or "From token".
    const { t0, t1 } = tokenWindow(cur.m.rows, this.start, TRACE_WINDOW);
    const nw = t1 - t0;
    s.text(8, y + 6, `Unit traces · ${cur.label} · units ${units.join(', ')} · on where > ${fmt(thr)}${nw < cur.m.rows ? ` · tokens ${t0}–${t1 - 1} of ${cur.m.rows}` : ''}`, th.fg, 11, 'left', 'middle', { bold: true });
    if (nw < cur.m.rows && this.normL) {
      // Where the window is, on the norm strip above.
      s.rect(this.normL.x + (t0 / n) * this.normL.w, this.normL.y - 2, Math.max(2, (nw / n) * this.normL.w), this.normL.h + 4, undefined, th.pin, 1.5);
    }
    y += 16;
    const yOf = (v: number): number => y + TRACE_H - ((v - lo) / (hi - lo || 1)) * TRACE_H;
    const xOf = (t: number): number => LEFT + ((t - t0 + 0.5) / nw) * w;
    // Tokens where any traced unit is on: shaded columns (LSTMVis's selection).
    for (let t = t0; t < t1; t++) {
      const on = units.filter((u) => cur.m.data[t * cur.m.cols + u] > thr);
      if (on.length) s.rect(LEFT + ((t - t0) / nw) * w, y, Math.max(1, w / nw), TRACE_H, th.fg, undefined, 1, 0.06 + 0.1 * (on.length / units.length));
    }
    s.rect(LEFT, y, w, TRACE_H, undefined, th.border);
    s.line(LEFT, yOf(thr), LEFT + w, yOf(thr), th.pin, 1, 0.9);
    s.line(LEFT, yOf(0), LEFT + w, yOf(0), th.muted, 0.5, 0.6);
    s.text(LEFT - 6, y, fmt(hi), th.muted, 10, 'right', 'top');
    s.text(LEFT - 6, y + TRACE_H, fmt(lo), th.muted, 10, 'right', 'bottom');
    units.forEach((u, i) => {
      const pts: number[] = [];
      for (let t = t0; t < t1; t++) pts.push(xOf(t), yOf(cur.m.data[t * cur.m.cols + u]));
      s.path(pts, th.headColor(i), 1.5);
      s.text(LEFT + w - 4, y + 10 + i * 12, `unit ${u}`, th.headColor(i), 10, 'right', 'middle');
    });
    this.trace = { x: LEFT, y, w, h: TRACE_H, n: nw, t0, min: lo, max: hi };
    y += TRACE_H + 4;
    // Token labels under the traces when they fit.
    if (w / nw >= 7) for (let t = t0; t < t1; t++) s.text(xOf(t), y + 6, tokenLabel(run.tokens[t], 3), th.fg, 10, 'center', 'middle', { mono: true });
    y += 20;

    // B'. Units that follow a pattern (span or hypothesis), over the whole sequence.
    y = this.finder.draw(s, th, run, this.source(run), LEFT, y + 6, w) + 8;

    // C. Layer-to-layer cosine.
    if (cos.rows > 0) {
      s.text(8, y + 6, 'Cosine similarity between consecutive layers', th.fg, 11, 'left', 'middle', { bold: true });
      y += 16;
      this.cosL = drawMatrix(s, th, cos, LEFT, y, w, cos.rows * STRIP_ROW, th.div, -1, 1, undefined, 'mean');
      for (let i = 0; i < cos.rows; i++) s.text(LEFT - 6, y + (i + 0.5) * STRIP_ROW, `L${layers[i].layer}→L${layers[i + 1].layer}`, th.muted, 10, 'right', 'middle');
      y += cos.rows * STRIP_ROW + 6;
      legend(s, th, th.div, LEFT, y, Math.min(200, w), -1, 1, 'cosine');
      y += 46;
    } else {
      this.cosL = undefined;
    }

    // D. PCA trajectory.
    const pca = pcaTrajectoryAsync(run, env.redraw);
    if (pca === 'pending') {
      s.text(8, y + 6, `PCA of hidden states: computing the plane of ${(layers.length * n).toLocaleString('en-US')} states…`, th.muted, 11, 'left', 'middle');
      this.pca = undefined;
      y += 24;
    } else if (pca) {
      s.text(8, y + 6, `PCA of hidden states (PC1 ${(pca.explained[0] * 100).toFixed(1)}%, PC2 ${(pca.explained[1] * 100).toFixed(1)}% of variance)${pca.points.length === 1 ? ' · tokens in order' : ' · each token through the layers'}`, th.fg, 11, 'left', 'middle', { bold: true });
      y += 18;
      let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
      for (const p of pca.points) for (let t = 0; t < p.rows; t++) {
        minX = Math.min(minX, p.data[t * 2]); maxX = Math.max(maxX, p.data[t * 2]);
        minY = Math.min(minY, p.data[t * 2 + 1]); maxY = Math.max(maxY, p.data[t * 2 + 1]);
      }
      const size = Math.min(PCA, w);
      const px = (v: number): number => LEFT + 8 + ((v - minX) / (maxX - minX || 1)) * (size - 16);
      const py = (v: number): number => y + 8 + (1 - (v - minY) / (maxY - minY || 1)) * (size - 16);
      s.rect(LEFT, y, size, size, undefined, th.border);
      const pts: { x: number; y: number; layer: number; t: number }[] = [];
      if (pca.points.length === 1) {
        const p = pca.points[0];
        const line: number[] = [];
        for (let t = 0; t < p.rows; t++) line.push(px(p.data[t * 2]), py(p.data[t * 2 + 1]));
        s.path(line, th.muted, 1, 0.5);
      } else {
        const stride = Math.max(1, Math.ceil(n / 256));
        for (let t = 0; t < n; t += stride) {
          const line: number[] = [];
          for (const p of pca.points) if (t < p.rows) line.push(px(p.data[t * 2]), py(p.data[t * 2 + 1]));
          s.path(line, th.muted, 0.7, 0.35);
        }
      }
      pca.points.forEach((p, l) => {
        for (let t = 0; t < p.rows; t++) {
          const q = { x: px(p.data[t * 2]), y: py(p.data[t * 2 + 1]), layer: l, t };
          pts.push(q);
          const color = pca.points.length === 1 ? th.headColor(0) : th.headColor(l);
          s.circle(q.x, q.y, t === env.sel.pinned ? 4.5 : 2.5, t === env.sel.pinned ? th.pin : color, undefined, 0.85);
        }
      });
      // Layer legend.
      if (pca.points.length > 1) layers.forEach((h, l) => { s.circle(LEFT + size + 16, y + 10 + l * 14, 4, th.headColor(l)); s.text(LEFT + size + 26, y + 10 + l * 14, h.label, th.fg, 10); });
      if (n <= 40) {
        const last = pca.points[pca.points.length - 1];
        for (let t = 0; t < last.rows; t++) s.text(px(last.data[t * 2]) + 5, py(last.data[t * 2 + 1]), tokenLabel(run.tokens[t], 6), th.fg, 10, 'left', 'middle', { mono: true });
      }
      this.pca = { x: LEFT, y, pts };
      y += size + 12;
    } else {
      this.pca = undefined;
    }
    s.height = y;
    return s;
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const run = env.runs[0];
    const found = this.finder.hover(run, this.source(run), x, y);
    if (found) return found;
    const layers = hiddenLayers(run);
    const hn = hitMatrix(this.normL, x, y);
    if (hn && this.normL) {
      const norms = normStrip(run);
      return { text: `${layers[hn.r]?.label} token ${hn.c} "${tokenLabel(run.tokens[hn.c], 20)}"\nnorm ${fmt(norms.data[hn.r * norms.cols + hn.c])}`, marks: [cellMark(this.normL, hn.r, hn.c)] };
    }
    const hc = hitMatrix(this.cosL, x, y);
    if (hc && this.cosL) {
      const cos = layerCosine(run);
      return { text: `${layers[hc.r]?.label} → ${layers[hc.r + 1]?.label} token ${hc.c} "${tokenLabel(run.tokens[hc.c], 20)}"\ncosine ${fmt(cos.data[hc.r * cos.cols + hc.c])}`, marks: [cellMark(this.cosL, hc.r, hc.c)] };
    }
    const T = this.trace;
    if (T && x >= T.x && x < T.x + T.w && y >= T.y && y < T.y + T.h) {
      const t = T.t0 + Math.floor(((x - T.x) / T.w) * T.n);
      const cur = this.layer(run);
      const units = this.units(env, cur.m);
      const thr = this.thr(env, cur.m);
      return {
        text: [`token ${t} "${tokenLabel(run.tokens[t], 20)}"`, ...units.map((u) => `unit ${u}: ${fmt(cur.m.data[t * cur.m.cols + u])}${cur.m.data[t * cur.m.cols + u] > thr ? ' (on)' : ''}`)].join('\n'),
        marks: [{ x: T.x + ((t - T.t0) / T.n) * T.w, y: T.y, w: Math.max(1, T.w / T.n), h: T.h }],
      };
    }
    const P = this.pca;
    if (P) {
      let best: (typeof P.pts)[number] | undefined, bd = 36;
      for (const p of P.pts) { const d = (p.x - x) ** 2 + (p.y - y) ** 2; if (d < bd) { bd = d; best = p; } }
      if (best) return { text: `${layers[best.layer]?.label} token ${best.t} "${tokenLabel(run.tokens[best.t], 20)}"`, marks: [{ x: best.x - 4, y: best.y - 4, w: 8, h: 8 }] };
    }
    return undefined;
  }

  click(env: ViewEnv, x: number, y: number, mods?: { shift: boolean }): void {
    if (this.finder.click(env, x, y, mods?.shift ?? false)) return;
    const h = hitMatrix(this.normL, x, y) ?? hitMatrix(this.cosL, x, y);
    if (!h) return;
    // Clicking the strip also centres the trace window there.
    this.start = Math.max(0, h.c - TRACE_WINDOW / 2);
    env.setSel({ pinned: env.sel.pinned === h.c ? undefined : h.c });
  }

  drag(env: ViewEnv, phase: 'start' | 'move' | 'end', x: number, y: number, mods: { shift: boolean }): boolean {
    return this.finder.drag(env, phase, x, y, mods.shift);
  }

  wheel(env: ViewEnv, x: number, y: number, deltaY: number): boolean {
    const T = this.trace;
    if (!T || x < T.x || x >= T.x + T.w || y < T.y || y >= T.y + T.h) return false;
    const n = this.layer(env.runs[0]).m.rows;
    if (n <= TRACE_WINDOW) return false;
    this.start = Math.max(0, Math.min(n - TRACE_WINDOW, T.t0 + Math.sign(deltaY) * 16));
    env.redraw();
    return true;
  }

  numbers(env: ViewEnv): ExportNumbers {
    const run = env.runs[0];
    const layers = hiddenLayers(run);
    const norms = normStrip(run), cos = layerCosine(run), pca = pcaTrajectory(run);
    const ranked = this.finder.numbers(run, this.source(run));
    return {
      name: 'hidden-states',
      ...(ranked ? { tables: [{ name: 'units', csv: ranked.csv }] } : {}),
      csv: matrixCsv(norms, layers.map((h) => `norm ${h.label}`), tokenNames(run.tokens, norms.cols)),
      json: {
        model: run.label, tokens: run.tokens.map((t) => t.text), tokenLabels: tokenRecords(run.tokens), layers: layers.map((h) => h.label),
        norms: Array.from(norms.data), cosine: Array.from(cos.data),
        pca: pca ? { explained: pca.explained, points: pca.points.map((p) => Array.from(p.data)) } : undefined,
        units: this.units(env, this.layer(run).m), threshold: this.thr(env, this.layer(run).m),
        ...(ranked ? { unitRanking: ranked.json } : {}),
      },
      tensors: run.hidden().map((p) => ({ name: p.probe.name, tensor: p.tensor })),
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const run = env.runs[0];
    const norms = normStrip(run), cos = layerCosine(run);
    // The PCA plane as drawn (computed in the worker), once it is there.
    const pca = run.hasMemo('pca') ? run.memoGet<{ points: { data: Float32Array }[]; explained: number[] }>('pca') : undefined;
    return {
      norms: Array.from(norms.data), normShape: [norms.rows, norms.cols], cosine: Array.from(cos.data),
      ...(pca ? { pcaExplained: pca.explained, pcaPoints: pca.points.flatMap((p) => Array.from(p.data)) } : {}),
    };
  }
}
