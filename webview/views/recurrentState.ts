/**
 * 5. Recurrent state: for RNN/LSTM/GRU, the hidden state per step (units × tokens), and for LSTM/GRU the
 * gates (input, forget, output, cell candidate; update, reset, hidden candidate) and the cell state.
 * Gates use the sequential map (0..1), states the diverging one (centred on 0). Above them, "units that
 * follow a pattern" (unitFinder.ts) ranks the units of one of these panels by a span or a hypothesis.
 */
import type { GateName } from '../../src/core/types.js';
import { cellMatrix, gateMatrix, hiddenMatrix } from '../data/derived.js';
import { tokenLabel, tokenRecords } from '../data/runData.js';
import { transpose, type Matrix } from '../data/tensorSlice.js';
import { Scene } from '../render/scene.js';
import { cellMark, drawMatrix, fmt, hitMatrix, legend, range, title, tokenAxis, type MatrixLayout } from './drawing.js';
import { sourceTokens, UnitFinder, type FinderSource } from './unitFinder.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const LEFT = 96, PANEL_MAX = 180;
const GATE_ORDER: GateName[] = ['input', 'forget', 'output', 'cell-candidate', 'update', 'reset', 'hidden-candidate'];
const GATE_LABEL: Record<GateName, string> = {
  input: 'input gate i', forget: 'forget gate f', output: 'output gate o', 'cell-candidate': 'cell candidate c̃',
  update: 'update gate z', reset: 'reset gate r', 'hidden-candidate': 'hidden candidate h̃',
};

interface Panel { label: string; m: Matrix; kind: 'state' | 'gate'; L?: MatrixLayout }

export class RecurrentState implements View {
  readonly id = 'recurrent';
  readonly title = 'Recurrent state';
  private layer = 0;
  private panels: Panel[] = [];
  private readonly finder = new UnitFinder();
  /** The panel (by label) whose units the finder ranks; the first panel when absent (the hidden state). */
  private rankOf?: string;

  private recurrentLayers(env: ViewEnv): number[] {
    const run = env.runs[0];
    const layers = new Set<number>();
    for (const p of run.trace.probes) if ((p.probe.kind === 'gate' || p.probe.kind === 'cell') || (p.probe.kind === 'hidden' && p.probe.axes.includes('direction'))) layers.add(p.probe.layer);
    return [...layers].sort((a, b) => a - b);
  }

  unavailable(env: ViewEnv): string | undefined {
    const run = env.runs[0];
    if (!run) return 'No run yet.';
    return this.recurrentLayers(env).length ? undefined : 'This model has no recurrent (RNN/LSTM/GRU) layer.';
  }

  controls(env: ViewEnv): Control[] {
    const layers = this.recurrentLayers(env);
    const out: Control[] = [];
    if (layers.length >= 2) out.push({ kind: 'select', id: 'rlayer', label: 'Layer', value: String(this.layer), options: layers.map((l) => ({ value: String(l), label: `Layer ${l}` })), set: (v) => { this.layer = Number(v); env.redraw(); } });
    const panels = this.build(env);
    const src = this.source(env, panels);
    if (!src) return out;
    out.push({ kind: 'select', id: 'rankOf', label: 'Rank units of', value: src.label, options: panels.map((p) => ({ value: p.label, label: p.label })), set: (v) => { this.rankOf = v; env.redraw(); } });
    return [...out, ...this.finder.controls(env, src)];
  }

  /** What the unit finder ranks: the chosen panel's [steps × units]. */
  private source(env: ViewEnv, panels: Panel[]): FinderSource | undefined {
    const p = panels.find((q) => q.label === this.rankOf) ?? panels[0];
    return p ? { label: p.label, m: p.m, ...sourceTokens(env.runs[0], p.m) } : undefined;
  }

