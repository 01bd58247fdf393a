/**
 * "Units that follow a pattern" (LSTMVis's best-known feature), one section shared by the Recurrent
 * state and Hidden states views: the user selects a span of tokens on a strip (drag, click then
 * Shift+click, or the keyboard: the "Span" field, or the view's pointer with Enter / Shift+Enter) or
 * picks a hypothesis (bracket depth, quote depth of code), and gets the units ranked — by separation on
 * the span, or by correlation with the hypothesis — with the top units' traces drawn over the text.
 * The math is core's (src/core/trace/unitRanking.ts, codeDepth.ts); this module holds the view state,
 * the drawing and the export of the list.
 */
import type { TokenSpan } from '../../src/core/trace/traceTypes.js';
import { tokenDepths } from '../../src/core/trace/codeDepth.js';
import { rankUnitsByCorrelation, rankUnitsBySpan, spanMask, withAuc } from '../../src/core/trace/unitRanking.js';
import { tokenLabel, type RunData } from '../data/runData.js';
import type { Matrix } from '../data/tensorSlice.js';
import type { Scene } from '../render/scene.js';
import { lutColor, type Theme } from '../render/theme.js';
import { fmt } from './drawing.js';
import type { Control, HoverInfo, ViewEnv } from './viewTypes.js';

export type FinderMode = 'span' | 'bracket' | 'quote';

/** One ranked unit; `score` is Cohen's d for a span, Pearson r for a hypothesis. */
export interface RankedUnit {
  unit: number;
  score: number;
  meanIn?: number;
  meanOut?: number;
  auc?: number;
}

export interface UnitRanking {
  mode: FinderMode;
  /** What was ranked (e.g. "cell state c", "L1"). */
  source: string;
  /** Selected tokens [start, end) in span mode. */
  span?: { start: number; end: number };
  /** The hypothesis signal per token (bracket or quote depth). */
  signal?: Float32Array;
  units: RankedUnit[];
}

/** What the section ranks: activations [tokens × units] and the tokens on their rows. */
export interface FinderSource {
  label: string;
  m: Matrix;
  /** Tokens of the rows (input tokens, or the generated ones for a decoder); undefined when unknown. */
  tokens?: TokenSpan[];
  /** True when `tokens` are the input's (their offsets point into run.trace.input): depth hypotheses apply. */
  inputTokens: boolean;
}

const STRIP_H = 18, TRACE_H = 120, ROW_H = 14, TOP_TRACED = 5, LISTED = 10;
const MODE_LABEL: Record<FinderMode, string> = { span: 'selected span', bracket: 'bracket depth', quote: 'quote depth' };

/** The tokens on a matrix's rows, when the run says which they are. */
export function sourceTokens(run: RunData, m: Matrix): { tokens?: TokenSpan[]; inputTokens: boolean } {
  // Positions of a run on arrays cover no text: no depth hypotheses for them.
  if (m.rows === run.tokens.length) return { tokens: run.tokens, inputTokens: !run.trace.tensorInputs };
  const gen = run.trace.generated;
  return gen && gen.length === m.rows ? { tokens: gen, inputTokens: false } : { inputTokens: false };
}

export class UnitFinder {
  private mode: FinderMode = 'span';
  /** The span as anchor and focus token (inclusive, either order): a drag or Shift+click moves the focus. */
  private anchor?: number;
  private focus?: number;
  /** Also rank units low on the span and high elsewhere. */
  private either = false;
  private dragging = false;
  private strip?: { x: number; y: number; w: number; h: number; n: number };
  private plot?: { x: number; y: number; w: number; h: number; n: number };
  private list?: { x: number; y: number; w: number; rows: number };
  private memo?: { key: string; m: Matrix; ranking: UnitRanking | undefined };

  /** Forget the span (another run, another layer whose rows differ). */
  reset(): void {
    this.anchor = this.focus = undefined;
    this.memo = undefined;
  }

  private spanOf(n: number): { start: number; end: number } | undefined {
    if (this.anchor === undefined || this.focus === undefined) return undefined;
    const a = Math.min(this.anchor, this.focus), b = Math.max(this.anchor, this.focus);
    if (a >= n) return undefined;
    return { start: Math.max(0, a), end: Math.min(n, b + 1) };
  }

