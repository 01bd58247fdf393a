/**
 * ONNX-aware mutations. Wire-level ones damage the protobuf encoding where a decoder trusts it (claimed
 * lengths, duplicated and removed fields at any depth, subgraphs nested thousands deep); semantic ones
 * decode the model with the project's own protobuf bindings, break one fact a valid model keeps
 * (element types, dims, references, acyclicity, attribute values) and encode it again.
 */
import { onnx } from '../../src/core/onnx/onnxProto.js';
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../../src/core/onnx/decode.js';
import type { Prng } from './prng.js';
import { mutateBytes, type Mutated } from './mutators.js';
import {
  WIRE_LEN, concat, encodeVarint, lenField, nestedFields, nestedGraphs, readVarint, replaceNested, scanFields, tag, type NestOp,
} from './wire.js';

// ---------------------------------------------------------------------------------------------
// Wire level

const HUGE_LENGTHS: readonly (bigint | number)[] = [2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32 + 7, 2 ** 53, 2n ** 63n, 2n ** 64n - 1n];

function pickNested(rng: Prng, bytes: Uint8Array): ReturnType<typeof nestedFields>[number] | undefined {
  const all = nestedFields(bytes, rng.int(2, 7));
  if (all.length === 0) return undefined;
  // Deep fields are far more numerous; pick a depth first so shallow ones are hit too.
  const depths = [...new Set(all.map((f) => f.depth))];
  const d = rng.pick(depths);
  return rng.pick(all.filter((f) => f.depth === d));
}

