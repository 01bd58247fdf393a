/**
 * The inspector's picture of a model: inputs → embedding → the stack of blocks → output head → outputs,
 * derived from the graph alone (pure, browser-safe). Blocks come from node names where exporters give them
 * structure (`/model/layers.3/...`, `/h.3/...`, `/encoder/layer.3/...`, `l3_...`: one stack per name stem,
 * e.g. an encoder's and a decoder's), else from the probe plan (the residual stream's block boundaries, else
 * one block per recurrent op). Consecutive blocks built alike are collapsed into one part shown "× N". Each
 * block is marked with the attention, recurrent op or hidden state it holds and the probes that read it, or
 * one sentence on why none can; edges carry the shape of what flows between parts where it is known.
 */
import type { ModelProto, NodeProto } from './onnx/decode.js';
import type { GraphIndex } from './onnx/graphIndex.js';
import { attrInt, attrString } from './onnx/attributes.js';
import { tensorSummary, type TensorSummary } from './onnx/summarize.js';
import type { ArchitectureEvidence, AttentionStream, AxisRole, Probe, ProbePlan } from './types.js';
import { analyzeGraph, type AnalyzeOptions } from './probes/analyzeGraph.js';
import { countInside } from './probes/subgraphs.js';
import { constantDims } from './probes/graphWalk.js';

export interface PictureNode {
  /** The node's name, or `Op#k` (its position) when it has none. */
  name: string;
  op: string;
  /** Its output tensors: any of them can be probed by name. */
  outputs: string[];
}

export type MarkKind = 'attention' | 'recurrent' | 'hidden' | 'logits' | 'subgraph';

/** Something a block holds that a view reads: where its probes are, or why none can be read. */
export interface BlockMark {
  kind: MarkKind;
  /** The node it was found at. */
  node: string;
  op: string;
  /** Short words for the picture: "self-attention, 4 heads, causal", "LSTM, hidden 64, bidirectional". */
  text: string;
  stream?: AttentionStream;
  /** Probe tensors that read it (empty: see `why`). */
  probes: string[];
  /** When no probe reads it: one sentence saying why. */
  why?: string;
}

export interface PictureBlock {
  /** "blocks.3", "model/layers.0", "LSTM 1", "embedding". */
  label: string;
  nodes: PictureNode[];
  marks: BlockMark[];
}

export type PartRole = 'input-processing' | 'embedding' | 'block' | 'between' | 'head' | 'graph';

/** One box of the picture: a section (embedding, head) or a run of blocks built alike (`blocks.length` > 1: "× N"). */
export interface PicturePart {
  role: PartRole;
  /** "embedding", "blocks.0 … blocks.11", "output head". */
  title: string;
  /** The stack the blocks belong to ("blocks", "encoder"), for blocks. */
  stack?: string;
  blocks: PictureBlock[];
  /** What leaves this part for the next one: a tensor and its shape in words, where known. */
  edgeOut?: { tensor: string; shape?: string };
}

export interface ModelPicture {
  inputs: { name: string; shape: string }[];
  outputs: { name: string; shape: string }[];
  parts: PicturePart[];
  /** How blocks were found: node names, the probe plan's hidden-state boundaries, recurrent ops, or not at all. */
  grouping: 'names' | 'hidden-states' | 'recurrent' | 'none';
  /** Number of blocks over all stacks. */
  blockCount: number;
  nodeCount: number;
  /** Every mark without a probe, and plan entries tied to no drawn node: one sentence each. */
  unread: { what: string; why: string }[];
}

const RECURRENT_OPS = new Set(['LSTM', 'GRU', 'RNN']);
/** Ops that only move or reshape data: a trailing run of them after the last recurrent op stays in its block. */
const LAYOUT_OPS = new Set(['Transpose', 'Squeeze', 'Unsqueeze', 'Reshape', 'Slice', 'Concat', 'Split', 'Identity',
  'Flatten', 'Gather', 'Constant', 'Shape', 'Cast']);
/** Ops left out of a block's signature: exporters emit different amounts of this bookkeeping per block. */
const BOOKKEEPING_OPS = new Set(['Constant', 'Identity', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast',
  'Reshape', 'ConstantOfShape', 'Range', 'Equal', 'Where', 'Expand', 'Slice']);