  /** The ranking for the current mode, span and source (kept until one of them changes). */
  ranking(run: RunData, src: FinderSource): UnitRanking | undefined {
    const n = src.m.rows;
    const span = this.spanOf(n);
    const key = `${this.mode}|${span?.start}|${span?.end}|${this.either}|${src.label}|${run.trace.input.length}`;
    if (this.memo && this.memo.key === key && this.memo.m === src.m) return this.memo.ranking;
    let ranking: UnitRanking | undefined;
    if (this.mode === 'span') {
      if (span) {
        const mask = spanMask(n, [span]);
        // AUC only for the listed units: it sorts each unit's values, the ranking itself is one pass.
        const ranked = withAuc(src.m, mask, rankUnitsBySpan(src.m, mask, { direction: this.either ? 'either' : 'high' }), LISTED);
        ranking = { mode: 'span', source: src.label, span, units: ranked.map((s, i) => ({ unit: s.unit, score: s.score, meanIn: s.meanIn, meanOut: s.meanOut, ...(i < LISTED ? { auc: s.auc } : {}) })) };
      }
    } else if (src.inputTokens && src.tokens) {
      const depth = tokenDepths(run.trace.input, src.tokens);
      const signal = this.mode === 'bracket' ? depth.bracket : depth.quote;
      ranking = { mode: this.mode, source: src.label, signal, units: rankUnitsByCorrelation(src.m, signal).map((s) => ({ unit: s.unit, score: s.r })) };
    }
    this.memo = { key, m: src.m, ranking };
    return ranking;
  }

  /** Why a hypothesis cannot be tested on this source (undefined when it can). */
  private hypothesisNote(src: FinderSource): string | undefined {
    return src.inputTokens ? undefined : 'Depth hypotheses need the input tokens on the rows (this layer runs over generated tokens).';
  }

  controls(env: ViewEnv, src: FinderSource, extra: Control[] = []): Control[] {
    const span = this.spanOf(src.m.rows);
    const set = (mode: FinderMode): void => { this.mode = mode; env.redraw(); };
    return [
      {
        kind: 'text', id: 'unitSpan', label: 'Span', value: span ? `${span.start}-${span.end - 1}` : '',
        set: (v) => {
          const m = /^\s*(\d+)\s*(?:[-–:,]\s*(\d+))?\s*$/.exec(v);
          if (!m) { this.anchor = this.focus = undefined; } else { this.anchor = Number(m[1]); this.focus = m[2] === undefined ? this.anchor : Number(m[2]); this.mode = 'span'; }
          env.redraw();
        },
      },
      { kind: 'checkbox', id: 'unitEither', label: 'Either sign', checked: this.either, set: (v) => { this.either = v; env.redraw(); } },
      { kind: 'button', id: 'unitBracket', label: 'Bracket depth', title: 'Rank units by correlation with the bracket depth of the text: (), [] and {} outside strings and comments', run: () => set('bracket') },
      { kind: 'button', id: 'unitQuote', label: 'Quote depth', title: 'Rank units by correlation with the string depth of the text: inside \'…\', "…" or `…` (templates nest)', run: () => set('quote') },
      ...(this.mode !== 'span' ? [{ kind: 'button', id: 'unitSpanMode', label: 'Back to span', title: 'Rank units by the selected span again', run: () => set('span') } as Control] : []),
      ...extra,
    ];
  }

  /** The top units of the current ranking (for "trace these" buttons). */
  top(run: RunData, src: FinderSource, k = 4): number[] {
    return this.ranking(run, src)?.units.slice(0, k).map((u) => u.unit) ?? [];
  }

