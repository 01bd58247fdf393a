/**
 * Finding attention in a graph, whoever exported it. Unfused attention is the Softmax whose input
 * comes, through masking and scaling ops, from a MatMul/Einsum of two activations (Q·Kᵀ); additive
 * (Bahdanau) attention is a Softmax over v·tanh(W·q + U·k); fused ops are recognised by name.
 * Streams: self vs cross from whether Q and K are projected from the same tensor; decoder self
 * attention from a causal mask (Trilu, a triangular constant, index comparisons) or a fused op's
 * causal flag. Layers are numbered per stream in topological order.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import { isWeight } from '../onnx/graphIndex.js';
import type { ModelProto, NodeProto } from '../onnx/decode.js';
import { opsetVersion } from '../onnx/decode.js';
import { attrInt, attrInts, attrString } from '../onnx/attributes.js';
import type { AttentionStream } from '../types.js';
import { constantFactor, constantTensor, constantValues, isActivation, shapeVector } from './graphWalk.js';
import { tensorSize } from '../onnx/tensorData.js';
import { quantizedProductBehind } from './weightProducts.js';
import { RECOMPUTED_FUSED } from './fusedRecompute.js';

export type AttentionForm =
  /** Softmax(Q·Kᵀ ...) written out with primitive ops. */
  | 'softmax'
  /** Softmax(v·tanh(W q + U k)). */
  | 'additive'
  /** ONNX opset-23 Attention: weights via qk_matmul_output_mode=3 and output 3. */
  | 'onnx-attention'
  /** com.microsoft MultiHeadAttention: raw Q·Kᵀ via output 3. */
  | 'ms-multihead'
  /** com.microsoft Attention / GroupQueryAttention: no weights output; recomputed from the op's inputs (fusedRecompute.ts). */
  | 'recomputed'
  /** Fused ops that have no weights output and are not recomputed (PackedAttention, SparseAttention...). */
  | 'opaque';

export interface AttentionSite {
  form: AttentionForm;
  /** The Softmax or the fused attention node. */
  node: NodeProto;
  /** The Q·Kᵀ MatMul/Einsum (unfused forms). */
  scores?: NodeProto;
  /** Tensors the Q and K projections read (the attention's inputs). */
  qSource?: string;
  kSource?: string;
  causal: boolean;
  /** Why the site was called causal (for the evidence list). */
  causalEvidence?: string;
  heads?: number;
  /** Rank of the attention weights tensor where known. */
  rank?: number;
  /** Heads folded into the batch axis ([batch*heads, q, k], as torch's bmm-based attention writes it). */
  headsFolded?: boolean;
  /** Softmax axis is not the key axis: the tensor is found but not a per-query distribution. */
  badAxis?: string;
  stream: AttentionStream;
  layer: number;
}

const MASK_PATH_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Reshape', 'Expand', 'Identity',
  'Squeeze', 'Unsqueeze', 'Tanh', 'Clip', 'Min', 'Max']);
/** Ops between a Q/K projection and the score product (head split, scaling, bias, rotary pieces). */
const OPERAND_OPS = new Set(['Transpose', 'Reshape', 'Div', 'Mul', 'Add', 'Split', 'Slice', 'Gather', 'Squeeze',
  'Unsqueeze', 'Cast', 'Identity', 'Concat', 'Expand', 'Sqrt']);

const OPAQUE_FUSED = new Set(['PackedAttention', 'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention', 'DecoderMaskedSelfAttention', 'SparseAttention', 'LongformerAttention',
  'QAttention', 'DecoderAttention', 'QOrderedAttention', 'PagedAttention']);

function isScoreProduct(index: GraphIndex, n: NodeProto): boolean {
  if (n.opType !== 'MatMul' && n.opType !== 'Einsum') return false;
  if (n.input.length < 2) return false;
  return isActivation(index, n.input[0]) && isActivation(index, n.input[1]);
}

