/**
 * Tensors inside control-flow subgraphs are invisible from the top level. An `If` whose condition
 * is a constant always runs the same branch, so that branch's nodes are appended to the top graph
 * (outputs renamed under `seqlens/if/`) and its intermediate tensors become exposable; the If
 * itself still computes the model's outputs. Attention-like ops inside Loop/Scan bodies (and in
 * If nodes with a computed condition) are reported as unavailable.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import type { GraphProto, NodeProto, TensorProto } from '../onnx/decode.js';
import type { onnx } from '../onnx/onnxProto.js';
import { attrGraph } from '../onnx/attributes.js';
import type { Unavailable } from '../types.js';
import { constantValues } from './graphWalk.js';

export const IF_PREFIX = 'seqlens/if/';

export interface InlinedBranches {
  nodes: NodeProto[];
  initializers: TensorProto[];
  unavailable: Unavailable[];
  /** If output -> the inlined branch tensor that holds the same value. */
  aliases: Map<string, string>;
}

/** A copy of a decoded protobuf message with some fields replaced; keeps proto2 defaults from the prototype. */
function copyWith<T extends object>(msg: T, fields: Partial<T>): T {
  return Object.assign(Object.create(Object.getPrototypeOf(msg) as object) as T, msg, fields);
}

function hasSubgraphs(n: NodeProto): boolean {
  return n.attribute.some((a) => a.g || a.graphs.length > 0);
}

const ATTENTION_LIKE = new Set(['Softmax', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'LayerNormalization']);

function countAttentionLike(g: GraphProto): number {
  let k = 0;
  for (const n of g.node) {
    if (ATTENTION_LIKE.has(n.opType)) k++;
    for (const a of n.attribute) {
      if (a.g) k += countAttentionLike(a.g);
      for (const s of a.graphs) k += countAttentionLike(s);
    }
  }
  return k;
}

export function inlineConstantIfs(index: GraphIndex): InlinedBranches {
  const out: InlinedBranches = { nodes: [], initializers: [], unavailable: [], aliases: new Map() };
  index.nodes.forEach((n, k) => {
    if (!hasSubgraphs(n)) return;
    const label = n.name || `${n.opType}#${k}`;
    if (n.opType === 'If' && (!n.domain || n.domain === 'ai.onnx')) {
      const cond = constantValues(index, n.input[0]);
      const branch = cond && cond.length === 1 ? attrGraph(n, cond[0] ? 'then_branch' : 'else_branch') : undefined;
      if (branch && !branch.node.some(hasSubgraphs)) {
        const prefix = `${IF_PREFIX}${label}/`;
        const rename = new Map<string, string>();
        for (const t of branch.initializer) rename.set(t.name, prefix + t.name);
        for (const b of branch.node) for (const o of b.output) if (o) rename.set(o, prefix + o);
        const r = (name: string): string => rename.get(name) ?? name;
        for (const t of branch.initializer) out.initializers.push(copyWith(t, { name: r(t.name) }));
        branch.node.forEach((b, j) => {
          out.nodes.push(copyWith(b, { input: b.input.map(r), output: b.output.map(r), name: `${prefix}${b.name || `${b.opType}#${j}`}` }));
        });
        branch.output.forEach((o, i) => {
          if (n.output[i]) out.aliases.set(n.output[i], r(o.name));
        });
        return;
      }
      const inside = (attrGraph(n, 'then_branch') ? countAttentionLike(attrGraph(n, 'then_branch') as GraphProto) : 0)
        + (attrGraph(n, 'else_branch') ? countAttentionLike(attrGraph(n, 'else_branch') as GraphProto) : 0);
      if (inside) {
        out.unavailable.push({
          what: `${inside} attention/normalization op(s) inside If ${label}`,
          reason: branch ? 'the taken branch holds nested subgraphs, which are not inlined'
            : 'the If condition is computed at run time, so the branch that runs is unknown and its tensors are not visible at the top level',
          node: label,
        });
      }
      return;
    }
    const inside = n.attribute.reduce((acc, a) => acc + (a.g ? countAttentionLike(a.g) : 0)
      + a.graphs.reduce((s, g) => s + countAttentionLike(g), 0), 0);
    if (inside) {
      out.unavailable.push({
        what: `${inside} attention/normalization op(s) inside ${n.opType} ${label}`,
        reason: `tensors computed inside a ${n.opType} body are not visible at the top level and change every iteration; `
          + 'Sequence Lens does not thread them out of the loop',
        node: label,
      });
    }
  });
  return out;
}

/** The inlined nodes as a delta part (they are plain decoded messages, which protobufjs re-encodes as is). */
export function inlinedAsDelta(b: InlinedBranches): { nodes: onnx.INodeProto[]; initializers: onnx.ITensorProto[] } {
  return {
    nodes: b.nodes as unknown as onnx.INodeProto[],
    initializers: b.initializers as unknown as onnx.ITensorProto[],
  };
}
