/**
 * 1. Attention heatmap: query tokens × key tokens for one layer and head (or the mean of heads, or the
 * rollout), per stream. One raster for the cells, max-pooled to the screen for long inputs; the wheel
 * (or +/-) zooms around the cursor, arrows move a keyboard cursor, Enter pins the query token.
 */
import type { AttentionStream } from '../../src/core/types.js';
import { attentionMatrix, layerNeeds, meanKey } from '../data/derived.js';
import type { RunData } from '../data/runData.js';
import { tokenLabel } from '../data/runData.js';
import type { Matrix } from '../data/tensorSlice.js';
import { type PooledRaster, type Window, rasterize } from '../render/rasterize.js';
import { Scene } from '../render/scene.js';
import { fmt, legend, matrixCsv, title, tokenAxis, tokenNames } from './drawing.js';
import type { AttentionNeed, Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const LEFT = 96, TOP = 84, MAX_PX = 1024;

interface Layout { x: number; y: number; size: number; cellW: number; cellH: number; win: Window; raster: PooledRaster; m: Matrix }

export function streamControls(env: ViewEnv, run: RunData, withHead: boolean): Control[] {
  const { sel } = env;
  const streams = run.streams();
  const stream = streams.includes(sel.stream) ? sel.stream : streams[0];
  const layers = stream ? run.layers(stream) : [];
  const heads = stream ? run.heads(stream, sel.layer) : 0;
  const out: Control[] = [];
  if (streams.length > 1) {
    out.push({ kind: 'select', id: 'stream', label: 'Stream', value: stream ?? '', options: streams.map((s) => ({ value: s, label: s })), set: (v) => env.setSel({ stream: v as AttentionStream, layer: 0 }) });
  }
  out.push({ kind: 'select', id: 'layer', label: 'Layer', value: String(sel.layer), options: layers.map((l) => ({ value: String(l), label: `Layer ${l}` })), set: (v) => env.setSel({ layer: Number(v) }) });
  if (withHead) {
    const opts = [...Array.from({ length: heads }, (_, h) => ({ value: String(h), label: `Head ${h}` })), { value: 'mean', label: 'Mean of heads' }];
    // Rollout multiplies n×n matrices per layer (n³ work): offered up to 1,024 tokens so the UI never stalls.
    if (stream !== 'cross' && stream && run.queryTokens(stream).length <= 1024) opts.push({ value: 'rollout', label: 'Rollout (to this layer)' });
    out.push({ kind: 'select', id: 'head', label: 'Head', value: String(sel.head), options: opts, set: (v) => env.setSel({ head: v === 'mean' || v === 'rollout' ? v : Number(v) }) });
  }
  return out;
}

/** The stream the selection names, or the first the run has. */
export function activeStream(env: ViewEnv, run: RunData): AttentionStream | undefined {
  const streams = run.streams();
  return streams.includes(env.sel.stream) ? env.sel.stream : streams[0];
}

export class AttentionHeatmap implements View {
  readonly id = 'heatmap';
  readonly title = 'Attention';
  private win?: Window;
  private winKey = '';
  private cursor = { r: 0, c: 0 };
  private layout?: Layout;
  /** Colour scale: linear weights, their square root (shows the long tail of small weights), or each row over its own max. */
  private scale: 'linear' | 'sqrt' | 'row' = 'sqrt';
  /** The last raster: redraws for a pin or a theme-independent change reuse it (2,048² cells take ~0.5 s to pool). */
  private rasterCache?: { m: Matrix; key: string; lut: Uint8ClampedArray; raster: PooledRaster; top: number };
  /** Which run of env.runs this view draws (compare view reuses the class). */
  constructor(private readonly runIndex = 0) {}

  private run(env: ViewEnv): RunData | undefined {
    return env.runs[this.runIndex];
  }

  unavailable(env: ViewEnv): string | undefined {
    const run = this.run(env);
    if (!run) return 'No run yet.';
    if (!run.streams().length) return 'This model has no attention (recurrent models: see Hidden states and Recurrent state).';
    return undefined;
  }

  controls(env: ViewEnv): Control[] {
    const run = this.run(env);
    if (!run) return [];
    return [
      ...streamControls(env, run, true),
      { kind: 'select', id: 'scale', label: 'Scale', value: this.scale, options: [{ value: 'sqrt', label: '√ weight' }, { value: 'linear', label: 'Linear' }, { value: 'row', label: 'Row max' }], set: (v) => { this.scale = v as 'linear' | 'sqrt' | 'row'; env.redraw(); } },
      { kind: 'button', id: 'zoomReset', label: 'Reset zoom', run: () => { this.win = undefined; env.redraw(); } },
    ];
  }

  needs(env: ViewEnv): AttentionNeed[] {
    const run = this.run(env);
    const stream = run && activeStream(env, run);
    if (!run || !stream) return [];
    const { layer, head } = env.sel;
    if (head === 'rollout') return layerNeeds(run, stream, run.layers(stream).filter((l) => l <= layer), (l) => meanKey(stream, l));
    return attentionMatrix(run, stream, layer, head) ? [] : layerNeeds(run, stream, [layer]);
  }

  matrix(env: ViewEnv): Matrix | undefined {
    const run = this.run(env);
    const stream = run && activeStream(env, run);
    if (!run || !stream) return undefined;
    return attentionMatrix(run, stream, env.sel.layer, env.sel.head);
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme;
    const run = this.run(env)!;
    const stream = activeStream(env, run)!;
    const m = this.matrix(env);
    const s = new Scene(env.width, 200, th.bg, th.fonts);
    if (!m) {
      const loading = env.sel.head === 'rollout' ? run.layers(stream).some((l) => l <= env.sel.layer && run.isDeferred(stream, l)) : run.isDeferred(stream, env.sel.layer);
      s.text(8, 20, loading ? run.loadingNote(`layer ${env.sel.layer}${env.sel.head === 'rollout' ? ' and the layers below it' : ''}`) : `No attention for layer ${env.sel.layer}.`, th.fg);
      this.layout = undefined;
      return s;
    }
    const key = `${m.rows}x${m.cols}`;
    if (key !== this.winKey || !this.win) { this.win = { r0: 0, r1: m.rows, c0: 0, c1: m.cols }; this.winKey = key; }
    const win = this.win;
    const nr = win.r1 - win.r0, nc = win.c1 - win.c0;
    const avail = Math.max(120, env.width - LEFT - 16);
    const size = Math.min(avail, 900);
    const cellW = size / nc, cellH = Math.min(size / nr, cellW * 4, 28);
    const h = cellH * nr;
    const rkey = `${this.scale}|${win.r0},${win.r1},${win.c0},${win.c1}`;
    let raster: PooledRaster;
    const c = this.rasterCache;
    if (c && c.m === m && c.key === rkey && c.lut === th.seq) {
      raster = c.raster;
    } else {
      const shown = scaled(m, this.scale);
      const top = robustMax(shown);
      raster = rasterize(shown, { lut: th.seq, min: 0, max: Math.max(1e-6, top), maxRows: MAX_PX, maxCols: MAX_PX, window: win, pool: 'max' });
      this.rasterCache = { m, key: rkey, lut: th.seq, raster, top };
    }
    s.height = TOP + h + 56;
    const headLabel = env.sel.head === 'mean' ? 'mean of heads' : env.sel.head === 'rollout' ? 'rollout' : `head ${env.sel.head}`;
    const zoomed = nr !== m.rows || nc !== m.cols;
    title(s, th, `${run.label} · ${stream} · layer ${env.sel.layer} · ${headLabel}${zoomed ? ` · rows ${win.r0}–${win.r1 - 1}, cols ${win.c0}–${win.c1 - 1}` : ''}${raster.rowStep > 1 || raster.colStep > 1 ? ` · max over ${Math.ceil(raster.rowStep)}×${Math.ceil(raster.colStep)} cells` : ''}`);
    s.image(LEFT, TOP, size, h, raster);
    s.rect(LEFT, TOP, size, h, undefined, th.border);
    tokenAxis(s, th, run.queryTokens(stream), win.r0, win.r1, LEFT, TOP, h, 'down', env.sel.pinned);
    tokenAxis(s, th, run.keyTokens(stream), win.c0, win.c1, LEFT, TOP, size, 'right', stream === 'encoder' || stream === 'decoder' ? env.sel.pinned : undefined);
    const pin = env.sel.pinned;
    if (pin !== undefined && pin >= win.r0 && pin < win.r1) s.rect(LEFT - 1, TOP + (pin - win.r0) * cellH, size + 2, cellH, undefined, th.pin, 2);
    s.text(LEFT - 4, TOP - 6, 'query ↓ key →', th.muted, 10, 'right', 'bottom');
    // The legend is in weights; colours saturate at the 99.5th percentile so one dominant cell (often the first token) does not darken the rest.
    const topShown = this.rasterCache?.top ?? 1;
    const topWeight = this.scale === 'sqrt' ? topShown * topShown : topShown;
    legend(s, th, th.seq, LEFT, TOP + h + 12, Math.min(240, size), 0, this.scale === 'row' ? topShown : topWeight, this.scale === 'sqrt' ? 'attention weight (√ scale, clipped at p99.5)' : this.scale === 'row' ? 'weight / row max' : 'attention weight (clipped at p99.5)');
    this.layout = { x: LEFT, y: TOP, size, cellW, cellH, win, raster, m };
    return s;
  }

  private cellAt(x: number, y: number): { r: number; c: number } | undefined {
    const L = this.layout;
    if (!L) return undefined;
    const c = Math.floor((x - L.x) / L.cellW) + L.win.c0, r = Math.floor((y - L.y) / L.cellH) + L.win.r0;
    if (c < L.win.c0 || c >= L.win.c1 || r < L.win.r0 || r >= L.win.r1) return undefined;
    return { r, c };
  }

  private info(env: ViewEnv, r: number, c: number): HoverInfo | undefined {
    const L = this.layout, run = this.run(env);
    if (!L || !run) return undefined;
    const stream = activeStream(env, run)!;
    const q = run.queryTokens(stream)[r], k = run.keyTokens(stream)[c];
    const v = L.m.data[r * L.m.cols + c];
    return {
      text: `${fmt(v)}\nquery ${r} "${tokenLabel(q, 24)}"\nkey ${c} "${tokenLabel(k, 24)}"`,
      marks: [{ x: L.x + (c - L.win.c0) * L.cellW, y: L.y + (r - L.win.r0) * L.cellH, w: Math.max(2, L.cellW), h: Math.max(2, L.cellH) }],
    };
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const cell = this.cellAt(x, y);
    if (cell) return this.info(env, cell.r, cell.c);
    // Hover over a query label shows the row's strongest key.
    const L = this.layout;
    if (L && x < L.x && y >= L.y) {
      const r = Math.floor((y - L.y) / L.cellH) + L.win.r0;
      if (r < L.win.r1) {
        let best = L.win.c0;
        for (let c = L.win.c0; c < L.win.c1; c++) if (L.m.data[r * L.m.cols + c] > L.m.data[r * L.m.cols + best]) best = c;
        return this.info(env, r, best);
      }
    }
    return undefined;
  }

  click(env: ViewEnv, x: number, y: number): void {
    const L = this.layout;
    if (!L) return;
    const r = Math.floor((y - L.y) / L.cellH) + L.win.r0;
    if (y >= L.y && r < L.win.r1 && x <= L.x + L.size) env.setSel({ pinned: env.sel.pinned === r ? undefined : r });
  }

  wheel(env: ViewEnv, x: number, y: number, deltaY: number): boolean {
    const cell = this.cellAt(x, y);
    if (!cell || !this.layout) return false;
    this.zoom(env, cell.r, cell.c, deltaY < 0 ? 0.5 : 2);
    return true;
  }

  private zoom(env: ViewEnv, r: number, c: number, factor: number): void {
    const L = this.layout;
    if (!L) return;
    const span = (a: number, b: number, center: number, total: number): [number, number] => {
      const len = Math.max(8, Math.min(total, Math.round((b - a) * factor)));
      let s0 = Math.round(center - ((center - a) / (b - a)) * len);
      s0 = Math.max(0, Math.min(total - len, s0));
      return [s0, s0 + len];
    };
    const [r0, r1] = span(L.win.r0, L.win.r1, r, L.m.rows);
    const [c0, c1] = span(L.win.c0, L.win.c1, c, L.m.cols);
    this.win = { r0, r1, c0, c1 };
    env.redraw();
  }

  key(env: ViewEnv, e: KeyboardEvent): boolean {
    const L = this.layout;
    if (!L) return false;
    const cur = this.cursor;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[e.key]) {
      cur.r = Math.max(0, Math.min(L.m.rows - 1, cur.r + moves[e.key][0]));
      cur.c = Math.max(0, Math.min(L.m.cols - 1, cur.c + moves[e.key][1]));
      return true;
    }
    if (e.key === 'Enter' || e.key === ' ') { env.setSel({ pinned: env.sel.pinned === cur.r ? undefined : cur.r }); return true; }
    if (e.key === '+' || e.key === '=') { this.zoom(env, cur.r, cur.c, 0.5); return true; }
    if (e.key === '-') { this.zoom(env, cur.r, cur.c, 2); return true; }
    if (e.key === '0') { this.win = undefined; env.redraw(); return true; }
    return false;
  }

  /** Tooltip for the keyboard cursor (the host calls it after key()). */
  cursorInfo(env: ViewEnv): HoverInfo | undefined {
    return this.info(env, this.cursor.r, this.cursor.c);
  }

  numbers(env: ViewEnv): ExportNumbers {
    const run = this.run(env)!;
    const stream = activeStream(env, run)!;
    const m = this.matrix(env);
    const name = `attention-${stream}-L${env.sel.layer}-${env.sel.head}`;
    if (!m) return { name };
    const p = run.attention(stream, env.sel.layer);
    return {
      name,
      csv: matrixCsv(m, tokenNames(run.queryTokens(stream), m.rows), tokenNames(run.keyTokens(stream), m.cols)),
      json: { model: run.label, stream, layer: env.sel.layer, head: env.sel.head, rows: m.rows, cols: m.cols, queryTokens: run.queryTokens(stream).map((t) => t.text), keyTokens: run.keyTokens(stream).map((t) => t.text), values: Array.from(m.data) },
      tensors: p ? [{ name: p.probe.name, tensor: p.tensor }] : [],
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const m = this.matrix(env);
    return m ? { matrix: Array.from(m.data), shape: [m.rows, m.cols] } : {};
  }
}

/** The matrix as coloured: hover and exports keep the raw weights. */
export function scaled(m: Matrix, scale: 'linear' | 'sqrt' | 'row'): Matrix {
  if (scale === 'linear') return m;
  const data = new Float32Array(m.data.length);
  if (scale === 'sqrt') {
    for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(Math.max(0, m.data[i]));
  } else {
    for (let r = 0; r < m.rows; r++) {
      let mx = 0;
      for (let c = 0; c < m.cols; c++) mx = Math.max(mx, m.data[r * m.cols + c]);
      for (let c = 0; c < m.cols; c++) data[r * m.cols + c] = mx > 0 ? m.data[r * m.cols + c] / mx : 0;
    }
  }
  return { rows: m.rows, cols: m.cols, data };
}

/** 99.5th percentile of the positive values (sampled on big matrices): where the colour scale saturates. */
export function robustMax(m: Matrix): number {
  const step = Math.max(1, Math.floor(m.data.length / 200_000));
  const vals: number[] = [];
  for (let i = 0; i < m.data.length; i += step) if (m.data[i] > 0) vals.push(m.data[i]);
  if (!vals.length) return 0;
  vals.sort((a, b) => a - b);
  return vals[Math.min(vals.length - 1, Math.floor(vals.length * 0.995))];
}

