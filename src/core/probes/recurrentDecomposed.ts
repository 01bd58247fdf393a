/**
 * Gates of LSTMs written out as primitive ops (hand-written cells, unrolled exports). One step of
 * such a cell is recognised by its whole shape, not by a lone Sigmoid:
 *
 *   c_t = Add( Mul(σ_f, c_{t-1}), Mul(σ_i, tanh_g) )      h_t = Mul(σ_o, Tanh(c_t))
 *
 * where σ is a Sigmoid/HardSigmoid output (possibly through Slice/Split/Gather/Reshape-like ops).
 * Steps are chained through c: the c_t of one step is the c_{t-1} of the next, which gives the time
 * order and separates layers. Each gate's per-step tensors are stacked on a new leading seq axis.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import type { NodeProto } from '../onnx/decode.js';
import type { AxisRole, GateName, Probe, Unavailable } from '../types.js';
import type { RecurrentBuilder } from './recurrentBuilder.js';

const PASS_THROUGH = new Set(['Slice', 'Split', 'Gather', 'Squeeze', 'Unsqueeze', 'Reshape', 'Identity', 'Flatten']);

interface CellStep {
  input: string; forget: string; output: string; candidate: string;
  cPrev: string; cell: string; hidden: string;
  nodes: NodeProto[];
}

/** The gate-activation node (Sigmoid/HardSigmoid) behind a tensor, through view-like ops. */
function gateSource(index: GraphIndex, name: string): NodeProto | undefined {
  let p = index.producer.get(name);
  for (let hops = 0; p && hops < 4; hops++) {
    if (p.opType === 'Sigmoid' || p.opType === 'HardSigmoid') return p;
    if (!PASS_THROUGH.has(p.opType)) return undefined;
    p = index.producer.get(p.input[0] ?? '');
  }
  return undefined;
}

function isTanh(index: GraphIndex, name: string): boolean {
  let p = index.producer.get(name);
  for (let hops = 0; p && hops < 4; hops++) {
    if (p.opType === 'Tanh') return true;
    if (!PASS_THROUGH.has(p.opType)) return false;
    p = index.producer.get(p.input[0] ?? '');
  }
  return false;
}

/** Splits a Mul's inputs into (gate, other) when exactly one side is a gate activation. */
function gateAndOther(index: GraphIndex, mul: NodeProto): [string, string] | undefined {
  const [a, b] = mul.input;
  if (!a || !b) return undefined;
  const ga = gateSource(index, a) !== undefined;
  const gb = gateSource(index, b) !== undefined;
  if (ga && !gb) return [a, b];
  if (gb && !ga) return [b, a];
  return undefined;
}

function matchStep(index: GraphIndex, add: NodeProto): CellStep | undefined {
  if (add.opType !== 'Add' || add.input.length !== 2) return undefined;
  const muls = add.input.map((i) => index.producer.get(i));
  if (muls.some((m) => m?.opType !== 'Mul')) return undefined;
  const [m1, m2] = muls as NodeProto[];
  const cell = add.output[0];
  // Which Mul is σ_i ⊙ tanh(g) and which σ_f ⊙ c_{t-1}.
  for (const [ig, fc] of [[m1, m2], [m2, m1]]) {
    const inGate = gateAndOther(index, ig);
    const fGate = gateAndOther(index, fc);
    if (!inGate || !fGate || !isTanh(index, inGate[1])) continue;
    // h_t = σ_o ⊙ Tanh(c_t)
    for (const t of index.consumers.get(cell) ?? []) {
      if (t.opType !== 'Tanh') continue;
      for (const hm of index.consumers.get(t.output[0]) ?? []) {
        if (hm.opType !== 'Mul') continue;
        const out = gateAndOther(index, hm);
        if (!out || out[1] !== t.output[0]) continue;
        return {
          input: inGate[0], candidate: inGate[1], forget: fGate[0], cPrev: fGate[1], output: out[0],
          cell, hidden: hm.output[0], nodes: [add, ig, fc, t, hm],
        };
      }
    }
  }
  return undefined;
}

export interface DecomposedResult { probes: Probe[]; unavailable: Unavailable[]; layers: number }

