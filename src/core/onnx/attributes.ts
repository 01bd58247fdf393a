/** Typed reads of node attributes. */
import type { NodeProto, AttributeProto, GraphProto, TensorProto } from './decode.js';

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number;
export function attrInt(node: NodeProto, name: string): number | undefined;
export function attrInt(node: NodeProto, name: string, fallback?: number): number | undefined {
  const a = find(node, name);
  return a ? Number(a.i) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback?: number): number | undefined {
  const a = find(node, name);
  return a ? a.f : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? a.ints.map(Number) : undefined;
}

export function attrString(node: NodeProto, name: string): string | undefined {
  const a = find(node, name);
  return a ? new TextDecoder().decode(a.s) : undefined;
}

export function attrStrings(node: NodeProto, name: string): string[] | undefined {
  const a = find(node, name);
  return a ? a.strings.map((s) => new TextDecoder().decode(s)) : undefined;
}

export function attrGraph(node: NodeProto, name: string): GraphProto | undefined {
  return find(node, name)?.g ?? undefined;
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return find(node, name)?.t ?? undefined;
}
