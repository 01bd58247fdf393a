/**
 * Hidden states of Transformer stacks: the residual stream at every block boundary, per stream
 * (encoder, decoder). A block's input is the tensor its self-attention projects Q from; in pre-LN
 * models (GPT-2) that is a norm of the stream, so the stream is the norm's input. The stream after
 * the last block is found by following residual steps (Add of the stream and a branch computed
 * from it, then a norm when that is the Add's only consumer, as in post-LN BERT) until none is left.
 * Numbering follows Hugging Face `hidden_states`: layer 0 = embedding output (input of block 0),
 * layer n = output of block n-1.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import { isWeight } from '../onnx/graphIndex.js';
import { attrInts } from '../onnx/attributes.js';
import type { AttentionStream, AxisRole, Probe } from '../types.js';
import { emptyDelta } from '../onnx/graphDelta.js';
import type { ProbeContribution } from './contribution.js';
import type { AttentionSite } from './attentionSites.js';
import { dependsOn, normalizationFrom, normalizationNodes, normalizationOf, otherInput, type NormInfo } from './graphWalk.js';

export interface StreamHidden {
  stream: AttentionStream;
  /** Residual-stream tensors, layer 0 (embeddings) .. L (after the last block). */
  tensors: string[];
  /** 'pre' when blocks normalise their input (GPT-2), 'post' when they normalise their output (BERT). */
  norm: 'pre' | 'post' | 'none';
  axes: AxisRole[];
}

function isPreNorm(index: GraphIndex, norm: NormInfo): boolean {
  const parts = normalizationNodes(index, norm);
  return (index.consumers.get(norm.input) ?? []).some((c) => !parts.has(c));
}

/** The residual stream a block reads, and whether the path went through a [seq, batch] transpose. */
function blockInput(index: GraphIndex, x: string): { stream: string; norm: 'pre' | 'post' | 'none'; transposed: boolean } {
  let t = x;
  let transposed = false;
  const p = index.producer.get(t);
  // torch's MultiheadAttention(batch_first=True) transposes its input to [seq, batch] first; that
  // transposed copy is not the stream unless the residual Add reads it.
  if (p?.opType === 'Transpose' && String(attrInts(p, 'perm')) === '1,0,2' && !residualStep(index, t, true)) {
    t = p.input[0];
    transposed = true;
  }
  const norm = normalizationOf(index, t);
  if (norm && isPreNorm(index, norm)) return { stream: norm.input, norm: 'pre', transposed };
  return { stream: t, norm: norm ? 'post' : 'none', transposed };
}

/** One residual step from stream tensor s, or undefined if s is not added to a branch of itself. */
export function residualStep(index: GraphIndex, s: string, postNorm: boolean): string | undefined {
  for (const c of index.consumers.get(s) ?? []) {
    const domain = c.domain === 'ai.onnx' ? '' : c.domain;
    if (domain === 'com.microsoft' && (c.opType === 'SkipLayerNormalization' || c.opType === 'SkipSimplifiedLayerNormalization')) {
      // Pre-LN fusions name output 3 (input + skip, the stream); post-LN ones (BERT) continue with the normalised output.
      return c.output[3] ? c.output[3] : c.output[0];
    }
    if (c.opType !== 'Add' || domain !== '') continue;
    const other = otherInput(c, s);
    if (!other || isWeight(index, other) || !dependsOn(index, other, s, 2000)) continue;
    const a = c.output[0];
    const norm = normalizationFrom(index, a);
    // Post-LN blocks normalise the sum; in pre-LN stacks a norm after the last Add is the final norm, not the stream.
    if (postNorm && norm && !isPreNorm(index, norm)) return norm.output;
    return a;
  }
  return undefined;
}

export function hiddenStreams(index: GraphIndex, sites: AttentionSite[]): StreamHidden[] {
  const out: StreamHidden[] = [];
  for (const stream of ['encoder', 'decoder'] as const) {
    const blocks = sites.filter((s) => s.stream === stream && s.qSource).sort((a, b) => a.layer - b.layer);
    if (!blocks.length) continue;
    const inputs = blocks.map((b) => blockInput(index, b.qSource as string));
    const tensors = inputs.map((i) => i.stream);
    let s = tensors[tensors.length - 1];
    let last: string | undefined;
    for (let k = 0; k < 8; k++) {
      const next = residualStep(index, s, inputs[inputs.length - 1].norm !== 'pre');
      if (!next) break;
      s = next;
      last = next;
    }
    if (last) tensors.push(last);
    // Drop repeats (a block whose input could not be told apart from the previous one).
    const unique = tensors.filter((t, i) => tensors.indexOf(t) === i);
    const seqFirst = blocks[0].headsFolded === true && !inputs[0].transposed;
    out.push({
      stream, tensors: unique, norm: inputs[inputs.length - 1].norm,
      axes: seqFirst ? ['seq', 'batch', 'unit'] : ['batch', 'seq', 'unit'],
    });
  }
  return out;
}

export function hiddenProbes(index: GraphIndex, streams: StreamHidden[]): ProbeContribution {
  const probes: Probe[] = [];
  const delta = emptyDelta();
  for (const h of streams) {
    h.tensors.forEach((name, layer) => {
      const p = index.producer.get(name);
      delta.outputs.push(name);
      probes.push({
        name, kind: 'hidden', layer, axes: h.axes,
        stream: h.stream,
        source: { op: p?.opType ?? 'input', node: p?.name || name },
      });
    });
  }
  return { probes, delta, unavailable: [] };
}
