/**
 * Small structural questions the probe rules ask of a graph: where a tensor comes from through
 * reshaping and scaling, what the constant values of a shape vector are, whether a tensor is the
 * output of a normalization (fused or written out), and which activations a tensor depends on.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import { isWeight } from '../onnx/graphIndex.js';
import type { NodeProto, TensorProto } from '../onnx/decode.js';
import { attrInts, attrTensor } from '../onnx/attributes.js';
import { tensorSize, tensorToFloat32 } from '../onnx/tensorData.js';

/** The constant tensor behind a name: an initializer or a Constant node's value. */
export function constantTensor(index: GraphIndex, name: string): TensorProto | undefined {
  const init = index.initializers.get(name);
  if (init) return init;
  const c = index.constants.get(name);
  return c ? attrTensor(c, 'value') : undefined;
}

/**
 * Values of a constant, for the small tensors the rules read (shapes, scalars, masks). Larger
 * tensors (weights) answer undefined unless `maxElements` allows them, so no weight is converted.
 */
export function constantValues(index: GraphIndex, name: string, maxElements = 64): Float32Array | undefined {
  const t = constantTensor(index, name);
  if (!t || tensorSize(t) > maxElements) return undefined;
  try {
    return tensorToFloat32(t);
  } catch {
    return undefined;
  }
}

export function constantDims(index: GraphIndex, name: string): number[] | undefined {
  const t = constantTensor(index, name);
  if (t) return t.dims.map(Number);
  const p = index.producer.get(name);
  // A weight seen through Transpose (tied embeddings, Gemm-style layouts) keeps its dims permuted.
  if (p && p.opType === 'Transpose' && isWeight(index, p.input[0])) {
    const inner = constantDims(index, p.input[0]);
    const perm = attrInts(p, 'perm') ?? inner?.map((_, i, a) => a.length - 1 - i);
    return inner && perm ? perm.map((i) => inner[i]) : undefined;
  }
  if (p && ['Cast', 'Identity', 'DequantizeLinear'].includes(p.opType)) return constantDims(index, p.input[0]);
  return undefined;
}

/** Rank of a tensor where the graph declares it (value_info, graph inputs/outputs). */
export function declaredRank(index: GraphIndex, name: string): number | undefined {
  const g = index.graph;
  const vi = g.input.find((v) => v.name === name) ?? g.valueInfo.find((v) => v.name === name) ?? g.output.find((v) => v.name === name);
  return vi?.type?.tensorType?.shape?.dim.length;
}

/** A non-weight input: an activation computed from the graph inputs. */
export function isActivation(index: GraphIndex, name: string): boolean {
  return name !== '' && !isWeight(index, name);
}

/**
 * The entries of a shape vector (a Reshape target) where they are constant: an initializer,
 * or a Concat of constants and per-dimension pieces (Unsqueeze(Gather(Shape(x)))), as the
 * PyTorch exporter writes `view(b, s, heads, dim)`. Unknown entries are undefined.
 */
export function shapeVector(index: GraphIndex, name: string, depth = 0): (number | undefined)[] | undefined {
  const values = constantValues(index, name);
  if (values) return Array.from(values, (v) => Math.round(v));
  const p = index.producer.get(name);
  if (!p || depth > 6) return undefined;
  if (p.opType === 'Concat') {
    const out: (number | undefined)[] = [];
    for (const i of p.input) {
      const piece = shapeVector(index, i, depth + 1);
      if (piece) out.push(...piece);
      else out.push(undefined); // a per-dimension piece of unknown value: one entry
    }
    return out;
  }
  if (p.opType === 'Cast' || p.opType === 'Identity') return shapeVector(index, p.input[0], depth + 1);
  if (p.opType === 'Unsqueeze') {
    const inner = scalarValue(index, p.input[0]);
    return [inner];
  }
  return undefined;
}

/** A scalar's value where it is constant, or a product with a constant (batch * heads) reported as the constant. */
export function scalarValue(index: GraphIndex, name: string): number | undefined {
  const v = constantValues(index, name);
  if (v && v.length === 1) return Math.round(v[0]);
  return undefined;
}

