/**
 * The readable summary `seqlens trace` prints: tokens, per-layer attention entropy and the tokens
 * attended most, hidden-state norms, gate activity, the next-token predictions and, for
 * encoder-decoder models, the generated output with its source alignment.
 */
import type { ProbeTensor, Trace } from '../core/trace/traceTypes.js';
import type { TextTokenizer } from '../core/tokenize/textTokenizer.js';
import { attentionMatrix, headCount } from '../core/trace/attention.js';
import { probedMatrix } from '../core/trace/probedTensor.js';
import { hiddenMatrix, rowNorms } from '../core/trace/hiddenStates.js';
import { predictRow } from '../core/trace/predictions.js';
import { generatedLabels, specialLabel, tokenLabels } from '../core/tokenize/tokenLabels.js';
import { vocabLabel } from '../core/tokenize/visibleText.js';

const show = (s: string): string => JSON.stringify(s).slice(1, -1);
const fmt = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : String(v));

function label(pt: ProbeTensor): string {
  const p = pt.probe;
  const parts = [p.kind, p.stream, `L${p.layer}`, p.gate].filter(Boolean);
  return parts.join(' ');
}

/** Tokens are named by their labels (the text they cover, whitespace marked), never by vocabulary spellings. */
function tokenList(labels: readonly string[], limit = 48): string {
  const shown = labels.slice(0, limit).map(show).join('|');
  return labels.length > limit ? `${shown}|… (+${labels.length - limit})` : shown;
}