/** Walks back from the Softmax input through masking/scaling ops to the nearest Q·Kᵀ product. */
function findScoreProduct(index: GraphIndex, start: string): { product: NodeProto; path: NodeProto[] } | undefined {
  const seen = new Set<string>([start]);
  let frontier = [start];
  const path: NodeProto[] = [];
  for (let depth = 0; depth < 10 && frontier.length; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      const p = index.producer.get(t);
      if (!p) continue;
      if (isScoreProduct(index, p)) return { product: p, path };
      if (!MASK_PATH_OPS.has(p.opType)) continue;
      path.push(p);
      const ins = p.opType === 'Where' ? p.input.slice(1) : p.opType === 'Reshape' || p.opType === 'Expand' ? [p.input[0]] : p.input;
      for (const i of ins) {
        if (i && !seen.has(i) && !isWeight(index, i)) {
          seen.add(i);
          next.push(i);
        }
      }
    }
    frontier = next;
  }
  return undefined;
}

/**
 * The activation a Q (or K) operand is projected from: walk back through head splitting and
 * scaling to a MatMul/Gemm with a weight, and return its other input. Undefined if there is no
 * projection (then the operand itself is the source).
 */
export function projectionSource(index: GraphIndex, operand: string): string | undefined {
  const seen = new Set<string>();
  const stack: [string, number][] = [[operand, 0]];
  while (stack.length) {
    const [t, d] = stack.pop() as [string, number];
    if (seen.has(t) || d > 14) continue;
    seen.add(t);
    const p = index.producer.get(t);
    if (!p) continue;
    // int8 (MatMulInteger after DynamicQuantizeLinear) and 4-bit (MatMulNBits) projections.
    const quantized = quantizedProductBehind(index, t);
    if (quantized) return quantized.activation;
    if (p.opType === 'MatMul' || p.opType === 'Gemm') {
      const w = p.input.slice(0, 2).filter((i) => isWeight(index, i));
      const a = p.input.slice(0, 2).filter((i) => !isWeight(index, i));
      if (w.length === 1 && a.length === 1) return a[0];
      continue;
    }
    if (!OPERAND_OPS.has(p.opType)) continue;
    const ins = ['Reshape', 'Expand', 'Slice', 'Gather', 'Split', 'Squeeze', 'Unsqueeze'].includes(p.opType)
      ? [p.input[0]] : p.input;
    for (const i of ins) if (i && !isWeight(index, i)) stack.push([i, d + 1]);
  }
  return undefined;
}

/** Where the source is not projected (fused ops fed straight from the stream), use the operand itself. */
function sourceOf(index: GraphIndex, operand: string | undefined): string | undefined {
  if (!operand) return undefined;
  return projectionSource(index, operand) ?? operand;
}

/** Heads and rank from how an operand was split into heads: Reshape to [b, s, H, d] then Transpose. */
function headShape(index: GraphIndex, operand: string): { heads?: number; rank?: number; folded?: boolean } {
  let t = operand;
  let perm: number[] | undefined;
  for (let i = 0; i < 8; i++) {
    const p = index.producer.get(t);
    if (!p) break;
    if (p.opType === 'Transpose' && !perm) {
      perm = attrInts(p, 'perm');
      t = p.input[0];
      continue;
    }
    if (p.opType === 'Reshape') {
      const v = shapeVector(index, p.input[1]);
      if (!v) return { rank: perm?.length };
      const rank = v.length;
      const pm = perm && perm.length === rank ? perm : [...v.keys()];
      if (rank === 4) {
        const h = v[pm[1]];
        return { heads: h !== undefined && h > 0 ? h : undefined, rank };
      }
      if (rank === 3) {
        // [s, batch*heads, d] transposed to [batch*heads, s, d]: heads is the constant factor.
        const batchPos = pm[0];
        const pieces = concatPieces(index, p.input[1]);
        const piece = pieces?.[batchPos];
        const h = piece ? constantFactor(index, piece) : undefined;
        return { heads: h, rank, folded: true };
      }
      return { rank };
    }
    if (['Div', 'Mul', 'Cast', 'Identity', 'Add'].includes(p.opType)) {
      const a = p.input.find((x) => x && !isWeight(index, x));
      if (!a) break;
      t = a;
      continue;
    }
    if (p.opType === 'Split' || p.opType === 'Slice' || p.opType === 'Gather') {
      t = p.input[0];
      continue;
    }
    break;
  }
  return { rank: perm?.length };
}

function concatPieces(index: GraphIndex, name: string): string[] | undefined {
  const p = index.producer.get(name);
  if (!p) return undefined;
  if (p.opType === 'Cast') return concatPieces(index, p.input[0]);
  return p.opType === 'Concat' ? p.input : undefined;
}