/**
 * Where a node name gives a repeated block: the stem before the index and the index, taken from the first
 * path component of the form `name.3`, `name_3` or `name3` followed by more of the path (`/blocks.3/attn/...`,
 * `l3_q_proj`); a number that ends the name (`/Constant_3`) numbers the node, not a block.
 */
export function blockOfName(name: string): { stem: string; index: number } | undefined {
  const re = /(^|[/.:_-])([A-Za-z]*[._]?)(\d+)(?=[/._:-].)/g;
  const m = re.exec(name);
  if (!m) return undefined;
  const start = m.index + m[1].length + m[2].length;
  return { stem: name.slice(0, start), index: Number(m[3]) };
}

function nodeLabel(n: NodeProto, k: number): string {
  return n.name || `${n.opType}#${k}`;
}

function stackTitle(stem: string): string {
  return stem.replace(/^[/.:_-]+/, '').replace(/[/.:_-]+$/, '') || 'block';
}

function shapeText(t: TensorSummary): string {
  return t.shape ? t.shape.map((d) => (d === null ? '?' : String(d))).join(' × ') : 'rank unknown';
}

const AXIS_WORD: Record<AxisRole, string> = {
  batch: 'batch', head: 'heads', query: 'seq', key: 'seq', seq: 'seq', direction: 'directions', unit: 'hidden', vocab: 'vocab', gate: 'gates',
};

/** A probe tensor's shape in words, with the sizes the graph gives (hidden width, directions, heads). */
function probeShape(p: Probe, sizes: { hidden?: number; directions?: number; heads?: number }): string {
  return p.axes.map((a) => {
    if (a === 'unit' && sizes.hidden) return String(sizes.hidden);
    if (a === 'direction' && sizes.directions) return String(sizes.directions);
    if (a === 'head' && (p.heads ?? sizes.heads)) return String(p.heads ?? sizes.heads);
    return AXIS_WORD[a];
  }).join(' × ');
}

interface Assigned {
  /** Section of each node: 'pre', 'post', a block id, or 'between:<k>' (after stack k). */
  section: Map<NodeProto, string>;
  /** Block ids in picture order, with their labels and stacks. */
  blocks: { id: string; label: string; stack: string }[];
  grouping: ModelPicture['grouping'];
}

/** Blocks from node names: one stack per name stem with two or more indices (or one holding attention or a recurrent op). */
function byNames(index: GraphIndex, anchors: Set<NodeProto>): Assigned | undefined {
  const order = index.topoOrder;
  const stems = new Map<string, Map<number, NodeProto[]>>();
  const where = new Map<NodeProto, { stem: string; index: number }>();
  for (const n of order) {
    const b = n.name ? blockOfName(n.name) : undefined;
    if (!b) continue;
    where.set(n, b);
    let s = stems.get(b.stem);
    if (!s) stems.set(b.stem, (s = new Map()));
    const list = s.get(b.index);
    if (list) list.push(n);
    else s.set(b.index, [n]);
  }
  const kept = [...stems].filter(([, s]) => s.size >= 2 || [...s.values()].some((ns) => ns.some((n) => anchors.has(n))));
  // A stack must hold the model's structure: at least one of its blocks holds attention or a recurrent op,
  // unless the model has none anywhere.
  const withAnchors = kept.filter(([, s]) => [...s.values()].some((ns) => ns.some((n) => anchors.has(n))));
  const stacks = (anchors.size ? withAnchors : kept).filter(([, s]) => [...s.values()].reduce((k, ns) => k + ns.length, 0) >= 2);
  if (!stacks.length) return undefined;
  // Stacks nested in another's blocks (`/blocks.0/ff/ff.1/...` is under blocks.0 by its first match anyway).
  const pos = index.order;
  const first = (s: Map<number, NodeProto[]>): number => Math.min(...[...s.values()].flat().map((n) => pos.get(n) ?? 0));
  stacks.sort((a, b) => first(a[1]) - first(b[1]));
  const keep = new Set(stacks.map(([stem]) => stem));
  const section = new Map<NodeProto, string>();
  const blocks: Assigned['blocks'] = [];
  stacks.forEach(([stem, s], k) => {
    for (const i of [...s.keys()].sort((a, b) => a - b)) {
      const id = `s${k}:${i}`;
      blocks.push({ id, label: `${stem.replace(/^[/]+/, '')}${i}`, stack: stackTitle(stem) });
      for (const n of s.get(i)!) section.set(n, id);
    }
  });
  const stackOf = (id: string): number => Number(id.slice(1, id.indexOf(':')));
  // Nodes without a block name go with the blocks around them: inside one block's span to it, before the
  // first stack to 'pre', after the last to 'post', between two stacks to a 'between' section.
  const structured = order.map((n) => (keep.has(where.get(n)?.stem ?? '\u0000') ? section.get(n) : undefined));
  const prev: (string | undefined)[] = [];
  let last: string | undefined;
  for (let i = 0; i < order.length; i++) { if (structured[i]) last = structured[i]; prev.push(last); }
  let next: string | undefined;
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    if (structured[i]) { next = structured[i]; continue; }
    const before = prev[i];
    if (!before) section.set(n, 'pre');
    else if (!next) section.set(n, 'post');
    else if (stackOf(before) === stackOf(next)) section.set(n, before);
    else section.set(n, `between:${stackOf(before)}`);
  }
  return { section, blocks, grouping: 'names' };
}

