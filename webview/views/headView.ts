/**
 * 2. Head view (BertViz style): tokens in two columns, a line from each query token (left) to each key
 * token (right) with opacity by weight, one colour per head; each query draws its 8 strongest keys per head,
 * a pinned query all of its keys over 0.02. Heads toggle on and off. Long inputs show a window of tokens
 * (the pinned token's neighbourhood); a pinned token shows only its own lines.
 */
import { attentionReader, headMatrices, layerNeeds } from '../data/derived.js';
import { tokenHoverText, tokenLabel, tokenRecords, type RunData } from '../data/runData.js';
import { Scene } from '../render/scene.js';
import { activeStream, streamControls } from './attentionHeatmap.js';
import { fmt, title, tokenWindow } from './drawing.js';
import type { AttentionNeed, Control, ExportNumbers, HoverInfo, View, ViewEnv } from './viewTypes.js';

/** Row height at most and at least (px): rows shrink to fit a short box, down to what a label needs. */
const MAX_ROW = 18, MIN_ROW = 13, TOP = 44, COLW = 120, WINDOW = 48;
/** Lines below this weight are not drawn; unpinned, a query draws at most LINES_PER_QUERY keys per head (its strongest). */
const MIN_LINE_WEIGHT = 0.02, LINES_PER_QUERY = 8;

export class HeadView implements View {
  readonly id = 'headview';
  readonly title = 'Head view';
  private start = 0;
  private layout?: { lx: number; rx: number; t0: number; t1: number; k0: number; k1: number; row: number };

  unavailable(env: ViewEnv): string | undefined {
    const run = env.runs[0];
    if (!run) return 'No run yet.';
    if (!run.streams().length) return 'This model has no attention heads.';
    const st = activeStream(env, run)!;
    return !run.attention(st, env.sel.layer) && run.isDeferred(st, env.sel.layer)
      ? run.loadingNote(`layer ${env.sel.layer}`) : undefined;
  }

  needs(env: ViewEnv): AttentionNeed[] {
    const run = env.runs[0];
    const st = run && activeStream(env, run);
    return run && st ? layerNeeds(run, st, [env.sel.layer]) : [];
  }

  private heads(env: ViewEnv): number {
    const run = env.runs[0];
    const st = activeStream(env, run)!;
    return run.heads(st, env.sel.layer);
  }

  controls(env: ViewEnv): Control[] {
    const run = env.runs[0];
    const n = this.heads(env);
    const out: Control[] = streamControls(env, run, false);
    for (let h = 0; h < n; h++) {
      out.push({ kind: 'checkbox', id: `head${h}`, label: `H${h}`, checked: !env.sel.hiddenHeads.includes(h), set: (v) => env.setSel({ hiddenHeads: v ? env.sel.hiddenHeads.filter((x) => x !== h) : [...env.sel.hiddenHeads, h] }) });
    }
    const q = run.queryTokens(activeStream(env, run)!).length;
    if (q > WINDOW) out.push({ kind: 'number', id: 'start', label: 'From token', value: this.start, min: 0, max: q - 1, set: (v) => { this.start = v; env.redraw(); } });
    return out;
  }

  private window(env: ViewEnv, run: RunData): { t0: number; t1: number } {
    const n = run.queryTokens(activeStream(env, run)!).length;
    const start = env.sel.pinned !== undefined && (env.sel.pinned < this.start || env.sel.pinned >= this.start + WINDOW) ? env.sel.pinned - WINDOW / 2 : this.start;
    return tokenWindow(n, start, WINDOW);
  }

