/**
 * Attention weights of fused ONNX Runtime ops that have no weights output, recomputed from the op's own
 * inputs by nodes added to the instrumentation delta (the op itself is left as it is):
 *
 *   com.microsoft Attention: Q = X·Wq + bq and K = X·Wk + bk from the packed weights and bias (sizes from
 *     qkv_hidden_sizes or W's width / 3), split into heads, Q·Kᵀ · scale (attribute, else 1/√head_size),
 *     + attention_bias, + mask_filter_value where a 2-D [batch, keys] or 3-D [batch, queries, keys] mask_index
 *     is 0, the causal mask when unidirectional=1, Softmax.
 *   com.microsoft GroupQueryAttention: Q sliced from `query` (also when it packs QKV), rotated as ORT rotates it
 *     when do_rotary=1 (positions past..past+S-1 from total_sequence_length, cos/sin caches, halves or
 *     interleaved pairs, partial rotary dims kept); K read from the op's own `present_key` output (already
 *     rotated, past included) up to total_sequence_length; head h reads KV head ⌊h / (num_heads/kv_num_heads)⌋;
 *     × scale, softcap, causal mask offset by the past, Softmax.
 *
 * Everything is cast to float first (fp16 models give float32 weights). What is not reproduced returns a
 * one-sentence reason instead of numbers that could be wrong.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import type { ModelProto, NodeProto } from '../onnx/decode.js';
import { opsetVersion } from '../onnx/decode.js';
import { attrFloat, attrInt, attrInts } from '../onnx/attributes.js';
import { floatTensor, int64Tensor, makeNode, type GraphDelta } from '../onnx/graphDelta.js';
import { onnx } from '../onnx/onnxProto.js';
import { declaredRank } from './graphWalk.js';

/** com.microsoft ops whose weights are recomputed here. */
export const RECOMPUTED_FUSED: ReadonlySet<string> = new Set(['Attention', 'GroupQueryAttention']);

export type Recomputed = { weights: string } | { reason: string };

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
/** Scores of masked-out (future) keys: Softmax gives them exactly 0, as ORT's lowest() does. */
const EXCLUDED = -1e30;

/** Names every added tensor `${prefix}${label}` and collects the nodes and constants into a delta. */
class DeltaBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  constructor(private readonly prefix: string) {}

  private fresh(label: string): string {
    let name = `${this.prefix}${label}`;
    for (let k = 2; this.names.has(name); k++) name = `${this.prefix}${label}_${k}`;
    this.names.add(name);
    return name;
  }

  op(opType: string, inputs: string[], label: string, attrs: Record<string, number | number[]> = {}, floatAttrs: string[] = []): string {
    const out = this.fresh(label);
    this.nodes.push(makeNode(opType, inputs, [out], out, attrs, { floatAttrs }));
    return out;
  }

  ints(label: string, values: number[], scalar = false): string {
    const name = this.fresh(label);
    this.initializers.push(int64Tensor(name, values, scalar ? [] : [values.length]));
    return name;
  }

  float(label: string, value: number): string {
    const name = this.fresh(label);
    this.initializers.push(floatTensor(name, [value], []));
    return name;
  }

  toFloat(input: string, label: string): string {
    return this.op('Cast', [input], label, { to: FLOAT });
  }

  /** Dimension `axis` of x's shape as a 1-element int64 tensor. */
  dim(x: string, axis: number, label: string): string {
    return this.op('Gather', [this.op('Shape', [x], `${label}_shape`), this.ints(`${label}_axis`, [axis])], label, { axis: 0 });
  }

  /** Slice of x along one axis, bounds given as 1-element int64 tensors. */
  slice(x: string, start: string, end: string, axis: number, label: string): string {
    return this.op('Slice', [x, start, end, this.ints(`${label}_axes`, [axis])], label);
  }

  /** [B, S, heads·d] → [B, heads, S, d] (perm [0, 2, 1, 3]) or [B, heads, d, S] (perm [0, 2, 3, 1]). */
  heads(x: string, heads: number, perm: number[], label: string): string {
    const split = this.op('Reshape', [x, this.ints(`${label}_split`, [0, 0, heads, -1])], `${label}_4d`);
    return this.op('Transpose', [split], label, { perm });
  }

  /** Scores × the op's scale attribute, or ÷ √head_size read from the shape of `perHead` (last axis). */
  scale(scores: string, scaleAttr: number | undefined, perHead: string): string {
    if (scaleAttr !== undefined && scaleAttr !== 0) return this.op('Mul', [scores, this.float('scale', scaleAttr)], 'scaled');
    const d = this.toFloat(this.dim(perHead, 3, 'head_size'), 'head_size_f');
    return this.op('Div', [scores, this.op('Sqrt', [d], 'sqrt_head_size')], 'scaled');
  }

  /** Keys after `offset + query` get EXCLUDED: rows Range(offset, total), columns Range(0, total), both scalars. */
  causal(scores: string, offset: string, total: string): string {
    const one = this.ints('step', [1], true);
    const rows = this.op('Reshape', [this.op('Range', [offset, total, one], 'query_pos'), this.ints('col_shape', [-1, 1])], 'query_col');
    const cols = this.op('Reshape', [this.op('Range', [this.ints('zero', [0], true), total, one], 'key_pos'), this.ints('row_shape', [1, -1])], 'key_row');
    const future = this.op('Greater', [cols, rows], 'future');
    return this.op('Where', [future, this.float('excluded', EXCLUDED), scores], 'causal');
  }

  /** A rank-0 int64 scalar from a 1-element tensor of any integer type. */
  scalar(x: string, label: string): string {
    return this.op('Reshape', [this.op('Cast', [x], `${label}_i64`, { to: INT64 }), this.ints(`${label}_shape`, [], false)], label);
  }

  commit(delta: GraphDelta, out: string): Recomputed {
    delta.nodes.push(...this.nodes);
    delta.initializers.push(...this.initializers);
    delta.outputs.push(out);
    return { weights: out };
  }
}

