/**
 * The input part of a recurrent op's gate pre-activations, X_t·W_gᵀ + bias, for every step at once, as a
 * [T·B, H] matrix per gate (rows step-major, in the op's sequence-first order).
 *
 * When X is an embedding lookup (Gather of a weight by token ids, seen through Transpose/Unsqueeze/
 * Squeeze/Identity), X_t·W_gᵀ + bias is row `id` of the table E·W_gᵀ + bias. That table is built from
 * initializers only, so onnxruntime computes it once when the session is created (constant folding), and
 * each run gathers T·B rows of it instead of multiplying: the input half of the recomputation costs a copy.
 * The rows are the same dot products, in an order of the runtime's choosing, as in any recomputation.
 * Otherwise one Gemm per gate over all steps.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import type { NodeProto } from '../onnx/decode.js';
import { onnx } from '../onnx/onnxProto.js';
import { attrInt, attrInts } from '../onnx/attributes.js';
import { constantValues } from './graphWalk.js';
import type { RecurrentBuilder } from './recurrentBuilder.js';

/**
 * Largest table (floats, all gates of one direction) worth keeping in the session: 16 MB. A character
 * model's is tens of kB; a 50k-word vocabulary with 1k units would be gigabytes, and gets the Gemm.
 */
const MAX_TABLE_FLOATS = 4 * 1024 * 1024;

export interface InputProjection {
  /**
   * X_t·W_gᵀ + bias for rows [start, end) of direction d's W (one gate), as [T·B, H]. `bias` is a
   * 1-D tensor of length end − start, or '' for none.
   */
  gate(w: string, d: number, start: number, end: number, bias: string): string;
}

/** One op applied between the embedding lookup and the recurrent op's X, replayed on the token ids. */
interface IdsStep { op: 'Transpose' | 'Unsqueeze' | 'Squeeze'; perm?: number[]; axes?: number[] }

interface Lookup { table: string; ids: string; steps: IdsStep[]; rows: number }

/** Axes of an Unsqueeze/Squeeze: the attribute (before opset 13) or the constant second input. */
function axesOf(index: GraphIndex, n: NodeProto): number[] | undefined {
  const attr = attrInts(n, 'axes');
  if (attr) return attr;
  const v = n.input[1] ? constantValues(index, n.input[1]) : undefined;
  return v ? Array.from(v) : undefined;
}

/**
 * X as Gather(E, ids) seen through ops that keep the feature axis last: the weight E, the ids and the
 * ops to replay on the ids (which lack that last axis) so they line up with X's leading axes.
 * X has rank 3 (the recurrent op's input); ranks are followed backwards from there.
 */
function embeddingLookup(index: GraphIndex, x: string): Lookup | undefined {
  const steps: IdsStep[] = [];
  let name = x;
  let rank = 3;
  for (let hops = 0; hops < 8; hops++) {
    const n = index.producer.get(name);
    if (!n || (n.domain ?? '') !== '') return undefined;
    if (n.opType === 'Gather') {
      const e = index.initializers.get(n.input[0]);
      if (!e || e.dataType !== onnx.TensorProto.DataType.FLOAT || e.dims.length !== 2 || attrInt(n, 'axis', 0) !== 0) return undefined;
      if (rank < 1) return undefined;
      return { table: n.input[0], ids: n.input[1], steps: steps.reverse(), rows: Number(e.dims[0]) };
    }
    if (n.opType === 'Identity') {
      name = n.input[0];
      continue;
    }
    if (n.opType === 'Transpose') {
      const perm = attrInts(n, 'perm');
      if (!perm || perm.length !== rank || perm[rank - 1] !== rank - 1) return undefined;
      steps.push({ op: 'Transpose', perm: perm.slice(0, -1) });
      name = n.input[0];
      continue;
    }
    if (n.opType === 'Unsqueeze' || n.opType === 'Squeeze') {
      const given = axesOf(index, n);
      if (!given || given.length === 0) return undefined;
      // Unsqueeze axes count in the output's rank, Squeeze axes in the input's.
      const inRank = n.opType === 'Unsqueeze' ? rank - given.length : rank + given.length;
      const axesRank = n.opType === 'Unsqueeze' ? rank : inRank;
      const axes = given.map((a) => (a < 0 ? a + axesRank : a));
      // The feature axis is the last one on both sides: an axis there would move it.
      if (axes.some((a) => a < 0 || a >= axesRank - 1)) return undefined;
      steps.push({ op: n.opType, axes });
      rank = inRank;
      name = n.input[0];
      continue;
    }
    return undefined;
  }
  return undefined;
}

/**
 * The projection for one recurrent node. `seqFirstX` gives X as [T, B, I] (the op's layout undone)
 * when the Gemm is needed; `layout` is the op's layout attribute.
 */
export function inputProjection(
  b: RecurrentBuilder, index: GraphIndex, node: NodeProto, hidden: number, layout: number, seqFirstX: () => string,
): InputProjection {
  const lookup = embeddingLookup(index, node.input[0]);
  const gatesPerDir = node.opType === 'LSTM' ? 4 : 3;
  // Only weights known at load time make a table onnxruntime folds; computed ones would rebuild it every run.
  const constant = (name: string): boolean => !name || index.initializers.has(name);
  if (lookup && lookup.rows * gatesPerDir * hidden <= MAX_TABLE_FLOATS && constant(node.input[1]) && constant(node.input[3] ?? '')) {
    let ids = lookup.ids;
    for (const s of lookup.steps) {
      if (s.op === 'Transpose') ids = b.transpose(ids, s.perm as number[]);
      else if (s.op === 'Unsqueeze') ids = b.unsqueeze(ids, s.axes as number[]);
      else ids = b.squeeze(ids, s.axes as number[]);
    }
    if (layout === 1) ids = b.transpose(ids, [1, 0]);
    const flat = b.op('Reshape', [ids, b.i64([-1])]); // [T·B], step-major
    return {
      gate(w, d, start, end, bias) {
        // [rows, H], folded by onnxruntime at load time: nothing here depends on an input.
        const proj = b.op('MatMul', [lookup.table, b.transpose(b.slice(b.pick(w, d, 0), start, end, 0), [1, 0])]);
        return b.op('Gather', [bias ? b.add(proj, bias) : proj, flat], { axis: 0 });
      },
    };
  }
  let x2d = '';
  return {
    gate(w, d, start, end, bias) {
      x2d ||= b.op('Flatten', [seqFirstX()], { axis: 2 }); // [T·B, I]
      const wT = b.transpose(b.slice(b.pick(w, d, 0), start, end, 0), [1, 0]); // folded at load time
      return bias ? b.op('Gemm', [x2d, wT, bias]) : b.op('MatMul', [x2d, wT]);
    },
  };
}
