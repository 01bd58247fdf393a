/**
 * What kind of sequence model a graph is, with the facts that led there. Attention sites and their
 * streams (see probes/attentionSites.ts) decide between the Transformer kinds; ONNX LSTM/GRU/RNN
 * ops decide the recurrent kinds, and recurrent + attention over another sequence is seq2seq with
 * attention. Encoder-decoder models exported as two files are judged together.
 */
import type { ModelProto, NodeProto } from './onnx/decode.js';
import type { GraphIndex } from './onnx/graphIndex.js';
import { attrInt, attrString } from './onnx/attributes.js';
import type { Architecture, ArchitectureEvidence } from './types.js';
import { analyzeGraph, type AnalyzeOptions, type GraphAnalysis } from './probes/analyzeGraph.js';
import { dependsOn, constantDims } from './probes/graphWalk.js';
import { quantizedProductsReading } from './probes/weightProducts.js';
import { countInside } from './probes/subgraphs.js';

const RECURRENT = ['LSTM', 'GRU', 'RNN'] as const;
type RecurrentOp = (typeof RECURRENT)[number];

interface RecurrentFacts {
  /** Recurrent ops the probes reach: top level and inlined If branches. */
  nodes: { node: NodeProto; op: RecurrentOp; hidden?: number; directions: number; inSubgraph: boolean }[];
  /** Recurrent ops left inside subgraphs, counted as they run (one If branch, each loop body once). */
  hidden: { op: RecurrentOp; count: number; where: string }[];
  /** hidden_size of the first recurrent op found inside a subgraph (for the width when none is reachable). */
  hiddenWidth?: number;
}

function firstRecurrentWidth(nodes: readonly NodeProto[]): number | undefined {
  for (const n of nodes) {
    if (isRecurrent(n)) return attrInt(n, 'hidden_size');
    for (const a of n.attribute) {
      const w = firstRecurrentWidth([...(a.g ? a.g.node : []), ...a.graphs.flatMap((g) => g.node)]);
      if (w !== undefined) return w;
    }
  }
  return undefined;
}

function isRecurrent(n: NodeProto): boolean {
  return (RECURRENT as readonly string[]).includes(n.opType) && (!n.domain || n.domain === 'ai.onnx');
}

