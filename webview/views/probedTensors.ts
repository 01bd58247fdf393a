/**
 * Tensors probed by name (Probe kind 'tensor': picked in the inspector's picture or searched by name, or
 * `seqlens trace --probe NAME`): the L2 norm per token, and the values as a heatmap of units × tokens
 * (every axis but the sequence flattened into units, as core/trace/probedTensor.ts cuts it; pooled by the
 * largest magnitude where there are more units or tokens than pixels).
 */
import { probedMatrix, type ProbedMatrix } from '../../src/core/trace/probedTensor.js';
import type { ProbeTensor } from '../../src/core/trace/traceTypes.js';
import { tokenLabel, tokenRecords, type RunData } from '../data/runData.js';
import type { Matrix } from '../data/tensorSlice.js';
import { Scene } from '../render/scene.js';
import { cellMark, drawMatrix, fmt, hitMatrix, legend, matrixCsv, range, title, tokenNames, type MatrixLayout } from './drawing.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const LEFT = 70, STRIP = 18, MAX_H = 420;

/** The units × tokens matrix (the heatmap's rows are units). */
function transposed(m: ProbedMatrix): Matrix {
  const out = new Float32Array(m.data.length);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) out[c * m.rows + r] = m.data[r * m.cols + c];
  return { rows: m.cols, cols: m.rows, data: out };
}

export class ProbedTensors implements View {
  readonly id = 'probed';
  readonly title = 'Probed tensors';
  private pick = 0;
  private normL?: MatrixLayout;
  private heatL?: MatrixLayout;

  private all(run: RunData | undefined): ProbeTensor[] {
    return run ? run.probes('tensor') : [];
  }

  private current(run: RunData): { pt: ProbeTensor; m: ProbedMatrix; t: Matrix } {
    const all = this.all(run);
    const pt = all[Math.min(this.pick, all.length - 1)];
    return run.memo(`probed:${pt.probe.name}`, () => {
      const m = probedMatrix(pt);
      return { pt, m, t: transposed(m) };
    });
  }

  unavailable(env: ViewEnv): string | undefined {
    if (!env.runs[0]) return 'No run yet.';
    return this.all(env.runs[0]).length ? undefined
      : 'No tensor was probed by name: open the .onnx file to pick node outputs in its picture (or search them by name), then run it; or use seqlens trace MODEL --probe NAME.';
  }

  controls(env: ViewEnv): Control[] {
    const all = this.all(env.runs[0]);
    return [{
      kind: 'select', id: 'probedTensor', label: 'Tensor', value: String(Math.min(this.pick, all.length - 1)),
      options: all.map((p, i) => ({ value: String(i), label: `${p.probe.name} [${p.tensor.dims.join('×')}]` })),
      set: (v) => { this.pick = Number(v); env.redraw(); },
    }];
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, run = env.runs[0];
    const { pt, m, t } = this.current(run);
    const w = Math.max(100, env.width - LEFT - 16);
    const s = new Scene(env.width, 100, th.bg, th.fonts);
    title(s, th, `${run.label} · ${pt.probe.name} [${pt.tensor.dims.join(' × ')}] at ${pt.probe.source.op} ${pt.probe.source.node}`);
    let y = 30;
    if (!m.perToken) {
      s.text(8, y + 6, `This tensor has no axis of ${run.tokens.length} positions (dims ${pt.tensor.dims.join(' × ')}): it is shown as one column of all its values.`, th.muted, 11, 'left', 'middle');
      y += 20;
    }
    s.text(8, y + 6, 'L2 norm per token', th.fg, 11, 'left', 'middle', { bold: true });
    y += 16;
    const norms: Matrix = { rows: 1, cols: m.rows, data: m.norms };
    const nr = range(norms);
    this.normL = drawMatrix(s, th, norms, LEFT, y, w, STRIP, th.seq, nr.min, nr.max, undefined, 'max');
    s.text(LEFT - 6, y + STRIP / 2, 'norm', th.muted, 10, 'right', 'middle');
    y += STRIP + 6;
    legend(s, th, th.seq, LEFT, y, Math.min(200, w), nr.min, nr.max, 'norm');
    y += 46;
    s.text(8, y + 6, `Values · ${t.rows.toLocaleString('en-US')} units × ${t.cols} tokens${t.rows > MAX_H ? ' (pooled by largest magnitude)' : ''}`, th.fg, 11, 'left', 'middle', { bold: true });
    y += 16;
    const r = range(t);
    const h = Math.min(MAX_H, Math.max(40, t.rows * 4));
    this.heatL = drawMatrix(s, th, t, LEFT, y, w, h, th.div, -r.absMax, r.absMax, undefined, 'absmax');
    s.text(LEFT - 6, y, 'unit 0', th.muted, 10, 'right', 'top');
    s.text(LEFT - 6, y + h, `unit ${t.rows - 1}`, th.muted, 10, 'right', 'bottom');
    y += h + 4;
    if (w / t.cols >= 7) for (let c = 0; c < t.cols; c++) s.text(LEFT + ((c + 0.5) / t.cols) * w, y + 6, tokenLabel(run.tokens[c], 3), th.fg, 10, 'center', 'middle', { mono: true });
    y += 20;
    legend(s, th, th.div, LEFT, y, Math.min(200, w), -r.absMax, r.absMax, 'value');
    s.height = y + 46;
    return s;
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const run = env.runs[0];
    const { m, t } = this.current(run);
    const hn = hitMatrix(this.normL, x, y);
    if (hn && this.normL) return { text: `token ${hn.c} "${tokenLabel(run.tokens[hn.c], 20)}"\nnorm ${fmt(m.norms[hn.c])}`, marks: [cellMark(this.normL, hn.r, hn.c)] };
    const hh = hitMatrix(this.heatL, x, y);
    if (hh && this.heatL) return { text: `token ${hh.c} "${tokenLabel(run.tokens[hh.c], 20)}", unit ${hh.r}\nvalue ${fmt(t.data[hh.r * t.cols + hh.c])}`, marks: [cellMark(this.heatL, hh.r, hh.c)] };
    return undefined;
  }

  click(env: ViewEnv, x: number, y: number): void {
    const h = hitMatrix(this.normL, x, y) ?? hitMatrix(this.heatL, x, y);
    if (h) env.setSel({ pinned: env.sel.pinned === h.c ? undefined : h.c });
  }

  numbers(env: ViewEnv): ExportNumbers {
    const run = env.runs[0];
    const { pt, m } = this.current(run);
    return {
      name: `probed-${pt.probe.name.replace(/[^A-Za-z0-9_.-]+/g, '-')}`,
      csv: matrixCsv({ rows: 1, cols: m.rows, data: m.norms }, ['norm'], tokenNames(run.tokens, m.rows)),
      json: { model: run.label, tensor: pt.probe.name, dims: pt.tensor.dims, axes: pt.probe.axes, tokenLabels: tokenRecords(run.tokens), norms: Array.from(m.norms) },
      tensors: this.all(run).map((p) => ({ name: p.probe.name, tensor: p.tensor })),
    };
  }

  probeValues(env: ViewEnv): Record<string, number[] | number> {
    const { pt, m } = this.current(env.runs[0]);
    return { dims: pt.tensor.dims, norms: Array.from(m.norms), values: Array.from(m.data), rows: m.rows, cols: m.cols };
  }
}