/** Finds decomposed LSTM cells, stacks their per-step tensors, and reports leftover gate-like patterns. */
export function decomposedLstmProbes(index: GraphIndex, firstLayer: number, b: RecurrentBuilder): DecomposedResult {
  const steps: CellStep[] = [];
  for (const n of index.topoOrder) {
    if (n.opType === 'Add' && (n.domain ?? '') === '') {
      const s = matchStep(index, n);
      if (s) steps.push(s);
    }
  }
  // Chains: a step whose c_{t-1} is another step's c_t continues that step's layer.
  const byCell = new Map(steps.map((s) => [s.cell, s] as const));
  const next = new Map<CellStep, CellStep>();
  for (const s of steps) {
    const prev = byCell.get(s.cPrev);
    if (prev && !next.has(prev)) next.set(prev, s);
  }
  const continued = new Set(next.values());
  const chains: CellStep[][] = [];
  for (const s of steps) {
    if (continued.has(s)) continue;
    const chain = [s];
    for (let c = next.get(s); c; c = next.get(c)) chain.push(c);
    chains.push(chain);
  }
  const probes: Probe[] = [];
  chains.forEach((chain, k) => {
    const layer = firstLayer + k;
    const first = chain[0].nodes[0];
    const source = { op: 'LSTM (decomposed)', node: first.name || first.output[0] };
    const rank = rankOf(index, chain[0].hidden);
    const axes: AxisRole[] = rank === 1 ? ['seq', 'unit'] : ['seq', 'batch', 'unit'];
    const stack = (pick: (s: CellStep) => string, label: string): string => {
      const parts = chain.map((s) => b.unsqueeze(pick(s), [0]));
      return b.op('Concat', parts, { axis: 0 }, { out: `${b.prefix}/decomposed${k}/${label}` });
    };
    const gates: [GateName, (s: CellStep) => string][] = [
      ['input', (s) => s.input], ['forget', (s) => s.forget], ['output', (s) => s.output], ['cell-candidate', (s) => s.candidate],
    ];
    probes.push({ name: stack((s) => s.hidden, 'hidden'), kind: 'hidden', layer, axes, source });
    for (const [g, pick] of gates) probes.push({ name: stack(pick, `gate/${g}`), kind: 'gate', gate: g, layer, axes, source });
    probes.push({ name: stack((s) => s.cell, 'cell'), kind: 'cell', layer, axes, source });
  });

  // Sigmoids that gate a Tanh product but belong to no recognised LSTM step (decomposed GRUs,
  // unusual cells): say so rather than guess which gate they are.
  const used = new Set<string>();
  for (const s of steps) for (const t of [s.input, s.forget, s.output]) { const g = gateSource(index, t); if (g) used.add(g.output[0]); }
  const leftover = index.topoOrder.filter((n) => (n.opType === 'Sigmoid' || n.opType === 'HardSigmoid') && !used.has(n.output[0])
    && gatesATanh(index, n));
  const unavailable: Unavailable[] = leftover.length
    ? [{
      what: `gates of a decomposed recurrent cell (${leftover.length} Sigmoid node${leftover.length > 1 ? 's' : ''})`,
      reason: 'the Sigmoid/Tanh/Mul pattern is not a recognisable LSTM step (c_t = f⊙c_{t-1} + i⊙tanh(g), h_t = o⊙tanh(c_t))',
      node: leftover[0].name || leftover[0].output[0],
    }]
    : [];
  return { probes, unavailable, layers: chains.length };
}

/**
 * A Sigmoid whose output, within a few element-wise hops, multiplies a Tanh output or feeds a Tanh:
 * the mark of a recurrent gate (GRU update and reset gates included).
 */
function gatesATanh(index: GraphIndex, sig: NodeProto): boolean {
  let frontier = [sig.output[0]];
  for (let hops = 0; hops < 3 && frontier.length; hops++) {
    const next: string[] = [];
    for (const name of frontier) {
      for (const c of index.consumers.get(name) ?? []) {
        if (c.opType === 'Tanh') return true;
        if (c.opType === 'Mul' && c.input.some((i) => i !== name && isTanh(index, i))) return true;
        if (PASS_THROUGH.has(c.opType) || ['Mul', 'Add', 'Sub'].includes(c.opType)) next.push(...c.output);
      }
    }
    frontier = next;
  }
  return false;
}

function rankOf(index: GraphIndex, name: string): number | undefined {
  const vi = [...index.graph.valueInfo, ...index.graph.output].find((v) => v.name === name);
  const dims = vi?.type?.tensorType?.shape?.dim;
  return dims ? dims.length : undefined;
}
