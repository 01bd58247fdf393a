/**
 * Max-pooling of an attention tensor [batch, head, query, key] over factor × factor blocks of
 * (query, key), partial blocks at the edges included: what the graph's MaxPool overview computes
 * (probes/pooledAttention.ts), for a layer that was fetched whole and is about to leave memory.
 */
import type { FloatTensor } from '../run/backend.js';
import type { Probe } from '../types.js';

/** The overview's block side, queries and keys alike (the graph's MaxPool and maxPoolBlocks). */
export const POOL = 16;

/** An attention probe laid out [batch, head, query, key]: one (query × key) plane per head, poolable as an image. */
export function hasQueryKeyPlanes(p: Probe): boolean {
  return p.axes.join() === 'batch,head,query,key';
}

export function maxPoolBlocks(t: FloatTensor, factor: number): FloatTensor {
  const [B, H, Q, K] = t.dims;
  const R = Math.ceil(Q / factor), C = Math.ceil(K / factor);
  const out = new Float32Array(B * H * R * C).fill(-Infinity);
  for (let bh = 0; bh < B * H; bh++) {
    for (let q = 0; q < Q; q++) {
      const src = (bh * Q + q) * K;
      const dst = (bh * R + Math.floor(q / factor)) * C;
      for (let k = 0; k < K; k++) {
        const v = t.data[src + k];
        const o = dst + Math.floor(k / factor);
        if (v > out[o]) out[o] = v;
      }
    }
  }
  return { dims: [B, H, R, C], data: out };
}
