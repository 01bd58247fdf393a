/**
 * Attention probes from attention sites: the Softmax output as is; heads folded into the batch
 * axis unfolded with an added Reshape; fused ops exposed by ADDING a duplicate node that also
 * produces the weights output (instrumentation is additive and cannot edit the original node);
 * com.microsoft Attention / GroupQueryAttention weights recomputed from the op's inputs (fusedRecompute.ts);
 * other fused ops without a weights output listed as unavailable with the reason.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import type { AttributeProto, ModelProto, NodeProto } from '../onnx/decode.js';
import { opsetVersion } from '../onnx/decode.js';
import { emptyDelta, floatTensor, int64Tensor, makeNode, type GraphDelta } from '../onnx/graphDelta.js';
import { attrFloat, attrInt } from '../onnx/attributes.js';
import { declaredRank } from './graphWalk.js';
import { onnx } from '../onnx/onnxProto.js';
import type { Probe, Unavailable } from '../types.js';
import type { ProbeContribution } from './contribution.js';
import type { AttentionSite } from './attentionSites.js';
import { recomputeFusedWeights } from './fusedRecompute.js';

export const PREFIX = 'seqlens/';

function nodeLabel(n: NodeProto): string {
  return n.name || `${n.opType}→${n.output[0]}`;
}

/** A copy of the node's attributes with one INT attribute set (added or replaced). */
function withIntAttr(n: NodeProto, name: string, value: number): onnx.IAttributeProto[] {
  const T = onnx.AttributeProto.AttributeType;
  const kept = n.attribute.filter((a) => a.name !== name).map((a: AttributeProto) => a as unknown as onnx.IAttributeProto);
  return [...kept, { name, type: T.INT, i: value }];
}

function streamName(s: AttentionSite): string {
  return `${PREFIX}attention/${s.stream}/${s.layer}`;
}

/**
 * com.microsoft MultiHeadAttention output 3 is the scaled Q·Kᵀ before key_padding_mask (input 4)
 * and attention_bias (input 5). Where those are present, the weights are computed in the graph the
 * way the op does: + attention_bias, + (1 - mask) · mask_filter_value for a 2-D [batch, keys] or
 * 3-D [batch, queries, keys] mask, then Softmax. Returns the weights tensor, undefined when there
 * is nothing to apply, or 'unsupported' for mask layouts not reproduced (1-D lengths...).
 */
function maskedSoftmax(index: GraphIndex, n: NodeProto, p: string, scores: string, delta: GraphDelta): string | undefined | 'unsupported' {
  const mask = n.input[4];
  const bias = n.input[5];
  if (!mask && !bias) return undefined;
  let t = scores;
  if (bias) {
    delta.nodes.push(makeNode('Add', [t, bias], [`${p}biased`], `${p}AddBias`));
    t = `${p}biased`;
  }
  if (mask) {
    const rank = declaredRank(index, mask);
    if (rank !== 2 && rank !== 3) return 'unsupported';
    const filter = attrFloat(n, 'mask_filter_value') ?? -10000;
    delta.initializers.push(floatTensor(`${p}one`, [1], []), floatTensor(`${p}filter`, [filter], []),
      int64Tensor(`${p}mask_axes`, rank === 2 ? [1, 2] : [1]));
    delta.nodes.push(
      makeNode('Cast', [mask], [`${p}mask_f`], `${p}CastMask`, { to: onnx.TensorProto.DataType.FLOAT }),
      makeNode('Sub', [`${p}one`, `${p}mask_f`], [`${p}masked_out`], `${p}InvertMask`),
      makeNode('Mul', [`${p}masked_out`, `${p}filter`], [`${p}mask_add`], `${p}ScaleMask`),
      makeNode('Unsqueeze', [`${p}mask_add`, `${p}mask_axes`], [`${p}mask_4d`], `${p}MaskTo4d`),
      makeNode('Add', [t, `${p}mask_4d`], [`${p}masked`], `${p}AddMask`),
    );
    t = `${p}masked`;
  }
  const out = `${p}weights`;
  delta.nodes.push(makeNode('Softmax', [t], [out], `${p}Softmax`, { axis: -1 }));
  return out;
}