function einsumRank(n: NodeProto): number | undefined {
  const eq = attrString(n, 'equation');
  const out = eq?.split('->')[1];
  return out ? out.trim().length : undefined;
}

function valueInfoShape(index: GraphIndex, name: string): (number | undefined)[] | undefined {
  const vi = [...index.graph.valueInfo, ...index.graph.output, ...index.graph.input].find((v) => v.name === name);
  const dims = vi?.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => (d.dimParam ? undefined : d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : undefined));
}

/** A constant that is a square lower- or upper-triangular 0/1 (or bool) pattern: a causal mask. */
function isTriangularConstant(index: GraphIndex, name: string): boolean {
  const t = constantTensor(index, name);
  if (!t) return false;
  const dims = t.dims.map(Number);
  if (dims.length < 2) return false;
  const n = dims[dims.length - 1];
  if (n < 2 || n !== dims[dims.length - 2] || n > 4096 || tensorSize(t) !== n * n * dims.slice(0, -2).reduce((a, b) => a * b, 1)) {
    return false;
  }
  if (t.dataType === 1 && dims.length === 2 && n === dims[0] && n > 512) return false; // weight-sized float matrices
  const v = constantValues(index, name, tensorSize(t));
  if (!v) return false;
  const above = v[1];
  const below = v[n];
  if (above === below) return false;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const x = v[r * n + c];
      if (c > r && x !== above) return false;
      if (c < r && x !== below) return false;
    }
  }
  return true;
}

/** Looks at the mask inputs of the path between the product and the Softmax for a causal pattern. */
function causalPattern(index: GraphIndex, path: NodeProto[], product: NodeProto): string | undefined {
  const onPath = new Set<NodeProto>([...path, product]);
  const stack: [string, number][] = [];
  for (const n of path) for (const i of n.input) if (i) stack.push([i, 0]);
  const seen = new Set<string>();
  while (stack.length) {
    const [t, d] = stack.pop() as [string, number];
    if (seen.has(t) || d > 12) continue;
    seen.add(t);
    if (isTriangularConstant(index, t)) return `triangular constant ${t}`;
    const p = index.producer.get(t);
    if (!p || onPath.has(p)) continue;
    if (p.opType === 'Trilu') return `Trilu node ${p.name}`;
    if (['Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual'].includes(p.opType)) {
      const fromRange = p.input.every((i) => rangeDerived(index, i));
      if (fromRange) return `${p.opType} of position indices (${p.name})`;
    }
    for (const i of p.input) if (i) stack.push([i, d + 1]);
  }
  return undefined;
}

function rangeDerived(index: GraphIndex, name: string, depth = 0): boolean {
  const p = index.producer.get(name);
  if (!p || depth > 5) return false;
  if (p.opType === 'Range') return true;
  if (['Unsqueeze', 'Reshape', 'Cast', 'Add', 'Sub', 'Expand', 'Slice'].includes(p.opType)) {
    return rangeDerived(index, p.input[0], depth + 1);
  }
  return false;
}

function softmaxAxisProblem(model: ModelProto, n: NodeProto, rank: number | undefined): string | undefined {
  const opset = opsetVersion(model) ?? 13;
  const axis = attrInt(n, 'axis');
  if (axis === undefined) {
    if (opset >= 13) return undefined;
    // Before opset 13 the default axis is 1 and the input is flattened to 2-D from there.
    return rank === undefined || rank === 2 ? undefined : `Softmax uses the pre-opset-13 default axis 1 on a rank-${rank} tensor`;
  }
  if (axis === -1) return undefined;
  if (rank !== undefined && axis === rank - 1) return undefined;
  if (rank === undefined && axis >= 2) return undefined; // most likely the last axis of [b,h,q,k] / [b,q,k]
  return `Softmax axis ${axis} is not the key axis`;
}

