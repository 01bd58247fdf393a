/**
 * A model's facts for the inspection view and `seqlens inspect`: what goes in and out (with the
 * symbolic dimension names exporters write), which opsets, who produced it, how big it is, and
 * which ops it uses. Reads only the decoded structure; weight bytes are measured, never copied.
 */
import { externalDataFiles, onnx, type GraphProto, type ModelProto, type TensorProto, type ValueInfoProto } from './decode.js';
import { tensorSize } from './tensorData.js';
import { externalDataSummary, type ExternalDataSummary } from './externalData.js';

/** One dimension: a fixed size, a symbolic name (dim_param), or unknown (null). */
export type DimSummary = number | string | null;

export interface TensorSummary {
  name: string;
  /** ONNX element type name ('float', 'int64', ...), or 'unknown' when the graph does not say. */
  type: string;
  /** Undefined when the graph gives no shape at all (rank unknown). */
  shape?: DimSummary[];
}

export interface ModelSummary {
  irVersion: number;
  producer: { name: string; version: string };
  opsets: { domain: string; version: number }[];
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  /**
   * Number of learned values: elements of floating-point initializers and Constant tensors with more
   * than one element, subgraphs included. Integer tensors (shapes, indices, masks) and scalars
   * (epsilons, scales) are not parameters.
   */
  parameterCount: number;
  /**
   * How the weight matrices (initializers of rank ≥ 2) are stored, most values first: 'float32', 'float16',
   * 'bfloat16', 'int8', 'uint8' (behind DequantizeLinear or MatMulInteger), '4-bit' (MatMulNBits' packed B).
   */
  weightTypes: string[];
  /** `weightTypes` as one line ("weights: int8, float32"); absent for a graph without weight matrices. */
  weightText?: string;
  nodeCount: number;
  /** op type (with `domain:` prefix outside the default domain) -> count, subgraphs included. */
  opHistogram: Record<string, number>;
  byteSize: number;
  /** Files that hold initializer data outside the .onnx file (data_location = EXTERNAL). */
  externalDataFiles: string[];
  /** Those files as one line ("weights in 243 files, 0.5 GB") with their count and bytes; absent when there are none. */
  externalData?: ExternalDataSummary;
  graphName: string;
  /** Metadata properties (key/value) the exporter wrote. */
  metadata: Record<string, string>;
}

const ELEM_TYPES: Record<number, string> = Object.fromEntries(
  Object.entries(onnx.TensorProto.DataType)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k.toLowerCase()]),
);

export function elemTypeName(t: number | undefined): string {
  return t === undefined ? 'unknown' : (ELEM_TYPES[Number(t)] ?? `type${t}`);
}

export function tensorSummary(v: ValueInfoProto): TensorSummary {
  const tt = v.type?.tensorType;
  if (!tt) return { name: v.name, type: 'unknown' };
  const out: TensorSummary = { name: v.name, type: elemTypeName(tt.elemType) };
  if (tt.shape) {
    out.shape = tt.shape.dim.map((d) => {
      if (d.dimParam) return d.dimParam;
      if (d.dimValue !== undefined && d.dimValue !== null && (d.value === 'dimValue' || Number(d.dimValue) > 0)) {
        return Number(d.dimValue);
      }
      return null;
    });
  }
  return out;
}

function visitGraphs(g: GraphProto, f: (g: GraphProto) => void): void {
  f(g);
  for (const n of g.node) {
    for (const a of n.attribute) {
      if (a.g) visitGraphs(a.g, f);
      for (const sub of a.graphs) visitGraphs(sub, f);
    }
  }
}

const FLOAT_TYPES = new Set<number>([onnx.TensorProto.DataType.FLOAT, onnx.TensorProto.DataType.FLOAT16,
  onnx.TensorProto.DataType.BFLOAT16, onnx.TensorProto.DataType.DOUBLE]);

function parameterElements(t: TensorProto): number {
  const n = tensorSize(t);
  return FLOAT_TYPES.has(t.dataType) && n > 1 ? n : 0;
}

/**
 * Integer weights that are parameters: DequantizeLinear's data, MatMulInteger's B, MatMulNBits' B (K·N
 * values of `bits`); the scales that go with DequantizeLinear and MatMulNBits are not (values 0).
 */
function quantizedInputs(g: GraphProto): Map<string, { values?: number; type?: string }> {
  const out = new Map<string, { values?: number; type?: string }>();
  for (const n of g.node) {
    if (n.opType === 'DequantizeLinear' && n.input[0]) {
      out.set(n.input[0], {});
      if (n.input[1]) out.set(n.input[1], { values: 0 });
    }
    if ((n.opType === 'MatMulInteger' || n.opType === 'ConvInteger') && n.input[1]) out.set(n.input[1], {});
    if (n.opType === 'MatMulNBits' && n.input[1]) {
      const int = (name: string): number => Number(n.attribute.find((a) => a.name === name)?.i ?? 0);
      out.set(n.input[1], { values: int('K') * int('N'), type: `${int('bits') || 4}-bit` });
      if (n.input[2]) out.set(n.input[2], { values: 0 });
    }
  }
  return out;
}

const TYPE_NAMES: Record<number, string> = { 1: 'float32', 10: 'float16', 16: 'bfloat16', 11: 'float64', 3: 'int8', 2: 'uint8' };

export function summarize(model: ModelProto, byteLength: number): ModelSummary {
  const graph = model.graph as GraphProto;
  const initNames = new Set(graph.initializer.map((t) => t.name));
  let parameterCount = 0;
  let nodeCount = 0;
  const opHistogram: Record<string, number> = {};
  const byType = new Map<string, number>();
  visitGraphs(graph, (g) => {
    const quantized = quantizedInputs(g);
    for (const t of g.initializer) {
      const q = quantized.get(t.name);
      const values = q?.values ?? tensorSize(t);
      parameterCount += q ? values : parameterElements(t);
      const type = q?.type ?? TYPE_NAMES[t.dataType];
      if (t.dims.length >= 2 && values > 0 && type && (q || FLOAT_TYPES.has(t.dataType))) byType.set(type, (byType.get(type) ?? 0) + values);
    }
    for (const n of g.node) {
      nodeCount++;
      const domain = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:` : '';
      const key = `${domain}${n.opType}`;
      opHistogram[key] = (opHistogram[key] ?? 0) + 1;
      if (n.opType === 'Constant' && !n.domain) {
        const t = n.attribute.find((a) => a.name === 'value')?.t;
        if (t) parameterCount += parameterElements(t);
      }
    }
  });
  const external = externalDataSummary(model);
  const weightTypes = [...byType].sort((a, b) => b[1] - a[1]).map(([t]) => t);
  return {
    irVersion: Number(model.irVersion),
    producer: { name: model.producerName, version: model.producerVersion },
    opsets: model.opsetImport.map((o) => ({ domain: o.domain === 'ai.onnx' ? '' : o.domain, version: Number(o.version) })),
    // Old exporters list initializers among graph inputs; those are weights, not inputs.
    inputs: graph.input.filter((v) => !initNames.has(v.name)).map(tensorSummary),
    outputs: graph.output.map(tensorSummary),
    parameterCount,
    weightTypes,
    ...(weightTypes.length ? { weightText: `weights: ${weightTypes.join(', ')}` } : {}),
    nodeCount,
    opHistogram,
    byteSize: byteLength,
    externalDataFiles: [...externalDataFiles(model).keys()],
    ...(external ? { externalData: external } : {}),
    graphName: graph.name,
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value])),
  };
}