/** The constant factor c of a scalar computed as x * c (how `bsz * num_heads` is exported). */
export function constantFactor(index: GraphIndex, name: string): number | undefined {
  let p = index.producer.get(name);
  while (p && (p.opType === 'Unsqueeze' || p.opType === 'Cast')) p = index.producer.get(p.input[0]);
  if (!p || p.opType !== 'Mul') return undefined;
  for (const i of p.input) {
    const v = scalarValue(index, i);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Whether `target` is an ancestor of `name` (the tensor depends on it), searching backwards over
 * at most `limit` nodes. Residual detection and stream classification use it.
 */
export function dependsOn(index: GraphIndex, name: string, target: string, limit = 600): boolean {
  if (name === target) return true;
  const seen = new Set<string>([name]);
  const stack = [name];
  let steps = 0;
  while (stack.length && steps++ < limit) {
    const t = stack.pop() as string;
    const p = index.producer.get(t);
    if (!p) continue;
    for (const i of p.input) {
      if (!i || seen.has(i)) continue;
      if (i === target) return true;
      seen.add(i);
      stack.push(i);
    }
  }
  return false;
}

export interface NormInfo {
  /** The normalized tensor's input (the residual stream in pre-LN models). */
  input: string;
  output: string;
  kind: 'layer' | 'rms';
  /** How it is written: the fused op name or 'decomposed'. */
  form: string;
  node: string;
  scale?: string;
  bias?: string;
  epsilon?: number;
}

const FUSED_NORMS: Record<string, 'layer' | 'rms'> = {
  LayerNormalization: 'layer',
  SimplifiedLayerNormalization: 'rms',
  RMSNormalization: 'rms',
  SkipLayerNormalization: 'layer',
  SkipSimplifiedLayerNormalization: 'rms',
};

function otherInput(n: NodeProto, name: string): string | undefined {
  return n.input[0] === name ? n.input[1] : n.input[1] === name ? n.input[0] : undefined;
}

/** Whether a tensor is derived from a ReduceMean (the variance or mean-square of a norm). */
function comesFromReduceMean(index: GraphIndex, name: string, depth = 0): NodeProto | undefined {
  const p = index.producer.get(name);
  if (!p || depth > 5) return undefined;
  if (p.opType === 'ReduceMean') return p;
  if (!['Sqrt', 'Add', 'Reciprocal', 'Cast', 'Div', 'Pow'].includes(p.opType)) return undefined;
  for (const i of p.input) {
    if (!i || isWeight(index, i)) continue;
    const r = comesFromReduceMean(index, i, depth + 1);
    if (r) return r;
  }
  return undefined;
}

/**
 * If `name` is the output of a normalization, its parts. Fused ops are read directly; written-out
 * forms are matched from the end: [Add beta] [Mul gamma] (Div(c, Sqrt(..ReduceMean..)) or
 * Mul(c, Reciprocal/rsqrt)), with c = Sub(x, ReduceMean(x)) for LayerNorm or c = x for RMSNorm.
 */
export function normalizationOf(index: GraphIndex, name: string): NormInfo | undefined {
  const info = normalizationParts(index, name);
  if (!info) return undefined;
  // Exporters deduplicate equal weights (all-ones scales) through Identity nodes; name the initializer.
  return { ...info, scale: info.scale && storedWeight(index, info.scale), bias: info.bias && storedWeight(index, info.bias) };
}

/** The initializer or Constant behind a weight seen through Identity/Cast nodes. */
export function storedWeight(index: GraphIndex, name: string): string {
  let t = name;
  for (let i = 0; i < 4; i++) {
    if (index.initializers.has(t) || index.constants.has(t)) return t;
    const p = index.producer.get(t);
    if (!p || (p.opType !== 'Identity' && p.opType !== 'Cast')) return t;
    t = p.input[0];
  }
  return t;
}

function normalizationParts(index: GraphIndex, name: string): NormInfo | undefined {
  const p = index.producer.get(name);
  if (!p) return undefined;
  const fused = FUSED_NORMS[p.opType];
  if (fused && p.output[0] === name) {
    const eps = p.attribute.find((a) => a.name === 'epsilon');
    const skip = p.opType.startsWith('Skip');
    // Skip*Normalization normalises input + skip; output 3 (when named) is that sum, the residual stream.
    const input = skip && p.output[3] ? p.output[3] : p.input[0];
    return {
      input, output: name, kind: fused, form: p.opType, node: p.name,
      scale: skip ? p.input[2] : p.input[1], bias: skip ? p.input[3] : fused === 'layer' ? p.input[2] : undefined,
      epsilon: eps ? eps.f : undefined,
    };
  }
  let bias: string | undefined;
  let scale: string | undefined;
  let n = p;
  if (n.opType === 'Add') {
    const w = n.input.find((i) => isWeight(index, i));
    const a = n.input.find((i) => !isWeight(index, i));
    if (!w || !a) return undefined;
    bias = w;
    const q = index.producer.get(a);
    if (!q) return undefined;
    n = q;
  }
  if (n.opType === 'Mul' && n.input.some((i) => isWeight(index, i))) {
    const a = n.input.find((i) => !isWeight(index, i));
    if (!a) return undefined;
    scale = n.input.find((i) => isWeight(index, i));
    const q = index.producer.get(a);
    if (!q) return undefined;
    n = q;
  }
  let centered: string | undefined;
  let spread: string | undefined;
  if (n.opType === 'Div') {
    centered = n.input[0];
    spread = n.input[1];
  } else if (n.opType === 'Mul') {
    for (const i of n.input) {
      if (comesFromReduceMean(index, i)) spread = i;
      else centered = i;
    }
  }
  if (!centered || !spread) return undefined;
  const rm = comesFromReduceMean(index, spread);
  if (!rm) return undefined;
  const c = index.producer.get(centered);
  let x: string;
  let kind: 'layer' | 'rms';
  if (c && c.opType === 'Sub' && index.producer.get(c.input[1])?.opType === 'ReduceMean'
      && index.producer.get(c.input[1])?.input[0] === c.input[0]) {
    x = c.input[0];
    kind = 'layer';
  } else {
    x = centered;
    kind = 'rms';
  }
  // The spread must be computed from x (mean square of x, or of x - mean).
  if (!dependsOn(index, spread, x, 12)) return undefined;
  const epsVal = epsilonOf(index, spread);
  return {
    input: x, output: name, kind, form: 'decomposed', node: p.name, scale, bias,
    epsilon: epsVal,
  };
}

/** The constant added to the variance before the square root (walks back a few nodes from the spread). */
function epsilonOf(index: GraphIndex, spread: string): number | undefined {
  let t = spread;
  for (let i = 0; i < 4; i++) {
    const p = index.producer.get(t);
    if (!p) return undefined;
    if (p.opType === 'Add') {
      const w = p.input.find((x) => isWeight(index, x));
      const v = w ? constantValues(index, w) : undefined;
      return v && v.length === 1 ? v[0] : undefined;
    }
    const next = p.input.find((x) => x && !isWeight(index, x));
    if (!next) return undefined;
    t = next;
  }
  return undefined;
}

const NORM_OPS = new Set(['ReduceMean', 'Sub', 'Pow', 'Add', 'Sqrt', 'Div', 'Mul', 'Reciprocal', 'Cast',
  ...Object.keys(FUSED_NORMS)]);

/** The normalization that takes `name` as input, found forwards (the outermost tensor it produces). */
export function normalizationFrom(index: GraphIndex, name: string): NormInfo | undefined {
  let best: NormInfo | undefined;
  let bestOrder = -1;
  const seen = new Set<string>([name]);
  let frontier = [name];
  for (let depth = 0; depth < 9 && frontier.length; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const c of index.consumers.get(t) ?? []) {
        if (!NORM_OPS.has(c.opType)) continue;
        for (const o of c.output) {
          if (!o || seen.has(o)) continue;
          seen.add(o);
          next.push(o);
          const info = normalizationOf(index, o);
          const ord = index.order.get(c) ?? 0;
          if (info && info.input === name && ord > bestOrder) {
            best = info;
            bestOrder = ord;
          }
        }
      }
    }
    frontier = next;
  }
  return best;
}

/** Nodes that make up a normalization from `input` to `output` (for telling norm consumers from others). */
export function normalizationNodes(index: GraphIndex, info: NormInfo): Set<NodeProto> {
  const out = new Set<NodeProto>();
  if (info.form !== 'decomposed') {
    // One fused node (its skip input belongs to the residual stream, not to the norm).
    const p = index.producer.get(info.output);
    if (p) out.add(p);
    return out;
  }
  const stack = [info.output];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop() as string;
    if (seen.has(t) || t === info.input) continue;
    seen.add(t);
    const p = index.producer.get(t);
    if (!p || out.has(p)) continue;
    out.add(p);
    for (const i of p.input) if (i && !isWeight(index, i)) stack.push(i);
  }
  return out;
}

export { otherInput };
