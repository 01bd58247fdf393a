/**
 * The small per-token summary the host uses to colour the editor: a score per token (by decoration
 * mode), the top attended tokens, the top next-token predictions. Never whole tensors.
 */
import type { DecorationMode, TokenSummary } from '../../src/shared/protocol.js';
import type { RunData } from './runData.js';
import { attentionMatrix, gateMatrix, normStrip, topK } from './derived.js';
import type { Selection } from '../views/viewTypes.js';
import { vocabText } from './vocab.js';

/**
 * Scores every token by the requested mode, falling back to what the model has (a recurrent model has
 * no attention: its tokens are coloured by hidden-state norm). Returns the mode actually used, so the
 * host's legend and hover never name a mode the colours do not show.
 */
export function tokenSummaries(run: RunData, mode: DecorationMode, sel: Selection): { tokens: TokenSummary[]; mode: DecorationMode } {
  const n = run.tokens.length;
  let used: DecorationMode = mode;
  const scores = new Float32Array(n);
  const streams = run.streams();
  const stream = streams.includes('encoder') ? 'encoder' : streams.includes('decoder') ? 'decoder' : undefined;
  const att = stream ? attentionMatrix(run, stream, run.layers(stream).at(-1) ?? 0, 'mean') : undefined;
  if (mode === 'attention' && att && att.rows === n) {
    // Attention the pinned (else last) token pays to each token.
    const q = sel.pinned ?? n - 1;
    for (let k = 0; k < n; k++) scores[k] = att.data[q * att.cols + k];
  } else if (mode !== 'hiddenNorm' && gateMatrix(run, 'forget', 0)) {
    used = 'gate';
    const g = gateMatrix(run, 'forget', 0)!;
    for (let t = 0; t < Math.min(n, g.rows); t++) { let s = 0; for (let u = 0; u < g.cols; u++) s += g.data[t * g.cols + u]; scores[t] = s / g.cols; }
  } else if (run.hidden().length) {
    used = 'hiddenNorm';
    const norms = normStrip(run);
    const l = norms.rows - 1;
    for (let t = 0; t < Math.min(n, norms.cols); t++) scores[t] = norms.data[l * norms.cols + t];
  }
  // Min-max scaling: hidden norms sit in a narrow band far from 0, and dividing by the maximum alone
  // would colour every token almost the same.
  let max = -Infinity, min = Infinity;
  for (const v of scores) { max = Math.max(max, Math.abs(v)); min = Math.min(min, Math.abs(v)); }
  if (used === 'attention') min = 0;
  const range = max - min;
  const top = topK(run, 3);
  const tokens = run.tokens.map((t, i) => {
    const attends: { index: number; weight: number }[] = [];
    if (att && att.rows === n) {
      const row = Array.from(att.data.subarray(i * att.cols, (i + 1) * att.cols));
      row.map((w, index) => ({ index, weight: w })).sort((a, b) => b.weight - a.weight).slice(0, 3).forEach((a) => attends.push(a));
    }
    return {
      start: t.start,
      end: t.end,
      text: t.text,
      id: t.id,
      score: range > 0 ? (Math.abs(scores[i]) - min) / range : 0,
      attends,
      predictions: (top?.[i] ?? []).map((p) => ({ text: vocabText(run, p.id), p: p.p })),
    };
  });
  return { tokens, mode: used };
}
