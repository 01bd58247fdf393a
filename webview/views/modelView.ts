/**
 * 3. Model view: every layer × head as a thumbnail (max-pooled to the thumbnail's pixels), one grid per
 * stream; a click (or Enter on the keyboard cursor) opens that layer and head in the heatmap.
 */
import type { AttentionStream } from '../../src/core/types.js';
import { attentionMatrix, attentionReader, layerNeeds, pooledHead } from '../data/derived.js';
import type { Raster } from '../render/scene.js';
import { Scene } from '../render/scene.js';
import { title } from './drawing.js';
import { tokenRecords } from '../data/tokenDisplay.js';
import type { AttentionNeed, Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

/** Thumbnail size at most and at least (px): thumbnails shrink so that every layer fits a short box, down to MIN_THUMB. */
const MAX_THUMB = 84, MIN_THUMB = 24, GAP = 8, LEFT = 64;
/** Height of the title line and of each stream's caption and head labels. */
const TITLE_H = 28, BLOCK_H = 31;
/** Offsets in a stream's block: its caption, the head labels, the first row of thumbnails. */
const CAPTION_Y = 6, HEADS_Y = 18, THUMBS_Y = 25;
/**
 * Milliseconds one render may spend computing thumbnail rows; the rest come in the next renders. 24 layers × 14
 * heads at 512 tokens took 290 ms in one task (bench/bigViews.ts), over the 200 ms a page may freeze.
 */
const ROW_BUDGET_MS = 40;

interface Cell { stream: AttentionStream; layer: number; head: number; x: number; y: number }

export class ModelView implements View {
  readonly id = 'modelview';
  readonly title = 'Model view';
  private cells: Cell[] = [];
  private cursor = 0;
  /** Thumbnail size of the last scene (hit-testing uses it). */
  private thumb = MAX_THUMB;

  unavailable(env: ViewEnv): string | undefined {
    const run = env.runs[0];
    if (!run) return 'No run yet.';
    return run.streams().length ? undefined : 'This model has no attention heads.';
  }

  controls(): Control[] {
    return [];
  }

  /** The thumbnail size at which every layer of every stream fits the box's height (within MAX_THUMB..MIN_THUMB). */
  private thumbSize(env: ViewEnv): number {
    const run = env.runs[0];
    const streams = run.streams();
    const layers = streams.reduce((n, st) => n + run.layers(st).length, 0);
    const room = env.height - TITLE_H - streams.length * BLOCK_H - 4;
    return Math.max(MIN_THUMB, Math.min(MAX_THUMB, Math.floor(room / Math.max(1, layers)) - GAP));
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, run = env.runs[0];
    const cells: Cell[] = [];
    const thumb = this.thumbSize(env);
    this.thumb = thumb;
    let y = TITLE_H;
    const blocks: { stream: AttentionStream; y: number; layers: number[]; heads: number; maxHeads: number; atlas: ReturnType<ModelView['atlas']> }[] = [];
    const deadline = performance.now() + ROW_BUDGET_MS;
    for (const st of run.streams()) {
      const layers = run.layers(st);
      const heads = Math.max(...layers.map((l) => run.heads(st, l)));
      // All thumbnails of a stream go into one raster (one image to paint, not 144).
      const maxHeads = this.maxHeads(env, heads);
      blocks.push({ stream: st, y, layers, heads, maxHeads, atlas: this.atlas(env, st, layers, maxHeads, thumb, deadline) });
      y += BLOCK_H + layers.length * (thumb + GAP);
    }
    const s = new Scene(env.width, y, th.bg, th.fonts);
    const missing = blocks.reduce((n, b) => n + b.atlas.missing, 0);
    // Rows left for later (over this frame's budget) are drawn by the next renders, one budget each.
    if (blocks.some((b) => b.atlas.later > 0) && !this.redrawQueued) {
      this.redrawQueued = true;
      setTimeout(() => {
        this.redrawQueued = false;
        env.redraw();
      }, 0);
    }
    const total = blocks.reduce((n, b) => n + b.layers.length, 0);
    title(s, th, `${run.label} · ${missing ? run.loadingNote(`${missing} of ${total} layers`) : 'all layers × heads · click a thumbnail to open it in the heatmap'}`);
    for (const b of blocks) {
      s.text(8, b.y + CAPTION_Y, b.stream === 'cross' ? 'cross-attention' : `${b.stream} self-attention`, th.fg, 12, 'left', 'middle', { bold: true });
      // Small thumbnails (a short panel) are labelled H0, H1 …: "head 0" would run into its neighbour.
      for (let h = 0; h < b.heads; h++) s.text(LEFT + h * (thumb + GAP) + thumb / 2, b.y + HEADS_Y, thumb >= 44 ? `head ${h}` : `H${h}`, th.muted, 10, 'center', 'middle');
      const { atlas, maxHeads } = b;
      s.image(LEFT, b.y + THUMBS_Y, atlas.width, atlas.height, atlas);
      for (const [li, l] of b.layers.entries()) {
        const ty = b.y + THUMBS_Y + li * (thumb + GAP);
        s.text(LEFT - 8, ty + thumb / 2, `L${l}`, th.muted, 11, 'right', 'middle');
        for (let h = 0; h < Math.min(maxHeads, run.heads(b.stream, l)); h++) {
          const x = LEFT + h * (thumb + GAP);
          const selected = env.sel.stream === b.stream && env.sel.layer === l && env.sel.head === h;
          s.rect(x, ty, thumb, thumb, undefined, selected ? th.pin : th.border, selected ? 2 : 1);
          cells.push({ stream: b.stream, layer: l, head: h, x, y: ty });
        }
      }
    }
    this.cells = cells;
    return s;
  }

  private redrawQueued = false;

  /** Thumbnail rows (one layer, every head) per run and theme: kept after a long input's layer is evicted. */
  private rowCache = new WeakMap<object, Map<string, Uint8ClampedArray>>();

  private rowKey(env: ViewEnv, stream: AttentionStream, layer: number, heads: number, thumb: number): string {
    return `${stream}|${layer}|${heads}|${thumb}|${env.theme.bg}|${env.theme.accent}`;
  }

  private rows(env: ViewEnv): Map<string, Uint8ClampedArray> {
    const run = env.runs[0];
    let rows = this.rowCache.get(run);
    if (!rows) { rows = new Map(); this.rowCache.set(run, rows); }
    return rows;
  }

  private maxHeads(env: ViewEnv, heads: number, thumb = this.thumbSize(env)): number {
    return Math.max(1, Math.min(heads, Math.floor((env.width - LEFT + GAP) / (thumb + GAP))));
  }

  /** Layers whose thumbnails are not drawn yet and whose attention is not in memory. */
  needs(env: ViewEnv): AttentionNeed[] {
    const run = env.runs[0];
    if (!run) return [];
    return run.streams().flatMap((st) => {
      const layers = run.layers(st);
      const thumb = this.thumbSize(env);
      const heads = this.maxHeads(env, Math.max(...layers.map((l) => run.heads(st, l))), thumb);
      return layerNeeds(run, st, layers).filter((n) => !run.overview(st, n.layer) && !this.rows(env).has(this.rowKey(env, st, n.layer, heads, thumb)));
    });
  }

  /** One layer's thumbnails (max-pooled from the tensor or its overview, √ scale), or undefined while neither is here. */
  private row(env: ViewEnv, stream: AttentionStream, layer: number, heads: number, width: number, thumb: number): Uint8ClampedArray | undefined {
    const key = this.rowKey(env, stream, layer, heads, thumb);
    const rows = this.rows(env);
    const hit = rows.get(key);
    if (hit) return hit;
    // A long input's deferred layer is drawn from its pooled overview (already max-pooled by the graph).
    const p = env.runs[0].attention(stream, layer) ?? env.runs[0].overview(stream, layer);
    if (!p) return undefined;
    const th = env.theme;
    const pixels = new Uint8ClampedArray(width * thumb * 4);
    const bg = th.seq.subarray(0, 4);
    for (let i = 0; i < width * thumb; i++) pixels.set(bg, i * 4);
    const rd = attentionReader(p);
    for (let h = 0; h < Math.min(heads, rd.heads); h++) {
      const m = pooledHead(rd, h, thumb, thumb);
      let max = 0;
      for (const v of m.data) if (v > max) max = v;
      const smax = Math.sqrt(max) || 1;
      const x0 = h * (thumb + GAP);
      for (let y = 0; y < thumb; y++) {
        const r = Math.min(m.rows - 1, Math.floor((y * m.rows) / thumb));
        for (let x = 0; x < thumb; x++) {
          const c = Math.min(m.cols - 1, Math.floor((x * m.cols) / thumb));
          const t = Math.sqrt(Math.max(0, m.data[r * m.cols + c])) / smax;
          const li4 = Math.max(0, Math.min(255, Math.round(t * 255))) * 4;
          pixels.set(th.seq.subarray(li4, li4 + 4), (y * width + x0 + x) * 4);
        }
      }
    }
    rows.set(key, pixels);
    return pixels;
  }

  /**
   * Every layer × head of a stream in one raster (one image to paint, not 144); `missing` counts layers not
   * loaded yet or not drawn yet: rows not in the cache are computed only until `deadline` (performance.now()).
   */
  private atlas(env: ViewEnv, stream: AttentionStream, layers: number[], heads: number, thumb: number, deadline: number): Raster & { missing: number; later: number } {
    const width = heads * (thumb + GAP) - GAP, height = layers.length * (thumb + GAP) - GAP;
    const pixels = new Uint8ClampedArray(width * height * 4);
    const blank = env.theme.seq.subarray(0, 4);
    let missing = 0, later = 0;
    layers.forEach((l, li) => {
      const cached = this.rows(env).has(this.rowKey(env, stream, l, heads, thumb));
      const row = cached || performance.now() < deadline ? this.row(env, stream, l, heads, width, thumb) : undefined;
      if (!row && !cached && (env.runs[0].attention(stream, l) ?? env.runs[0].overview(stream, l))) later += 1;
      const y0 = li * (thumb + GAP);
      if (row) pixels.set(row, y0 * width * 4);
      else {
        missing += 1;
        for (let i = 0; i < width * thumb; i++) pixels.set(blank, (y0 * width + i) * 4);
      }
    });
    return { width, height, pixels, missing, later };
  }

  private at(x: number, y: number): Cell | undefined {
    return this.cells.find((c) => x >= c.x && x < c.x + this.thumb && y >= c.y && y < c.y + this.thumb);
  }

  private describe(env: ViewEnv, c: Cell): HoverInfo {
    const m = attentionMatrix(env.runs[0], c.stream, c.layer, c.head);
    // Mean entropy of the rows: low = focused head, high = broad.
    let ent = 0;
    if (m) {
      for (let r = 0; r < m.rows; r++) {
        let e = 0;
        for (let k = 0; k < m.cols; k++) { const p = m.data[r * m.cols + k]; if (p > 0) e -= p * Math.log2(p); }
        ent += e / m.rows;
      }
    }
    const f = m ? undefined : env.runs[0].overview(c.stream, c.layer)?.pooledBy;
    const what = m ? `mean row entropy ${ent.toFixed(2)} bits` : f ? `overview: maximum over ${f} × ${f} blocks (the layer is not in memory)` : 'not loaded yet';
    return { text: `${c.stream} layer ${c.layer} head ${c.head}\n${what}\nclick to open in the heatmap`, marks: [{ x: c.x, y: c.y, w: this.thumb, h: this.thumb }] };
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const c = this.at(x, y);
    return c ? this.describe(env, c) : undefined;
  }

  private open(env: ViewEnv, c: Cell): void {
    env.setSel({ stream: c.stream, layer: c.layer, head: c.head });
    env.open('heatmap');
  }

  click(env: ViewEnv, x: number, y: number): void {
    const c = this.at(x, y);
    if (c) this.open(env, c);
  }

  key(env: ViewEnv, e: KeyboardEvent): boolean {
    if (!this.cells.length) return false;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { this.cursor = Math.min(this.cells.length - 1, this.cursor + 1); return true; }
    if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { this.cursor = Math.max(0, this.cursor - 1); return true; }
    if (e.key === 'Enter') { this.open(env, this.cells[this.cursor]); return true; }
    return false;
  }

  cursorInfo(env: ViewEnv): HoverInfo | undefined {
    const c = this.cells[this.cursor];
    return c ? this.describe(env, c) : undefined;
  }

  numbers(env: ViewEnv): ExportNumbers {
    const run = env.runs[0];
    // Heads of layers that a long input keeps out of memory are left out of the export (their thumbnails stay drawn).
    const heads = this.cells.flatMap((c) => {
      const m = attentionMatrix(run, c.stream, c.layer, c.head);
      return m ? [{ stream: c.stream, layer: c.layer, head: c.head, rows: m.rows, cols: m.cols, values: Array.from(m.data) }] : [];
    });
    return {
      name: 'modelview',
      json: { model: run.label, tokens: run.tokens.map((t) => t.text), tokenLabels: tokenRecords(run.tokens), heads },
      tensors: run.probes('attention').map((p) => ({ name: p.probe.name, tensor: p.tensor })),
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    return { thumbnails: [this.cells.length || env.runs[0].streams().reduce((s, st) => s + env.runs[0].layers(st).reduce((a, l) => a + env.runs[0].heads(st, l), 0), 0)] };
  }
}