/** Per node, the largest anchor value it depends on (-1: none) and whether it reads a graph input. */
function dependence(index: GraphIndex, anchorValue: Map<NodeProto, number>): { level: Map<NodeProto, number>; fromInput: Set<NodeProto> } {
  const level = new Map<NodeProto, number>();
  const fromInput = new Set<NodeProto>();
  for (const n of index.topoOrder) {
    let l = -1;
    let input = false;
    for (const t of n.input) {
      if (!t) continue;
      if (index.inputs.has(t)) input = true;
      const p = index.producer.get(t);
      if (!p) continue;
      l = Math.max(l, anchorValue.get(p) ?? level.get(p) ?? -1);
      if (fromInput.has(p)) input = true;
    }
    level.set(n, l);
    if (input) fromInput.add(n);
  }
  return { level, fromInput };
}

/** Nodes that read only weights and constants go where their first consumer is. */
function placeConstantOnly(index: GraphIndex, section: Map<NodeProto, string>): void {
  const order = index.topoOrder;
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    if (section.has(n)) continue;
    let best: { pos: number; s: string } | undefined;
    for (const o of n.output) {
      for (const c of index.consumers.get(o) ?? []) {
        const s = section.get(c);
        const p = index.order.get(c) ?? 0;
        if (s && (!best || p < best.pos)) best = { pos: p, s };
      }
    }
    section.set(n, best?.s ?? 'post');
  }
}

/** Blocks from the residual stream's boundaries: block k runs from hidden state k to hidden state k+1. */
function byHiddenStates(index: GraphIndex, plan: ProbePlan): Assigned | undefined {
  const hidden = plan.probes.filter((p) => p.kind === 'hidden' && p.stream);
  const streams = [...new Set(hidden.map((p) => p.stream))];
  const stream = streams.sort((a, b) => hidden.filter((p) => p.stream === b).length - hidden.filter((p) => p.stream === a).length)[0];
  const tensors = hidden.filter((p) => p.stream === stream).sort((a, b) => a.layer - b.layer);
  if (tensors.length < 2) return undefined;
  const anchors = new Map<NodeProto, number>();
  for (const p of tensors) {
    const n = index.producer.get(p.name);
    if (n && !anchors.has(n)) anchors.set(n, p.layer);
  }
  const L = Math.max(...tensors.map((p) => p.layer));
  const { level, fromInput } = dependence(index, anchors);
  const section = new Map<NodeProto, string>();
  for (const n of index.topoOrder) {
    const a = anchors.get(n);
    if (a !== undefined) { section.set(n, a === 0 ? 'pre' : `h:${a - 1}`); continue; }
    const l = level.get(n) ?? -1;
    if (l >= 0) section.set(n, l >= L ? 'post' : `h:${l}`);
    else if (fromInput.has(n)) section.set(n, 'pre');
  }
  placeConstantOnly(index, section);
  const blocks = Array.from({ length: L }, (_, k) => ({ id: `h:${k}`, label: `block ${k}`, stack: stream ?? 'blocks' }));
  return { section, blocks, grouping: 'hidden-states' };
}

