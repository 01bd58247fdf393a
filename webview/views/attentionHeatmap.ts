/**
 * 1. Attention heatmap: query tokens × key tokens for one layer and head (or the mean of heads, or the
 * rollout), per stream. The first picture fits the view's box, width and height (the panel usually opens
 * in the short bottom area): the whole matrix, its cells below a pixel when they must be, max-pooled to
 * the pixels drawn. Zoom (the buttons, +/-/0 on the picture, Ctrl+wheel) enlarges the cells and lets the
 * matrix scroll under fixed axis labels; Fit returns. Arrows move a keyboard cursor (kept in sight),
 * Enter pins the query token. The zoom is kept per view in the webview's state.
 */
import type { AttentionStream } from '../../src/core/types.js';
import { attentionMatrix, layerNeeds, meanKey } from '../data/derived.js';
import type { RunData } from '../data/runData.js';
import { tokenHoverText, tokenRecords } from '../data/runData.js';
import type { Matrix } from '../data/tensorSlice.js';
import { type PooledRaster, rasterize } from '../render/rasterize.js';
import { Scene } from '../render/scene.js';
import { axisLabels, fmt, LABEL_CELL, legend, longestLabel, matrixCsv, monoWidth, title, tokenNames } from './drawing.js';
import type { AttentionNeed, Control, ExportNumbers, HoverInfo, ScrollArea, View, ViewEnv } from './viewTypes.js';

/** Height of the title line. */
const TITLE_H = 24;
const PAD = 8;
/** Short inputs are not blown up beyond this on the first picture (px per cell). */
const MAX_FIT_CELL = 28;
/** The largest cell zoom gives (px). */
const MAX_CELL = 48;
const LEGEND_W = 180;
/** Room the legend takes beside the matrix (gap + its caption) or under it. */
const LEGEND_RIGHT = 24 + 210, LEGEND_BELOW = 46;
/** Room kept beside a zoomed matrix for the scrollbars the host lays over it. */
const SB = 16;
/** The corner caption ("key →" over "query ↓") needs this much room left of and above the matrix. */
const MIN_LEFT = 48, MIN_TOP_LABELS = 28;

/** Where the matrix is on screen: its box, the px per cell, and how far the matrix is scrolled in the box. */
interface Layout {
  x: number; y: number; w: number; h: number;
  cell: number; sx: number; sy: number;
  rows: number; cols: number; m: Matrix;
  contentW: number; contentH: number;
  /** The first picture's cell size: zoom is a multiple of it. */
  fitCell: number;
}

