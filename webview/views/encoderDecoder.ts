/**
 * 6. Encoder-decoder: the cross-attention alignment (generated target × source) revealed step by step
 * through the greedy decoding; for a model without attention, the single context vector the decoder
 * receives, drawn next to the attention model's alignment on the same input when both ran (compare).
 */
import { attentionMatrix, hiddenMatrix } from '../data/derived.js';
import { tokenHoverText, tokenLabel, tokenRecords, type RunData } from '../data/runData.js';
import type { Matrix } from '../data/tensorSlice.js';
import { Scene } from '../render/scene.js';
import { lutColor } from '../render/theme.js';
import { cellMark, drawMatrix, fmt, hitMatrix, legend, range, title, tokenAxis, type MatrixLayout } from './drawing.js';
import { stepControls, stepKey } from './stepControls.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const LEFT = 70;

function isSeq2Seq(run: RunData): boolean {
  return !!run.trace.generated;
}

function crossLayers(run: RunData): number[] {
  return run.layers('cross');
}

/** Generated steps × source tokens (mean of heads) for the chosen cross layer. */
export function alignment(run: RunData, layer: number): Matrix | undefined {
  const layers = crossLayers(run);
  if (!layers.length) return undefined;
  return attentionMatrix(run, 'cross', layers.includes(layer) ? layer : layers[layers.length - 1], 'mean');
}

/** The encoder's final state: forward direction at the last step, backward direction at the first. */
export function contextVector(run: RunData): Float32Array | undefined {
  const enc = run.hidden().find((p) => (p.probe.stream ?? 'encoder') === 'encoder' && p.probe.axes.includes('direction'))
    ?? run.hidden().find((p) => (p.probe.stream ?? 'encoder') === 'encoder');
  if (!enc) return undefined;
  const m = hiddenMatrix(enc);
  const dirs = enc.probe.axes.includes('direction') ? enc.tensor.dims[enc.probe.axes.indexOf('direction')] : 1;
  const per = m.cols / dirs;
  const out = new Float32Array(m.cols);
  for (let d = 0; d < dirs; d++) {
    const row = d === 0 ? m.rows - 1 : 0;
    out.set(m.data.subarray(row * m.cols + d * per, row * m.cols + (d + 1) * per), d * per);
  }
  return out;
}

interface Panel { run: RunData; L?: MatrixLayout; ctx?: { x: number; y: number; w: number; h: number; v: Float32Array } }

export class EncoderDecoder implements View {
  readonly id = 'encdec';
  readonly title = 'Encoder-decoder';
  private panels: Panel[] = [];

  private runs(env: ViewEnv): RunData[] {
    return env.runs.filter(isSeq2Seq);
  }

  private steps(env: ViewEnv): number {
    return Math.max(0, ...this.runs(env).map((r) => r.trace.generated?.length ?? 0));
  }

  unavailable(env: ViewEnv): string | undefined {
    if (!env.runs[0]) return 'No run yet.';
    return this.runs(env).length ? undefined : 'This model is not an encoder-decoder (seq2seq) model.';
  }

  controls(env: ViewEnv): Control[] {
    const n = this.steps(env);
    const gen = this.runs(env)[0]?.trace.generated ?? [];
    const out = stepControls(n, env.sel.step, (step) => env.setSel({ step }), { all: true, stepText: (i) => (gen[i] ? `"${tokenLabel(gen[i], 8)}"` : '') });
    const layers = crossLayers(this.runs(env)[0] ?? env.runs[0]);
    if (layers.length > 1) out.unshift({ kind: 'select', id: 'xlayer', label: 'Cross layer', value: String(env.sel.layer), options: layers.map((l) => ({ value: String(l), label: `Layer ${l}` })), set: (v) => env.setSel({ layer: Number(v), stream: 'cross' }) });
    return out;
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme;
    const runs = this.runs(env);
    const s = new Scene(env.width, 100, th.bg, th.fonts);
    title(s, th, runs.length > 1 ? 'Same input through both models · greedy decoding step by step' : `${runs[0].label} · greedy decoding step by step`);
    const colW = runs.length > 1 ? (env.width - 16) / runs.length : env.width - 16;
    let maxY = 0;
    this.panels = runs.map((run, i) => {
      const x0 = 8 + i * colW;
      const y = this.drawPanel(s, env, run, x0, 32, colW - 12);
      maxY = Math.max(maxY, y.bottom);
      return y.panel;
    });
    s.height = maxY + 12;
    return s;
  }

