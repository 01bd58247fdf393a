/**
 * A pooled overview of every attention probe: MaxPool over blocks of POOL × POOL (query × key) per
 * head, one extra graph output per layer. At 2,048 tokens a layer's 12 heads are 201 MB of attention
 * but 0.8 MB pooled, so a run whose byte budget defers the full tensors (see run/fetchPlan.ts) can
 * still hand back every layer's overview (the model view's thumbnails) in the same run. Max, not mean:
 * a sharp head stays sharp in the overview instead of fading into its block.
 *
 * onnxruntime runs every node of a graph whatever the run fetches, so the overview costs every run. One
 * 16 × 16 MaxPool (onnxruntime's pooling gathers 16 strided rows per output) took about 30 µs a layer at
 * 128 tokens (5–7% of a run of the zoo Transformer) and 2 ms a layer at 1,000. Max is separable, so the
 * same overview is pooled over queries first (16 × 1: element-wise maxima of whole rows, contiguous) and
 * then over keys (1 × 16, on a tensor 16 times smaller): about 8 µs and 0.6 ms, the same numbers
 * (ceil_mode windows line up the same way in both passes). Encoder and decoder files get none
 * (planProbes.ts): their runs never defer attention.
 */
import { emptyDelta, makeNode, type GraphDelta } from '../onnx/graphDelta.js';
import type { Probe } from '../types.js';
import { hasQueryKeyPlanes, POOL } from '../trace/pool.js';

/**
 * Adds the pooled outputs to the plan's attention probes (sets `probe.pooled`) and returns the nodes.
 * Only [batch, head, query, key] probes of real weights qualify: pre-softmax scores (postprocess) are
 * not weights yet, and MaxPool's ceil_mode needs opset 10.
 */
export function pooledAttention(probes: Probe[], opset: number): GraphDelta {
  const delta = emptyDelta();
  if (opset < 10) return delta;
  for (const p of probes) {
    if (p.kind !== 'attention' || !hasQueryKeyPlanes(p) || (p.postprocess && p.postprocess !== 'none')) continue;
    const name = `${p.name}/seqlens_pooled${POOL}`;
    const rows = `${name}/queries`;
    delta.nodes.push(makeNode('MaxPool', [p.name], [rows], `${rows}/node`, { kernel_shape: [POOL, 1], strides: [POOL, 1], ceil_mode: 1 }));
    delta.nodes.push(makeNode('MaxPool', [rows], [name], `${name}/node`, { kernel_shape: [1, POOL], strides: [1, POOL], ceil_mode: 1 }));
    delta.outputs.push(name);
    p.pooled = { name, factor: POOL };
  }
  return delta;
}
