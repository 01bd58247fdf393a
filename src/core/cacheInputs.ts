/**
 * The inputs a decoder with a key/value cache takes besides its tokens: the cache itself
 * (`past_key_values.N.key/value` in the Hugging Face layout, `past_*` in others) and, in merged
 * exports, the `use_cache_branch` flag that picks the If branch with or without the cache. A first
 * run has no cache: the cache inputs are fed empty (past length 0) and the flag false. The feeds
 * (run/feeds.ts) and the branch choice of the probe plan (probes/subgraphs.ts) both read this rule,
 * so the branch the plan reads is the branch the run takes.
 */
import type { TensorSummary } from './onnx/summarize.js';

const PAST_NAME = /(^|[._/])(past|past_key_values?|cache|kv_cache)([._/]|$)|^past_/i;
const USE_CACHE_FLAG = /^use_cache(_branch)?$/i;
const LENGTH_DIM = /past|cache|seq|len|total/i;
const BATCH_DIM = /batch/i;

/** A float input of rank ≥ 3 named like a cache: `past_key_values.0.key`, `past_k0`, `cache.1.value`. */
export function isPastInput(t: TensorSummary): boolean {
  return PAST_NAME.test(t.name) && ['float', 'float16', 'bfloat16', 'unknown'].includes(t.type)
    && (t.shape === undefined || t.shape.length >= 3);
}

/** The boolean flag of a merged decoder that selects the branch using the cache. */
export function isUseCacheFlag(t: TensorSummary): boolean {
  return USE_CACHE_FLAG.test(t.name) && (t.type === 'bool' || t.type === 'unknown');
}

/**
 * The shape of an empty cache input: the batch axis 1, the past-length axis 0, the other axes as
 * the graph declares them (heads, head size). Undefined when the graph does not say enough: no
 * shape, a symbolic axis that is neither the first (batch) nor a length, or more than one length axis.
 */
export function emptyPastDims(t: TensorSummary): number[] | undefined {
  const shape = t.shape;
  if (!shape) return undefined;
  const UNKNOWN = -1;
  const dims = shape.map((d, i) => {
    if (typeof d === 'number') return d;
    // Caches keep the batch first whatever its name (batch_size, b, N).
    if (i === 0 || (typeof d === 'string' && BATCH_DIM.test(d))) return 1;
    if (typeof d === 'string' && LENGTH_DIM.test(d)) return 0;
    return UNKNOWN;
  });
  const lengths = dims.filter((d, i) => d === 0 && typeof shape[i] === 'string').length;
  if (lengths === 1 && !dims.includes(UNKNOWN)) return dims;
  // An unnamed length: the axis before the last one, where the Hugging Face layout keeps it.
  const axis = shape.length - 2;
  if (lengths === 0 && dims[axis] === UNKNOWN && dims.every((d, i) => d !== UNKNOWN || i === axis)) {
    return dims.map((d, i) => (i === axis ? 0 : d));
  }
  return undefined;
}

/**
 * Values the first run feeds to inputs that choose If branches (not tokens, not the cache): the
 * `use_cache_branch` flag is false, since there is no cache yet. Keyed by input name.
 */
export function firstRunFlags(inputs: readonly TensorSummary[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const t of inputs) if (isUseCacheFlag(t)) out.set(t.name, [0]);
  return out;
}
