/**
 * Tensors inside control-flow subgraphs are invisible from the top level. An `If` whose condition
 * is known before the run (a constant, or an input the run itself sets: ifCondition.ts) always runs
 * the same branch, so that branch's nodes are appended to the top graph (outputs renamed under
 * `seqlens/if/`) and its intermediate tensors become exposable; the If itself still computes the
 * model's outputs. What sits in Loop/Scan bodies, or in If nodes whose condition is computed from
 * the tokens, is reported as unavailable, one sentence each, counted the way it runs: the ops of one
 * If branch (the larger), not of both.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import type { GraphProto, NodeProto, TensorProto } from '../onnx/decode.js';
import type { onnx } from '../onnx/onnxProto.js';
import { attrGraph } from '../onnx/attributes.js';
import type { Unavailable } from '../types.js';
import { conditionValue } from './ifCondition.js';

export const IF_PREFIX = 'seqlens/if/';

/** An If whose branch was chosen before the run. */
export interface ChosenBranch {
  node: string;
  branch: 'then_branch' | 'else_branch';
  /** The graph inputs the condition was computed from, with the values the run feeds (empty: a constant). */
  inputs: { name: string; value: readonly number[] }[];
}

export interface InlinedBranches {
  nodes: NodeProto[];
  initializers: TensorProto[];
  unavailable: Unavailable[];
  /** If output -> the inlined branch tensor that holds the same value. */
  aliases: Map<string, string>;
  chosen: ChosenBranch[];
  /** The If nodes whose branch was inlined (their subgraphs are already counted through the copy). */
  inlinedNodes: Set<NodeProto>;
}

/** A copy of a decoded protobuf message with some fields replaced; keeps proto2 defaults from the prototype. */
function copyWith<T extends object>(msg: T, fields: Partial<T>): T {
  return Object.assign(Object.create(Object.getPrototypeOf(msg) as object) as T, msg, fields);
}

function hasSubgraphs(n: NodeProto): boolean {
  return n.attribute.some((a) => a.g || a.graphs.length > 0);
}

function subgraphsOf(n: NodeProto): GraphProto[] {
  return n.attribute.flatMap((a) => [...(a.g ? [a.g] : []), ...a.graphs]);
}

const ATTENTION_LIKE = new Set(['Softmax', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'LayerNormalization']);
export const RECURRENT_OP_TYPES = new Set(['LSTM', 'GRU', 'RNN']);

/** Ops of `nodes` and their subgraphs by op type, as they run: one If branch (the one with more), every Loop/Scan body once. */
export function countInside(nodes: readonly NodeProto[], counted: (n: NodeProto) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  const add = (m: Map<string, number>): void => {
    for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
  };
  for (const n of nodes) {
    if (counted(n)) out.set(n.opType, (out.get(n.opType) ?? 0) + 1);
    if (!hasSubgraphs(n)) continue;
    if (n.opType === 'If') {
      const branches = subgraphsOf(n).map((s) => countInside(s.node, counted));
      const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
      const larger = branches.reduce<Map<string, number> | undefined>((best, m) => (!best || total(m) > total(best) ? m : best), undefined);
      if (larger) add(larger);
    } else {
      for (const s of subgraphsOf(n)) add(countInside(s.node, counted));
    }
  }
  return out;
}

function isProbeable(n: NodeProto): boolean {
  return (ATTENTION_LIKE.has(n.opType) || RECURRENT_OP_TYPES.has(n.opType)) && (!n.domain || n.domain === 'ai.onnx' || n.domain === 'com.microsoft');
}

/** "2 LSTM and 1 Softmax op(s)" for the probe-worthy ops a control-flow node holds, or '' when none. */
function describeInside(n: NodeProto): string {
  const counts = countInside([n], isProbeable);
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([op, k]) => `${k} ${op}`);
  if (!parts.length) return '';
  return `${parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0]} op(s)`;
}

/** Graph inputs a tensor is computed from (bounded walk), for naming what an unknown condition depends on. */
function inputsBehind(index: GraphIndex, name: string): string[] {
  const out = new Set<string>();
  const seen = new Set<string>([name]);
  const stack = [name];
  for (let steps = 0; stack.length && steps < 400; steps++) {
    const t = stack.pop() as string;
    if (index.inputs.has(t)) out.add(t);
    for (const i of index.producer.get(t)?.input ?? []) if (i && !seen.has(i)) { seen.add(i); stack.push(i); }
  }
  return [...out];
}

/**
 * Inlines the taken branch of every top-level If whose condition is known from constants and
 * `known` (input name -> the values the run feeds it), and lists what stays out of reach.
 */
export function inlineKnownIfs(index: GraphIndex, known: ReadonlyMap<string, readonly number[]> = new Map()): InlinedBranches {
  const out: InlinedBranches = { nodes: [], initializers: [], unavailable: [], aliases: new Map(), chosen: [], inlinedNodes: new Set() };
  index.nodes.forEach((n, k) => {
    if (!hasSubgraphs(n)) return;
    const label = n.name || `${n.opType}#${k}`;
    const inside = describeInside(n);
    if (n.opType === 'If' && (!n.domain || n.domain === 'ai.onnx')) {
      const cond = conditionValue(index, n.input[0], known);
      const which = cond ? (cond.value ? 'then_branch' : 'else_branch') : undefined;
      const branch = which ? attrGraph(n, which) : undefined;
      if (which && branch && !branch.node.some(hasSubgraphs)) {
        inlineBranch(out, n, `${IF_PREFIX}${label}/`, branch);
        out.inlinedNodes.add(n);
        out.chosen.push({ node: label, branch: which, inputs: (cond?.inputs ?? []).map((name) => ({ name, value: known.get(name) ?? [] })) });
        return;
      }
      if (!inside) return;
      let reason: string;
      if (branch) reason = `the branch this If takes holds further subgraphs, which Sequence Lens does not lift out`;
      else {
        const from = inputsBehind(index, n.input[0]);
        reason = `its condition is computed at run time${from.length ? ` from ${from.join(', ')}` : ''}, so which branch runs is not known before the run and tensors inside a branch are not visible at the top level`;
      }
      out.unavailable.push({ what: `${inside} inside If ${label}`, reason, node: label });
      return;
    }
    if (inside) {
      out.unavailable.push({
        what: `${inside} inside ${n.opType} ${label}`,
        reason: `tensors computed inside a ${n.opType} body are not visible at the top level and change every iteration, and Sequence Lens does not thread them out of the loop`,
        node: label,
      });
    }
  });
  return out;
}

/** Appends a branch's nodes and initializers under `prefix`; outer-scope names keep pointing at the top graph. */
function inlineBranch(out: InlinedBranches, n: NodeProto, prefix: string, branch: GraphProto): void {
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
}

/** The inlined nodes as a delta part (they are plain decoded messages, which protobufjs re-encodes as is). */
export function inlinedAsDelta(b: InlinedBranches): { nodes: onnx.INodeProto[]; initializers: onnx.ITensorProto[] } {
  return {
    nodes: b.nodes as unknown as onnx.INodeProto[],
    initializers: b.initializers as unknown as onnx.ITensorProto[],
  };
}