  private build(env: ViewEnv): Panel[] {
    const run = env.runs[0];
    const layers = this.recurrentLayers(env);
    const layer = layers.includes(this.layer) ? this.layer : layers[0];
    const panels: Panel[] = [];
    // Prefer the encoder's recurrent hidden state when a seq2seq model has both.
    const hidden = run.hidden().filter((p) => p.probe.layer === layer && p.probe.axes.includes('direction'));
    for (const p of hidden) panels.push({ label: `hidden state h${p.probe.stream ? ` (${p.probe.stream})` : ''}`, m: run.memo(`recurrentHidden:${p.probe.name}`, () => hiddenMatrix(p)), kind: 'state' });
    const cell = cellMatrix(run, layer);
    if (cell) panels.push({ label: 'cell state c', m: cell, kind: 'state' });
    for (const g of GATE_ORDER) {
      const m = gateMatrix(run, g, layer);
      if (m) panels.push({ label: GATE_LABEL[g], m, kind: g.endsWith('candidate') ? 'state' : 'gate' });
    }
    return panels;
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, run = env.runs[0];
    const panels = this.build(env);
    const n = run.tokens.length;
    const w = Math.max(100, env.width - LEFT - 16);
    let y = 34;
    const s = new Scene(env.width, 100, th.bg, th.fonts);
    title(s, th, `${run.label} · recurrent layer ${this.layer} · units ↓ × tokens →`);
    const src = this.source(env, panels);
    if (src) y = this.finder.draw(s, th, run, src, LEFT, y, w) + 8;
    if (w / n >= 7) { tokenAxis(s, th, run.tokens, 0, n, LEFT, y + 40, w, 'right', env.sel.pinned); y += 44; }
    for (const p of panels) {
      const t = transpose(p.m); // units × steps
      const h = Math.min(PANEL_MAX, Math.max(48, t.rows));
      s.text(8, y + 8, p.label, th.fg, 11, 'left', 'middle', { bold: true });
      s.text(LEFT - 6, y + 34, `${t.rows} units`, th.muted, 10, 'right', 'middle');
      const r = range(t);
      const gate = p.kind === 'gate';
      legend(s, th, gate ? th.seq : th.div, LEFT + w - 160, y, 160, gate ? 0 : -r.absMax, gate ? 1 : r.absMax, '');
      p.L = drawMatrix(s, th, t, LEFT, y + 28, w, h, gate ? th.seq : th.div, gate ? 0 : -r.absMax, gate ? 1 : r.absMax, undefined, gate ? 'mean' : 'absmax');
      if (env.sel.pinned !== undefined) s.rect(LEFT + (env.sel.pinned / n) * w, y + 28, Math.max(2, w / n), h, undefined, th.pin, 1.5);
      y += h + 44;
    }
    this.panels = panels;
    s.height = y;
    return s;
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const run = env.runs[0];
    const src = this.source(env, this.panels);
    const found = src && this.finder.hover(run, src, x, y);
    if (found) return found;
    for (const p of this.panels) {
      const hit = hitMatrix(p.L, x, y);
      if (!hit || !p.L) continue;
      const unit = hit.r, t = hit.c;
      const v = p.m.data[t * p.m.cols + unit];
      return { text: `${p.label}\nstep ${t} "${tokenLabel(run.tokens[t], 20)}" unit ${unit}\n${fmt(v)}`, marks: [cellMark(p.L, unit, t)] };
    }
    return undefined;
  }

  click(env: ViewEnv, x: number, y: number, mods?: { shift: boolean }): void {
    if (this.finder.click(env, x, y, mods?.shift ?? false)) return;
    for (const p of this.panels) {
      const hit = hitMatrix(p.L, x, y);
      if (hit) { env.setSel({ pinned: env.sel.pinned === hit.c ? undefined : hit.c }); return; }
    }
  }

  drag(env: ViewEnv, phase: 'start' | 'move' | 'end', x: number, y: number, mods: { shift: boolean }): boolean {
    return this.finder.drag(env, phase, x, y, mods.shift);
  }

  numbers(env: ViewEnv): ExportNumbers {
    const run = env.runs[0];
    const panels = this.build(env);
    const src = this.source(env, panels);
    const units = src && this.finder.numbers(run, src);
    return {
      name: `recurrent-L${this.layer}`,
      json: { model: run.label, layer: this.layer, tokens: run.tokens.map((t) => t.text), tokenLabels: tokenRecords(run.tokens), panels: panels.map((p) => ({ label: p.label, steps: p.m.rows, units: p.m.cols, values: Array.from(p.m.data) })), ...(units ? { unitRanking: units.json } : {}) },
      ...(units ? { tables: [{ name: 'units', csv: units.csv }] } : {}),
      csv: ['panel,step,unit,value', ...panels.flatMap((p) => Array.from({ length: p.m.data.length }, (_, i) => `${p.label},${Math.floor(i / p.m.cols)},${i % p.m.cols},${p.m.data[i]}`))].join('\n'),
      tensors: run.trace.probes.filter((p) => p.probe.layer === this.layer && (p.probe.kind === 'gate' || p.probe.kind === 'cell' || p.probe.kind === 'hidden')).map((p) => ({ name: p.probe.name, tensor: p.tensor })),
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const p of this.build(env)) out[p.label] = Array.from(p.m.data);
    return out;
  }
}