/** Blocks from recurrent ops: each op with what follows it up to the next one. */
function byRecurrent(index: GraphIndex): Assigned | undefined {
  const ops = index.topoOrder.filter((n) => RECURRENT_OPS.has(n.opType));
  if (!ops.length) return undefined;
  const anchors = new Map(ops.map((n, i) => [n, i] as const));
  const { level, fromInput } = dependence(index, anchors);
  const last = ops.length - 1;
  const section = new Map<NodeProto, string>();
  for (const n of index.topoOrder) {
    const a = anchors.get(n);
    if (a !== undefined) { section.set(n, `r:${a}`); continue; }
    const l = level.get(n) ?? -1;
    if (l >= 0 && l < last) section.set(n, `r:${l}`);
    else if (l === last) {
      // After the last recurrent op: its layout tail stays with it, the projection to the outputs is the head.
      const fromPost = n.input.some((t) => { const p = index.producer.get(t); return p && section.get(p) === 'post'; });
      section.set(n, LAYOUT_OPS.has(n.opType) && !fromPost ? `r:${last}` : 'post');
    } else if (fromInput.has(n)) section.set(n, 'pre');
  }
  placeConstantOnly(index, section);
  const blocks = ops.map((n, i) => ({ id: `r:${i}`, label: `${n.opType} ${i}`, stack: n.opType }));
  return { section, blocks, grouping: 'recurrent' };
}

export interface PictureOptions extends AnalyzeOptions {
  /** The architecture evidence (hidden width for the edges' shapes); found from the graph when absent. */
  evidence?: ArchitectureEvidence;
}

