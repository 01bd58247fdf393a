/**
 * ONNX local functions (ModelProto.functions, IR 8+): newer exporters (torch.onnx dynamo, `export_modules_as_functions`)
 * wrap each block (an attention module, a layer) in a function and call it once per layer. Attention inside
 * a function body is invisible to the graph rules and its tensors cannot be made graph outputs, so calls to
 * local functions are expanded inline first, as onnxruntime itself does: each call becomes the body's nodes,
 * formal inputs and outputs bound to the call's tensors, every other tensor named `<call>/<name>`, attribute
 * references (`ref_attr_name`) taken from the call. Nested calls expand too. The expanded model is encoded
 * once and decoded again, so planning, instrumentation and the session all read the same graph.
 */
import { onnx, decodeModel, type AttributeProto, type FunctionProto, type GraphProto, type ModelProto, type NodeProto } from './decode.js';
import { SeqLensError } from '../errors.js';

/** Nested calls deeper than this are taken for recursion (ONNX forbids it; a damaged file may do it). */
const MAX_DEPTH = 32;

const key = (domain: string, name: string): string => `${domain}\u0000${name}`;

function callsIn(nodes: readonly NodeProto[], fns: ReadonlyMap<string, FunctionProto>): boolean {
  return nodes.some((n) => fns.has(key(n.domain, n.opType)) || n.attribute.some((a) => (a.g && callsIn(a.g.node, fns)) || a.graphs.some((g) => callsIn(g.node, fns))));
}

/** A subgraph with outer-scope names renamed (names it makes itself are left alone). */
function renameGraph(g: GraphProto, name: (n: string) => string): GraphProto {
  return { ...g, node: g.node.map((n) => renameNode(n, name, (x) => x)) } as GraphProto;
}

function renameNode(n: NodeProto, input: (n: string) => string, output: (n: string) => string): NodeProto {
  const attribute = n.attribute.map((a): AttributeProto => (a.g || a.graphs.length
    ? { ...a, ...(a.g ? { g: renameGraph(a.g, input) } : {}), graphs: a.graphs.map((g) => renameGraph(g, input)) } as AttributeProto
    : a));
  return { ...n, input: n.input.map(input), output: n.output.map(output), attribute } as NodeProto;
}

function expand(nodes: readonly NodeProto[], fns: ReadonlyMap<string, FunctionProto>, depth: number, used: Set<string>): NodeProto[] {
  if (depth > MAX_DEPTH) throw new SeqLensError('unsupported', `Local functions call each other more than ${MAX_DEPTH} levels deep (a recursive call?): Sequence Lens cannot expand them.`);
  const out: NodeProto[] = [];
  nodes.forEach((call, k) => {
    const fn = fns.get(key(call.domain, call.opType));
    if (!fn) {
      out.push(call);
      return;
    }
    let prefix = `${call.name || `${fn.name}_${k}`}/`;
    while (used.has(prefix)) prefix = `${prefix.slice(0, -1)}_/`;
    used.add(prefix);
    const bound = new Map<string, string>();
    fn.input.forEach((f, i) => bound.set(f, call.input[i] ?? ''));
    fn.output.forEach((f, i) => bound.set(f, call.output[i] ?? `${prefix}${f}`));
    const name = (t: string): string => (t === '' ? '' : bound.get(t) ?? `${prefix}${t}`);
    const attrs = new Map(call.attribute.map((a) => [a.name, a]));
    const body = fn.node.map((n): NodeProto => {
      const renamed = renameNode(n, name, name);
      const attribute = renamed.attribute.flatMap((a): AttributeProto[] => {
        if (!a.refAttrName) return [a];
        const given = attrs.get(a.refAttrName);
        return given ? [{ ...given, name: a.name, refAttrName: '' } as AttributeProto] : [];
      });
      return { ...renamed, name: `${prefix}${n.name || n.opType}`, attribute } as NodeProto;
    });
    out.push(...expand(body, fns, depth + 1, used));
  });
  return out;
}

/**
 * The model with every call of a local function expanded, and its bytes; undefined when the graph calls
 * none (the model is used as it is). Opsets the functions import and the model does not are added.
 */
export function inlineLocalFunctions(model: ModelProto, fileName = 'the model'): { model: ModelProto; bytes: Uint8Array } | undefined {
  const graph = model.graph;
  if (!graph || !model.functions?.length) return undefined;
  const fns = new Map(model.functions.map((f) => [key(f.domain, f.name), f]));
  if (!callsIn(graph.node, fns)) return undefined;
  const used = new Set<string>();
  const expandGraph = (g: GraphProto, depth: number): GraphProto => ({
    ...g,
    node: expand(g.node, fns, depth, used).map((n) => (n.attribute.some((a) => a.g || a.graphs.length)
      ? { ...n, attribute: n.attribute.map((a) => ({ ...a, ...(a.g ? { g: expandGraph(a.g, depth + 1) } : {}), graphs: a.graphs.map((s) => expandGraph(s, depth + 1)) }) as AttributeProto) } as NodeProto
      : n)),
  }) as GraphProto;
  const opsets = new Map(model.opsetImport.map((o) => [o.domain === 'ai.onnx' ? '' : o.domain, o]));
  for (const f of model.functions) {
    for (const o of (f as FunctionProto & { opsetImport?: { domain: string; version: number }[] }).opsetImport ?? []) {
      const d = o.domain === 'ai.onnx' ? '' : o.domain;
      if (!opsets.has(d)) opsets.set(d, { domain: d, version: Number(o.version) });
    }
  }
  const expanded = { ...model, graph: expandGraph(graph, 0), opsetImport: [...opsets.values()] };
  const bytes = onnx.ModelProto.encode(expanded as unknown as onnx.IModelProto).finish();
  return { model: decodeModel(bytes, fileName), bytes };
}
