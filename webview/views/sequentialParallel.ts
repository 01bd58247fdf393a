/**
 * 10. Sequential vs parallel: the zoo's RNN, LSTM and GRU (one step after another inside their op) against
 * its Transformer (every position at once), timed on the panel's own backend when the user presses
 * Measure. Left: time per token against input length (log–log). Right: the memory the Transformer's
 * attention weights need, layers × heads × T² × 4 bytes (linear y, so the square shows), which the
 * recurrent models do not have. The view draws whatever rows it has, so the curves grow while the sweep
 * runs; its numbers export as the same CSV `seqlens bench-story` writes.
 */
import { parallelWins, storyCsv, STORY_MAX_TOKENS } from '../../src/core/bench/storyRows.js';
import { storySeries, type StoryMeasure, type StoryResult, type StoryRow, type StorySeries } from '../data/storyData.js';
import { Scene } from '../render/scene.js';
import type { Theme } from '../render/theme.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const TOP = 84, PAD_L = 58, PAD_R = 16, PAD_B = 40, GAP = 40, MIN_CHART_W = 300;

/** A chart's box and its scales, kept for hit-testing. */
interface ChartLayout {
  x: number; y: number; w: number; h: number;
  /** log2 of the first and last length on the x axis. */
  lx0: number; lx1: number;
  /** y range: log10 values for the time chart, plain values for the memory chart. */
  y0: number; y1: number;
  logY: boolean;
  value(r: StoryRow): number;
}

interface Point { series: number; row: StoryRow; x: number; y: number; chart: 'time' | 'memory' }

const lengthLabel = (t: number): string => (t >= 1024 ? `${t / 1024}k` : String(t));

function msText(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  if (ms >= 0.001) return `${(ms * 1000).toFixed(ms >= 0.01 ? 1 : 2)} µs`;
  return `${(ms * 1e6).toFixed(0)} ns`;
}

/** A decade tick of the time axis: 1 ms, 100 µs, 10 µs (no trailing zeros). */
function decadeText(ms: number): string {
  if (ms >= 1000) return `${ms / 1000} s`;
  if (ms >= 1) return `${ms} ms`;
  if (ms >= 1e-3) return `${Math.round(ms * 1e3)} µs`;
  return `${Math.round(ms * 1e6)} ns`;
}

/** A round step (1, 2 or 5 × a power of ten, in MB above 1 MB) for about four ticks up to `max` bytes. */
function byteStep(max: number): number {
  const unit = max >= 2 ** 20 ? 2 ** 20 : 1024;
  const raw = max / unit / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p * unit;
}