  private drawPanel(s: Scene, env: ViewEnv, run: RunData, x0: number, y0: number, w: number): { bottom: number; panel: Panel } {
    const th = env.theme;
    const gen = run.trace.generated ?? [];
    const step = Math.min(env.sel.step, Math.max(0, gen.length - 1));
    const src = run.tokens;
    let y = y0;
    s.text(x0, y + 6, `${run.label} (${run.trace.architecture})`, th.fg, 12, 'left', 'middle', { bold: true });
    y += 20;
    // The output so far, the current step highlighted.
    // The end-of-sequence step has an empty span: it is drawn as a step (∅), not written into the output text.
    const out = gen.filter((t) => t.end > t.start).map((t) => t.text).join('');
    s.text(x0, y + 6, 'output:', th.muted, 11, 'left', 'middle');
    let cx = x0 + 52;
    gen.forEach((t, i) => {
      const label = tokenLabel(t, 6);
      const cw = Math.max(9, label.length * 8);
      if (i === step) s.rect(cx - 1, y - 2, cw, 16, undefined, th.pin, 1.5);
      s.text(cx + cw / 2 - 1, y + 6, label, i <= step ? th.fg : th.muted, 12, 'center', 'middle', { mono: true });
      cx += cw + 1;
    });
    y += 26;
    const panel: Panel = { run };
    const a = alignment(run, env.sel.layer);
    const left = x0 + LEFT;
    const cw = w - LEFT;
    if (a) {
      // Reveal rows up to the current step; later steps stay blank.
      const shown: Matrix = { rows: a.rows, cols: a.cols, data: a.data.map((v, i) => (Math.floor(i / a.cols) <= step ? v : 0)) };
      const cell = Math.min(cw / a.cols, 22);
      const mw = cell * a.cols, mh = Math.min(cell * 1.2, 22) * a.rows;
      tokenAxis(s, th, src, 0, a.cols, left, y + 52, mw, 'right');
      y += 56;
      let amax = 0;
      for (const v of a.data) amax = Math.max(amax, v);
      panel.L = drawMatrix(s, th, shown, left, y, mw, mh, th.seq, 0, amax || 1);
      tokenAxis(s, th, gen, 0, a.rows, left, y, mh, 'down', step);
      s.rect(left - 1, y + (step * mh) / a.rows, mw + 2, mh / a.rows, undefined, th.pin, 1.5);
      y += mh + 8;
      // The current step's weights as bars over the source.
      const row = a.data.subarray(step * a.cols, (step + 1) * a.cols);
      s.text(x0, y + 20, `step ${step}`, th.muted, 10, 'left', 'middle');
      for (let k = 0; k < a.cols; k++) s.rect(left + k * cell + 1, y + 40 - 38 * (row[k] / (amax || 1)), cell - 2, 38 * (row[k] / (amax || 1)), lutColor(th.seq, 0.75));
      s.line(left, y + 40, left + mw, y + 40, th.border);
      y += 48;
      legend(s, th, th.seq, left, y, Math.min(180, mw), 0, amax || 1, 'cross-attention');
      y += 44;
    } else {
      const v = contextVector(run);
      s.text(x0, y + 6, 'No attention: the decoder sees only this one context vector for the whole input', th.fg, 11, 'left', 'middle');
      y += 18;
      if (v) {
        const r = range({ rows: 1, cols: v.length, data: v });
        const cols = Math.ceil(Math.sqrt(v.length * 4));
        const rows = Math.ceil(v.length / cols);
        const cell = Math.min(cw / cols, 16);
        const grid: Matrix = { rows, cols, data: new Float32Array(rows * cols) };
        grid.data.set(v);
        drawMatrix(s, th, grid, left, y, cell * cols, cell * rows, th.div, -r.absMax, r.absMax, undefined, 'mean');
        s.text(x0, y + 8, `${v.length} units`, th.muted, 10, 'left', 'middle');
        panel.ctx = { x: left, y, w: cell * cols, h: cell * rows, v };
        y += cell * rows + 8;
        legend(s, th, th.div, left, y, Math.min(180, cell * cols), -r.absMax, r.absMax, 'context');
        y += 44;
        s.text(x0, y, `source: ${src.length} tokens → ${v.length} numbers → output "${out}"`, th.muted, 11, 'left', 'middle');
        y += 16;
      }
    }
    return { bottom: y, panel };
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    for (const p of this.panels) {
      const hit = hitMatrix(p.L, x, y);
      if (hit && p.L) {
        const a = alignment(p.run, env.sel.layer)!;
        return { text: `${p.run.label}\nstep ${hit.r} ${tokenHoverText(p.run.trace.generated?.[hit.r])}\n← source ${hit.c} ${tokenHoverText(p.run.tokens[hit.c])}\n${fmt(a.data[hit.r * a.cols + hit.c])}`, marks: [cellMark(p.L, hit.r, hit.c)] };
      }
      const c = p.ctx;
      if (c && x >= c.x && y >= c.y && x < c.x + c.w && y < c.y + c.h) {
        const cols = Math.ceil(Math.sqrt(c.v.length * 4));
        const cell = c.w / cols;
        const i = Math.floor((y - c.y) / cell) * cols + Math.floor((x - c.x) / cell);
        if (i < c.v.length) return { text: `${p.run.label} context unit ${i}\n${fmt(c.v[i])}`, marks: [{ x: c.x + (i % cols) * cell, y: c.y + Math.floor(i / cols) * cell, w: cell, h: cell }] };
      }
    }
    return undefined;
  }