/** Mean entropy (bits) of attention rows, per head, and the keys attended most from the last position. */
function attentionLines(pt: ProbeTensor, keyTokens: readonly string[], queryTokens: readonly string[]): string[] {
  const heads = headCount(pt);
  const entropies: number[] = [];
  for (let h = 0; h < heads; h++) {
    const m = attentionMatrix(pt, { head: h });
    let sum = 0;
    for (let i = 0; i < m.data.length; i++) {
      const w = m.data[i];
      if (w > 0) sum -= w * Math.log2(w);
    }
    entropies.push(sum / Math.max(1, m.rows));
  }
  const mean = attentionMatrix(pt);
  const lines = [`  ${label(pt)}: ${heads} head(s), ${mean.rows}×${mean.cols}; mean entropy per head (bits): ${entropies.map((e) => fmt(e, 2)).join(' ')}`];
  const q = mean.rows - 1;
  const row = mean.data.subarray(q * mean.cols, (q + 1) * mean.cols);
  const top = Array.from(row, (w, k) => ({ w, k })).sort((x, y) => y.w - x.w).slice(0, 3);
  const qTok = queryTokens[q];
  lines.push(`    from ${qTok !== undefined ? `"${show(qTok)}"` : `position ${q}`} (last) → ` +
    top.map(({ w, k }) => `"${show(keyTokens[k] ?? `#${k}`)}"@${k} ${fmt(w, 2)}`).join(', '));
  return lines;
}

/** Generated token ← the source token the head-mean cross-attention weighs most, per step. */
function alignmentLine(pt: ProbeTensor, generated: readonly string[], source: readonly string[]): string {
  const m = attentionMatrix(pt);
  const pairs = Array.from({ length: m.rows }, (_, q) => {
    const row = m.data.subarray(q * m.cols, (q + 1) * m.cols);
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
    return `${show(generated[q] ?? '?')}←${show(source[best] ?? '?')}`;
  });
  return `    alignment (generated←most attended source): ${pairs.join(' ')}`;
}

function stats(xs: ArrayLike<number>): string {
  if (xs.length === 0) return 'empty';
  let sum = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    sum += xs[i];
    min = Math.min(min, xs[i]);
    max = Math.max(max, xs[i]);
  }
  return `mean ${fmt(sum / xs.length, 2)}, min ${fmt(min, 2)}, max ${fmt(max, 2)}`;
}

/** LSTMVis-style gate reading: how often units are open (> 0.9) or closed (< 0.1). */
function gateLine(pt: ProbeTensor): string {
  const m = hiddenMatrix(pt);
  let sum = 0, low = 0, high = 0;
  for (const x of m.data) {
    sum += x;
    if (x < 0.1) low++;
    if (x > 0.9) high++;
  }
  const n = Math.max(1, m.data.length);
  return `  ${label(pt)}: mean ${fmt(sum / n, 3)}, ${fmt((100 * high) / n, 1)}% > 0.9 (open), ` +
    `${fmt((100 * low) / n, 1)}% < 0.1 (closed) over ${m.rows} steps`;
}

export function formatTrace(trace: Trace, vocab: TextTokenizer | undefined): string {
  const out: string[] = [];
  out.push(`${trace.model} (${trace.architecture}) on ${trace.backend}`);
  for (const w of trace.warnings) out.push(`warning: ${w}`);
  const source = tokenLabels(trace.input, trace.tokens).map((l) => l.label);
  if (trace.tensorInputs) out.push(`inputs: ${trace.tensorInputs.map((i) => `${i.name} [${i.dims.join(', ')}]`).join(', ')}`);
  out.push(`${trace.tensorInputs ? 'positions' : 'tokens'} (${trace.tokens.length}): ${tokenList(source)}`);
  const generated = trace.generated ?? [];
  const generatedNames = generatedLabels(generated).map((l) => l.label);
  if (trace.generated) {
    const text = generated.map((t) => (t.start === t.end ? '' : t.text)).join('');
    out.push(`generated (${generated.length} steps): "${show(text)}"`);
  }

  const byKind = (k: string): ProbeTensor[] => trace.probes.filter((p) => p.probe.kind === k);
  const attn = byKind('attention');
  if (attn.length) {
    out.push('attention:');
    for (const pt of attn) {
      const stepped = pt.stepAxis === true;
      // A decoder step attends over the prefix it was fed: the start token, then what it generated so far.
      const keys = stepped && pt.probe.stream === 'decoder' ? [specialLabel('<bos>'), ...generatedNames] : source;
      out.push(...attentionLines(pt, keys, stepped ? generatedNames : source));
      if (stepped && pt.probe.stream === 'cross') out.push(alignmentLine(pt, generatedNames, source));
    }
  }
  const hidden = [...byKind('hidden'), ...byKind('cell')];
  if (hidden.length) {
    out.push('hidden-state L2 norm per position:');
    for (const pt of hidden) out.push(`  ${label(pt)}: ${stats(rowNorms(hiddenMatrix(pt)))}`);
  }
  const gates = byKind('gate');
  if (gates.length) {
    out.push('gates:');
    for (const pt of gates) out.push(gateLine(pt));
  }
  const asked = byKind('tensor');
  if (asked.length) {
    out.push('probed tensors (L2 norm per position):');
    for (const pt of asked) {
      const m = probedMatrix(pt);
      out.push(`  ${pt.probe.name} [${pt.tensor.dims.join(', ')}] at ${pt.probe.source.op} ${pt.probe.source.node}: ${m.perToken ? stats(m.norms) : `no axis of ${trace.tokens.length} positions; norm ${fmt(m.norms[0] ?? 0, 3)}`}`);
    }
  }
  const logits = trace.logits;
  if (logits && logits.dims.length >= 2 && vocab) {
    const V = logits.dims[logits.dims.length - 1];
    const rows = logits.data.length / V;
    const name = (id: number): string => `"${show(vocabLabel(vocab.idToToken(id)))}"`;
    if (trace.generated) {
      out.push('top-3 predictions per decoding step:');
      for (let r = 0; r < Math.min(rows, 24); r++) {
        const row = logits.data.subarray(r * V, (r + 1) * V);
        out.push(`  step ${r}: ${predictRow(row, 3).map((t) => `${name(t.id)} ${fmt(t.prob, 3)}`).join(', ')}`);
      }
    } else {
      const row = logits.data.subarray((rows - 1) * V, rows * V);
      out.push(`${trace.architecture === 'transformer-encoder' ? 'top-5 predictions at the last position' : 'next-token prediction after the last token'}: ${predictRow(row, 5).map((t) => `${name(t.id)} ${fmt(t.prob, 3)}`).join(', ')}`);
    }
  }
  const t = trace.timings;
  out.push(`timings (ms): ${Object.entries(t).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', ')}`);
  return out.join('\n');
}
