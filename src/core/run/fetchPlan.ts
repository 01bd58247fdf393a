/**
 * Which probe tensors one run hands back. Attention is the only probe that grows with the square of the
 * sequence (12 layers × 12 heads × 2,048² floats is 2.4 GB), so it is fetched layer by layer within a byte
 * budget; everything else (hidden states, gates, cells: linear in the sequence) always comes back.
 * The rest is left for later runs that ask for just those probes (see TraceOptions.only).
 */
import type { Probe } from '../types.js';

/** Default budget for attention handed back by one run: 256 MB of float32. */
export const DEFAULT_ATTENTION_BUDGET = 256 * 1024 * 1024;

/** Bytes of one attention probe at `tokens` query and key positions (float32, [batch, heads, q, k]). */
export function attentionBytes(p: Probe, tokens: number): number {
  return Math.max(1, p.heads ?? 1) * tokens * tokens * 4;
}

export interface FetchPlan {
  fetch: Probe[];
  /** Attention probes left for later, in plan order. */
  deferred: Probe[];
}

/**
 * Splits the probes into what this run fetches and what it defers. Attention probes are taken in
 * order of preference (the `prefer` ones first, then plan order) while they fit the budget; at least
 * one is always taken, so a view can show something even when one layer alone exceeds the budget.
 */
export function planFetch(probes: readonly Probe[], tokens: number, budget = DEFAULT_ATTENTION_BUDGET,
  prefer: (p: Probe) => boolean = () => false): FetchPlan {
  const attention = probes.filter((p) => p.kind === 'attention');
  const others = probes.filter((p) => p.kind !== 'attention');
  const ordered = [...attention.filter(prefer), ...attention.filter((p) => !prefer(p))];
  const taken = new Set<Probe>();
  let used = 0;
  for (const p of ordered) {
    const b = attentionBytes(p, tokens);
    if (taken.size > 0 && used + b > budget) continue;
    taken.add(p);
    used += b;
  }
  return { fetch: [...others, ...attention.filter((p) => taken.has(p))], deferred: attention.filter((p) => !taken.has(p)) };
}
