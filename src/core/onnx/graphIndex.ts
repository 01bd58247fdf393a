/**
 * Who produces and who consumes each tensor, and which names are weights. Probe rules walk the
 * graph through this index instead of scanning node lists.
 */
import type { GraphProto, NodeProto, TensorProto } from './decode.js';

export interface GraphIndex {
  graph: GraphProto;
  /** Nodes in the graph's stored order (exporters store them topologically). */
  nodes: NodeProto[];
  producer: Map<string, NodeProto>;
  consumers: Map<string, NodeProto[]>;
  initializers: Map<string, TensorProto>;
  /** Outputs of Constant nodes, by name. */
  constants: Map<string, NodeProto>;
  inputs: Set<string>;
  outputs: Set<string>;
  /** Position of each node in `topoOrder`. */
  order: Map<NodeProto, number>;
  topoOrder: NodeProto[];
}

export function indexGraph(graph: GraphProto): GraphIndex {
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  const constants = new Map<string, NodeProto>();
  for (const n of graph.node) {
    for (const o of n.output) if (o) producer.set(o, n);
    if (n.opType === 'Constant' && (n.domain ?? '') === '') for (const o of n.output) constants.set(o, n);
    for (const i of n.input) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  const initializers = new Map(graph.initializer.map((t) => [t.name, t] as const));
  const inputs = new Set(graph.input.map((v) => v.name).filter((n) => !initializers.has(n)));
  const outputs = new Set(graph.output.map((v) => v.name));
  const topoOrder = topologicalOrder(graph.node, producer);
  const order = new Map(topoOrder.map((n, i) => [n, i] as const));
  return { graph, nodes: graph.node, producer, consumers, initializers, constants, inputs, outputs, order, topoOrder };
}

/** Kahn's algorithm, stable with respect to stored order; tolerates graphs stored out of order. */
function topologicalOrder(nodes: NodeProto[], producer: Map<string, NodeProto>): NodeProto[] {
  const pending = new Map<NodeProto, number>();
  const dependents = new Map<NodeProto, NodeProto[]>();
  for (const n of nodes) {
    let deps = 0;
    for (const i of n.input) {
      const p = i ? producer.get(i) : undefined;
      if (p && p !== n) {
        deps++;
        const list = dependents.get(p);
        if (list) list.push(n);
        else dependents.set(p, [n]);
      }
    }
    pending.set(n, deps);
  }
  const out: NodeProto[] = [];
  const ready = nodes.filter((n) => pending.get(n) === 0);
  const position = new Map(nodes.map((n, i) => [n, i] as const));
  while (ready.length) {
    const n = ready.shift() as NodeProto;
    out.push(n);
    for (const d of dependents.get(n) ?? []) {
      const left = (pending.get(d) ?? 0) - 1;
      pending.set(d, left);
      if (left === 0) {
        // keep stored order among ready nodes
        const pos = position.get(d) ?? 0;
        let k = ready.length;
        while (k > 0 && (position.get(ready[k - 1]) ?? 0) > pos) k--;
        ready.splice(k, 0, d);
      }
    }
  }
  // Cycles (invalid graphs) keep their remaining nodes in stored order rather than vanishing.
  if (out.length < nodes.length) for (const n of nodes) if (!out.includes(n)) out.push(n);
  return out;
}

/** True when the tensor is a weight (initializer or Constant output), possibly through Cast/Transpose/Reshape. */
export function isWeight(index: GraphIndex, name: string): boolean {
  if (index.initializers.has(name) || index.constants.has(name)) return true;
  const p = index.producer.get(name);
  if (!p) return false;
  if (['Cast', 'Transpose', 'Reshape', 'Identity', 'Unsqueeze', 'DequantizeLinear'].includes(p.opType ?? '')) {
    return isWeight(index, p.input[0]);
  }
  return false;
}