export const wireMutators: Record<string, (rng: Prng, bytes: Uint8Array) => Mutated | undefined> = {
  claimedLength(rng, bytes) {
    const f = pickNested(rng, bytes);
    if (!f) return undefined;
    const actual = f.field.end - f.field.dataStart;
    const claim = rng.chance(0.5) ? rng.pick(HUGE_LENGTHS) : actual + rng.pick([1, 2, 7, 64, 4096, -1, -actual]);
    const replacement = concat([bytes.subarray(f.field.start, f.field.valueStart), encodeVarint(claim), bytes.subarray(f.field.dataStart, f.field.end)]);
    const fix = rng.chance(0.7);
    const out = fix
      ? replaceNested(bytes, f.ancestors, f.field.start, f.field.end, replacement)
      : concat([bytes.subarray(0, f.field.start), replacement, bytes.subarray(f.field.end)]);
    return { bytes: out, label: `field ${f.field.field} at depth ${f.depth} (offset ${f.field.start}) claims ${String(claim)} bytes (has ${actual})${fix ? '' : ', enclosing lengths left stale'}` };
  },
  duplicateField(rng, bytes) {
    const f = pickNested(rng, bytes);
    if (!f) return undefined;
    const whole = bytes.subarray(f.field.start, f.field.end);
    const times = rng.pick([1, 1, 2, 50]);
    const replacement = concat(new Array<Uint8Array>(times + 1).fill(whole));
    return {
      bytes: replaceNested(bytes, f.ancestors, f.field.start, f.field.end, replacement),
      label: `repeat field ${f.field.field} at depth ${f.depth} (offset ${f.field.start}, ${whole.length} bytes) ${times} more time(s)`,
    };
  },
  removeField(rng, bytes) {
    const f = pickNested(rng, bytes);
    if (!f) return undefined;
    return {
      bytes: replaceNested(bytes, f.ancestors, f.field.start, f.field.end, new Uint8Array(0)),
      label: `remove field ${f.field.field} at depth ${f.depth} (offset ${f.field.start})`,
    };
  },
  retag(rng, bytes) {
    const f = pickNested(rng, bytes);
    if (!f) return undefined;
    const field = rng.chance(0.5) ? rng.pick([1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 13, 14, 20, 99]) : f.field.field;
    const wire = rng.chance(0.5) ? rng.pick([0, 1, 2, 3, 4, 5, 6, 7]) : WIRE_LEN;
    const replacement = concat([tag(field, wire), bytes.subarray(f.field.valueStart, f.field.end)]);
    return {
      bytes: replaceNested(bytes, f.ancestors, f.field.start, f.field.end, replacement),
      label: `retag field ${f.field.field} at depth ${f.depth} (offset ${f.field.start}) as field ${field} wire type ${wire}`,
    };
  },
  overlongVarint(rng, bytes) {
    const f = pickNested(rng, bytes);
    if (!f) return undefined;
    const len = readVarint(bytes, f.field.valueStart, bytes.length);
    if (!len) return undefined;
    // The same length with redundant continuation bytes: 11+ bytes is past what a varint may take.
    const extra = rng.pick([1, 5, 12]);
    const v = encodeVarint(len.value);
    const padded = new Uint8Array(v.length + extra);
    padded.set(v);
    for (let i = 0; i < v.length - 1; i++) padded[i] = v[i]! | 0x80;
    padded[v.length - 1] = v[v.length - 1]! | 0x80;
    for (let i = v.length; i < padded.length - 1; i++) padded[i] = 0x80;
    padded[padded.length - 1] = 0;
    const replacement = concat([bytes.subarray(f.field.start, f.field.valueStart), padded, bytes.subarray(f.field.dataStart, f.field.end)]);
    return {
      bytes: replaceNested(bytes, f.ancestors, f.field.start, f.field.end, replacement),
      label: `length of field ${f.field.field} at depth ${f.depth} written with ${padded.length} varint bytes`,
    };
  },
  nestedSubgraphs(rng, bytes) {
    const top = scanFields(bytes, 0, bytes.length);
    const graphField = top?.find((f) => f.field === 7 && f.wire === WIRE_LEN);
    if (!top || !graphField) return undefined;
    // protobufjs reads about 32 levels (100 messages): the walkers of the core see up to that, the decoder the rest.
    const depth = rng.pick([1, 2, 3, 8, 16, 24, 30, 31, 32, 33, 64, 512, 30000]);
    const op = rng.pick<NestOp>(['If', 'Loop', 'Scan']);
    const viaList = rng.chance(0.3);
    const original = bytes.subarray(graphField.dataStart, graphField.end);
    const innermost = rng.chance(0.5) ? 'the model graph' : 'a Softmax graph';
    let graph: Uint8Array;
    if (innermost === 'the model graph') {
      graph = nestedGraphs(original, depth, op, viaList);
    } else {
      const small = onnx.GraphProto.encode({
        name: 'inner', node: [{ opType: 'Softmax', input: ['x'], output: ['y'], name: 'inner_softmax' }],
        input: [{ name: 'x' }], output: [{ name: 'y' }],
      }).finish();
      graph = concat([original, nestedGraphs(small, depth, op, viaList)]);
    }
    const rest = top.filter((f) => f !== graphField).map((f) => bytes.subarray(f.start, f.end));
    return {
      bytes: concat([...rest, lenField(7, graph)]),
      label: `${innermost} inside ${depth} nested ${op} ${viaList ? 'graphs-list' : 'graph'} attributes`,
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Semantic (decode, change one fact, encode)

interface Parts {
  graphs: GraphProto[];
  nodes: NodeProto[];
  tensors: TensorProto[];
  valueInfos: ValueInfoProto[];
}

function parts(model: ModelProto): Parts {
  const out: Parts = { graphs: [], nodes: [], tensors: [], valueInfos: [] };
  const visit = (g: GraphProto, depth: number): void => {
    if (depth > 8) return;
    out.graphs.push(g);
    out.tensors.push(...g.initializer);
    out.valueInfos.push(...g.input, ...g.output, ...g.valueInfo);
    for (const n of g.node) {
      out.nodes.push(n);
      for (const a of n.attribute) {
        if (a.t) out.tensors.push(a.t);
        out.tensors.push(...a.tensors);
        if (a.g) visit(a.g, depth + 1);
        for (const s of a.graphs) visit(s, depth + 1);
      }
    }
  };
  if (model.graph) visit(model.graph, 0);
  return out;
}

const BAD_DATA_TYPES = [0, 8, 14, 15, 17, 18, 19, 20, 21, 22, 23, 40, 255, -1, 2147483647];
const BAD_DIMS = [-1, -7, 0, 2 ** 31, 2 ** 32 + 1, 2 ** 40, 2 ** 53, 1e18, -(2 ** 62)];
const BAD_INTS = [-1, 0, -(2 ** 31), 2 ** 31 - 1, 2 ** 40, 1e18, -(2 ** 62)];
const OP_TYPES = ['Softmax', 'MatMul', 'Gemm', 'LSTM', 'GRU', 'RNN', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'If', 'Loop', 'Scan',
  'LayerNormalization', 'SkipLayerNormalization', 'Reshape', 'Transpose', 'Gather', 'Constant', 'Add', 'Mul', 'Concat', 'Identity', '', 'Bogus'];

const named = (n: NodeProto, i: number): string => n.name || `${n.opType}#${i}`;

export const semanticMutators: Record<string, (rng: Prng, m: ModelProto) => string | undefined> = {
  dataType(rng, m) {
    const p = parts(m);
    const dt = rng.pick(BAD_DATA_TYPES.concat(rng.chance(0.3) ? [rng.int(1, 16)] : []));
    if (p.tensors.length && rng.chance(0.6)) {
      const t = rng.pick(p.tensors);
      const was = t.dataType;
      t.dataType = dt;
      return `tensor ${t.name || '(unnamed)'} data_type ${was} -> ${dt}`;
    }
    const typed = p.valueInfos.filter((v) => v.type?.tensorType);
    if (!typed.length) return undefined;
    const v = rng.pick(typed);
    v.type!.tensorType!.elemType = dt;
    return `value ${v.name} elem_type -> ${dt}`;
  },
  dims(rng, m) {
    const p = parts(m);
    if (p.tensors.length && rng.chance(0.6)) {
      const t = rng.pick(p.tensors);
      const how = rng.pick(['set', 'set', 'append', 'clear'] as const);
      if (how === 'set' && t.dims.length) {
        const i = rng.int(0, t.dims.length - 1);
        const v = rng.pick(BAD_DIMS);
        t.dims[i] = v;
        return `tensor ${t.name || '(unnamed)'} dims[${i}] = ${v}`;
      }
      if (how === 'append') {
        const k = rng.pick([1, 8, 1000]);
        const v = rng.pick([1, 2, 1024]);
        t.dims.push(...new Array<number>(k).fill(v));
        return `tensor ${t.name || '(unnamed)'} gets ${k} more dims of ${v}`;
      }
      t.dims = [];
      return `tensor ${t.name || '(unnamed)'} dims cleared`;
    }
    const shaped = p.valueInfos.filter((v) => v.type?.tensorType?.shape?.dim.length);
    if (!shaped.length) return undefined;
    const v = rng.pick(shaped);
    const dims = v.type!.tensorType!.shape!.dim;
    const i = rng.int(0, dims.length - 1);
    const d = rng.pick(BAD_DIMS);
    dims[i] = { dimValue: d, value: 'dimValue' } as (typeof dims)[number];
    return `value ${v.name} shape[${i}] = ${d}`;
  },
  tensorData(rng, m) {
    const p = parts(m).tensors;
    if (!p.length) return undefined;
    const t = rng.pick(p);
    const how = rng.pick(['truncateRaw', 'extendRaw', 'floatData', 'external', 'int64Values'] as const);
    switch (how) {
      case 'truncateRaw':
        t.rawData = t.rawData.subarray(0, rng.int(0, Math.max(0, t.rawData.length - 1)));
        return `tensor ${t.name} raw_data cut to ${t.rawData.length} bytes`;
      case 'extendRaw':
        t.rawData = concat([t.rawData, new Uint8Array(rng.pick([1, 3, 4096]))]);
        return `tensor ${t.name} raw_data grown to ${t.rawData.length} bytes`;
      case 'floatData':
        t.rawData = new Uint8Array(0);
        t.floatData = new Array<number>(rng.pick([0, 1, 7])).fill(0.5);
        t.int64Data = [];
        return `tensor ${t.name} data moved to ${t.floatData.length} float_data values`;
      case 'external': {
        const loc = rng.pick(['missing.bin', '../../../../etc/hostname', '', 'x'.repeat(300)]);
        t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
        t.externalData = [{ key: 'location', value: loc }, { key: 'offset', value: String(rng.pick([0, -1, 2 ** 53])) },
          { key: 'length', value: String(rng.pick([4, 2 ** 40])) }];
        return `tensor ${t.name} claims external data in "${loc.slice(0, 30)}"`;
      }
      default: {
        const v = rng.pick(BAD_INTS);
        t.dataType = onnx.TensorProto.DataType.INT64;
        t.rawData = new Uint8Array(0);
        t.int64Data = new Array<number>(Math.max(1, Math.min(64, t.dims.reduce((a, d) => a * Math.max(1, Math.min(Number(d), 64)), 1)))).fill(v);
        return `tensor ${t.name} holds int64 values ${v}`;
      }
    }
  },
  danglingInput(rng, m) {
    const nodes = parts(m).nodes.filter((n) => n.input.length);
    if (!nodes.length) return undefined;
    const n = rng.pick(nodes);
    const i = rng.int(0, n.input.length - 1);
    const was = n.input[i];
    n.input[i] = `seqlens_fuzz_missing_${rng.int(0, 999)}`;
    return `node ${n.name || n.opType} input ${i} (${was}) -> ${n.input[i]}`;
  },
  cycle(rng, m) {
    const g = m.graph;
    if (!g || g.node.length < 1) return undefined;
    const producer = new Map<string, NodeProto>();
    const consumers = new Map<string, NodeProto[]>();
    for (const n of g.node) {
      for (const o of n.output) producer.set(o, n);
      for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
    }
    const start = rng.pick(g.node.filter((n) => n.input.length && n.output.length));
    if (!start) return undefined;
    const k = rng.pick([0, 1, 2, 5, 30]);
    let end = start;
    for (let s = 0; s < k; s++) {
      const next = (consumers.get(end.output[0]!) ?? []).filter((c) => c.output.length > 0);
      if (!next.length) break;
      end = rng.pick(next);
    }
    const i = rng.int(0, start.input.length - 1);
    start.input[i] = end.output[0]!;
    return end === start
      ? `node ${start.name || start.opType} reads its own output (self-loop)`
      : `node ${start.name || start.opType} input ${i} <- output of ${end.name || end.opType} downstream (cycle)`;
  },
  duplicateOutput(rng, m) {
    const nodes = parts(m).nodes.filter((n) => n.output.length);
    if (nodes.length < 2) return undefined;
    const a = rng.pick(nodes);
    const b = rng.pick(nodes);
    a.output[0] = b.output[0]!;
    return `node ${a.name || a.opType} writes the same output as ${b.name || b.opType} (${b.output[0]})`;
  },
  removeNodes(rng, m) {
    const g = m.graph;
    if (!g || !g.node.length) return undefined;
    const k = rng.pick([1, 1, 5, g.node.length - 1]);
    const removed: string[] = [];
    for (let i = 0; i < k && g.node.length > 1; i++) {
      const at = rng.int(0, g.node.length - 1);
      removed.push(named(g.node[at]!, at));
      g.node.splice(at, 1);
    }
    return `remove ${removed.length} node(s): ${removed.slice(0, 4).join(', ')}${removed.length > 4 ? ', ...' : ''}`;
  },
  emptyNames(rng, m) {
    const nodes = parts(m).nodes;
    if (!nodes.length) return undefined;
    const n = rng.pick(nodes);
    if (rng.chance(0.5) && n.output.length) n.output[rng.int(0, n.output.length - 1)] = '';
    else if (n.input.length) n.input[rng.int(0, n.input.length - 1)] = '';
    n.name = '';
    return `node ${n.opType} gets an empty tensor name`;
  },
  recursiveFunction(rng, m) {
    const g = m.graph;
    const target = g?.node.find((n) => n.input.length && n.output.length);
    if (!g || !target) return undefined;
    const mutual = rng.chance(0.5);
    const fn = (name: string, calls: string): onnx.IFunctionProto => ({
      name, domain: 'seqlens.fuzz', input: ['x'], output: ['y'],
      node: [{ opType: calls, domain: 'seqlens.fuzz', input: ['x'], output: ['y'] }],
      opsetImport: [{ domain: '', version: 17 }, { domain: 'seqlens.fuzz', version: 1 }],
    });
    const fns = mutual ? [fn('F', 'G'), fn('G', 'F')] : [fn('F', 'F')];
    m.functions.push(...(fns as unknown as ModelProto['functions']));
    m.opsetImport.push({ domain: 'seqlens.fuzz', version: 1 });
    target.opType = 'F';
    target.domain = 'seqlens.fuzz';
    target.input.splice(1);
    target.output.splice(1);
    target.attribute = [];
    return `node ${target.name || '(first)'} calls a model-local function that calls ${mutual ? 'another that calls it back' : 'itself'}`;
  },
  attribute(rng, m) {
    const nodes = parts(m).nodes.filter((n) => n.attribute.length);
    if (!nodes.length) return undefined;
    const n = rng.pick(nodes);
    const a: AttributeProto = rng.pick(n.attribute);
    const T = onnx.AttributeProto.AttributeType;
    const how = rng.pick(['int', 'ints', 'type', 'remove', 'string', 'float'] as const);
    switch (how) {
      case 'int':
        a.i = rng.pick(BAD_INTS);
        a.type = T.INT;
        return `node ${n.name || n.opType} attribute ${a.name} = ${a.i}`;
      case 'ints': {
        const len = rng.pick([0, 1, 3, 1000]);
        a.ints = new Array<number>(len).fill(rng.pick(BAD_INTS));
        a.type = T.INTS;
        return `node ${n.name || n.opType} attribute ${a.name} = ${len} ints of ${a.ints[0]}`;
      }
      case 'type':
        a.type = rng.pick([T.FLOAT, T.STRING, T.GRAPH, T.TENSOR, T.INTS, 99]);
        return `node ${n.name || n.opType} attribute ${a.name} type -> ${a.type}`;
      case 'remove':
        n.attribute.splice(n.attribute.indexOf(a), 1);
        return `node ${n.name || n.opType} loses attribute ${a.name}`;
      case 'string':
        a.s = rng.pick([new Uint8Array(0), new TextEncoder().encode('bogus'), Uint8Array.of(0xff, 0xfe, 0x00)]);
        a.type = T.STRING;
        return `node ${n.name || n.opType} attribute ${a.name} = a bad string`;
      default:
        a.f = rng.pick([NaN, Infinity, -Infinity, 1e38, -0]);
        a.type = T.FLOAT;
        return `node ${n.name || n.opType} attribute ${a.name} = ${a.f}`;
    }
  },
  shapeValues(rng, m) {
    // Small integer constants are shape vectors, head counts and axes: the values probe rules read.
    const small = parts(m).tensors.filter((t) => (t.dataType === 7 || t.dataType === 6) && t.dims.reduce((a, d) => a * Number(d), 1) <= 8);
    if (!small.length) return undefined;
    const t = rng.pick(small);
    const n = Math.max(1, t.dims.reduce((a, d) => a * Number(d), 1));
    const v = rng.pick(BAD_INTS);
    const at = rng.int(0, n - 1);
    const values = Array.from({ length: n }, (_, i) => (i === at ? v : 1));
    t.rawData = new Uint8Array(0);
    if (t.dataType === 7) t.int64Data = values;
    else t.int32Data = values.map((x) => x | 0);
    return `shape-like tensor ${t.name} element ${at} = ${v}`;
  },
  opsets(rng, m) {
    const how = rng.pick(['version', 'remove', 'ir'] as const);
    if (how === 'ir') {
      m.irVersion = rng.pick([0, -1, 2, 99, 2 ** 31]);
      return `ir_version = ${m.irVersion}`;
    }
    if (how === 'remove' || !m.opsetImport.length) {
      m.opsetImport = [];
      return 'no opset_import';
    }
    const o = rng.pick(m.opsetImport);
    o.version = rng.pick([0, -1, 1, 6, 9, 99, 2 ** 31]);
    return `opset ${o.domain || 'ai.onnx'} version = ${o.version}`;
  },
  graphIO(rng, m) {
    const g = m.graph;
    if (!g) return undefined;
    const how = rng.pick(['noInputs', 'noOutputs', 'renameInput', 'manyInputs', 'outputIsInput'] as const);
    switch (how) {
      case 'noInputs':
        g.input = [];
        return 'graph has no inputs';
      case 'noOutputs':
        g.output = [];
        return 'graph has no outputs';
      case 'renameInput':
        if (!g.input.length) return undefined;
        rng.pick(g.input).name = 'input_ids';
        return 'a graph input renamed input_ids';
      case 'manyInputs':
        for (let i = 0; i < 2000; i++) g.input.push({ name: `extra_${i}`, docString: '' });
        return '2000 extra untyped graph inputs';
      default:
        if (!g.input.length) return undefined;
        g.output.push(g.input[0]!);
        return 'a graph input is also a graph output';
    }
  },
  opType(rng, m) {
    const nodes = parts(m).nodes;
    if (!nodes.length) return undefined;
    const n = rng.pick(nodes);
    const was = n.opType;
    n.opType = rng.pick(OP_TYPES);
    if (rng.chance(0.3)) n.domain = rng.pick(['com.microsoft', 'ai.onnx.ml', 'bogus', 'ai.onnx']);
    return `node ${n.name || was} op ${was} -> ${n.domain ? `${n.domain}:` : ''}${n.opType}`;
  },
  inputs(rng, m) {
    const nodes = parts(m).nodes.filter((n) => n.input.length);
    if (!nodes.length) return undefined;
    const n = rng.pick(nodes);
    const how = rng.pick(['reverse', 'truncate', 'extend'] as const);
    if (how === 'reverse') n.input.reverse();
    else if (how === 'truncate') n.input.splice(rng.int(0, n.input.length - 1));
    else n.input.push(...new Array<string>(rng.pick([1, 10])).fill(n.input[0]!));
    return `node ${n.name || n.opType} inputs ${how}d`;
  },
};

/**
 * One ONNX mutation of a decodable seed: semantic (60%), wire-level (25%) or plain bytes (15%); 1-3 of
 * them stacked. Returns the new bytes and what was done.
 */
export function mutateOnnx(rng: Prng, seed: Uint8Array, other?: Uint8Array): Mutated {
  const labels: string[] = [];
  let bytes = seed;
  const k = rng.weighted([[1, 7], [2, 2], [3, 1]]);
  for (let step = 0; step < k; step++) {
    const kind = rng.weighted<'semantic' | 'wire' | 'bytes'>([['semantic', 6], ['wire', 2.5], ['bytes', 1.5]]);
    let done: Mutated | undefined;
    if (kind === 'semantic') {
      let model: ModelProto | undefined;
      try {
        model = onnx.ModelProto.decode(bytes) as unknown as ModelProto;
      } catch {
        model = undefined;
      }
      if (model) {
        const name = rng.pick(Object.keys(semanticMutators));
        const label = semanticMutators[name]!(rng, model);
        if (label) done = { bytes: onnx.ModelProto.encode(model as unknown as onnx.IModelProto).finish(), label };
      }
    } else if (kind === 'wire') {
      const name = rng.pick(Object.keys(wireMutators));
      done = wireMutators[name]!(rng, bytes);
    }
    done ??= mutateBytes(rng, bytes, other);
    bytes = done.bytes;
    labels.push(done.label);
  }
  return { bytes, label: labels.join('; ') };
}
