/**
 * The small per-token summary the host uses to colour the editor: a score per token (by decoration
 * mode), the top attended tokens, the top next-token predictions. Never whole tensors.
 */
import type { DecorationMode, TokenSummary } from '../../src/shared/protocol.js';
import type { RunData } from './runData.js';
import { attentionMatrix, gateMatrix, normStrip, topK } from './derived.js';
import type { Selection } from '../views/viewTypes.js';
import { vocabText } from './vocab.js';

export function tokenSummaries(run: RunData, mode: DecorationMode, sel: Selection): TokenSummary[] {
  const n = run.tokens.length;
  const scores = new Float32Array(n);
  const streams = run.streams();
  const stream = streams.includes('encoder') ? 'encoder' : streams.includes('decoder') ? 'decoder' : undefined;
  const att = stream ? attentionMatrix(run, stream, run.layers(stream).at(-1) ?? 0, 'mean') : undefined;
  if (mode === 'attention' && att && att.rows === n) {
    // Attention the pinned (else last) token pays to each token.
    const q = sel.pinned ?? n - 1;
    for (let k = 0; k < n; k++) scores[k] = att.data[q * att.cols + k];
  } else if (mode === 'gate' && gateMatrix(run, 'forget', 0)) {
    const g = gateMatrix(run, 'forget', 0)!;
    for (let t = 0; t < Math.min(n, g.rows); t++) { let s = 0; for (let u = 0; u < g.cols; u++) s += g.data[t * g.cols + u]; scores[t] = s / g.cols; }
  } else if (run.hidden().length) {
    const norms = normStrip(run);
    const l = norms.rows - 1;
    for (let t = 0; t < Math.min(n, norms.cols); t++) scores[t] = norms.data[l * norms.cols + t];
  }
  let max = 0;
  for (const v of scores) max = Math.max(max, Math.abs(v));
  const top = topK(run, 3);
  return run.tokens.map((t, i) => {
    const attends: { index: number; weight: number }[] = [];
    if (att && att.rows === n) {
      const row = Array.from(att.data.subarray(i * att.cols, (i + 1) * att.cols));
      row.map((w, index) => ({ index, weight: w })).sort((a, b) => b.weight - a.weight).slice(0, 3).forEach((a) => attends.push(a));
    }
    return {
      start: t.start,
      end: t.end,
      text: t.text,
      score: max > 0 ? Math.abs(scores[i]) / max : 0,
      attends,
      predictions: (top?.[i] ?? []).map((p) => ({ text: vocabText(run, p.id), p: p.p })),
    };
  });
}