/** The picture of one .onnx file's graph, its blocks marked with the plan's probes. */
export function graphBlocks(model: ModelProto, plan: ProbePlan, opts: PictureOptions = {}): ModelPicture {
  const a = analyzeGraph(model, opts);
  const index = a.extended;
  const order = index.topoOrder;
  const labelOf = new Map<NodeProto, string>(order.map((n, k) => [n, nodeLabel(n, k)] as const));
  const byName = new Map<string, NodeProto>();
  for (const n of order) byName.set(labelOf.get(n)!, n);

  // What each node holds that a view reads.
  const probesAt = new Map<string, Probe[]>();
  for (const p of plan.probes) {
    const list = probesAt.get(p.source.node);
    if (list) list.push(p);
    else probesAt.set(p.source.node, [p]);
  }
  const unavailableAt = new Map(plan.unavailable.filter((u) => u.node).map((u) => [u.node!, u] as const));
  const marks = new Map<NodeProto, BlockMark[]>();
  const addMark = (n: NodeProto, m: BlockMark): void => {
    const list = marks.get(n);
    if (list) list.push(m);
    else marks.set(n, [m]);
  };
  const whyNot = (n: NodeProto, fallback: string): string => {
    const u = unavailableAt.get(n.name);
    return u ? `${u.what}: ${u.reason.replace(/\.$/, '')}.` : fallback;
  };
  const anchors = new Set<NodeProto>();
  for (const s of a.sites) {
    anchors.add(s.node);
    const name = labelOf.get(s.node) ?? s.node.name;
    const probes = (probesAt.get(s.node.name) ?? []).filter((p) => p.kind === 'attention').map((p) => p.name);
    const kind = s.stream === 'cross' ? 'cross-attention' : 'self-attention';
    const heads = s.heads ? `, ${s.heads} heads` : '';
    const causal = s.stream === 'cross' ? '' : s.causal ? ', causal' : ', not causal';
    addMark(s.node, {
      kind: 'attention', node: name, op: s.node.opType, text: `${kind}${heads}${causal}`, stream: s.stream, probes,
      ...(probes.length ? {} : {
        why: whyNot(s.node, s.badAxis
          ? `Its Softmax does not run over the keys (${s.badAxis}), so its output is not a distribution over tokens.`
          : `No probe rule could expose the attention weights of ${name}.`),
      }),
    });
  }
  for (const n of order) {
    if (RECURRENT_OPS.has(n.opType) && (!n.domain || n.domain === 'ai.onnx')) {
      anchors.add(n);
      const probes = (probesAt.get(n.name) ?? []).map((p) => p.name);
      const dirs = attrString(n, 'direction') === 'bidirectional' ? 'bidirectional' : attrString(n, 'direction') === 'reverse' ? 'reverse' : 'forward';
      addMark(n, {
        kind: 'recurrent', node: labelOf.get(n)!, op: n.opType, text: `${n.opType}, hidden ${attrInt(n, 'hidden_size') ?? '?'}, ${dirs}`, probes,
        ...(probes.length ? {} : { why: whyNot(n, `No probe rule could expose the states of ${labelOf.get(n)!}.`) }),
      });
      continue;
    }
    const sub = n.attribute.some((x) => x.g || x.graphs.length);
    if (sub) {
      // Sequence ops left inside a Loop, Scan or an If whose branch is not known before the run.
      const inside = countInside([n], (x) => RECURRENT_OPS.has(x.opType) || x.opType === 'Softmax' || x.opType.endsWith('Attention'));
      // An If whose taken branch was inlined is drawn through the branch's own nodes.
      if (!inside.size || a.inlined.inlinedNodes.has(n)) continue;
      anchors.add(n);
      const what = [...inside].map(([op, k]) => `${k} ${op}`).join(', ');
      addMark(n, {
        kind: 'subgraph', node: labelOf.get(n)!, op: n.opType, text: `${what} inside ${n.opType}`, probes: [],
        why: whyNot(n, `${what} op(s) inside ${n.opType} ${labelOf.get(n)!} run in a subgraph whose tensors are not visible at the top level.`),
      });
    }
  }
  for (const p of plan.probes) {
    if (p.kind !== 'hidden' && p.kind !== 'logits') continue;
    const n = byName.get(p.source.node) ?? index.producer.get(p.name);
    if (!n || RECURRENT_OPS.has(n.opType)) continue; // a recurrent layer's output is its own mark's probe
    const what = p.kind === 'logits' ? 'logits' : p.layer === 0 ? 'hidden state: embeddings' : `hidden state after block ${p.layer - 1}`;
    addMark(n, { kind: p.kind === 'logits' ? 'logits' : 'hidden', node: labelOf.get(n)!, op: n.opType, text: `${what}${p.stream ? ` (${p.stream})` : ''}`, stream: p.stream, probes: [p.name] });
  }

  const assigned = byNames(index, anchors) ?? byHiddenStates(index, plan) ?? byRecurrent(index);
  const sizes = {
    hidden: opts.evidence?.hiddenSize,
    heads: opts.evidence?.heads,
  };
  const graph = model.graph!;
  const inputs = graph.input.filter((v) => index.inputs.has(v.name)).map((v) => ({ name: v.name, shape: shapeText(tensorSummary(v)) }));
  const outputs = graph.output.map((v) => ({ name: v.name, shape: shapeText(tensorSummary(v)) }));
  const pictureNode = (n: NodeProto): PictureNode => ({ name: labelOf.get(n)!, op: n.opType, outputs: n.output.filter(Boolean) });
  const blockOf = (label: string, ns: NodeProto[]): PictureBlock => ({ label, nodes: ns.map(pictureNode), marks: ns.flatMap((n) => marks.get(n) ?? []) });

  // The tensor a part hands on: its last hidden-state (or recurrent output) probe, with the probe's shape.
  const edgeOf = (ns: NodeProto[]): PicturePart['edgeOut'] => {
    const inPart = new Set(ns.map((n) => labelOf.get(n)!));
    const last = [...plan.probes].reverse().find((p) => p.kind === 'hidden' && inPart.has(p.source.node));
    if (!last) return undefined;
    const src = byName.get(last.source.node);
    const rec = src && RECURRENT_OPS.has(src.opType);
    const s = rec
      ? { hidden: attrInt(src, 'hidden_size'), directions: attrString(src, 'direction') === 'bidirectional' ? 2 : 1 }
      : sizes;
    return { tensor: last.name, shape: probeShape(last, s) };
  };

  const parts: PicturePart[] = [];
  const nodesIn = (id: string): NodeProto[] => order.filter((n) => assigned?.section.get(n) === id);
  if (!assigned) {
    parts.push({ role: 'graph', title: 'graph (no repeated blocks found)', blocks: [blockOf('graph', order)] });
  } else {
    const pre = nodesIn('pre');
    if (pre.length) {
      const embeds = pre.some((n) => n.opType === 'Gather' && index.initializers.has(n.input[0]));
      parts.push({ role: embeds ? 'embedding' : 'input-processing', title: embeds ? 'embedding' : 'input processing', blocks: [blockOf(embeds ? 'embedding' : 'input processing', pre)], edgeOut: edgeOf(pre) });
    }
    let stackIndex = -1;
    let lastStack: string | undefined;
    for (const b of assigned.blocks) {
      const stackKey = b.id.slice(0, b.id.indexOf(':'));
      if (lastStack !== undefined && stackKey !== lastStack) {
        const between = nodesIn(`between:${stackIndex}`);
        if (between.length) parts.push({ role: 'between', title: 'between the stacks', blocks: [blockOf('between the stacks', between)], edgeOut: edgeOf(between) });
      }
      if (stackKey !== lastStack) { stackIndex++; lastStack = stackKey; }
      const ns = nodesIn(b.id);
      const block = blockOf(b.label, ns);
      const prevPart = parts[parts.length - 1];
      const sig = signature(block);
      if (prevPart?.role === 'block' && prevPart.stack === b.stack && signature(prevPart.blocks[0]) === sig) {
        prevPart.blocks.push(block);
        prevPart.edgeOut = edgeOf(ns) ?? prevPart.edgeOut;
      } else {
        parts.push({ role: 'block', title: b.label, stack: b.stack, blocks: [block], edgeOut: edgeOf(ns) });
      }
    }
    for (const p of parts) if (p.role === 'block' && p.blocks.length > 1) p.title = `${p.blocks[0].label} … ${p.blocks[p.blocks.length - 1].label}`;
    // Into a recurrent block without a hidden-state probe before it: the op's input X, [seq, batch, input size].
    for (let i = 0; i + 1 < parts.length; i++) {
      const op = parts[i + 1].blocks[0].nodes.map((n) => byName.get(n.name)).find((n) => n && RECURRENT_OPS.has(n.opType));
      if (parts[i].edgeOut || !op?.input[0]) continue;
      const w = constantDims(index, op.input[1]);
      parts[i].edgeOut = { tensor: op.input[0], shape: `seq × batch × ${w?.length === 3 ? w[2] : 'input'}` };
    }
    const post = nodesIn('post');
    if (post.length) parts.push({ role: 'head', title: 'output head', blocks: [blockOf('output head', post)] });
  }

  const drawn = new Set(parts.flatMap((p) => p.blocks.flatMap((b) => b.marks.map((m) => m.node))));
  const unread: ModelPicture['unread'] = [];
  for (const p of parts) for (const b of p.blocks) for (const m of b.marks) if (m.why) unread.push({ what: `${m.text} at ${m.node}`, why: m.why });
  for (const u of plan.unavailable) if (!u.node || !drawn.has(u.node)) unread.push({ what: u.what, why: `${u.reason.replace(/\.$/, '')}.` });
  return {
    inputs, outputs, parts, grouping: assigned?.grouping ?? 'none',
    blockCount: parts.filter((p) => p.role === 'block').reduce((k, p) => k + p.blocks.length, 0),
    nodeCount: order.length, unread,
  };
}

/** What makes two blocks "alike": their compute ops and what they hold, not their bookkeeping ops. */
function signature(b: PictureBlock): string {
  const ops = [...new Set(b.nodes.map((n) => n.op).filter((op) => !BOOKKEEPING_OPS.has(op)))].sort();
  const marks = b.marks.map((m) => `${m.kind}:${m.kind === 'hidden' || m.kind === 'logits' ? '' : m.text}:${m.probes.length > 0}`).sort();
  return JSON.stringify([ops, marks]);
}