  scene(env: ViewEnv): Scene {
    const th = env.theme, run = env.runs[0];
    const st = activeStream(env, run)!;
    const probe = run.attention(st, env.sel.layer)!;
    const rd = attentionReader(probe);
    const mats = Array.from({ length: rd.heads }, (_, h) => h);
    const { t0, t1 } = this.window(env, run);
    const keys = run.keyTokens(st);
    // Self-attention: keys in the same window; cross: all source tokens (windowed the same way when long).
    const { t0: k0, t1: k1 } = st === 'cross' ? tokenWindow(keys.length, 0, WINDOW) : { t0, t1 };
    const rows = Math.max(t1 - t0, k1 - k0);
    // Rows shrink to fit the box (the panel is often short); below MIN_ROW labels would not read, and the box scrolls instead.
    const row = Math.max(MIN_ROW, Math.min(MAX_ROW, Math.floor((env.height - TOP - 14) / Math.max(1, rows))));
    const font = Math.min(12, row - 2);
    const s = new Scene(env.width, TOP + rows * row + 14, th.bg, th.fonts);
    title(s, th, `${run.label} · ${st} · layer ${env.sel.layer} · ${mats.length} heads${t1 - t0 < run.queryTokens(st).length ? ` · tokens ${t0}–${t1 - 1}` : ''}`);
    const lx = 16 + COLW, rx = Math.min(env.width - COLW - 16, lx + 360);
    s.text(lx, TOP - 14, 'query', th.muted, 10, 'right', 'middle');
    s.text(rx, TOP - 14, 'key', th.muted, 10, 'left', 'middle');
    const pinned = env.sel.pinned;
    const visibleHeads = mats.map((_, h) => h).filter((h) => !env.sel.hiddenHeads.includes(h));
    for (const h of visibleHeads) {
      const color = th.headColor(h);
      for (let q = t0; q < t1 && q < rd.rows; q++) {
        if (pinned !== undefined && q !== pinned) continue;
        const y1 = TOP + (q - t0 + 0.5) * row;
        const base = rd.rowOffset(h, q);
        const drawn: { k: number; w: number }[] = [];
        for (let k = k0; k < k1 && k < rd.cols; k++) {
          const w = rd.data[base + k * rd.colStride];
          if (w >= MIN_LINE_WEIGHT) drawn.push({ k, w });
        }
        // Unpinned, each query draws its strongest keys only: a diffuse row (every weight near 1/keys) would
        // otherwise be dozens of near-invisible lines per head, and thousands of lines cost the canvas 300 ms.
        if (pinned === undefined && drawn.length > LINES_PER_QUERY) drawn.sort((a, b) => b.w - a.w).length = LINES_PER_QUERY;
        for (const { k, w } of drawn) {
          const y2 = TOP + (k - k0 + 0.5) * row;
          s.line(lx + 4, y1, rx - 4, y2, color, 1 + 2 * w, Math.min(1, w * (pinned !== undefined ? 1.2 : 0.9)));
        }
      }
    }
    const qt = run.queryTokens(st);
    for (let q = t0; q < t1; q++) {
      const y = TOP + (q - t0 + 0.5) * row;
      if (q === pinned) s.rect(lx - COLW + 4, y - row / 2, COLW - 6, row, undefined, th.pin, 1.5);
      s.text(lx - 2, y, tokenLabel(qt[q], 14), q === pinned ? th.pin : th.fg, font, 'right', 'middle', { mono: true });
    }
    for (let k = k0; k < k1; k++) s.text(rx + 2, TOP + (k - k0 + 0.5) * row, tokenLabel(keys[k], 14), th.fg, font, 'left', 'middle', { mono: true });
    // Head legend.
    const lxp = rx + COLW + 8;
    if (lxp + 60 < env.width) {
      for (const [i, h] of mats.map((_, x) => x).entries()) {
        const off = env.sel.hiddenHeads.includes(h);
        const box = row - 4;
        s.rect(lxp, TOP + i * row + 2, box, box, off ? undefined : th.headColor(h), th.headColor(h));
        s.text(lxp + box + 6, TOP + (i + 0.5) * row, `head ${h}`, off ? th.muted : th.fg, Math.min(11, font));
      }
    }
    this.layout = { lx, rx, t0, t1, k0, k1, row };
    return s;
  }

