/**
 * Instrumentation without re-encoding the model. Protobuf merges a message that appears twice:
 * repeated fields concatenate and embedded messages merge. So the instrumented model is the
 * original bytes followed by a small ModelProto holding only the added nodes, initializers and
 * graph outputs. Weights are not copied through a decode/encode round trip, fields this code
 * does not model survive untouched, and the original outputs are byte-for-byte the same graph.
 * (onnxruntime sorts nodes topologically itself, so appended nodes may come last.)
 */
import { onnx } from './onnxProto.js';

export interface GraphDelta {
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
  /** Tensor names to add as graph outputs; type and shape are left for onnxruntime to infer. */
  outputs: string[];
  /** Opsets the added nodes need that the model may not import yet (e.g. com.microsoft). */
  opsets?: { domain: string; version: number }[];
  /**
   * Element types (TensorProto.DataType) for added outputs whose type onnxruntime cannot infer
   * (e.g. com.microsoft MultiHeadAttention's optional output 3 in ORT 1.30).
   */
  outputTypes?: Record<string, number>;
}

export function emptyDelta(): GraphDelta {
  return { nodes: [], initializers: [], outputs: [] };
}

export function mergeDeltas(...deltas: GraphDelta[]): GraphDelta {
  const out = emptyDelta();
  for (const d of deltas) {
    out.nodes.push(...d.nodes);
    out.initializers.push(...d.initializers);
    for (const o of d.outputs) if (!out.outputs.includes(o)) out.outputs.push(o);
    if (d.opsets) out.opsets = [...(out.opsets ?? []), ...d.opsets];
    if (d.outputTypes) out.outputTypes = { ...(out.outputTypes ?? {}), ...d.outputTypes };
  }
  return out;
}

/**
 * Returns original ++ delta. `existingOutputs` and `importedDomains` keep the delta from
 * duplicating outputs the graph already has or opsets it already imports.
 */
export function applyDelta(
  original: Uint8Array,
  delta: GraphDelta,
  existingOutputs: Iterable<string>,
  importedDomains: Iterable<string>,
): Uint8Array {
  const have = new Set(existingOutputs);
  const domains = new Set([...importedDomains].map((d) => (d === 'ai.onnx' ? '' : d)));
  const outputs = delta.outputs.filter((o) => !have.has(o)).map((name): onnx.IValueInfoProto => {
    const elemType = delta.outputTypes?.[name];
    return elemType === undefined ? { name } : { name, type: { tensorType: { elemType } } };
  });
  const opsetImport = (delta.opsets ?? []).filter((o) => !domains.has(o.domain));
  if (delta.nodes.length === 0 && delta.initializers.length === 0 && outputs.length === 0 && opsetImport.length === 0) {
    return original;
  }
  const tail = onnx.ModelProto.encode({
    graph: { node: delta.nodes, initializer: delta.initializers, output: outputs },
    opsetImport: dedupeOpsets(opsetImport),
  }).finish();
  const out = new Uint8Array(original.length + tail.length);
  out.set(original, 0);
  out.set(tail, original.length);
  return out;
}

function dedupeOpsets(list: { domain: string; version: number }[]): onnx.IOperatorSetIdProto[] {
  const best = new Map<string, number>();
  for (const o of list) best.set(o.domain, Math.max(best.get(o.domain) ?? 0, o.version));
  return [...best].map(([domain, version]) => ({ domain, version }));
}

/** A node with attributes given as plain values (numbers become INT unless listed in `floats`). */
export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attrs: Record<string, number | number[] | string | onnx.IGraphProto> = {},
  opts: { domain?: string; floatAttrs?: string[] } = {},
): onnx.INodeProto {
  const T = onnx.AttributeProto.AttributeType;
  const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([key, v]) => {
    const isFloat = opts.floatAttrs?.includes(key);
    if (typeof v === 'string') return { name: key, type: T.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return isFloat ? { name: key, type: T.FLOATS, floats: v } : { name: key, type: T.INTS, ints: v };
    if (typeof v === 'number') return isFloat ? { name: key, type: T.FLOAT, f: v } : { name: key, type: T.INT, i: v };
    return { name: key, type: T.GRAPH, g: v };
  });
  return { opType, input: inputs, output: outputs, name, attribute, domain: opts.domain ?? '' };
}

export function int64Tensor(name: string, values: number[], dims: number[] = [values.length]): onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values };
}

export function floatTensor(name: string, values: Float32Array | number[], dims: number[]): onnx.ITensorProto {
  const f = values instanceof Float32Array ? values : Float32Array.from(values);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}