  /** Draws the section from y; returns the y below it. */
  draw(s: Scene, th: Theme, run: RunData, src: FinderSource, x: number, y: number, w: number): number {
    const n = src.m.rows;
    const ranking = this.ranking(run, src);
    const span = this.mode === 'span' ? this.spanOf(n) : undefined;
    const head = this.mode === 'span'
      ? (span ? `Units that follow a pattern · ${src.label} · ranked by separation on tokens ${span.start}–${span.end - 1}` : `Units that follow a pattern · ${src.label} · drag over the tokens below (or click, then Shift+click) to rank units`)
      : `Units that follow a pattern · ${src.label} · ranked by correlation with ${MODE_LABEL[this.mode]}`;
    s.text(8, y + 6, head, th.fg, 11, 'left', 'middle', { bold: true });
    y += 16;

    // The strip: one cell per token, where a span is selected; in a hypothesis, coloured by the signal.
    const cw = w / Math.max(1, n);
    const sig = ranking?.signal;
    let sigMax = 0;
    if (sig) for (const v of sig) sigMax = Math.max(sigMax, v);
    s.rect(x, y, w, STRIP_H, th.bg, th.border);
    if (sig && sigMax > 0) {
      // Runs of equal depth as one rectangle each (long inputs stay a few hundred primitives).
      for (let t = 0; t < n;) {
        let k = t;
        while (k + 1 < n && sig[k + 1] === sig[t]) k++;
        if (sig[t] > 0) s.rect(x + t * cw, y, (k - t + 1) * cw, STRIP_H, lutColor(th.seq, sig[t] / sigMax));
        t = k + 1;
      }
    }
    if (span) s.rect(x + span.start * cw, y, Math.max(2, (span.end - span.start) * cw), STRIP_H, th.accent, th.pin, 1.5, 0.35);
    const toks = src.tokens;
    if (toks && cw >= 7) for (let t = 0; t < n; t++) s.text(x + (t + 0.5) * cw, y + STRIP_H / 2, tokenLabel(toks[t], 2), th.fg, Math.min(11, Math.max(8, cw - 1)), 'center', 'middle', { mono: true });
    this.strip = { x, y, w, h: STRIP_H, n };
    y += STRIP_H + 4;
    if (sig) s.text(x, y + 6, sigMax > 0 ? `strip: ${MODE_LABEL[this.mode]} 0 (background) … ${sigMax}` : `this text has no ${MODE_LABEL[this.mode]} (it is 0 everywhere): every r is 0`, th.muted, 10, 'left', 'middle');
    else if (this.mode !== 'span') s.text(x, y + 6, this.hypothesisNote(src) ?? '', th.muted, 10, 'left', 'middle');
    y += 14;

    if (!ranking) { this.plot = this.list = undefined; return y + 6; }

    // Traces of the top units over the tokens, on one value axis (LSTMVis's picture).
    const units = ranking.units.slice(0, TOP_TRACED).map((u) => u.unit);
    let lo = Infinity, hi = -Infinity;
    for (const u of units) for (let t = 0; t < n; t++) { const v = src.m.data[t * src.m.cols + u]; if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    const yOf = (v: number): number => y + TRACE_H - ((v - lo) / (hi - lo)) * TRACE_H;
    const xOf = (t: number): number => x + (t + 0.5) * cw;
    if (span) s.rect(x + span.start * cw, y, Math.max(2, (span.end - span.start) * cw), TRACE_H, th.accent, undefined, 1, 0.12);
    s.rect(x, y, w, TRACE_H, undefined, th.border);
    if (lo < 0 && hi > 0) s.line(x, yOf(0), x + w, yOf(0), th.muted, 0.5, 0.6);
    if (sig && sigMax > 0) {
      // The hypothesis itself, scaled to the plot's height, as a faint step line behind the traces.
      const pts: number[] = [];
      for (let t = 0; t < n; t++) { const yy = y + TRACE_H - (sig[t] / sigMax) * TRACE_H * 0.9 - 2; pts.push(x + t * cw, yy, x + (t + 1) * cw, yy); }
      s.path(pts, th.fg, 2, 0.55);
    }
    // The best unit on top and in full; the runners-up faint, so hundreds of tokens stay readable.
    units.map((u, i) => ({ u, i })).reverse().forEach(({ u, i }) => {
      const pts: number[] = [];
      for (let t = 0; t < n; t++) pts.push(xOf(t), yOf(src.m.data[t * src.m.cols + u]));
      s.path(pts, th.headColor(i), i === 0 ? 2 : 1, i === 0 ? 1 : 0.35);
    });
    s.text(x - 6, y, fmt(hi), th.muted, 10, 'right', 'top');
    s.text(x - 6, y + TRACE_H, fmt(lo), th.muted, 10, 'right', 'bottom');
    this.plot = { x, y, w, h: TRACE_H, n };
    y += TRACE_H + 4;
    if (toks && cw >= 7) { for (let t = 0; t < n; t++) s.text(xOf(t), y + 6, tokenLabel(toks[t], 3), th.fg, 10, 'center', 'middle', { mono: true }); y += 14; }
    y += 4;

    // The ranked list: the traced units first, in their colours.
    const shown = ranking.units.slice(0, LISTED);
    this.list = { x, y, w, rows: shown.length };
    shown.forEach((r, i) => {
      const yy = y + i * ROW_H + ROW_H / 2;
      if (i < TOP_TRACED) s.rect(x, yy - 4, 10, 8, th.headColor(i));
      s.text(x + 16, yy, `${i + 1}. unit ${r.unit}`, th.fg, 11, 'left', 'middle', { mono: true });
      s.text(x + 120, yy, describe(ranking, r), th.muted, 11, 'left', 'middle', { mono: true });
    });
    y += shown.length * ROW_H + 4;
    s.text(x, y + 6, ranking.mode === 'span'
      ? 'd = (mean on the span − mean elsewhere) / pooled std; AUC = chance a span token is higher than another'
      : `r = Pearson correlation with ${MODE_LABEL[ranking.mode]} over ${n} tokens (ranked by |r|)`, th.muted, 10, 'left', 'middle');
    return y + 20;
  }

  /** The token under (x, y) on the strip or the trace plot. */
  private tokenAt(x: number, y: number, clamp = false): number | undefined {
    for (const b of [this.strip, this.plot]) {
      if (!b) continue;
      const inside = x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h;
      if (!inside && !(clamp && b === this.strip)) continue;
      return Math.max(0, Math.min(b.n - 1, Math.floor(((x - b.x) / b.w) * b.n)));
    }
    return undefined;
  }

  /**
   * Pointer gestures: a press on the strip or the traces starts a span there (with Shift, extends the
   * span from its anchor); moving with the button held drags the span's end; the release ends it.
   * Returns true when the gesture is the section's.
   */
  drag(env: ViewEnv, phase: 'start' | 'move' | 'end', x: number, y: number, shift: boolean): boolean {
    if (phase === 'start') {
      const t = this.tokenAt(x, y);
      if (t === undefined) return false;
      this.dragging = true;
      if (!(shift && this.anchor !== undefined)) this.anchor = t;
      this.focus = t;
      this.mode = 'span';
      env.redraw();
      return true;
    }
    if (!this.dragging) return false;
    const t = this.tokenAt(x, y, true);
    if (phase === 'end') this.dragging = false;
    if (t !== undefined && t !== this.focus) { this.focus = t; env.redraw(); }
    return true;
  }

  /** A click (the keyboard pointer's Enter arrives here): the same as a press and release in place. */
  click(env: ViewEnv, x: number, y: number, shift: boolean): boolean {
    if (!this.drag(env, 'start', x, y, shift)) return false;
    this.dragging = false;
    return true;
  }

  hover(run: RunData, src: FinderSource, x: number, y: number): HoverInfo | undefined {
    const ranking = this.ranking(run, src);
    const L = this.list;
    if (ranking && L && x >= L.x && x < L.x + L.w && y >= L.y && y < L.y + L.rows * ROW_H) {
      const i = Math.floor((y - L.y) / ROW_H), r = ranking.units[i];
      return { text: `unit ${r.unit} (rank ${i + 1} of ${ranking.units.length})\n${describe(ranking, r)}`, marks: [{ x: L.x, y: L.y + i * ROW_H, w: Math.min(L.w, 420), h: ROW_H }] };
    }
    const t = this.tokenAt(x, y);
    if (t === undefined) return undefined;
    const b = y < (this.strip?.y ?? 0) + STRIP_H ? this.strip : this.plot;
    if (!b) return undefined;
    const label = src.tokens ? ` "${tokenLabel(src.tokens[t], 20)}"` : '';
    const lines = [`token ${t}${label}`];
    if (ranking?.signal) lines.push(`${MODE_LABEL[ranking.mode]} ${ranking.signal[t]}`);
    if (ranking) for (const r of ranking.units.slice(0, TOP_TRACED)) lines.push(`unit ${r.unit}: ${fmt(src.m.data[t * src.m.cols + r.unit])}`);
    if (b === this.strip && this.mode === 'span') lines.push(this.anchor === undefined ? 'click or drag to select a span' : 'Shift+click extends the span');
    return { text: lines.join('\n'), marks: [{ x: b.x + (t / b.n) * b.w, y: b.y, w: Math.max(1, b.w / b.n), h: b.h }] };
  }

  /** The list for export: JSON (all units) and CSV (one row a unit, best first). */
  numbers(run: RunData, src: FinderSource): { json: unknown; csv: string } | undefined {
    const r = this.ranking(run, src);
    if (!r) return undefined;
    const json = {
      model: run.label, source: r.source, mode: r.mode, span: r.span,
      score: r.mode === 'span' ? 'cohen-d' : 'pearson-r',
      ...(r.signal ? { signal: Array.from(r.signal) } : {}),
      units: r.units,
    };
    const head = r.mode === 'span' ? 'rank,unit,d,mean_in,mean_out,auc' : 'rank,unit,r';
    const rows = r.units.map((u, i) => (r.mode === 'span' ? [i + 1, u.unit, u.score, u.meanIn, u.meanOut, u.auc ?? ''] : [i + 1, u.unit, u.score]).join(','));
    return { json, csv: [head, ...rows].join('\n') };
  }
}

function describe(r: UnitRanking, u: RankedUnit): string {
  if (r.mode !== 'span') return `r = ${u.score.toFixed(3)}`;
  return `d = ${u.score.toFixed(2)}  on span ${fmt(u.meanIn ?? 0)} · elsewhere ${fmt(u.meanOut ?? 0)}${u.auc !== undefined ? `  AUC ${u.auc.toFixed(3)}` : ''}`;
}