  hover(env: ViewEnv, x: number, y: number): HoverInfo | undefined {
    const L = this.layout, run = env.runs[0];
    if (!L || x > L.lx || y < TOP) return undefined;
    const q = L.t0 + Math.floor((y - TOP) / L.row);
    if (q >= L.t1) return undefined;
    const st = activeStream(env, run)!;
    const rd = attentionReader(run.attention(st, env.sel.layer)!);
    const keys = run.keyTokens(st);
    const lines = [`query ${q} ${tokenHoverText(run.queryTokens(st)[q])} — click to pin`];
    for (let h = 0; h < rd.heads; h++) {
      if (env.sel.hiddenHeads.includes(h)) continue;
      const base = rd.rowOffset(h, q);
      let best = 0;
      for (let k = 0; k < rd.cols; k++) if (rd.data[base + k * rd.colStride] > rd.data[base + best * rd.colStride]) best = k;
      lines.push(`head ${h}: → ${best} "${tokenLabel(keys[best], 16)}" ${fmt(rd.data[base + best * rd.colStride])}`);
    }
    return { text: lines.join('\n'), marks: [{ x: L.lx - COLW + 4, y: TOP + (q - L.t0) * L.row, w: COLW - 6, h: L.row }] };
  }

  click(env: ViewEnv, x: number, y: number): void {
    const L = this.layout;
    if (!L || x > L.lx || y < TOP) return;
    const q = L.t0 + Math.floor((y - TOP) / L.row);
    if (q < L.t1) env.setSel({ pinned: env.sel.pinned === q ? undefined : q });
  }

  key(env: ViewEnv, e: KeyboardEvent): boolean {
    const run = env.runs[0];
    const n = run.queryTokens(activeStream(env, run)!).length;
    const p = env.sel.pinned ?? -1;
    if (e.key === 'ArrowDown') { env.setSel({ pinned: Math.min(n - 1, p + 1) }); return true; }
    if (e.key === 'ArrowUp') { env.setSel({ pinned: Math.max(0, p - 1) }); return true; }
    if (e.key === 'Escape') { env.setSel({ pinned: undefined }); return true; }
    return false;
  }

  /** The pinned token's heads as a tooltip, for the keyboard (the host shows it after key() and scrolls it into sight). */
  cursorInfo(env: ViewEnv): HoverInfo | undefined {
    const L = this.layout, p = env.sel.pinned;
    if (!L || p === undefined || p < L.t0 || p >= L.t1) return undefined;
    return this.hover(env, L.lx - 1, TOP + (p - L.t0 + 0.5) * L.row);
  }

  numbers(env: ViewEnv): ExportNumbers {
    const run = env.runs[0];
    const st = activeStream(env, run)!;
    const mats = headMatrices(run, st, env.sel.layer);
    const p = run.attention(st, env.sel.layer);
    return {
      name: `headview-${st}-L${env.sel.layer}`,
      json: { model: run.label, stream: st, layer: env.sel.layer, queryTokens: run.queryTokens(st).map((t) => t.text), keyTokens: run.keyTokens(st).map((t) => t.text), queryTokenLabels: tokenRecords(run.queryTokens(st)), keyTokenLabels: tokenRecords(run.keyTokens(st)), heads: mats.map((m) => ({ rows: m.rows, cols: m.cols, values: Array.from(m.data) })) },
      csv: ['head,query,key,weight', ...mats.flatMap((m, h) => Array.from({ length: m.rows * m.cols }, (_, i) => `${h},${Math.floor(i / m.cols)},${i % m.cols},${m.data[i]}`))].join('\n'),
      tensors: p ? [{ name: p.probe.name, tensor: p.tensor }] : [],
    };
  }

  probeValues(env: ViewEnv): Record<string, number[]> {
    const run = env.runs[0];
    const mats = headMatrices(run, activeStream(env, run)!, env.sel.layer);
    return { heads: [mats.length], ...Object.fromEntries(mats.map((m, h) => [`head${h}`, Array.from(m.data)])) };
  }
}
