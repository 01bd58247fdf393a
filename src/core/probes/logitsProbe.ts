/**
 * The logits probe and the output projection behind it. The logits are the graph output computed
 * by a MatMul/Gemm with a weight (plus an optional bias Add), through reshapes; with several such
 * outputs the widest (largest vocabulary) wins. The projection's weight, bias and the norm in front
 * of it make the logit lens. The logits probe's `layer` is the number of blocks (it comes after the last one).
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import { isWeight } from '../onnx/graphIndex.js';
import type { NodeProto } from '../onnx/decode.js';
import { attrInt, attrInts } from '../onnx/attributes.js';
import type { AxisRole, LogitLens, Probe } from '../types.js';
import { emptyDelta } from '../onnx/graphDelta.js';
import type { ProbeContribution } from './contribution.js';
import { constantDims, normalizationOf, storedWeight } from './graphWalk.js';
import type { StreamHidden } from './hiddenProbes.js';
import { dequantizeLinearBehind, quantizedProductBehind } from './weightProducts.js';

const PASS_THROUGH = new Set(['Reshape', 'Identity', 'Cast', 'Squeeze', 'Unsqueeze', 'Flatten']);

interface Projection {
  output: string;
  node: NodeProto;
  hidden: string;
  lens: LogitLens;
}

/** The weight initializer behind a MatMul operand, and whether it is stored [vocab, hidden]. */
function weightBehind(index: GraphIndex, name: string): { weight: string; transposedByNode: boolean } {
  let t = name;
  let transposed = false;
  for (let i = 0; i < 4; i++) {
    if (index.initializers.has(t) || index.constants.has(t)) break;
    const p = index.producer.get(t);
    if (!p) break;
    if (p.opType === 'Transpose') transposed = !transposed;
    t = p.input[0];
  }
  return { weight: t, transposedByNode: transposed };
}

function projectionOf(index: GraphIndex, output: string): Projection | undefined {
  let t = output;
  let p = index.producer.get(t);
  for (let i = 0; i < 4 && p && PASS_THROUGH.has(p.opType); i++) {
    t = p.input[0];
    p = index.producer.get(t);
  }
  if (!p) return undefined;
  let bias: string | undefined;
  if (p.opType === 'Add') {
    const b = p.input.find((i) => isWeight(index, i));
    bias = b && storedWeight(index, b);
    const act = p.input.find((i) => !isWeight(index, i));
    if (!bias || !act) return undefined;
    p = index.producer.get(act);
    if (!p) return undefined;
  }
  // int8 (MatMulInteger) and 4-bit (MatMulNBits) heads: the lens dequantizes the weight.
  const q = quantizedProductBehind(index, p.output[0]);
  if (q) {
    if (!q.weight || !q.dims) return undefined;
    const b = bias ?? q.bias;
    return {
      output, node: q.node, hidden: q.activation,
      lens: { weight: q.weight.data, quantized: q.weight, ...(b ? { bias: b } : {}), transposed: false, hiddenSize: q.dims[0], vocabSize: q.dims[1] },
    };
  }
  if (p.opType === 'MatMul') {
    const [a, b] = p.input;
    if (!isWeight(index, b) || isWeight(index, a)) return undefined;
    const dims = constantDims(index, b);
    if (!dims || dims.length !== 2) return undefined;
    const w = weightBehind(index, b);
    // QDQ: the weight is an integer initializer behind DequantizeLinear.
    const quantized = dequantizeLinearBehind(index, b);
    return {
      output, node: p, hidden: a,
      lens: { weight: w.weight, ...(quantized ? { quantized } : {}), bias, transposed: w.transposedByNode, hiddenSize: dims[0], vocabSize: dims[1] },
    };
  }
  if (p.opType === 'Gemm') {
    const [a, b, c] = p.input;
    if (!isWeight(index, b) || isWeight(index, a) || attrInt(p, 'transA', 0) === 1) return undefined;
    const dims = constantDims(index, b);
    if (!dims || dims.length !== 2) return undefined;
    const transB = attrInt(p, 'transB', 0) === 1;
    const w = weightBehind(index, b);
    const [hiddenSize, vocabSize] = transB ? [dims[1], dims[0]] : dims;
    const quantized = dequantizeLinearBehind(index, b);
    return {
      output, node: p, hidden: a,
      lens: { weight: w.weight, ...(quantized ? { quantized } : {}), bias: c ? storedWeight(index, c) : bias, transposed: transB !== w.transposedByNode, hiddenSize, vocabSize },
    };
  }
  return undefined;
}

export function logitsProbe(index: GraphIndex, streams: StreamHidden[], aliases: Map<string, string> = new Map()): ProbeContribution & { lens?: LogitLens } {
  // An output computed inside an If (a merged decoder's logits) is followed through the inlined copy
  // of the branch taken; the probe still reads the graph output, which holds the same values.
  const candidates = [...index.outputs].map((o) => {
    const p = projectionOf(index, aliases.get(o) ?? o);
    return p && { ...p, output: o };
  }).filter((p): p is Projection => p !== undefined);
  if (!candidates.length) return { probes: [], delta: emptyDelta(), unavailable: [] };
  const best = candidates.reduce((a, b) => ((b.lens.vocabSize ?? 0) > (a.lens.vocabSize ?? 0) ? b : a));
  const lens = { ...best.lens };
  // Which stream's hidden states this projection reads, and whether a norm sits in between.
  // The head may read the stream through an If output (inlined branch copy) or a [seq, batch] transpose.
  let hidden = aliases.get(best.hidden) ?? best.hidden;
  const tp = index.producer.get(hidden);
  if (tp?.opType === 'Transpose' && String(attrInts(tp, 'perm')) === '1,0,2') hidden = tp.input[0];
  const norm = normalizationOf(index, hidden);
  for (const s of streams) {
    const last = s.tensors[s.tensors.length - 1];
    if (last === hidden) lens.stream = s.stream;
    else if (norm && last === norm.input) {
      lens.stream = s.stream;
      lens.finalNorm = { kind: norm.kind, scale: norm.scale, bias: norm.bias, epsilon: norm.epsilon, node: norm.node || norm.output };
    }
  }
  const vi = index.graph.output.find((v) => v.name === best.output);
  const rank = vi?.type?.tensorType?.shape?.dim.length;
  const axes: AxisRole[] = rank === 2 ? ['batch', 'vocab'] : ['batch', 'seq', 'vocab'];
  const probe: Probe = {
    name: best.output, kind: 'logits', layer: Math.max(0, ...streams.map((s) => s.tensors.length - 1)), axes,
    source: { op: best.node.opType, node: best.node.name || best.output },
    ...(lens.stream ? { stream: lens.stream } : {}),
  };
  return { probes: [probe], delta: emptyDelta(), unavailable: [], lens };
}
