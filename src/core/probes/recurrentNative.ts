/**
 * Probes for the native ONNX recurrent ops (RNN, LSTM, GRU).
 *
 * The op itself is never replaced, so the model's own outputs stay exactly what they were. Y already
 * holds h_t for every step, which means h_{t-1} for every step is Y shifted by one (initial_h, or
 * zeros, at the start). That removes the recurrence from the gates: they are computed for the whole
 * sequence at once, in parallel to the op, one Gemm per gate over the shifted Y whose C input is the
 * gate's input part (recurrentInput.ts: for embedding inputs a row gather of a table folded at load
 * time). The LSTM cell state is still a recurrence, but an element-wise linear one,
 * c_t = f_t⊙c_{t-1} + i_t⊙c̃_t, computed by a log-depth scan (cellScan.ts; recurrentLstm.ts).
 *
 * Every gate and cell tensor comes out in ONNX's sequence-first layout [seq, direction, batch, unit]
 * whatever the op's `layout`; padded steps (past sequence_lens) are zero, as in Y.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import type { NodeProto } from '../onnx/decode.js';
import { onnx } from '../onnx/onnxProto.js';
import { attrFloat, attrInt, attrString, attrStrings, attrTensor } from '../onnx/attributes.js';
import { makeNode } from '../onnx/graphDelta.js';
import type { AxisRole, GateName, Probe, Unavailable } from '../types.js';
import type { CellReadout } from './recurrentProbes.js';
import type { RecurrentBuilder } from './recurrentBuilder.js';
import { lstmDirection } from './recurrentLstm.js';
import { gruDirection } from './recurrentGru.js';
import { inputProjection } from './recurrentInput.js';
import { tensorToFloat32 } from '../onnx/tensorData.js';

export const RECURRENT_OPS = new Set(['RNN', 'LSTM', 'GRU']);

const SEQ_FIRST: AxisRole[] = ['seq', 'direction', 'batch', 'unit'];
const BATCH_FIRST: AxisRole[] = ['batch', 'seq', 'direction', 'unit'];

/** ONNX weight-block order inside W/R/B, and the probe gate name of each block. */
const LSTM_BLOCKS: GateName[] = ['input', 'output', 'forget', 'cell-candidate'];
const GRU_BLOCKS: GateName[] = ['update', 'reset', 'hidden-candidate'];

/** Activation names the ONNX recurrent ops accept that map to one parameter-free ONNX op. */
const ACTIVATION_OPS: Record<string, string> = {
  sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu', softsign: 'Softsign', softplus: 'Softplus',
};

export interface NativeResult { probes: Probe[]; unavailable: Unavailable[] }

/** Builds the probes of one recurrent node; `b` collects the nodes and initializers it adds. */
export function nativeRecurrentProbes(
  index: GraphIndex, node: NodeProto, layer: number, b: RecurrentBuilder, withGates = true, cellVia: CellReadout = 'scan',
): NativeResult {
  const op = node.opType;
  const source = { op, node: node.name || node.output.find((o) => o) || op };
  const probes: Probe[] = [];
  const unavailable: Unavailable[] = [];
  const layout = attrInt(node, 'layout', 0);

  // Y is the hidden state per step. Exporters leave it empty when only Y_h is used; a node's
  // outputs cannot be extended additively, so a duplicate node with the same inputs produces it.
  let y = node.output[0] ?? '';
  if (!y) {
    y = `${b.prefix}/Y`;
    b.nodes.push({
      ...makeNode(op, [...node.input], [y], `${b.prefix}/duplicate`),
      attribute: node.attribute as onnx.IAttributeProto[],
      domain: node.domain,
    });
  }
  probes.push({ name: y, kind: 'hidden', layer, axes: layout === 1 ? BATCH_FIRST : SEQ_FIRST, source });
  if (op === 'RNN' || !withGates) return { probes, unavailable };

  const gateNames = op === 'LSTM' ? LSTM_BLOCKS : GRU_BLOCKS;
  const why = gatesUnsupported(index, node, b.opset);
  if (why) {
    const what = op === 'LSTM' ? 'LSTM gates and cell state' : 'GRU gates';
    unavailable.push({ what: `${what} (layer ${layer})`, reason: why, node: source.node });
    return { probes, unavailable };
  }
  const gates = buildGates(index, node, y, b, cellVia);
  for (const g of gateNames) {
    probes.push({ name: gates.outputs[g] as string, kind: 'gate', gate: g, layer, axes: SEQ_FIRST, source });
  }
  if (gates.cell) probes.push({ name: gates.cell, kind: 'cell', layer, axes: SEQ_FIRST, source });
  return { probes, unavailable };
}