const present = (n: NodeProto, i: number): string | undefined => (n.input[i] ? n.input[i] : undefined);

/**
 * The weights of a com.microsoft Attention or GroupQueryAttention node as [batch, heads, queries, keys], added to
 * `delta` under `prefix` (and listed as a graph output), or the reason they are not reproduced.
 */
export function recomputeFusedWeights(index: GraphIndex, model: ModelProto, n: NodeProto, prefix: string, delta: GraphDelta): Recomputed {
  const opset = opsetVersion(model, '') ?? 0;
  if (opset < 11) {
    return { reason: `recomputing the weights of ${n.domain}.${n.opType} needs ONNX opset 11 (Range) and the model imports opset ${opset}.` };
  }
  const b = new DeltaBuilder(prefix);
  const found = n.opType === 'Attention' ? msAttention(index, n, b) : groupQuery(index, n, b);
  if ('reason' in found) return found;
  return b.commit(delta, b.op('Softmax', [found.scores], 'weights', { axis: -1 }));
}

/** com.microsoft Attention: inputs X, weights, bias, mask_index, past, attention_bias, past_sequence_length. */
function msAttention(index: GraphIndex, n: NodeProto, b: DeltaBuilder): { scores: string } | { reason: string } {
  const heads = attrInt(n, 'num_heads');
  const op = 'com.microsoft Attention';
  if (!heads) return { reason: `${op} has no num_heads attribute.` };
  if (!present(n, 0) || !present(n, 1)) return { reason: `${op} lacks its input or weights tensor.` };
  if (present(n, 4) || present(n, 6)) {
    return { reason: `${op} with a past key/value input is not recomputed (only the first run without a cache is reproduced).` };
  }
  if (attrInt(n, 'do_rotary', 0) === 1) return { reason: `${op} with do_rotary=1 is not recomputed.` };
  const wRank = declaredRank(index, n.input[1]) ?? index.initializers.get(n.input[1])?.dims.length;
  if (wRank !== undefined && wRank !== 2) return { reason: `${op} with rank-${wRank} weights is not recomputed (expects [hidden, 3·hidden]).` };
  const mask = present(n, 3);
  const maskRank = mask ? declaredRank(index, mask) ?? index.initializers.get(mask)?.dims.length : undefined;
  if (mask && maskRank !== 2 && maskRank !== 3) {
    return {
      reason: `${op}'s mask_index ${maskRank === undefined ? 'of unknown rank' : `of rank ${maskRank}`} is not reproduced `
        + '(only 2-D [batch, keys] and 3-D [batch, queries, keys] masks of 1/0 are).',
    };
  }
  const x = b.toFloat(n.input[0], 'x');
  const w = b.toFloat(n.input[1], 'w');
  const sizes = attrInts(n, 'qkv_hidden_sizes');
  if (sizes && (sizes.length !== 3 || sizes[0] !== sizes[1])) {
    return { reason: `${op} qkv_hidden_sizes ${JSON.stringify(sizes)} give Q and K different widths.` };
  }
  const zero = b.ints('zero_1', [0]);
  let qEnd: string;
  let kEnd: string;
  if (sizes) {
    qEnd = b.ints('q_end', [sizes[0]]);
    kEnd = b.ints('k_end', [sizes[0] + sizes[1]]);
  } else {
    qEnd = b.op('Div', [b.dim(w, 1, 'qkv_width'), b.ints('three', [3])], 'q_end');
    kEnd = b.op('Mul', [qEnd, b.ints('two', [2])], 'k_end');
  }
  let q = b.op('MatMul', [x, b.slice(w, zero, qEnd, 1, 'wq')], 'q_proj');
  let k = b.op('MatMul', [x, b.slice(w, qEnd, kEnd, 1, 'wk')], 'k_proj');
  const bias = present(n, 2);
  if (bias) {
    const bf = b.toFloat(bias, 'bias');
    q = b.op('Add', [q, b.slice(bf, zero, qEnd, 0, 'bq')], 'q');
    k = b.op('Add', [k, b.slice(bf, qEnd, kEnd, 0, 'bk')], 'k');
  }
  const qh = b.heads(q, heads, [0, 2, 1, 3], 'q_heads');
  const kt = b.heads(k, heads, [0, 2, 3, 1], 'k_heads_t');
  let scores = b.scale(b.op('MatMul', [qh, kt], 'qk'), attrFloat(n, 'scale'), qh);
  const attnBias = present(n, 5);
  if (attnBias) scores = b.op('Add', [scores, b.toFloat(attnBias, 'attention_bias')], 'biased');
  if (mask) {
    const keep = b.op('Greater', [b.toFloat(mask, 'mask_f'), b.float('zero_f', 0)], 'mask_keep');
    const add = b.op('Where', [keep, b.float('kept', 0), b.float('mask_filter', attrFloat(n, 'mask_filter_value') ?? -10000)], 'mask_add');
    // [B, T] → [B, 1, 1, T]; [B, S, T] → [B, 1, S, T].
    const shape = maskRank === 2 ? b.ints('mask_4d_shape', [0, 1, 1, -1])
      : b.op('Concat', [b.dim(add, 0, 'mask_b'), b.ints('mask_one', [1]), b.dim(add, 1, 'mask_s'), b.dim(add, 2, 'mask_t')], 'mask_4d_shape', { axis: 0 });
    scores = b.op('Add', [scores, b.op('Reshape', [add, shape], 'mask_4d')], 'masked');
  }
  if (attrInt(n, 'unidirectional', 0) === 1) {
    const total = b.scalar(b.dim(x, 1, 'seq_len'), 'seq');
    scores = b.causal(scores, b.ints('no_past', [0], true), total);
  }
  return { scores };
}