function recurrentFacts(a: GraphAnalysis): RecurrentFacts {
  const nodes: RecurrentFacts['nodes'] = [];
  const inlinedNodes = new Set<NodeProto>(a.inlined.nodes);
  for (const n of a.extended.topoOrder) {
    if (!isRecurrent(n)) continue;
    nodes.push({
      node: n, op: n.opType as RecurrentOp, hidden: attrInt(n, 'hidden_size'),
      directions: attrString(n, 'direction') === 'bidirectional' ? 2 : 1, inSubgraph: inlinedNodes.has(n),
    });
  }
  const hidden: RecurrentFacts['hidden'] = [];
  a.index.nodes.forEach((n, k) => {
    if (a.inlined.inlinedNodes.has(n) || !n.attribute.some((x) => x.g || x.graphs.length)) return;
    for (const [op, count] of countInside([n], isRecurrent)) {
      hidden.push({ op: op as RecurrentOp, count, where: `${n.opType} ${n.name || `${n.opType}#${k}`}` });
    }
  });
  return { nodes, hidden, hiddenWidth: hidden.length ? firstRecurrentWidth(a.index.nodes) : undefined };
}

function label(n: NodeProto): string {
  return n.name || `${n.opType}→${n.output[0]}`;
}

function mostCommon(values: (number | undefined)[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | undefined;
  let bestCount = 0;
  for (const [v, c] of counts) if (c > bestCount) { best = v; bestCount = c; }
  return best;
}

/** Width of the residual stream: the input width of the Q projection (its weight's first dim). */
function transformerWidth(a: GraphAnalysis): number | undefined {
  for (const s of a.sites) {
    if ((s.form === 'opaque' || s.form === 'recomputed') && s.node.opType === 'Attention') {
      // com.microsoft Attention: packed QKV weights [hidden, 3 * hidden] as input 1.
      const dims = constantDims(a.extended, s.node.input[1]);
      if (dims?.length === 2) return dims[0];
    }
    if (!s.qSource) continue;
    for (const c of a.extended.consumers.get(s.qSource) ?? []) {
      if (c.opType !== 'MatMul' && c.opType !== 'Gemm') continue;
      const dims = constantDims(a.extended, c.input[1]);
      if (dims?.length === 2) return c.opType === 'Gemm' && attrInt(c, 'transB', 0) === 1 ? dims[1] : dims[0];
    }
    const quantized = quantizedProductsReading(a.extended, s.qSource).find((q) => q.dims);
    if (quantized?.dims) return quantized.dims[0];
  }
  return undefined;
}

/** A recurrent layer whose initial state comes from another recurrent layer's final state: encoder -> decoder. */
function chainedStates(index: GraphIndex, facts: RecurrentFacts): string | undefined {
  const top = facts.nodes;
  for (const dec of top) {
    const h0 = dec.node.input[5];
    const c0 = dec.node.input[6];
    for (const enc of top) {
      if (enc === dec) continue;
      const finals = enc.node.output.slice(1).filter(Boolean);
      if (finals.some((f) => (h0 && dependsOn(index, h0, f, 200)) || (c0 && dependsOn(index, c0, f, 200)))) {
        return `${label(dec.node)} starts from the final state of ${label(enc.node)} (encoder → decoder)`;
      }
    }
  }
  return undefined;
}

export function architectureFromAnalysis(a: GraphAnalysis, role?: AnalyzeOptions['role']): ArchitectureEvidence {
  const evidence: string[] = [];
  const nodes: string[] = [];
  const rec = recurrentFacts(a);
  const by = (stream: string): number => a.sites.filter((s) => s.stream === stream).length;
  const enc = by('encoder');
  const dec = by('decoder');
  const cross = by('cross');
  for (const s of a.sites) nodes.push(label(s.node));
  const forms = new Map<string, number>();
  for (const s of a.sites) forms.set(s.form, (forms.get(s.form) ?? 0) + 1);
  for (const [form, n] of forms) {
    const what = form === 'softmax' ? 'Softmax node(s) fed by a Q·Kᵀ product of two activations'
      : form === 'additive' ? 'Softmax node(s) over v·tanh(W·q + U·k) (additive attention)'
        : form === 'onnx-attention' ? 'ONNX Attention node(s)'
          : form === 'ms-multihead' ? 'com.microsoft MultiHeadAttention node(s)'
            : form === 'recomputed' ? 'fused com.microsoft Attention/GroupQueryAttention node(s) (weights recomputed from their inputs)'
              : 'fused attention node(s) without a weights output';
    evidence.push(`${n} ${what}`);
  }
  if (enc) evidence.push(`${enc} encoder self-attention layer(s) (no causal mask)`);
  if (dec) {
    const why = [...new Set(a.sites.filter((s) => s.stream === 'decoder').map((s) => s.causalEvidence ?? (role === 'decoder' ? 'decoder file' : 'decoder side')))];
    evidence.push(`${dec} decoder self-attention layer(s) (${why.join('; ')})`);
  }
  if (cross) evidence.push(`${cross} cross-attention layer(s): keys come from a different tensor than queries`);
  for (const c of a.inlined.chosen) {
    const why = c.inputs.length ? `${c.inputs.map((i) => `${i.name} = ${i.value.map((v) => (v ? 'true' : 'false')).join(',')}`).join(', ')}, as the run feeds it` : 'a constant condition';
    evidence.push(`If ${c.node} takes its ${c.branch.replace('_', ' ')} (${why}): that branch is read`);
  }
  for (const r of rec.nodes) {
    nodes.push(label(r.node));
    evidence.push(`${r.op} node ${label(r.node)}: hidden_size ${r.hidden ?? '?'}, ${r.directions === 2 ? 'bidirectional' : 'one direction'}${r.inSubgraph ? ' (in the If branch taken)' : ''}`);
  }
  for (const h of rec.hidden) evidence.push(`${h.count} ${h.op} op(s) inside ${h.where}`);
  const heads = mostCommon(a.sites.map((s) => s.heads));
  const layersAttn = Math.max(enc, dec, cross);
  let architecture: Architecture = 'unknown';
  let layers = 0;
  let hiddenSize: number | undefined = transformerWidth(a);
  const recurrentCount = rec.nodes.length + rec.hidden.reduce((k, h) => k + h.count, 0);
  if (recurrentCount) {
    hiddenSize = rec.nodes[0]?.hidden ?? rec.hiddenWidth ?? hiddenSize;
    const chained = chainedStates(a.extended, rec);
    if (chained) evidence.push(chained);
    if (cross || forms.has('additive')) architecture = 'seq2seq-attention';
    else if (chained) architecture = 'seq2seq';
    else {
      const counts = RECURRENT.map((op) => rec.nodes.filter((n) => n.op === op).length
        + rec.hidden.filter((h) => h.op === op).reduce((k, h) => k + h.count, 0));
      const op = RECURRENT[counts.indexOf(Math.max(...counts))];
      architecture = op === 'LSTM' ? 'lstm' : op === 'GRU' ? 'gru' : 'rnn';
    }
    layers = recurrentCount;
    if (a.sites.length && !cross && !forms.has('additive')) {
      evidence.push('self-attention next to recurrent layers: reported by its recurrent kind');
    }
  } else if (a.sites.length) {
    layers = layersAttn;
    if (cross && (enc || role === 'decoder' || dec)) architecture = 'transformer-encoder-decoder';
    else if (cross) architecture = 'seq2seq-attention';
    else if (dec) architecture = 'transformer-decoder';
    else architecture = 'transformer-encoder';
    if (cross && !enc) evidence.push('this graph is the decoder half: its keys/values come from an encoder output input');
  } else {
    evidence.push('no attention Softmax (Q·Kᵀ of two activations), fused attention op or LSTM/GRU/RNN op found');
  }
  const hs = a.streams.map((s) => `residual stream of the ${s.stream}: ${s.tensors.length} tensors (embeddings + one per block, ${s.norm}-norm)`);
  evidence.push(...hs);
  return { architecture, evidence, layers, ...(heads !== undefined ? { heads } : {}), ...(hiddenSize !== undefined ? { hiddenSize } : {}), nodes };
}

export function detectArchitecture(model: ModelProto, index?: GraphIndex, opts: AnalyzeOptions = {}): ArchitectureEvidence {
  return architectureFromAnalysis(analyzeGraph(model, opts, index), opts.role);
}

/** Does any Softmax of the graph depend on a (float) graph input, e.g. the encoder outputs of a decoder step? */
function softmaxOverInput(a: GraphAnalysis): string | undefined {
  for (const n of a.extended.topoOrder) {
    if (n.opType !== 'Softmax') continue;
    for (const input of a.extended.inputs) {
      const vi = a.extended.graph.input.find((v) => v.name === input);
      if (vi?.type?.tensorType?.elemType !== 1) continue; // float inputs only: states, encoder outputs
      // A sequence of vectors (encoder outputs): rank 3 with a symbolic length besides the batch, unlike a state [layers, batch, H].
      const dims = vi.type.tensorType.shape?.dim ?? [];
      if (dims.length < 3 || dims.filter((d) => d.dimParam).length < 2) continue;
      if (dependsOn(a.extended, n.input[0], input, 3000)) return `Softmax ${label(n)} reads input ${input}`;
    }
  }
  return undefined;
}

/** Encoder-decoder models stored as two files (encoder; one decoder step), judged together. */
export function detectArchitectureOfFiles(files: { encoder: ModelProto; decoder: ModelProto }): ArchitectureEvidence {
  const e = analyzeGraph(files.encoder, { role: 'encoder' });
  const d = analyzeGraph(files.decoder, { role: 'decoder' });
  const ee = architectureFromAnalysis(e, 'encoder');
  const de = architectureFromAnalysis(d, 'decoder');
  const evidence = [...ee.evidence.map((x) => `encoder: ${x}`), ...de.evidence.map((x) => `decoder: ${x}`)];
  const recurrent = (x: ArchitectureEvidence): boolean => ['rnn', 'lstm', 'gru', 'seq2seq', 'seq2seq-attention'].includes(x.architecture);
  let architecture: Architecture = 'unknown';
  const decAttention = d.sites.length > 0 ? `${d.sites.length} attention site(s)` : softmaxOverInput(d);
  if (recurrent(de) || (recurrent(ee) && !e.sites.length)) {
    architecture = decAttention ? 'seq2seq-attention' : 'seq2seq';
    evidence.push(decAttention ? `decoder attends over the encoder outputs: ${decAttention}` : 'decoder has no attention: one context vector (the bottleneck)');
  } else if (e.sites.length || d.sites.length) {
    architecture = 'transformer-encoder-decoder';
  }
  const layers = Math.max(ee.layers, de.layers);
  return {
    architecture, evidence, layers,
    ...(ee.heads ?? de.heads ? { heads: ee.heads ?? de.heads } : {}),
    ...(ee.hiddenSize ?? de.hiddenSize ? { hiddenSize: ee.hiddenSize ?? de.hiddenSize } : {}),
    nodes: [...ee.nodes, ...de.nodes],
  };
}
