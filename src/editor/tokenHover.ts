/**
 * What the editor hover says about a coloured token: its label (the text it covers, whitespace marked,
 * as the panel shows it), its id and vocabulary entry, its score, the tokens it attends to and the
 * predictions after it. Labels are made here, on the host, with core's tokenLabels over the run's own
 * text: the page's summaries are untrusted and only give spans, ids and vocabulary entries.
 * Pure (no `vscode`), so it is unit-tested without VS Code.
 */
import type { DecorationMode, TokenSummary } from '../shared/protocol.js';
import type { TokenSpan } from '../core/trace/traceTypes.js';
import { tokenLabels, type TokenLabel } from '../core/tokenize/tokenLabels.js';
import { vocabLabel } from '../core/tokenize/visibleText.js';
import { modeLabel } from './scoreColors.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Labels of the tokens as the page sent them (all of them, empty spans included: a character cut across
 * tokens is told from its empty-span parts), by the page's token index; undefined where an entry is malformed.
 */
export function summaryLabels(tokens: readonly unknown[], text: string): (TokenLabel | undefined)[] {
  const spans: TokenSpan[] = [];
  const at: number[] = [];
  tokens.forEach((t, i) => {
    if (!isRecord(t) || typeof t.start !== 'number' || typeof t.end !== 'number') return;
    if (!(Number.isInteger(t.start) && Number.isInteger(t.end) && t.start >= 0 && t.end >= t.start && t.end <= text.length)) return;
    spans.push({ id: Number.isSafeInteger(t.id) ? (t.id as number) : -1, text: typeof t.text === 'string' ? t.text : '', start: t.start, end: t.end });
    at.push(i);
  });
  const out: (TokenLabel | undefined)[] = new Array<TokenLabel | undefined>(tokens.length).fill(undefined);
  tokenLabels(text, spans).forEach((l, k) => {
    out[at[k]!] = l;
  });
  return out;
}

/** Inline code that holds any label (one with a backtick is fenced with more backticks). */
function code(s: string): string {
  const ticks = '`'.repeat(Math.max(1, ...Array.from(s.matchAll(/`+/g), (m) => m[0].length + 1)));
  return `${ticks}${ticks.length > 1 ? ' ' : ''}${s}${ticks.length > 1 ? ' ' : ''}${ticks}`;
}

/** "`·café` · id 18350 `"ĠcafÃ©"`", plus what the label does not say (special, part of a character). */
export function labelMarkdown(l: TokenLabel): string {
  const kind = l.kind === 'special' ? ' · special token' : l.kind === 'unknown' ? ' · unknown to the vocabulary'
    : l.kind === 'part' ? ` · ${l.parts.map((p) => `part ${p.part} of ${p.parts} of ${code(p.char)}`).join(', ')}` : '';
  return `${code(l.label)}${kind} · id ${l.id >= 0 ? l.id : '?'} ${code(JSON.stringify(l.vocab))}`;
}

export interface HoverRun {
  model: string;
  mode: DecorationMode;
  /** The decorated tokens (non-empty spans), as the host keeps them. */
  tokens: readonly TokenSummary[];
  /** Labels by the page's token index (summaryLabels). */
  labels: readonly (TokenLabel | undefined)[];
}

/** The hover's markdown for decorated token `index`. */
export function hoverMarkdown(run: HoverRun, index: number): string {
  const t = run.tokens[index]!;
  const own = run.labels.find((l) => l !== undefined && l.start === t.start && l.end === t.end);
  const parts = [`**Sequence Lens** · ${run.model} · token ${index + 1}/${run.tokens.length}`];
  parts.push(`${own ? labelMarkdown(own) : code(vocabLabel(t.text))} · ${modeLabel(run.mode)} ${t.score.toFixed(3)}`);
  if (t.attends.length > 0) {
    parts.push('Attends to: ' + t.attends
      .map((a) => `${code(run.labels[a.index]?.label ?? `#${a.index}`)} ${(a.weight * 100).toFixed(0)}%`)
      .join(', '));
  }
  if (t.predictions.length > 0) {
    parts.push('Next: ' + t.predictions.map((p) => `${code(vocabLabel(p.text))} ${(p.p * 100).toFixed(0)}%`).join(', '));
  }
  return parts.join('\n\n');
}