/** The frame of the first picture: px per cell, the label gutters, where the legend goes. */
interface Fit { cell: number; labels: boolean; legendRight: boolean }

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
  private cursor = { r: 0, c: 0 };
  private layout?: Layout;
  /** Wanted scroll offset of the matrix in its box (px); clamped when drawn. */
  private scroll = { x: 0, y: 0 };
  private shapeKey = '';
  /** After a zoom from the keyboard, the cursor's cell is brought into sight once the new layout is known. */
  private follow = false;
  /**
   * After a zoom, the matrix point (in cells) that must stay under the scene point (px, py): resolved
   * once the new layout is known (the label gutters can change with the cell size).
   */
  private anchor?: { r: number; c: number; px: number; py: number };
  /** Colour scale: linear weights, their square root (shows the long tail of small weights), or each row over its own max. */
  private scale: 'linear' | 'sqrt' | 'row' = 'sqrt';
  /** The matrix as coloured and where its colours saturate, kept across redraws (scrolling redraws every frame). */
  private shownCache?: { m: Matrix; scale: string; shown: Matrix; top: number };
  /** The last raster: redraws for a pin or a hover-free change reuse it (2,048² cells take ~0.5 s to pool). */
  private rasterCache?: { shown: Matrix; key: string; lut: Uint8ClampedArray; raster: PooledRaster };
  /** Which run of env.runs this view draws. */
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

  /** The zoom chosen for this view: a multiple of the first picture's cell (1 = fit). */
  private zoom(env: ViewEnv): number {
    return Math.max(1, env.sel.zoom?.[this.id] ?? 1);
  }

  private maxZoom(): number {
    return this.layout ? Math.max(1, MAX_CELL / this.layout.fitCell) : 1;
  }

  /** Saves the zoom in the shared selection (the app keeps it with setState and draws again). */
  private setZoom(env: ViewEnv, z: number): void {
    const zoom = Math.min(this.maxZoom(), Math.max(1, z));
    if (zoom === this.zoom(env)) return;
    if (zoom === 1) this.scroll = { x: 0, y: 0 };
    env.setSel({ zoom: { ...env.sel.zoom, [this.id]: zoom } });
  }

  controls(env: ViewEnv): Control[] {
    const run = this.run(env);
    if (!run) return [];
    // The zoom buttons do not grey out at the limits: the bar then stays as it is while zooming (see ViewHost.buildBar).
    return [
      ...streamControls(env, run, true),
      { kind: 'select', id: 'scale', label: 'Scale', value: this.scale, options: [{ value: 'sqrt', label: '√ weight' }, { value: 'linear', label: 'Linear' }, { value: 'row', label: 'Row max' }], set: (v) => { this.scale = v as 'linear' | 'sqrt' | 'row'; env.redraw(); } },
      { kind: 'button', id: 'zoomOut', label: '−', title: 'Zoom out (-)', run: () => this.zoomKeep(env, 0.5) },
      { kind: 'button', id: 'zoomIn', label: '+', title: 'Zoom in (+, or Ctrl+wheel over the matrix)', run: () => this.zoomKeep(env, 2) },
      { kind: 'button', id: 'zoomFit', label: 'Fit', title: 'Fit the whole matrix (0)', run: () => this.setZoom(env, 1) },
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

  /** Left and top gutters: whole token labels, or thinned indices. */
  private gutters(run: RunData, stream: AttentionStream, m: Matrix, labels: boolean): { left: number; top: number } {
    if (labels) {
      return {
        left: Math.max(MIN_LEFT, monoWidth(longestLabel(run.queryTokens(stream)), 11) + 10),
        top: TITLE_H + Math.max(MIN_TOP_LABELS, monoWidth(longestLabel(run.keyTokens(stream)), 11) + 8),
      };
    }
    return {
      left: Math.max(MIN_LEFT, monoWidth(String(m.rows - 1).length, 10) + 12),
      top: TITLE_H + Math.max(MIN_TOP_LABELS, monoWidth(String(m.cols - 1).length, 10) + 8),
    };
  }

  /**
   * The first picture: the largest cell (at most MAX_FIT_CELL) at which the whole matrix, its labels and
   * the legend fit the box. The legend goes beside the matrix or under it, whichever leaves bigger cells;
   * token labels when their cells can hold them, else thinned indices (narrower gutters).
   */
  private fit(env: ViewEnv, run: RunData, stream: AttentionStream, m: Matrix): Fit {
    const cellFor = (labels: boolean, legendRight: boolean): number => {
      const g = this.gutters(run, stream, m, labels);
      const aw = env.width - g.left - PAD - (legendRight ? LEGEND_RIGHT : 0);
      const ah = env.height - g.top - PAD - (legendRight ? 0 : LEGEND_BELOW);
      return Math.max(0.01, Math.min(aw / m.cols, ah / m.rows, MAX_FIT_CELL));
    };
    let best: Fit | undefined;
    for (const legendRight of [true, false]) {
      const labels = cellFor(true, legendRight) >= LABEL_CELL;
      const cell = cellFor(labels, legendRight);
      if (!best || cell > best.cell * 1.01) best = { cell, labels, legendRight };
    }
    return best!;
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme;
    const run = this.run(env)!;
    const stream = activeStream(env, run)!;
    const m = this.matrix(env);
    const s = new Scene(env.width, Math.min(200, Math.max(40, env.height)), th.bg, th.fonts);
    if (!m) {
      const loading = env.sel.head === 'rollout' ? run.layers(stream).some((l) => l <= env.sel.layer && run.isDeferred(stream, l)) : run.isDeferred(stream, env.sel.layer);
      s.text(8, 20, loading ? run.loadingNote(`layer ${env.sel.layer}${env.sel.head === 'rollout' ? ' and the layers below it' : ''}`) : `No attention for layer ${env.sel.layer}.`, th.fg);
      this.layout = undefined;
      return s;
    }
    const shape = `${m.rows}x${m.cols}`;
    if (shape !== this.shapeKey) {
      this.shapeKey = shape;
      this.scroll = { x: 0, y: 0 };
      this.cursor = { r: Math.min(this.cursor.r, m.rows - 1), c: Math.min(this.cursor.c, m.cols - 1) };
    }
    const fit = this.fit(env, run, stream, m);
    const zoom = Math.min(this.zoom(env), Math.max(1, MAX_CELL / fit.cell));
    const cell = fit.cell * zoom;
    // At fit the gutters are the ones the fit was made for; zoomed, labels appear once cells hold them.
    const labels = zoom > 1 ? cell >= LABEL_CELL : fit.labels;
    const { left, top } = this.gutters(run, stream, m, labels);
    const contentW = m.cols * cell, contentH = m.rows * cell;
    let vw = Math.max(24, env.width - left - PAD - (fit.legendRight ? LEGEND_RIGHT : 0));
    let vh = Math.max(24, env.height - top - PAD - (fit.legendRight ? 0 : LEGEND_BELOW));
    // A matrix wider than its box gets a horizontal scrollbar under it, which takes height (and the other way round).
    let hbar = false, vbar = false;
    for (let i = 0; i < 2; i++) {
      if (!hbar && contentW > vw + 0.5) { hbar = true; vh = Math.max(24, vh - SB); }
      if (!vbar && contentH > vh + 0.5) { vbar = true; vw = Math.max(24, vw - SB); }
    }
    const w = Math.min(contentW, vw), h = Math.min(contentH, vh);
    const a = this.anchor;
    this.anchor = undefined;
    const want = a ? { x: a.c * cell - (a.px - left), y: a.r * cell - (a.py - top) } : this.scroll;
    const sx = Math.round(Math.max(0, Math.min(contentW - w, want.x)));
    const sy = Math.round(Math.max(0, Math.min(contentH - h, want.y)));
    const L: Layout = { x: left, y: top, w, h, cell, sx, sy, rows: m.rows, cols: m.cols, m, contentW, contentH, fitCell: fit.cell };
    if (this.follow) {
      this.follow = false;
      Object.assign(L, this.inSight(L, this.cursor.r, this.cursor.c));
    }
    this.layout = L;
    this.scroll = { x: L.sx, y: L.sy };
    const x = left, y = top;
    const below = y + h + (hbar ? SB : 0);
    s.height = Math.min(Math.max(env.height, 40), Math.max(below + PAD + (fit.legendRight ? 0 : LEGEND_BELOW), y + 44));

    // The visible cells only, rasterised at the size they are drawn (pooled where cells are under a device pixel).
    const r0 = Math.floor(L.sy / cell), r1 = Math.min(m.rows, Math.ceil((L.sy + h) / cell));
    const c0 = Math.floor(L.sx / cell), c1 = Math.min(m.cols, Math.ceil((L.sx + w) / cell));
    const dpr = globalThis.devicePixelRatio || 1;
    const dw = (c1 - c0) * cell, dh = (r1 - r0) * cell;
    const { shown, top: topShown } = this.shown(m);
    const size = { rows: Math.max(1, Math.ceil(Math.min(dh, h + cell) * dpr)), cols: Math.max(1, Math.ceil(Math.min(dw, w + cell) * dpr)) };
    const rkey = `${r0},${r1},${c0},${c1}|${size.rows}x${size.cols}`;
    const c = this.rasterCache;
    let raster: PooledRaster;
    if (c && c.shown === shown && c.key === rkey && c.lut === th.seq) {
      raster = c.raster;
    } else {
      raster = rasterize(shown, { lut: th.seq, min: 0, max: Math.max(1e-6, topShown), maxRows: size.rows, maxCols: size.cols, window: { r0, r1, c0, c1 }, pool: 'max' });
      this.rasterCache = { shown, key: rkey, lut: th.seq, raster };
    }
    s.image(x + c0 * cell - L.sx, y + r0 * cell - L.sy, dw, dh, raster);
    // Cells scrolled partly out of the box are covered where the labels and the legend go.
    if (zoom > 1) {
      const H = s.height, W = s.width;
      s.rect(0, 0, W, y, th.bg);
      s.rect(0, 0, x, H, th.bg);
      s.rect(x + w, 0, W - x - w, H, th.bg);
      s.rect(0, y + h, W, H - y - h, th.bg);
    }
    s.rect(x, y, w, h, undefined, th.border);
    const pin = env.sel.pinned;
    if (pin !== undefined && pin < m.rows) {
      const py = y + pin * cell - L.sy;
      if (py + cell > y && py < y + h) s.rect(x - 1, Math.max(y, py), w + 2, Math.max(2, Math.min(py + cell, y + h) - Math.max(y, py)), undefined, th.pin, 2);
    }
    axisLabels(s, th, run.queryTokens(stream), m.rows, y - L.sy, cell, x, 'down', y, y + h, pin);
    axisLabels(s, th, run.keyTokens(stream), m.cols, x - L.sx, cell, y, 'right', x, x + w, stream === 'encoder' || stream === 'decoder' ? pin : undefined);
    s.text(x - 6, y - 16, 'key →', th.muted, 10, 'right', 'bottom');
    s.text(x - 6, y - 3, 'query ↓', th.muted, 10, 'right', 'bottom');
    const headLabel = env.sel.head === 'mean' ? 'mean of heads' : env.sel.head === 'rollout' ? 'rollout' : `head ${env.sel.head}`;
    const pooled = raster.rowStep > 1.01 || raster.colStep > 1.01;
    title(s, th, `${run.label} · ${stream} · layer ${env.sel.layer} · ${headLabel}${zoom > 1 ? ` · zoom ×${zoomLabel(zoom)}, rows ${r0}–${r1 - 1}, cols ${c0}–${c1 - 1}` : ''}${pooled ? ` · max over ${Math.ceil(raster.rowStep)}×${Math.ceil(raster.colStep)} cells` : ''}`);
    // The legend is in weights; colours saturate at the 99.5th percentile so one dominant cell (often the first token) does not darken the rest.
    const topWeight = this.scale === 'sqrt' ? topShown * topShown : topShown;
    const caption = this.scale === 'sqrt' ? '√ weight, clipped at p99.5' : this.scale === 'row' ? 'weight / row max' : 'weight, clipped at p99.5';
    if (fit.legendRight) legend(s, th, th.seq, x + w + (vbar ? SB : 0) + 24, y, LEGEND_W, 0, this.scale === 'row' ? topShown : topWeight, caption);
    else legend(s, th, th.seq, x, below + 8, Math.min(LEGEND_W, Math.max(120, w)), 0, this.scale === 'row' ? topShown : topWeight, caption);
    return s;
  }

  /** The matrix as coloured (√ or row-scaled) and its robust maximum, for the whole matrix: scrolling never changes colours. */
  private shown(m: Matrix): { shown: Matrix; top: number } {
    const c = this.shownCache;
    if (c && c.m === m && c.scale === this.scale) return c;
    const shown = scaled(m, this.scale);
    this.shownCache = { m, scale: this.scale, shown, top: robustMax(shown) };
    return this.shownCache;
  }

  /** Scroll offsets that bring cell (r, c) wholly into the box (the least movement). */
  private inSight(L: Layout, r: number, c: number): { sx: number; sy: number } {
    const fitIn = (s: number, a: number, len: number, total: number): number => {
      const b = a + L.cell;
      let v = s;
      if (b > s + len) v = b - len;
      if (a < v) v = a;
      return Math.round(Math.max(0, Math.min(total - len, v)));
    };
    return { sx: fitIn(L.sx, c * L.cell, L.w, L.contentW), sy: fitIn(L.sy, r * L.cell, L.h, L.contentH) };
  }

  scrollArea(): ScrollArea | undefined {
    const L = this.layout;
    return L ? { x: L.x, y: L.y, w: L.w, h: L.h, contentW: L.contentW, contentH: L.contentH, scrollX: L.sx, scrollY: L.sy } : undefined;
  }

  scrolled(x: number, y: number): boolean {
    const L = this.layout;
    if (!L || (Math.abs(x - L.sx) < 1 && Math.abs(y - L.sy) < 1)) return false;
    this.scroll = { x, y };
    return true;
  }

  /** The cell under (x, y) in scene px, through the scale and the scroll. */
  private cellAt(x: number, y: number): { r: number; c: number } | undefined {
    const L = this.layout;
    if (!L || x < L.x || y < L.y || x >= L.x + L.w || y >= L.y + L.h) return undefined;
    const r = Math.floor((y - L.y + L.sy) / L.cell), c = Math.floor((x - L.x + L.sx) / L.cell);
    return r < L.rows && c < L.cols ? { r, c } : undefined;
  }

  /** The query row at height y (over the cells or their labels). */
  private rowAt(y: number): number | undefined {
    const L = this.layout;
    if (!L || y < L.y || y >= L.y + L.h) return undefined;
    const r = Math.floor((y - L.y + L.sy) / L.cell);
    return r < L.rows ? r : undefined;
  }

  private info(env: ViewEnv, r: number, c: number): HoverInfo | undefined {
    const L = this.layout, run = this.run(env);
    if (!L || !run) return undefined;
    const stream = activeStream(env, run)!;
    const q = run.queryTokens(stream)[r], k = run.keyTokens(stream)[c];
    const v = L.m.data[r * L.m.cols + c];
    return {
      text: `${fmt(v)}\nquery ${r} ${tokenHoverText(q)}\nkey ${c} ${tokenHoverText(k)}`,
      marks: [{ x: L.x + c * L.cell - L.sx, y: L.y + r * L.cell - L.sy, w: Math.max(2, L.cell), h: Math.max(2, L.cell) }],
    };
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const cell = this.cellAt(x, y);
    if (cell) return this.info(env, cell.r, cell.c);
    // Hover over a query label shows the row's strongest key.
    const L = this.layout, r = this.rowAt(y);
    if (L && x < L.x && r !== undefined) {
      let best = 0;
      for (let c = 0; c < L.cols; c++) if (L.m.data[r * L.m.cols + c] > L.m.data[r * L.m.cols + best]) best = c;
      return this.info(env, r, best);
    }
    return undefined;
  }

  click(env: ViewEnv, x: number, y: number): void {
    const L = this.layout, r = this.rowAt(y);
    if (L && r !== undefined && x <= L.x + L.w) env.setSel({ pinned: env.sel.pinned === r ? undefined : r });
  }

  zoomAt(env: ViewEnv, factor: number, x: number, y: number): void {
    const L = this.layout;
    if (!L) return;
    const z0 = this.zoom(env), z1 = Math.min(this.maxZoom(), Math.max(1, z0 * factor));
    if (Math.abs(z1 - z0) < 1e-3) return;
    // The matrix point under the pointer stays under it.
    const px = Math.max(L.x, Math.min(L.x + L.w, x)), py = Math.max(L.y, Math.min(L.y + L.h, y));
    this.anchor = { c: (L.sx + px - L.x) / L.cell, r: (L.sy + py - L.y) / L.cell, px, py };
    this.setZoom(env, z1);
  }

  /** Zoom from the buttons or the keyboard: around the cursor's cell when it is in sight, else the box's centre; the cursor stays in sight. */
  private zoomKeep(env: ViewEnv, factor: number): void {
    const L = this.layout;
    if (!L) return;
    const cx = L.x + (this.cursor.c + 0.5) * L.cell - L.sx, cy = L.y + (this.cursor.r + 0.5) * L.cell - L.sy;
    const seen = cx >= L.x && cx < L.x + L.w && cy >= L.y && cy < L.y + L.h;
    this.follow = true;
    this.zoomAt(env, factor, seen ? cx : L.x + L.w / 2, seen ? cy : L.y + L.h / 2);
  }

  key(env: ViewEnv, e: KeyboardEvent): boolean {
    const L = this.layout;
    if (!L) return false;
    const cur = this.cursor;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[e.key]) {
      cur.r = Math.max(0, Math.min(L.rows - 1, cur.r + moves[e.key][0]));
      cur.c = Math.max(0, Math.min(L.cols - 1, cur.c + moves[e.key][1]));
      // Zoomed in, the matrix scrolls to keep the cursor in sight.
      const to = this.inSight(L, cur.r, cur.c);
      if (to.sx !== L.sx || to.sy !== L.sy) { this.scroll = { x: to.sx, y: to.sy }; env.redraw(); }
      return true;
    }
    if (e.key === 'Enter' || e.key === ' ') { env.setSel({ pinned: env.sel.pinned === cur.r ? undefined : cur.r }); return true; }
    if (e.key === '+' || e.key === '=') { this.zoomKeep(env, 2); return true; }
    if (e.key === '-' || e.key === '_') { this.zoomKeep(env, 0.5); return true; }
    if (e.key === '0') { this.setZoom(env, 1); return true; }
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
      json: { model: run.label, stream, layer: env.sel.layer, head: env.sel.head, rows: m.rows, cols: m.cols, queryTokens: run.queryTokens(stream).map((t) => t.text), keyTokens: run.keyTokens(stream).map((t) => t.text), queryTokenLabels: tokenRecords(run.queryTokens(stream)), keyTokenLabels: tokenRecords(run.keyTokens(stream)), values: Array.from(m.data) },
      tensors: p ? [{ name: p.probe.name, tensor: p.tensor }] : [],
    };
  }

  /** The matrix drawn, and (for the layout tests) where: [x, y, w, h, px per cell, scroll x, scroll y] in scene px. */
  probeValues(env: ViewEnv): Record<string, number[]> {
    const m = this.matrix(env);
    if (!m) return {};
    const L = this.layout;
    return { matrix: Array.from(m.data), shape: [m.rows, m.cols], ...(L && L.m === m ? { layout: [L.x, L.y, L.w, L.h, L.cell, L.sx, L.sy] } : {}) };
  }
}

/** ×1.5, ×2, ×12 … */
function zoomLabel(z: number): string {
  return z < 10 ? String(Math.round(z * 10) / 10) : String(Math.round(z));
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