/** Softmax(v · tanh(W q + U k)): a projection to one score per key of a tanh of a sum of two activations. */
function additiveSite(index: GraphIndex, softmaxIn: string): { q?: string; k?: string } | undefined {
  const seen = new Set<string>();
  const stack: [string, number][] = [[softmaxIn, 0]];
  while (stack.length) {
    const [t, d] = stack.pop() as [string, number];
    if (seen.has(t) || d > 8) continue;
    seen.add(t);
    const p = index.producer.get(t);
    if (!p) continue;
    if ((p.opType === 'MatMul' || p.opType === 'Gemm') && p.input.slice(0, 2).some((i) => isWeight(index, i))) {
      const act = p.input.slice(0, 2).find((i) => !isWeight(index, i));
      let tanh = act ? index.producer.get(act) : undefined;
      for (let k = 0; k < 3 && tanh && tanh.opType !== 'Tanh' && ['Reshape', 'Squeeze', 'Unsqueeze', 'Transpose'].includes(tanh.opType); k++) {
        tanh = index.producer.get(tanh.input[0]);
      }
      if (tanh?.opType !== 'Tanh') continue;
      const sum = index.producer.get(tanh.input[0]);
      if (sum?.opType !== 'Add' || !sum.input.every((i) => isActivation(index, i))) continue;
      return { q: projectionSource(index, sum.input[0]), k: projectionSource(index, sum.input[1]) };
    }
    // Gather/Slice pick the one score column out of [batch, keys, 1] (v·tanh(...) has width 1).
    if (!MASK_PATH_OPS.has(p.opType) && !['Squeeze', 'Transpose', 'Gather', 'Slice'].includes(p.opType)) continue;
    const ins = p.opType === 'Where' ? p.input.slice(1) : [p.input[0], ...(['Add', 'Sub', 'Mul', 'Div'].includes(p.opType) ? [p.input[1]] : [])];
    for (const i of ins) if (i && !isWeight(index, i)) stack.push([i, d + 1]);
  }
  return undefined;
}

export interface FindOptions {
  /** The file is the decoder of an encoder-decoder pair, or a decoder-only model: self attention is decoder attention. */
  role?: 'encoder' | 'decoder';
}

export function findAttentionSites(index: GraphIndex, model: ModelProto, opts: FindOptions = {}): AttentionSite[] {
  const sites: Omit<AttentionSite, 'stream' | 'layer'>[] = [];
  for (const n of index.topoOrder) {
    const domain = n.domain === 'ai.onnx' ? '' : n.domain;
    if (n.opType === 'Softmax' && domain === '') {
      const found = findScoreProduct(index, n.input[0]);
      if (found) {
        const { product, path } = found;
        const [qOp, kOp] = product.input;
        let shape = headShape(index, qOp);
        if (shape.heads === undefined) {
          const k = headShape(index, kOp);
          if (k.heads !== undefined) shape = k;
        }
        const vi = valueInfoShape(index, n.output[0]) ?? valueInfoShape(index, n.input[0]);
        const operandRanks = [qOp, kOp].map((o) => valueInfoShape(index, o)?.length).filter((r): r is number => r !== undefined);
        let rank = shape.rank ?? (product.opType === 'Einsum' ? einsumRank(product) : undefined) ?? vi?.length
          ?? (operandRanks.length ? Math.max(...operandRanks) : undefined);
        let heads = shape.heads;
        if (vi && vi.length === 4) {
          rank = 4;
          if (heads === undefined && vi[1] !== undefined) heads = vi[1];
        }
        const causalEvidence = causalPattern(index, path, product);
        sites.push({
          form: 'softmax', node: n, scores: product,
          qSource: sourceOf(index, qOp), kSource: sourceOf(index, kOp),
          causal: causalEvidence !== undefined, causalEvidence,
          heads, rank, headsFolded: shape.folded,
          badAxis: softmaxAxisProblem(model, n, rank),
        });
        continue;
      }
      const add = additiveSite(index, n.input[0]);
      if (add) {
        sites.push({ form: 'additive', node: n, qSource: add.q, kSource: add.k, causal: false, heads: 1,
          badAxis: undefined });
      }
      continue;
    }
    if (n.opType === 'Attention' && domain === '') {
      // 3-D inputs carry q_num_heads; 4-D inputs [batch, heads, seq, dim] carry it in their shape.
      const qHeads = attrInt(n, 'q_num_heads') ?? headShape(index, n.input[0]).heads ?? valueInfoShape(index, n.input[0])?.[1];
      const causal = attrInt(n, 'is_causal', 0) === 1;
      sites.push({ form: 'onnx-attention', node: n, qSource: sourceOf(index, n.input[0]), kSource: sourceOf(index, n.input[1]),
        causal, causalEvidence: causal ? 'is_causal=1' : undefined, heads: qHeads, rank: 4 });
      continue;
    }
    if (domain === 'com.microsoft' && n.opType === 'MultiHeadAttention') {
      const causal = attrInt(n, 'unidirectional', 0) === 1;
      // Packed QKV (key input absent, query [b, s, h, 3, d]) is self-attention by construction.
      const k = n.input[1] ? n.input[1] : n.input[0];
      sites.push({ form: 'ms-multihead', node: n, qSource: sourceOf(index, n.input[0]), kSource: sourceOf(index, k),
        causal, causalEvidence: causal ? 'unidirectional=1' : undefined, heads: attrInt(n, 'num_heads'), rank: 4 });
      continue;
    }
    if (domain === 'com.microsoft' && (OPAQUE_FUSED.has(n.opType) || RECOMPUTED_FUSED.has(n.opType))) {
      const causal = n.opType === 'GroupQueryAttention' || n.opType.startsWith('DecoderMasked') || attrInt(n, 'unidirectional', 0) === 1;
      const kIn = n.opType === 'Attention' ? n.input[0] : n.input[1] || n.input[0];
      sites.push({ form: RECOMPUTED_FUSED.has(n.opType) ? 'recomputed' : 'opaque', node: n, qSource: sourceOf(index, n.input[0]), kSource: sourceOf(index, kIn),
        causal, causalEvidence: causal ? `${n.opType} is causal` : undefined, heads: attrInt(n, 'num_heads'), rank: 4 });
    }
  }
  return assignStreams(index, sites, opts);
}