/** Why the gates of this node cannot be rebuilt exactly, or undefined when they can. */
function gatesUnsupported(index: GraphIndex, node: NodeProto, opset: number): string | undefined {
  if (opset < 10) return `the model's opset ${opset} is older than 10 (Slice with tensor inputs is needed)`;
  if (attrInt(node, 'hidden_size') === undefined) return 'the node has no hidden_size attribute';
  if (node.opType === 'LSTM' && (node.input[7] ?? '') !== '' && attrFloat(node, 'clip') !== undefined) {
    return 'the LSTM has both peephole weights and clip: the cell states cannot be recomputed with the op\'s own kernel';
  }
  if (node.opType === 'LSTM' && attrInt(node, 'input_forget', 0) !== 0) return 'input_forget=1 (coupled gates) is not supported';
  if (attrFloat(node, 'activation_alpha') !== undefined || attrFloat(node, 'activation_beta') !== undefined) {
    return 'activations with alpha/beta parameters are not supported';
  }
  for (const a of attrStrings(node, 'activations') ?? []) {
    if (!ACTIVATION_OPS[a.toLowerCase()]) return `the activation ${a} is not supported`;
  }
  if ((node.input[4] ?? '') !== '' && opset < 11) return 'sequence_lens needs opset 11 or newer for the padding mask';
  const w = index.initializers.get(node.input[1] ?? '');
  if (w && w.dataType !== onnx.TensorProto.DataType.FLOAT) return 'the weights are not float32';
  return undefined;
}

interface GateTensors { outputs: Partial<Record<GateName, string>>; cell?: string }

/** Activation op names per direction: [f, g] for GRU, [f, g, h] for LSTM (defaults from the ONNX spec). */
function activations(node: NodeProto, dirs: number): string[][] {
  const perDir = node.opType === 'LSTM' ? 3 : 2;
  const given = attrStrings(node, 'activations');
  const defaults = node.opType === 'LSTM' ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'];
  const out: string[][] = [];
  for (let d = 0; d < dirs; d++) {
    const names = given && given.length >= perDir * (d + 1) ? given.slice(perDir * d, perDir * (d + 1)) : defaults;
    out.push(names.map((n) => ACTIVATION_OPS[n.toLowerCase()] ?? n));
  }
  return out;
}