/**
 * com.microsoft GroupQueryAttention: inputs query, key, value, past_key, past_value, seqlens_k,
 * total_sequence_length, cos_cache, sin_cache, position_ids, attention_bias, head_sink; outputs
 * output, present_key, present_value.
 */
function groupQuery(index: GraphIndex, n: NodeProto, b: DeltaBuilder): { scores: string } | { reason: string } {
  const op = 'com.microsoft GroupQueryAttention';
  const heads = attrInt(n, 'num_heads');
  const kvHeads = attrInt(n, 'kv_num_heads');
  if (!heads || !kvHeads || heads % kvHeads !== 0) return { reason: `${op} needs num_heads a multiple of kv_num_heads (got ${heads} and ${kvHeads}).` };
  const presentKey = n.output[1];
  if (!present(n, 0)) return { reason: `${op} has no query input.` };
  if (!presentKey) return { reason: `${op} has no present_key output to read the keys from.` };
  if (!present(n, 6)) return { reason: `${op} has no total_sequence_length input.` };
  if (present(n, 9)) return { reason: `${op} with a position_ids input is not recomputed (rotary positions are taken as past..past+S-1).` };
  if (present(n, 10)) return { reason: `${op} with an attention_bias input is not recomputed.` };
  if (present(n, 11) || attrInt(n, 'smooth_softmax', 0) === 1) return { reason: `${op} with head sinks or smooth_softmax is not recomputed.` };
  const window = attrInt(n, 'local_window_size', -1);
  if (window !== -1) return { reason: `${op} with a sliding window (local_window_size ${window}) is not recomputed.` };
  const rotary = attrInt(n, 'do_rotary', 0) === 1;
  if (rotary && (!present(n, 7) || !present(n, 8))) return { reason: `${op} has do_rotary=1 but no cos/sin cache inputs.` };

  const query = b.toFloat(n.input[0], 'query');
  const keys = b.toFloat(presentKey, 'present_key'); // [B, kvHeads, T(max), d], rotated by the op
  const d = b.dim(keys, 3, 'head_size');
  const q = b.slice(query, b.ints('zero_1', [0]), b.op('Mul', [d, b.ints('heads', [heads])], 'q_width'), 2, 'q');
  let qh = b.heads(q, heads, [0, 2, 1, 3], 'q_heads'); // [B, heads, S, d]
  const total = b.scalar(n.input[6], 'total');
  const offset = b.op('Sub', [total, b.scalar(b.dim(query, 1, 'seq_len'), 'seq')], 'past_len');
  if (rotary) {
    const positions = b.op('Range', [offset, total, b.ints('pos_step', [1], true)], 'positions');
    qh = rotate(b, qh, positions, n.input[7], n.input[8], attrInt(n, 'rotary_interleaved', 0) === 1);
  }
  const k = b.slice(keys, b.ints('zero_k', [0]), b.op('Reshape', [total, b.ints('total_1d', [1])], 'total_1'), 2, 'keys');
  const group = heads / kvHeads;
  const kr = b.op('Gather', [k, b.ints('kv_head_of', Array.from({ length: heads }, (_, h) => Math.floor(h / group)))], 'keys_per_head', { axis: 1 });
  const kt = b.op('Transpose', [kr], 'keys_t', { perm: [0, 1, 3, 2] });
  let scores = b.scale(b.op('MatMul', [qh, kt], 'qk'), attrFloat(n, 'scale'), qh);
  const softcap = attrFloat(n, 'softcap', 0) ?? 0;
  if (softcap > 0) {
    const cap = b.float('softcap', softcap);
    scores = b.op('Mul', [b.op('Tanh', [b.op('Div', [scores, cap], 'over_cap')], 'tanh_cap'), cap], 'capped');
  }
  return { scores: b.causal(scores, offset, total) };
}

