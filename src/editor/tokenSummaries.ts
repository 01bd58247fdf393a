/**
 * Checking the per-token summaries a runResult carries before they reach the editor: the webview
 * is another process and its data is untrusted. Pure, so it is unit-tested without VS Code.
 */
import type { TokenSummary } from '../shared/protocol.js';

/** Drops tokens whose fields are not what the protocol says (webview data is untrusted). */
export function cleanTokens(tokens: readonly unknown[], textLength: number): TokenSummary[] {
  const out: TokenSummary[] = [];
  for (const t of tokens) {
    if (typeof t !== 'object' || t === null) continue;
    const o = t as Record<string, unknown>;
    if (typeof o.start !== 'number' || typeof o.end !== 'number' || typeof o.score !== 'number') continue;
    if (!(o.start >= 0 && o.end > o.start && o.end <= textLength)) continue;
    out.push({
      start: o.start, end: o.end, score: o.score,
      text: typeof o.text === 'string' ? o.text : '',
      ...(Number.isSafeInteger(o.id) ? { id: o.id as number } : {}),
      attends: Array.isArray(o.attends) ? o.attends.filter((a): a is { index: number; weight: number } =>
        typeof a === 'object' && a !== null && typeof a.index === 'number' && typeof a.weight === 'number').slice(0, 8) : [],
      predictions: Array.isArray(o.predictions) ? o.predictions.filter((p): p is { text: string; p: number } =>
        typeof p === 'object' && p !== null && typeof p.text === 'string' && typeof p.p === 'number').slice(0, 8) : [],
    });
  }
  return out;
}

