/**
 * Whether onnxruntime's constant folding should be left out of a model's session. Folding runs, as the session is
 * created, every node whose inputs are all weights and keeps its result as a new weight. Where the only big such
 * nodes transpose a weight for a MatMul (a tied output projection written `MatMul(h, Transpose(embedding))`),
 * folding makes a transposed copy of the weight: on the 80 MB bench decoder a second 78 MB weight, 600-700 ms of
 * its session's creation and 100 ms more on its first run, on this machine where fresh memory is slow to touch.
 * Without folding, onnxruntime's MatMul/Transpose fusion (optimization level 'extended' and up, on the CPU) reads
 * the weight transposed in place (FusedMatMul with transB): no copy, and a warm run is as fast (measured: 5.6-5.9
 * ms either way). Any other foldable node must be small (scalars and shapes an exporter computes), since it then
 * runs on every run instead of once.
 */
import type { GraphProto, NodeProto, TensorProto } from './decode.js';
import { indexGraph } from './graphIndex.js';
import { onnx } from './decode.js';
import { attrInts } from './attributes.js';
import { tensorSize } from './tensorData.js';

/** Below this many transposed weight bytes folding costs little: the runtime's default is kept. */
export const TRANSPOSED_WEIGHTS_MIN_BYTES = 8 * 2 ** 20;
/** A foldable node other than a weight's transpose is left to run per run only if its inputs weigh no more than this. */
export const SMALL_FOLD_MAX_BYTES = 64 * 2 ** 10;

const DT = onnx.TensorProto.DataType;
const WIDTH: Record<number, number> = {
  [DT.DOUBLE]: 8, [DT.INT64]: 8, [DT.UINT64]: 8, [DT.FLOAT16]: 2, [DT.BFLOAT16]: 2, [DT.INT16]: 2, [DT.UINT16]: 2,
  [DT.INT8]: 1, [DT.UINT8]: 1, [DT.BOOL]: 1,
};
/** Ops whose output can be far bigger than their inputs: folded once, they would be costly on every run. */
const GROWS = new Set(['ConstantOfShape', 'Expand', 'Tile', 'Range', 'Resize', 'Pad', 'OneHot', 'EyeLike']);

function weightBytes(t: TensorProto): number {
  const n = tensorSize(t);
  return Number.isFinite(n) ? n * (WIDTH[t.dataType] ?? 4) : Infinity;
}

/** A Transpose that swaps a 2-D weight's axes (no perm, or perm [1, 0]). */
function transposesMatrix(n: NodeProto, weight: TensorProto): boolean {
  if (n.opType !== 'Transpose' || (n.domain ?? '') !== '' || weight.dims.length !== 2) return false;
  const perm = attrInts(n, 'perm');
  return !perm || (perm.length === 2 && perm[0] === 1 && perm[1] === 0);
}

/**
 * True when folding would only transpose big 2-D weights that MatMuls read as their second input (at least
 * TRANSPOSED_WEIGHTS_MIN_BYTES of them), and every other foldable node is small and grows nothing.
 */
export function foldingOnlyCopiesWeights(graph: GraphProto | null | undefined): boolean {
  if (!graph) return false;
  const index = indexGraph(graph);
  // An initializer that is also a graph input can be fed another value: the runtime does not fold it.
  const fed = new Set(graph.input.map((v) => v.name));
  const weights = new Map([...index.initializers].filter(([name]) => !fed.has(name)));
  /** Tensors whose value is known before any run: weights, Constant outputs, results of small folds. */
  const known = new Set<string>([...weights.keys(), ...index.constants.keys()]);
  let transposed = 0;
  for (const n of index.topoOrder) {
    if (index.constants.has(n.output[0] ?? '')) continue;
    const ins = n.input.filter((i) => i);
    if (!ins.length || !ins.every((i) => known.has(i))) continue;
    const weight = weights.get(ins[0]);
    const out = n.output[0] ?? '';
    if (weight && transposesMatrix(n, weight)) {
      const readers = index.consumers.get(out) ?? [];
      if (readers.length && !index.outputs.has(out) && readers.every((r) => r.opType === 'MatMul' && (r.domain ?? '') === '' && r.input[1] === out && r.input[0] !== out)) {
        transposed += weightBytes(weight);
        continue;
      }
    }
    // Any other foldable node: run per run only if it is small (and then its outputs count as known).
    const bytes = ins.reduce((sum, i) => sum + (weights.has(i) ? weightBytes(weights.get(i) as TensorProto) : 0), 0);
    if (GROWS.has(n.opType) || bytes > SMALL_FOLD_MAX_BYTES || n.attribute.some((a) => a.g || a.graphs.length)) return false;
    for (const o of n.output) known.add(o);
  }
  return transposed >= TRANSPOSED_WEIGHTS_MIN_BYTES;
}
