/**
 * Where a model keeps its positional encoding: a learned table (a 2-D initializer read by a Gather whose
 * indices do not come from the token ids, or named like one), or a sinusoidal subgraph (Range → … →
 * Sin and Cos → Concat/Stack) whose output only exists at run time. The first is read straight from
 * the weights; for the second this finds the tensor to expose, and the loaded model adds it as one extra
 * output of its instrumented graph, fetched in the same run.
 */
import type { ModelProto } from '../onnx/decode.js';
import { indexGraph, type GraphIndex } from '../onnx/graphIndex.js';
import { tensorToFloat32 } from '../onnx/tensorData.js';

export interface PositionalEncoding {
  /** Where it came from (initializer name or node), for the view's caption. */
  source: string;
  /** [positions, dims]. */
  rows: number;
  cols: number;
  data: Float32Array;
}

export type PositionalSource =
  | { kind: 'table'; encoding: PositionalEncoding }
  | { kind: 'sinusoid'; tensor: string; node: string };

function reachable(index: GraphIndex, start: string[], depth: number): Map<string, number> {
  // tensor name → distance (in nodes) from the start tensors
  const seen = new Map<string, number>();
  let frontier = start.map((s) => s);
  for (const s of start) seen.set(s, 0);
  for (let d = 1; d <= depth && frontier.length; d++) {
    const next: string[] = [];
    for (const t of frontier) for (const n of index.consumers.get(t) ?? []) for (const o of n.output) {
      if (o && !seen.has(o)) { seen.set(o, d); next.push(o); }
    }
    frontier = next;
  }
  return seen;
}

/** Does tensor `name` depend on any graph input (the token ids)? */
function dependsOnIds(index: GraphIndex, name: string, inputs: Set<string>): boolean {
  const stack = [name];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (inputs.has(t)) return true;
    if (seen.has(t)) continue;
    seen.add(t);
    const n = index.producer.get(t);
    if (!n) continue;
    // Shape-of-ids is only the length, not the ids' values.
    if (n.opType === 'Shape') continue;
    for (const i of n.input) {
      if (inputs.has(i)) return true;
      if (i) stack.push(i);
    }
  }
  return false;
}

export function findPositionalSource(model: ModelProto, graphIndex?: GraphIndex): PositionalSource | undefined {
  if (!model.graph) return undefined;
  const index = graphIndex ?? indexGraph(model.graph);
  const inputs = index.inputs;

  // 1. A learned table: 2-D float initializer gathered by position indices.
  for (const n of index.nodes) {
    if (n.opType !== 'Gather') continue;
    const table = index.initializers.get(n.input[0]);
    if (!table || table.dims.length !== 2) continue;
    const named = /pos/i.test(table.name);
    if (!named && dependsOnIds(index, n.input[1], inputs)) continue;
    if (!named && !n.input[1]) continue;
    const data = tensorToFloat32(table);
    return { kind: 'table', encoding: { source: `initializer ${table.name}`, rows: Number(table.dims[0]), cols: Number(table.dims[1]), data } };
  }
  for (const t of index.initializers.values()) {
    if (/pos(ition)?(al)?[_.]?(emb|enc)/i.test(t.name) && (t.dims.length === 2 || (t.dims.length === 3 && Number(t.dims[0]) === 1))) {
      const rows = Number(t.dims[t.dims.length - 2]), cols = Number(t.dims[t.dims.length - 1]);
      return { kind: 'table', encoding: { source: `initializer ${t.name}`, rows, cols, data: tensorToFloat32(t) } };
    }
  }

  // 2. Sinusoidal: the first tensor both a Sin and a Cos output reach.
  const sins = index.nodes.filter((n) => n.opType === 'Sin');
  const coss = index.nodes.filter((n) => n.opType === 'Cos');
  if (!sins.length || !coss.length) return undefined;
  const fromSin = reachable(index, sins.flatMap((n) => n.output), 4);
  const fromCos = reachable(index, coss.flatMap((n) => n.output), 4);
  let best: { tensor: string; node: string; order: number } | undefined;
  for (const [t] of fromSin) {
    if (!fromCos.has(t)) continue;
    const p = index.producer.get(t);
    if (!p) continue;
    const order = index.order.get(p) ?? Infinity;
    if (!best || order < best.order) best = { tensor: t, node: p.name || p.opType, order };
  }
  if (!best) return undefined;
  // Follow shape-only ops (interleaved sin/cos is Stack + Reshape) to the [positions, dims] tensor.
  let tensor = best.tensor, node = best.node;
  for (let i = 0; i < 4; i++) {
    const cons = index.consumers.get(tensor) ?? [];
    if (cons.length !== 1 || !['Reshape', 'Flatten', 'Unsqueeze', 'Squeeze'].includes(cons[0].opType)) break;
    tensor = cons[0].output[0];
    node = cons[0].name || cons[0].opType;
  }
  return { kind: 'sinusoid', tensor, node };
}
