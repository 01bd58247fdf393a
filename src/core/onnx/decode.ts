/**
 * Decoding ONNX bytes. Every file is hostile input: the format is sniffed from the first bytes,
 * truncation is reported as such, and weight bytes are never copied (protobufjs hands out
 * subarray views of the input for `bytes` fields).
 */
import { onnx } from './onnxProto.js';
import { SeqLensError } from '../errors.js';

export { onnx };

/*
 * What `decode` really hands back. protobufjs instantiates message classes whose constructors
 * create every repeated field and whose prototypes hold proto2 defaults, so arrays and scalars are
 * always present; the generated typings describe children loosely (as I*Proto), so these
 * interfaces state the decoded shape once, at this boundary.
 */
export interface DimensionProto { dimValue?: number | null; dimParam?: string | null; value?: 'dimValue' | 'dimParam' }
export interface TypeProto {
  tensorType?: { elemType: number; shape?: { dim: DimensionProto[] } | null } | null;
  value?: string;
}
export interface ValueInfoProto { name: string; type?: TypeProto | null; docString: string }
export interface StringStringEntryProto { key: string; value: string }
export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  uint64Data: number[];
  stringData: Uint8Array[];
  externalData: StringStringEntryProto[];
  dataLocation: number;
  docString: string;
}
export interface AttributeProto {
  name: string;
  type: number;
  f: number;
  i: number;
  s: Uint8Array;
  t?: TensorProto | null;
  g?: GraphProto | null;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
  refAttrName: string;
}
export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: AttributeProto[];
  docString: string;
}
export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  docString: string;
}
export interface OperatorSetIdProto { domain: string; version: number }
export interface FunctionProto { name: string; domain: string; input: string[]; output: string[]; node: NodeProto[] }
export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetIdProto[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  graph?: GraphProto | null;
  metadataProps: StringStringEntryProto[];
  functions: FunctionProto[];
}

/**
 * A ModelProto starts with a field tag of ModelProto: ir_version (0x08), producer_name (0x12),
 * graph (0x3a), opset_import (0x42) and a few others. Text, zip, HTML, safetensors... do not.
 */
const MODEL_FIRST_TAGS = new Set([0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72, 0xca]);

export function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && MODEL_FIRST_TAGS.has(bytes[0]);
}

/** Decodes a model file. Throws SeqLensError with code 'not-onnx' or 'truncated'. */
export function decodeModel(bytes: Uint8Array, fileName = 'the file'): ModelProto {
  if (bytes.length === 0) throw new SeqLensError('not-onnx', `${fileName} is empty, not an ONNX model.`);
  if (!looksLikeOnnx(bytes)) {
    throw new SeqLensError('not-onnx', `${fileName} is not an ONNX model (its first bytes are not an ONNX ModelProto).`);
  }
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes) as unknown as ModelProto;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/index out of range/i.test(msg)) {
      throw new SeqLensError('truncated', `${fileName} is truncated or damaged: the ONNX data ends early (${msg}).`);
    }
    // protobufjs stops at 100 nested messages (protoc's limit): about 32 levels of If/Loop/Scan bodies.
    if (/max depth exceeded/i.test(msg)) {
      throw new SeqLensError('not-onnx', `${fileName} nests subgraphs (If, Loop or Scan bodies) deeper than ONNX readers accept (about 32 levels).`);
    }
    throw new SeqLensError('not-onnx', `${fileName} could not be decoded as ONNX: ${msg}`);
  }
  if (!model.graph || model.graph.node.length === 0) {
    throw new SeqLensError('not-onnx', `${fileName} decodes but holds no ONNX graph: it is not an ONNX model.`);
  }
  return model;
}

/** Names of initializers stored outside the .onnx file (data_location = EXTERNAL), with their file names. */
export function externalDataFiles(model: ModelProto): Map<string, string[]> {
  const files = new Map<string, string[]>();
  const visit = (g: GraphProto | null | undefined): void => {
    if (!g) return;
    for (const t of g.initializer) {
      if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
        const loc = t.externalData.find((e) => e.key === 'location')?.value ?? '?';
        files.set(loc, [...(files.get(loc) ?? []), t.name]);
      }
    }
    for (const n of g.node) for (const a of n.attribute) { visit(a.g); a.graphs.forEach(visit); }
  };
  visit(model.graph);
  return files;
}

/** The opset version the model imports for a domain ('' and 'ai.onnx' are the default domain). */
export function opsetVersion(model: ModelProto, domain = ''): number | undefined {
  const d = domain === 'ai.onnx' ? '' : domain;
  const entry = model.opsetImport.find((o) => (o.domain === 'ai.onnx' ? '' : o.domain) === d);
  return entry ? Number(entry.version) : undefined;
}
