/**
 * The readable summary `seqlens trace` prints: tokens, per-layer attention entropy and the tokens
 * attended most, hidden-state norms, gate activity, the next-token predictions and, for
 * encoder-decoder models, the generated output with its source alignment.
 */
import type { ProbeTensor, TokenSpan, Trace } from '../core/trace/traceTypes.js';
import type { TextTokenizer } from '../core/tokenize/textTokenizer.js';
import { attentionMatrix, positionVectors } from './tensorView.js';

const show = (s: string): string => JSON.stringify(s).slice(1, -1);
const fmt = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : String(v));

function label(pt: ProbeTensor): string {
  const p = pt.probe;
  const parts = [p.kind, p.stream, `L${p.layer}`, p.gate].filter(Boolean);
  return parts.join(' ');
}

function tokenList(tokens: readonly TokenSpan[], limit = 48): string {
  const shown = tokens.slice(0, limit).map((t) => `${show(t.text)}`).join('|');
  return tokens.length > limit ? `${shown}|… (+${tokens.length - limit})` : shown;
}

/** Mean entropy (bits) of attention rows, per head, and the keys attended most from the last position. */
function attentionLines(pt: ProbeTensor, keyTokens: readonly TokenSpan[], queryTokens: readonly TokenSpan[]): string[] {
  const a = attentionMatrix(pt);
  const entropies: number[] = [];
  for (let h = 0; h < a.heads; h++) {
    let sum = 0;
    for (let q = 0; q < a.positions; q++) {
      let e = 0;
      for (let k = 0; k < a.keys; k++) {
        const w = a.get(h, q, k);
        if (w > 0) e -= w * Math.log2(w);
      }
      sum += e;
    }
    entropies.push(sum / Math.max(1, a.positions));
  }
  const lines = [`  ${label(pt)}: ${a.heads} head(s), ${a.positions}×${a.keys}; mean entropy per head (bits): ${entropies.map((e) => fmt(e, 2)).join(' ')}`];
  const q = a.positions - 1;
  const avg = Array.from({ length: a.keys }, (_, k) => {
    let s = 0;
    for (let h = 0; h < a.heads; h++) s += a.get(h, q, k);
    return s / Math.max(1, a.heads);
  });
  const top = avg.map((w, k) => ({ w, k })).sort((x, y) => y.w - x.w).slice(0, 3);
  const qTok = queryTokens[q];
  lines.push(`    from ${qTok ? `"${show(qTok.text)}"` : `position ${q}`} (last) → ` +
    top.map(({ w, k }) => `"${show(keyTokens[k]?.text ?? `#${k}`)}"@${k} ${fmt(w, 2)}`).join(', '));
  return lines;
}

function norms(pt: ProbeTensor): number[] {
  return positionVectors(pt).map((v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)));
}

function stats(xs: readonly number[]): string {
  if (xs.length === 0) return 'empty';
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `mean ${fmt(mean, 2)}, min ${fmt(Math.min(...xs), 2)}, max ${fmt(Math.max(...xs), 2)}`;
}

function gateLine(pt: ProbeTensor): string {
  const vecs = positionVectors(pt);
  let n = 0, sum = 0, low = 0, high = 0;
  for (const v of vecs) {
    for (const x of v) {
      n++;
      sum += x;
      if (x < 0.1) low++;
      if (x > 0.9) high++;
    }
  }
  return `  ${label(pt)}: mean ${fmt(sum / Math.max(1, n), 3)}, ${fmt((100 * high) / Math.max(1, n), 1)}% > 0.9 (open), ` +
    `${fmt((100 * low) / Math.max(1, n), 1)}% < 0.1 (closed) over ${vecs.length} steps`;
}

function softmax(row: Float32Array): Float32Array {
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  const out = new Float32Array(row.length);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += (out[i] = Math.exp(row[i] - max));
  for (let i = 0; i < row.length; i++) out[i] /= s;
  return out;
}

function topK(row: Float32Array, k: number): { id: number; p: number }[] {
  const p = softmax(row);
  return Array.from(p, (v, id) => ({ id, p: v })).sort((a, b) => b.p - a.p).slice(0, k);
}

export function formatTrace(trace: Trace, vocab: TextTokenizer | undefined): string {
  const out: string[] = [];
  out.push(`${trace.model} (${trace.architecture}) on ${trace.backend}`);
  for (const w of trace.warnings) out.push(`warning: ${w}`);
  out.push(`tokens (${trace.tokens.length}): ${tokenList(trace.tokens)}`);
  const generated = trace.generated ?? [];
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
      const keys = stepped && pt.probe.stream === 'decoder' ? [{ id: -1, text: '<bos>', start: 0, end: 0 }, ...generated] : trace.tokens;
      out.push(...attentionLines(pt, keys, stepped ? generated : trace.tokens));
      if (stepped && pt.probe.stream === 'cross') {
        const a = attentionMatrix(pt);
        const align = Array.from({ length: a.positions }, (_, q) => {
          let best = 0, bw = -1;
          for (let k = 0; k < a.keys; k++) {
            let w = 0;
            for (let h = 0; h < a.heads; h++) w += a.get(h, q, k);
            if (w > bw) { bw = w; best = k; }
          }
          return `${show(generated[q]?.text ?? '?')}←${show(trace.tokens[best]?.text ?? '?')}`;
        });
        out.push(`    alignment (generated←most attended source): ${align.join(' ')}`);
      }
    }
  }
  const hidden = [...byKind('hidden'), ...byKind('cell')];
  if (hidden.length) {
    out.push('hidden-state L2 norm per position:');
    for (const pt of hidden) out.push(`  ${label(pt)}: ${stats(norms(pt))}`);
  }
  const gates = byKind('gate');
  if (gates.length) {
    out.push('gates:');
    for (const pt of gates) out.push(gateLine(pt));
  }
  const logits = trace.logits;
  if (logits && logits.dims.length >= 2 && vocab) {
    const V = logits.dims[logits.dims.length - 1];
    const rows = logits.data.length / V;
    const name = (id: number): string => `"${show(vocab.idToToken(id))}"`;
    if (trace.generated) {
      out.push('top-3 predictions per decoding step:');
      for (let r = 0; r < Math.min(rows, 24); r++) {
        const row = logits.data.subarray(r * V, (r + 1) * V);
        out.push(`  step ${r}: ${topK(row, 3).map((t) => `${name(t.id)} ${fmt(t.p, 3)}`).join(', ')}`);
      }
    } else {
      const row = logits.data.subarray((rows - 1) * V, rows * V);
      out.push(`next-token prediction after the last token: ${topK(row, 5).map((t) => `${name(t.id)} ${fmt(t.p, 3)}`).join(', ')}`);
    }
  }
  const t = trace.timings;
  out.push(`timings (ms): ${Object.entries(t).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', ')}`);
  return out.join('\n');
}