function buildGates(index: GraphIndex, node: NodeProto, y: string, b: RecurrentBuilder, cellVia: CellReadout): GateTensors {
  const isLstm = node.opType === 'LSTM';
  const hidden = attrInt(node, 'hidden_size', 0);
  const direction = attrString(node, 'direction') ?? 'forward';
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const layout = attrInt(node, 'layout', 0);
  const clip = attrFloat(node, 'clip');
  const linearBeforeReset = attrInt(node, 'linear_before_reset', 0) !== 0;
  const acts = activations(node, dirs);
  const [x, w, r] = node.input;
  const bias = node.input[3] ?? '';
  const seqLens = node.input[4] ?? '';
  const h0 = node.input[5] ?? '';
  const c0 = isLstm ? (node.input[6] ?? '') : '';

  // Sequence-first views: Y [T,D,B,H], initial states [D,B,H]; X [T,B,I] only where a Gemm reads it.
  const ys = layout === 1 ? b.transpose(y, [1, 2, 0, 3]) : y;
  let xs = '';
  const seqFirstX = (): string => (xs ||= layout === 1 ? b.transpose(x, [1, 0, 2]) : x);
  const proj = inputProjection(b, index, node, hidden, layout, seqFirstX);
  const yShape = b.op('Shape', [ys]);
  let stateShape = '';
  const zeros = (): string => b.op('ConstantOfShape', [(stateShape ||= b.slice(yShape, 1, 4, 0))]); // float32 zeros [D,B,H]
  const seqFirstState = (s: string): string => (s ? (layout === 1 ? b.transpose(s, [1, 0, 2]) : s) : zeros());
  const h0s = seqFirstState(h0);
  // A zero c_0 is left out of the scan; the auxiliary LSTM still takes it as an input.
  const c0Zero = isLstm && (!c0 || isZeros(index, c0));
  let c0s = '';
  const c0Of = (d: number): string => {
    c0s ||= seqFirstState(c0);
    return dirs === 1 ? c0s : b.slice(c0s, d, d + 1, 0);
  };

  // Padding: valid[t, 0, b, 0] = t < len_b; nextValid = t + 1 < len_b (reverse direction start).
  let valid = '';
  let validF = '';
  let nextValid = '';
  if (seqLens) {
    const steps = b.pick(yShape, 0, 0);
    const idx = b.op('Reshape', [b.op('Range', [b.i64([0], []), steps, b.i64([1], [])]), b.i64([-1, 1, 1, 1])]);
    const lens = b.op('Reshape', [b.op('Cast', [seqLens], { to: onnx.TensorProto.DataType.INT64 }), b.i64([1, 1, -1, 1])]);
    valid = b.op('Less', [idx, lens]);
    validF = b.op('Cast', [valid], { to: onnx.TensorProto.DataType.FLOAT });
    nextValid = b.op('Less', [b.add(idx, b.i64([1], [])), lens]);
  }

  const names = isLstm ? LSTM_BLOCKS : GRU_BLOCKS;
  const perDir: { gates: string[]; cell?: string }[] = [];
  const steps1d = isLstm ? b.slice(yShape, 0, 1, 0) : '';
  for (let d = 0; d < dirs; d++) {
    const reverse = direction === 'reverse' || d === 1;
    const [fAct, gAct] = acts[d];
    const yd = dirs === 1 ? ys : b.slice(ys, d, d + 1, 1); // [T,1,B,H]
    const h0d = b.unsqueeze(dirs === 1 ? h0s : b.slice(h0s, d, d + 1, 0), [0]); // [1,1,B,H]
    // h_{t-1} for every t: the previous step in processing order (t-1 forward, t+1 reverse).
    // Reverse with padding starts at t = len-1, whose successor in Y is padding, not initial_h.
    const shift = (perStep: string, init: string): string => {
      const moved = reverse
        ? b.op('Concat', [b.slice(perStep, 1, undefined, 0), init], { axis: 0 })
        : b.op('Concat', [init, b.slice(perStep, 0, -1, 0)], { axis: 0 });
      return seqLens && reverse ? b.op('Where', [nextValid, moved, init]) : moved;
    };
    const hPrev = b.op('Reshape', [shift(yd, h0d), b.i64([-1, hidden])]); // [T·B, H]
    const dirShape = dirs === 1 ? yShape : b.op('Shape', [yd]);
    // With one direction and no padding mask, the results are the probes themselves: name them now.
    const outNames = dirs === 1 && !validF ? [...names.map((g) => `${b.prefix}/gate/${g}`), `${b.prefix}/cell`] : undefined;
    if (isLstm) {
      perDir.push(lstmDirection(b, {
        hPrev, proj, w, r, bias, d, hidden, clip, fAct, gAct, c0d: () => c0Of(d), c0Zero,
        seqLens, valid, reverse, dirShape, steps1d, outNames, peepholes: node.input[7] ?? '', shift, cellVia,
      }));
    } else {
      perDir.push({ gates: gruDirection(b, { hPrev, proj, w, r, bias, d, hidden, clip, linearBeforeReset, fAct, gAct, dirShape, outNames }) });
    }
  }

  // Join directions on axis 1, zero the padded steps, and give each probe a readable name.
  const finish = (parts: string[], label: string): string => {
    const out = `${b.prefix}/${label}`;
    if (parts.length === 1 && !validF) return parts[0]; // already named `out`
    const joined = parts.length > 1 ? b.op('Concat', parts, { axis: 1 }, validF ? {} : { out }) : parts[0];
    return validF ? b.op('Mul', [joined, validF], {}, { out }) : joined;
  };
  const outputs: Partial<Record<GateName, string>> = {};
  names.forEach((g, k) => { outputs[g] = finish(perDir.map((p) => p.gates[k]), `gate/${g}`); });
  const cell = isLstm ? finish(perDir.map((p) => p.cell as string), 'cell') : undefined;
  return { outputs, cell };
}

/** A state fed by ConstantOfShape of zeros (what exporters write for "no initial state"). */
function isZeros(index: GraphIndex, name: string): boolean {
  const n = index.producer.get(name);
  if (!n || n.opType !== 'ConstantOfShape' || (n.domain ?? '') !== '') return false;
  const v = attrTensor(n, 'value');
  if (!v) return true; // the default value is a float32 0
  try {
    return tensorToFloat32(v).every((e) => e === 0);
  } catch {
    return false;
  }
}
