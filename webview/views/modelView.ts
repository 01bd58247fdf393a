/**
 * 3. Model view: every layer × head as a thumbnail (max-pooled to the thumbnail's pixels), one grid per
 * stream; a click (or Enter on the keyboard cursor) opens that layer and head in the heatmap.
 */
import type { AttentionStream } from '../../src/core/types.js';
import { attentionMatrix, attentionReader, pooledHead } from '../data/derived.js';
import { rasterize } from '../render/rasterize.js';
import { Scene } from '../render/scene.js';
import { title } from './drawing.js';
import { scaled } from './attentionHeatmap.js';
import type { Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

const THUMB = 84, GAP = 8, LEFT = 64;

interface Cell { stream: AttentionStream; layer: number; head: number; x: number; y: number }

export class ModelView implements View {
  readonly id = 'modelview';
  readonly title = 'Model view';
  private cells: Cell[] = [];
  private cursor = 0;

  unavailable(env: ViewEnv): string | undefined {
    const run = env.runs[0];
    if (!run) return 'No run yet.';
    return run.streams().length ? undefined : 'This model has no attention heads.';
  }

  controls(): Control[] {
    return [];
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, run = env.runs[0];
    const cells: Cell[] = [];
    let y = 36;
    const blocks: { stream: AttentionStream; y: number; layers: number[]; heads: number }[] = [];
    for (const st of run.streams()) {
      const layers = run.layers(st);
      const heads = Math.max(...layers.map((l) => run.heads(st, l)));
      blocks.push({ stream: st, y, layers, heads });
      y += 22 + layers.length * (THUMB + GAP) + 12;
    }
    const s = new Scene(env.width, y, th.bg, th.fonts);
    title(s, th, `${run.label} · all layers × heads · click a thumbnail to open it in the heatmap`);
    for (const b of blocks) {
      s.text(8, b.y + 8, `${b.stream} self${b.stream === 'cross' ? '' : '-'}attention`.replace('cross self', 'cross-attention').replace('self-attention', ' self-attention'), th.fg, 12, 'left', 'middle', { bold: true });
      for (let h = 0; h < b.heads; h++) s.text(LEFT + h * (THUMB + GAP) + THUMB / 2, b.y + 20, `head ${h}`, th.muted, 10, 'center', 'middle');
      for (const [li, l] of b.layers.entries()) {
        const ty = b.y + 28 + li * (THUMB + GAP);
        s.text(LEFT - 8, ty + THUMB / 2, `L${l}`, th.muted, 11, 'right', 'middle');
        for (let h = 0; h < run.heads(b.stream, l); h++) {
          const x = LEFT + h * (THUMB + GAP);
          if (x + THUMB > env.width) break;
          const p = run.attention(b.stream, l);
          if (!p) continue;
          // Pooled straight from the tensor (no per-head copy), then √ scale as the heatmap's default.
          const sm = scaled(run.memo(`thumb:${b.stream}:${l}:${h}`, () => pooledHead(attentionReader(p), h, THUMB, THUMB)), 'sqrt');
          let max = 0;
          for (const v of sm.data) if (v > max) max = v;
          s.image(x, ty, THUMB, THUMB, rasterize(sm, { lut: th.seq, min: 0, max: max || 1, maxRows: THUMB, maxCols: THUMB, pool: 'max' }));
          const selected = env.sel.stream === b.stream && env.sel.layer === l && env.sel.head === h;
          s.rect(x, ty, THUMB, THUMB, undefined, selected ? th.pin : th.border, selected ? 2 : 1);
          cells.push({ stream: b.stream, layer: l, head: h, x, y: ty });
        }
      }
    }
    this.cells = cells;
    return s;
  }

  private at(x: number, y: number): Cell | undefined {
    return this.cells.find((c) => x >= c.x && x < c.x + THUMB && y >= c.y && y < c.y + THUMB);
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
    return { text: `${c.stream} layer ${c.layer} head ${c.head}\nmean row entropy ${ent.toFixed(2)} bits\nclick to open in the heatmap`, marks: [{ x: c.x, y: c.y, w: THUMB, h: THUMB }] };
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
    const heads = this.cells.map((c) => {
      const m = attentionMatrix(run, c.stream, c.layer, c.head)!;
      return { stream: c.stream, layer: c.layer, head: c.head, rows: m.rows, cols: m.cols, values: Array.from(m.data) };
    });
    return {
      name: 'modelview',
      json: { model: run.label, tokens: run.tokens.map((t) => t.text), heads },
      tensors: run.probes('attention').map((p) => ({ name: p.probe.name, tensor: p.tensor })),
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    return { thumbnails: [this.cells.length || env.runs[0].streams().reduce((s, st) => s + env.runs[0].layers(st).reduce((a, l) => a + env.runs[0].heads(st, l), 0), 0)] };
  }
}