  click(env: ViewEnv, x: number, y: number): void {
    for (const p of this.panels) {
      const hit = hitMatrix(p.L, x, y);
      if (hit) { env.setSel({ step: hit.r }); return; }
    }
  }

  key(env: ViewEnv, e: KeyboardEvent): boolean {
    return stepKey(e, this.steps(env), env.sel.step, (step) => env.setSel({ step }));
  }

  numbers(env: ViewEnv): ExportNumbers {
    const runs = this.runs(env);
    return {
      name: 'encoder-decoder',
      json: runs.map((r) => {
        const a = alignment(r, env.sel.layer), c = contextVector(r);
        return { model: r.label, source: r.tokens.map((t) => t.text), generated: (r.trace.generated ?? []).map((t) => t.text), sourceLabels: tokenRecords(r.tokens), generatedLabels: tokenRecords(r.trace.generated ?? []), alignment: a ? { rows: a.rows, cols: a.cols, values: Array.from(a.data) } : undefined, context: a ? undefined : c ? Array.from(c) : undefined };
      }),
      tensors: runs.flatMap((r) => r.probes('attention', 'cross').map((p) => ({ name: `${r.label}-${p.probe.name}`, tensor: p.tensor }))),
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    this.runs(env).forEach((r, i) => {
      const a = alignment(r, env.sel.layer), c = contextVector(r);
      if (a) out[`alignment${i}`] = Array.from(a.data);
      if (c) out[`context${i}`] = Array.from(c);
      out[`generated${i}`] = (r.trace.generated ?? []).map((t) => t.id);
    });
    return out;
  }
}