function assignStreams(index: GraphIndex, raw: Omit<AttentionSite, 'stream' | 'layer'>[], opts: FindOptions): AttentionSite[] {
  const isCross = (s: Omit<AttentionSite, 'stream' | 'layer'>): boolean =>
    s.form === 'additive' || (s.qSource !== undefined && s.kSource !== undefined && s.qSource !== s.kSource);
  const cross = raw.filter(isCross);
  // Inputs that reach the queries of cross attention but not its keys: the decoder side.
  const decoderInputs = new Set<string>();
  for (const c of cross) {
    if (!c.qSource || !c.kSource) continue;
    const q = ancestorsCached(index, c.qSource);
    const k = ancestorsCached(index, c.kSource);
    for (const i of q) if (!k.has(i)) decoderInputs.add(i);
  }
  // A key/value cache (past_* inputs, present_* outputs) exists only for step-by-step decoding: a
  // graph with one is a decoder even where the causal mask is not visible (one new token per step).
  const kvCache = hasKvCache(index);
  const counters: Record<AttentionStream, number> = { encoder: 0, decoder: 0, cross: 0 };
  return raw.map((s) => {
    let stream: AttentionStream;
    if (isCross(s)) stream = 'cross';
    else if (s.causal || opts.role === 'decoder' || (kvCache && opts.role !== 'encoder')) stream = 'decoder';
    else if (s.qSource && decoderInputs.size && [...ancestorsCached(index, s.qSource)].some((i) => decoderInputs.has(i))) stream = 'decoder';
    else stream = 'encoder';
    return { ...s, stream, layer: counters[stream]++ };
  });
}

function hasKvCache(index: GraphIndex): boolean {
  const named = (v: { name: string; type?: { tensorType?: { shape?: { dim: unknown[] } | null } | null } | null }): boolean =>
    /past|cache|present/i.test(v.name) && (v.type?.tensorType?.shape?.dim.length ?? 4) >= 3;
  return index.graph.input.some((v) => index.inputs.has(v.name) && named(v)) && index.graph.output.some(named);
}

const ancestorCache = new WeakMap<GraphIndex, Map<string, Set<string>>>();

function ancestorsCached(index: GraphIndex, name: string): Set<string> {
  let m = ancestorCache.get(index);
  if (!m) {
    m = new Map();
    ancestorCache.set(index, m);
  }
  const hit = m.get(name);
  if (hit) return hit;
  const out = new Set<string>();
  const seen = new Set<string>([name]);
  const stack = [name];
  while (stack.length) {
    const t = stack.pop() as string;
    if (index.inputs.has(t)) out.add(t);
    const p = index.producer.get(t);
    if (!p) continue;
    for (const i of p.input) if (i && !seen.has(i)) { seen.add(i); stack.push(i); }
  }
  m.set(name, out);
  return out;
}