function bytesText(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(bytes >= 10 * 2 ** 20 ? 0 : 1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${bytes} B`;
}

export class SequentialParallelView implements View {
  readonly id = 'sequentialParallel';
  readonly title = 'Sequential vs parallel';
  private maxTokens = STORY_MAX_TOKENS;
  private repeats = 3;
  private rows: StoryRow[] = [];
  private result?: StoryResult & { fallbackReason?: string };
  private running?: AbortController;
  private status = '';
  private error?: string;
  private timeL?: ChartLayout;
  private memL?: ChartLayout;
  private points: Point[] = [];
  /** Keyboard cursor: index into the series and into its rows. */
  private cursor?: { series: number; row: number };

  /** `measure` runs the sweep on the page's backend; without it (a page with no runner) the view only draws. */
  constructor(private readonly measure?: StoryMeasure) {}

  unavailable(): string | undefined {
    // Needs no run of the panel's: it measures models of its own.
    return undefined;
  }

  controls(env: ViewEnv): Control[] {
    const busy = !!this.running;
    return [
      {
        kind: 'select', id: 'story-max', label: 'Longest input', value: String(this.maxTokens),
        options: [256, 512, 1024, 2048].map((t) => ({ value: String(t), label: `${t} tokens` })),
        set: (v) => { this.maxTokens = Number(v); env.redraw(); },
      },
      { kind: 'number', id: 'story-repeats', label: 'Runs per point', value: this.repeats, min: 1, max: 20, step: 1, set: (v) => { this.repeats = Math.round(v); env.redraw(); } },
      busy
        ? { kind: 'button', id: 'story-cancel', label: 'Cancel', title: 'Stop the measurement', run: () => this.running?.abort() }
        : {
          kind: 'button', id: 'story-measure', label: 'Measure',
          title: `Time the zoo's RNN, LSTM, GRU and Transformer from 16 to ${this.maxTokens} tokens on this panel's backend`,
          run: () => void this.start(env),
        },
    ];
  }

  /** Runs the sweep; the view redraws as each row arrives. Public for tests and the walkthrough. */
  async start(env: ViewEnv): Promise<void> {
    if (this.running) return;
    if (!this.measure) {
      this.error = 'This page cannot run models (no runner).';
      env.redraw();
      return;
    }
    const abort = new AbortController();
    this.running = abort;
    this.rows = [];
    this.result = undefined;
    this.error = undefined;
    this.cursor = undefined;
    this.status = 'Loading the zoo models…';
    env.redraw();
    try {
      const result = await this.measure({
        maxTokens: this.maxTokens,
        repeats: this.repeats,
        signal: abort.signal,
        onProgress: (p) => { this.status = `${p.message} (${Math.round(p.fraction * 100)}%)`; env.redraw(); },
        onRow: (row) => {
          // A WebGPU sweep that fell back to WASM starts again: its rows replace the earlier backend's.
          if (this.rows.length && this.rows[0].backend !== row.backend) this.rows = [];
          this.rows.push(row);
          env.redraw();
        },
      });
      this.result = result;
      this.rows = result.rows;
      this.status = '';
    } catch (e) {
      this.error = abort.signal.aborted ? 'Measurement cancelled.' : `Measurement failed: ${e instanceof Error ? e.message : String(e)}`;
      this.status = '';
    } finally {
      this.running = undefined;
      env.redraw();
    }
  }

  private series(): StorySeries[] {
    return storySeries(this.rows);
  }

  private color(th: Theme, s: StorySeries, i: number): string {
    // The parallel model keeps the accent colour in every theme; recurrent ones take the next chart colours.
    return s.kind === 'parallel' ? th.headColor(0) : th.headColor(i + 1);
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme;
    const series = this.series();
    const side = env.width >= 2 * MIN_CHART_W + GAP + PAD_L * 2;
    const chartW = side ? Math.floor((env.width - PAD_L * 2 - PAD_R - GAP) / 2) : env.width - PAD_L - PAD_R;
    const chartH = Math.max(140, Math.min(300, (side ? env.height : env.height / 2) - TOP - PAD_B - 24));
    const height = side ? TOP + chartH + PAD_B + 58 : TOP + 2 * (chartH + PAD_B + 24) + 58;
    const s = new Scene(env.width, height, th.bg, th.fonts);
    const backend = this.rows[0]?.backend;
    s.text(8, 12, `Sequential vs parallel${backend ? ` · ${backend.toUpperCase()}` : ''}: time per token and attention memory against input length`, th.fg, 12, 'left', 'middle', { bold: true });
    const sub = this.error ?? (this.status || (this.rows.length
      ? `median of ${this.rows[0].repeats} run${this.rows[0].repeats > 1 ? 's' : ''} after a warm-up, plain models (no probes)${this.result?.fallbackReason ? ` · WebGPU could not run them, measured on WASM` : ''}`
      : 'Press Measure to time the zoo\'s RNN, LSTM, GRU (one step after another) and Transformer (all positions at once) on this panel\'s backend.'));
    s.text(8, 32, sub, this.error ? th.pin : th.muted, 11);
    this.legend(s, th, series, 8, 50, env.width < 720);

    const lengths = [...new Set(this.rows.map((r) => r.tokens))];
    const lx0 = Math.log2(Math.min(16, ...lengths)), lx1 = Math.log2(Math.max(this.maxTokens, ...lengths));
    const times = this.rows.map((r) => r.msPerToken).filter((v) => v > 0);
    const ty0 = times.length ? Math.floor(Math.log10(Math.min(...times))) : -3;
    const ty1 = times.length ? Math.ceil(Math.log10(Math.max(...times))) : 0;
    this.timeL = {
      x: PAD_L, y: TOP + 8, w: chartW, h: chartH, lx0, lx1, y0: ty0, y1: Math.max(ty0 + 1, ty1), logY: true, value: (r) => r.msPerToken,
    };
    const par = this.rows.filter((r) => r.kind === 'parallel');
    // At least 1 MB, so an empty chart (and the first short inputs) get readable ticks.
    const taken = this.rssTaken(par);
    const maxBytes = Math.max(2 ** 20, ...par.map((r) => r.attentionBytes), ...taken.map((t) => t.bytes));
    const memX = side ? PAD_L * 2 + chartW + GAP : PAD_L;
    const memY = side ? TOP + 8 : TOP + 8 + chartH + PAD_B + 24;
    const step = byteStep(maxBytes);
    this.memL = { x: memX, y: memY, w: chartW, h: chartH, lx0, lx1, y0: 0, y1: Math.ceil(maxBytes / step) * step, logY: false, value: (r) => r.attentionBytes };

    this.points = [];
    this.axes(s, th, this.timeL, 'time per token (log scale)', (v) => decadeText(10 ** v), 1);
    this.axes(s, th, this.memL, 'Transformer attention weights held at once', (v) => bytesText(v), step);
    series.forEach((sr, i) => {
      const c = this.color(th, sr, i);
      this.plot(s, this.timeL!, sr, i, c, 'time');
      if (sr.kind === 'parallel') this.plot(s, this.memL!, sr, i, c, 'memory');
    });
    this.plotTaken(s, th, taken);
    this.memoryNotes(s, th, par);
    this.verdict(s, th, height - 26);
    this.drawCursor(s, th);
    return s;
  }

  /** `short`: names only, for a narrow panel (the charts' captions say which kind is which). */
  private legend(s: Scene, th: Theme, series: StorySeries[], x: number, y: number, short: boolean): void {
    let cx = x;
    series.forEach((sr, i) => {
      const c = this.color(th, sr, i);
      s.line(cx, y, cx + 18, y, c, 2);
      s.circle(cx + 9, y, 3, c);
      const label = short ? `${sr.model}${sr.kind === 'parallel' ? ' (parallel)' : ''}`
        : `${sr.model} (${sr.kind === 'parallel' ? 'all positions at once' : 'step by step'})`;
      s.text(cx + 24, y, label, th.fg, 11);
      cx += 24 + label.length * 6.2 + 16;
    });
  }

  private px(L: ChartLayout, tokens: number): number {
    return L.x + ((Math.log2(tokens) - L.lx0) / Math.max(1e-9, L.lx1 - L.lx0)) * L.w;
  }

  private py(L: ChartLayout, v: number): number {
    const t = L.logY ? Math.log10(Math.max(v, 1e-12)) : v;
    return L.y + L.h - ((t - L.y0) / Math.max(1e-12, L.y1 - L.y0)) * L.h;
  }

  /** `step`: between y ticks (decades on the log axis, bytes on the linear one). */
  private axes(s: Scene, th: Theme, L: ChartLayout, label: string, tick: (v: number) => string, step: number): void {
    s.rect(L.x, L.y, L.w, L.h, undefined, th.border);
    for (let e = Math.ceil(L.lx0); e <= Math.floor(L.lx1); e++) {
      const x = this.px(L, 2 ** e);
      s.line(x, L.y + L.h, x, L.y + L.h + 4, th.muted);
      s.line(x, L.y, x, L.y + L.h, th.border, 1, 0.35);
      s.text(x, L.y + L.h + 7, lengthLabel(2 ** e), th.muted, 10, 'center', 'top');
    }
    s.text(L.x + L.w / 2, L.y + L.h + 24, 'input length (tokens, log scale)', th.muted, 10, 'center', 'top');
    const ticks: number[] = [];
    for (let v = L.y0; v <= L.y1 + step * 1e-6; v += step) ticks.push(v);
    for (const v of ticks) {
      const y = L.logY ? L.y + L.h - ((v - L.y0) / (L.y1 - L.y0)) * L.h : this.py(L, v);
      s.line(L.x - 4, y, L.x, y, th.muted);
      s.line(L.x, y, L.x + L.w, y, th.border, 1, 0.35);
      s.text(L.x - 6, y, tick(v), th.muted, 10, 'right', 'middle');
    }
    s.text(L.x, L.y - 6, label, th.fg, 11, 'left', 'bottom', { bold: true });
  }

  private plot(s: Scene, L: ChartLayout, sr: StorySeries, i: number, color: string, chart: Point['chart']): void {
    const pts: number[] = [];
    for (const r of sr.rows) {
      const x = this.px(L, r.tokens), y = this.py(L, L.value(r));
      pts.push(x, y);
      this.points.push({ series: i, row: r, x, y, chart });
    }
    s.path(pts, color, 2);
    for (let k = 0; k < pts.length; k += 2) s.circle(pts[k], pts[k + 1], 3, color);
  }

  /**
   * The memory the process took for the parallel model, measured (the CLI's RSS probe; the page has none):
   * each length's growth adds to what the shorter ones took, so the running sum is what it holds at T.
   */
  private rssTaken(par: StoryRow[]): { row: StoryRow; bytes: number }[] {
    let sum = 0;
    const out: { row: StoryRow; bytes: number }[] = [];
    for (const r of [...par].sort((a, b) => a.tokens - b.tokens)) {
      if (r.memoryGrowthBytes === undefined) return [];
      sum += r.memoryGrowthBytes;
      out.push({ row: r, bytes: sum });
    }
    return out;
  }

  private plotTaken(s: Scene, th: Theme, taken: { row: StoryRow; bytes: number }[]): void {
    const L = this.memL!;
    if (!taken.length) return;
    const pts: number[] = [];
    for (const t of taken) {
      const x = this.px(L, t.row.tokens), y = this.py(L, t.bytes);
      pts.push(x, y);
      this.points.push({ series: -1, row: t.row, x, y, chart: 'memory' });
      s.rect(x - 3, y - 3, 6, 6, undefined, th.fg);
    }
    s.path(pts, th.fg, 1, 0.6);
    s.text(L.x + 8, L.y + 42, '□ measured: process memory taken (RSS, summed over lengths)', th.fg, 10);
  }

  /** What the memory chart says in words: the ×4 per doubling, and that recurrent models hold no such matrix. */
  private memoryNotes(s: Scene, th: Theme, par: StoryRow[]): void {
    const L = this.memL!;
    const last = [...par].sort((a, b) => b.tokens - a.tokens);
    const lines = ['recurrent models: no attention matrix (one hidden state per step)'];
    if (last.length >= 2 && last[1].attentionBytes > 0) {
      lines.unshift(`×${(last[0].attentionBytes / last[1].attentionBytes).toFixed(1)} from ${last[1].tokens} to ${last[0].tokens} tokens: it grows with T²`);
    }
    lines.forEach((t, k) => s.text(L.x + 8, L.y + 12 + k * 15, t, th.muted, 10));
  }

  /** The story's answer in words: at which lengths the Transformer is faster per token than every recurrent model. */
  private verdict(s: Scene, th: Theme, y: number): void {
    const wins = parallelWins(this.rows);
    if (!wins.length || this.running) return;
    const won = wins.filter((w) => w.wins).map((w) => w.tokens);
    const text = won.length
      ? `Here the Transformer is faster per token than every recurrent model at ${won.join(', ')} tokens.`
      : 'Here the Transformer is not faster per token than the fastest recurrent model at any length measured.';
    s.text(8, y, text, th.fg, 11);
    s.text(8, y + 15, 'Its attention memory grows with the square of the length; a recurrent model keeps one state per step.', th.fg, 11);
  }

  private drawCursor(s: Scene, th: Theme): void {
    const p = this.cursorPoint();
    if (p) s.circle(p.x, p.y, 6, undefined, th.fg);
  }

  private cursorPoint(): Point | undefined {
    const c = this.cursor;
    if (!c) return undefined;
    const sr = this.series()[c.series];
    const row = sr?.rows[c.row];
    return row ? this.points.find((p) => p.row === row && p.chart === 'time') : undefined;
  }

  private describe(p: Point): string {
    const r = p.row;
    const lines = [
      `${r.model} · ${r.tokens} tokens · ${r.backend}`,
      `${msText(r.msPerToken)} per token (${msText(r.msTotal)} for the whole input)`,
    ];
    if (r.kind === 'parallel') lines.push(`attention: ${bytesText(r.attentionBytes)} (layers × heads × ${r.tokens}² × 4 B)`);
    else lines.push('recurrent: the steps run one after another');
    if (r.memoryGrowthBytes !== undefined) lines.push(`process memory grew ${bytesText(r.memoryGrowthBytes)} at this length`);
    const same = this.rows.filter((x) => x.tokens === r.tokens && x !== r);
    for (const o of same) lines.push(`  ${o.model}: ${msText(o.msPerToken)} per token`);
    return lines.join('\n');
  }

  hover(_env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    let best: Point | undefined, bd = 12 * 12;
    for (const p of this.points) {
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d < bd) { bd = d; best = p; }
    }
    if (!best) return undefined;
    return { text: this.describe(best), marks: [{ x: best.x - 5, y: best.y - 5, w: 10, h: 10 }] };
  }

  /** Arrows walk the measured points: left/right along the lengths, up/down across the models. */
  key(env: ViewEnv, e: KeyboardEvent): boolean {
    const series = this.series();
    if (!series.length) return false;
    const c = this.cursor ?? { series: 0, row: 0 };
    const n = series[c.series]?.rows.length ?? 0;
    let next: { series: number; row: number } | undefined;
    if (e.key === 'ArrowRight') next = { series: c.series, row: this.cursor ? Math.min(n - 1, c.row + 1) : 0 };
    else if (e.key === 'ArrowLeft') next = { series: c.series, row: Math.max(0, c.row - 1) };
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const s2 = (c.series + (e.key === 'ArrowDown' ? 1 : series.length - 1)) % series.length;
      next = { series: s2, row: Math.min(series[s2].rows.length - 1, c.row) };
    } else if (e.key === 'Escape') {
      this.cursor = undefined;
      env.redraw();
      return true;
    }
    if (!next) return false;
    this.cursor = next;
    env.redraw();
    return true;
  }

  /** The cursor's point as a tooltip (the host shows it after key()). */
  cursorInfo(): HoverInfo | undefined {
    const p = this.cursorPoint();
    return p ? { text: this.describe(p), marks: [{ x: p.x - 5, y: p.y - 5, w: 10, h: 10 }] } : undefined;
  }

  numbers(): ExportNumbers {
    return {
      name: 'sequential-parallel',
      csv: storyCsv(this.rows),
      json: this.result ?? { rows: this.rows },
    };
  }

  probeValues(): Record<string, number[]> {
    return {
      tokens: this.rows.map((r) => r.tokens),
      msPerToken: this.rows.map((r) => r.msPerToken),
      attentionBytes: this.rows.map((r) => r.attentionBytes),
    };
  }
}
