/**
 * Token labels for the views: core's tokenLabels over a run's text, kept per token object. A label
 * depends on the whole sequence (a character cut across tokens is named in each of them), while views,
 * axes and hovers get tokens one at a time from several lists (source, generated, a stream's keys);
 * so RunData labels its trace once and every view looks its tokens up here.
 */
import type { TokenSpan, Trace } from '../../src/core/trace/traceTypes.js';
import {
  generatedLabels, specialLabel, tokenHover, tokenLabels, tokenRecord, type TokenLabel, type TokenRecord,
} from '../../src/core/tokenize/tokenLabels.js';
import { vocabLabel } from '../../src/core/tokenize/visibleText.js';

/** Weak: a run's labels go with its tokens. */
const labels = new WeakMap<TokenSpan, TokenLabel>();

/** Labels the trace's tokens (and generated tokens), once per trace. */
export function labelTrace(trace: Trace): void {
  const first = trace.tokens[0] ?? trace.generated?.[0];
  if (first && labels.has(first)) return;
  tokenLabels(trace.input, trace.tokens).forEach((l, i) => labels.set(trace.tokens[i]!, l));
  if (trace.generated) generatedLabels(trace.generated).forEach((l, i) => labels.set(trace.generated![i]!, l));
}

/** A token's label; a token from no labelled trace is labelled from its own entry. */
export function labelOf(t: TokenSpan): TokenLabel {
  const known = labels.get(t);
  if (known) return known;
  if (t.position !== undefined) return { label: t.text, kind: 'position', source: '', parts: [], vocab: t.text, id: t.id, start: t.start, end: t.end };
  const empty = t.end <= t.start;
  return {
    label: empty ? specialLabel(t.text) : vocabLabel(t.text), kind: empty ? 'special' : 'text', source: '', parts: [],
    vocab: t.text, id: t.id, start: t.start, end: t.end,
  };
}

/** A label cut to `max` characters (code points: an emoji is not cut in half). */
export function cutLabel(s: string, max: number): string {
  const chars = [...s];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : s;
}

/** How a token is shown in a label: its source text with whitespace marks, long labels cut. */
export function tokenLabel(t: TokenSpan | undefined, max = 12): string {
  return t ? cutLabel(labelOf(t).label, max) : '';
}

/** A hover's line for a token: label, kind, id and vocabulary entry. */
export function tokenHoverText(t: TokenSpan | undefined): string {
  return t ? tokenHover(labelOf(t)) : '';
}

/** Export rows: the vocabulary entry and id, with the label beside them. */
export function tokenRecords(tokens: readonly TokenSpan[]): TokenRecord[] {
  return tokens.map((t) => tokenRecord(labelOf(t)));
}