export function attentionProbes(index: GraphIndex, model: ModelProto, sites: AttentionSite[]): ProbeContribution {
  const probes: Probe[] = [];
  const unavailable: Unavailable[] = [];
  const delta: GraphDelta = emptyDelta();
  for (const s of sites) {
    const source = { op: s.node.domain ? `${s.node.domain}.${s.node.opType}` : s.node.opType, node: nodeLabel(s.node) };
    const base = { kind: 'attention' as const, layer: s.layer, stream: s.stream, heads: s.heads, source };
    if (s.badAxis) {
      unavailable.push({ what: `${s.stream} attention layer ${s.layer}`, reason: s.badAxis, node: nodeLabel(s.node) });
      continue;
    }
    switch (s.form) {
      case 'softmax': {
        const out = s.node.output[0];
        if (s.headsFolded && s.heads) {
          // [batch*heads, q, k] -> [batch, heads, q, k]: Concat([-1, H], Shape(x)[1:]) as the target.
          const name = `${streamName(s)}/weights`;
          const p = `${streamName(s)}/`;
          delta.initializers.push(int64Tensor(`${p}head_split`, [-1, s.heads]), int64Tensor(`${p}one`, [1]),
            int64Tensor(`${p}end`, [2 ** 31 - 1]));
          delta.nodes.push(
            makeNode('Shape', [out], [`${p}shape`], `${p}Shape`),
            makeNode('Slice', [`${p}shape`, `${p}one`, `${p}end`], [`${p}qk_dims`], `${p}Slice`),
            makeNode('Concat', [`${p}head_split`, `${p}qk_dims`], [`${p}target`], `${p}Concat`, { axis: 0 }),
            makeNode('Reshape', [out, `${p}target`], [name], `${p}Reshape`),
          );
          delta.outputs.push(name);
          probes.push({ ...base, name, axes: ['batch', 'head', 'query', 'key'] });
        } else {
          delta.outputs.push(out);
          const axes: Probe['axes'] = s.rank === 3 ? ['batch', 'query', 'key'] : ['batch', 'head', 'query', 'key'];
          probes.push({ ...base, name: out, axes });
        }
        break;
      }
      case 'additive': {
        const out = s.node.output[0];
        delta.outputs.push(out);
        probes.push({ ...base, name: out, axes: ['batch', 'key'] });
        break;
      }
      case 'onnx-attention': {
        const n = s.node;
        const p = `${streamName(s)}/`;
        const name = `${p}weights`;
        const outputs = [`${p}Y`, '', '', name];
        delta.nodes.push({
          opType: n.opType, domain: n.domain, name: `${p}Attention`, input: [...n.input], output: outputs,
          attribute: withIntAttr(n, 'qk_matmul_output_mode', 3),
        });
        delta.outputs.push(name);
        probes.push({ ...base, name, axes: ['batch', 'head', 'query', 'key'] });
        break;
      }
      case 'ms-multihead': {
        const n = s.node;
        const p = `${streamName(s)}/`;
        const scores = `${p}scores`;
        delta.nodes.push({
          opType: n.opType, domain: n.domain, name: `${p}MultiHeadAttention`, input: [...n.input],
          output: [`${p}output`, '', '', scores],
          attribute: n.attribute.map((a) => a as unknown as onnx.IAttributeProto),
        });
        // ORT 1.30 does not infer this optional output's type; declaring it as a typed graph output
        // (float, as Q) is the one way an additive delta can give it a type, even when it only feeds the mask nodes.
        delta.outputTypes = { ...(delta.outputTypes ?? {}), [scores]: onnx.TensorProto.DataType.FLOAT };
        delta.outputs.push(scores);
        const masked = maskedSoftmax(index, n, p, scores, delta);
        if (masked === 'unsupported') {
          probes.push({ ...base, name: scores, axes: ['batch', 'head', 'query', 'key'], postprocess: 'softmax-last-axis' });
          unavailable.push({
            what: `${s.stream} attention layer ${s.layer} masking`,
            reason: 'com.microsoft MultiHeadAttention exposes Q·Kᵀ before its mask is applied and this mask layout is not reproduced; the softmax shown ignores the mask.',
            node: nodeLabel(n),
          });
        } else if (masked) {
          delta.outputs.push(masked);
          probes.push({ ...base, name: masked, axes: ['batch', 'head', 'query', 'key'] });
        } else {
          probes.push({ ...base, name: scores, axes: ['batch', 'head', 'query', 'key'], postprocess: 'softmax-last-axis' });
        }
        if (attrInt(n, 'unidirectional', 0) === 1) {
          unavailable.push({
            what: `${s.stream} attention layer ${s.layer} causal mask`,
            reason: 'unidirectional com.microsoft MultiHeadAttention applies its causal mask after output 3; the weights shown are not causally masked.',
            node: nodeLabel(n),
          });
        }
        break;
      }
      case 'recomputed': {
        const p = `${streamName(s)}/`;
        const r = recomputeFusedWeights(index, model, s.node, p, delta);
        if ('weights' in r) probes.push({ ...base, name: r.weights, axes: ['batch', 'head', 'query', 'key'] });
        else unavailable.push({ what: `${s.stream} attention weights, layer ${s.layer}`, reason: r.reason, node: nodeLabel(s.node) });
        break;
      }
      case 'opaque':
        unavailable.push({
          what: `${s.stream} attention weights, layer ${s.layer}`,
          reason: `${s.node.domain}.${s.node.opType} computes attention inside one fused kernel and has no output for the weights; `
            + 're-export the model without fused attention (e.g. without the ONNX Runtime transformer optimizer) to see them.',
          node: nodeLabel(s.node),
        });
        break;
    }
  }
  if (sites.some((s) => s.form === 'onnx-attention')) {
    delta.opsets = [{ domain: '', version: Math.max(23, opsetVersion(model) ?? 23) }];
  }
  return { probes, delta, unavailable };
}