/**
 * Rotary embedding of x [B, heads, S, d] at `positions` [S] as ORT applies it: rotary_dim = 2 · cos_cache width;
 * halves: out[i] = x[i]·cos − x[i+r/2]·sin, out[i+r/2] = x[i+r/2]·cos + x[i]·sin; interleaved: the same on pairs
 * (2i, 2i+1); dims past rotary_dim unchanged.
 */
function rotate(b: DeltaBuilder, x: string, positions: string, cosCache: string, sinCache: string, interleaved: boolean): string {
  const cos = b.op('Gather', [b.toFloat(cosCache, 'cos_cache'), positions], 'cos', { axis: 0 }); // [S, r/2]
  const sin = b.op('Gather', [b.toFloat(sinCache, 'sin_cache'), positions], 'sin', { axis: 0 });
  const half = b.dim(cos, 1, 'rotary_half');
  const width = b.op('Mul', [half, b.ints('two', [2])], 'rotary_dim');
  const zero = b.ints('rot_zero', [0]);
  const rot = b.slice(x, zero, width, 3, 'rot_part');
  const rest = b.slice(x, width, b.ints('rot_end', [2 ** 31 - 1]), 3, 'pass_part');
  const turn = (x1: string, x2: string, c: string, s: string): [string, string] => [
    b.op('Sub', [b.op('Mul', [x1, c], 'x1_cos'), b.op('Mul', [x2, s], 'x2_sin')], 'rot_1'),
    b.op('Add', [b.op('Mul', [x2, c], 'x2_cos'), b.op('Mul', [x1, s], 'x1_sin')], 'rot_2'),
  ];
  let rotated: string;
  if (interleaved) {
    // [B, h, S, r] → [B, h, S, r/2, 2]; cos [S, r/2] → [S, r/2, 1] broadcasts against it.
    const pairs = b.op('Reshape', [rot, b.ints('pairs_shape', [0, 0, 0, -1, 2])], 'pairs');
    const c = b.op('Reshape', [cos, b.ints('cos_pairs', [0, -1, 1])], 'cos_3d');
    const s = b.op('Reshape', [sin, b.ints('sin_pairs', [0, -1, 1])], 'sin_3d');
    const [o1, o2] = turn(b.slice(pairs, zero, b.ints('one_1', [1]), 4, 'even'), b.slice(pairs, b.ints('one_2', [1]), b.ints('two_1', [2]), 4, 'odd'), c, s);
    rotated = b.op('Reshape', [b.op('Concat', [o1, o2], 'pairs_rot', { axis: 4 }), b.ints('unpair_shape', [0, 0, 0, -1])], 'rotated');
  } else {
    const [o1, o2] = turn(b.slice(rot, zero, half, 3, 'first_half'), b.slice(rot, half, width, 3, 'second_half'), cos, sin);
    rotated = b.op('Concat', [o1, o2], 'rotated', { axis: 3 });
  }
  return b.op('Concat', [rotated, rest], 'q_rotary', { axis: 3 });
}
