/**
 * Probes for recurrent models: the hidden state per step of every ONNX RNN/LSTM/GRU node, and for
 * LSTM/GRU the gates (and the LSTM cell state), plus the same for LSTMs written out as primitive
 * ops. Layers are numbered in topological order: native ops first, then decomposed cells.
 * Everything added is named under `seqlens/`; the original nodes are never touched.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import { opsetVersion, type ModelProto } from '../onnx/decode.js';
import type { Probe, Unavailable } from '../types.js';
import type { ProbeContribution } from './contribution.js';
import { RecurrentBuilder } from './recurrentBuilder.js';
import { RECURRENT_OPS, nativeRecurrentProbes } from './recurrentNative.js';
import { decomposedLstmProbes } from './recurrentDecomposed.js';

export interface RecurrentProbeOptions {
  /**
   * Rebuild LSTM/GRU gates and LSTM cell states (default true). They cost a fraction of the recurrent
   * op itself (bench/instrumentOverhead.ts prints it per zoo model), so a caller may still ask for
   * hidden states alone (~1.0×).
   */
  gates?: boolean;
  /**
   * How the LSTM cell state is computed. 'scan' (default): a log-depth scan of c_t = f⊙c_{t-1} + i⊙c̃
   * in a Loop (cellScan.ts). 'affine': an auxiliary LSTM node with the identity output activation.
   * 'relu-pair': the auxiliary LSTM read out as c = relu(c) − relu(−c) from two rows per unit, for
   * runtimes whose LSTM lacks the Affine activation and whose control flow runs elsewhere (onnxruntime-
   * web's WebGPU EP). LSTMs with peepholes always use the auxiliary LSTM ('affine').
   */
  cellVia?: CellReadout;
}

export type CellReadout = 'scan' | 'affine' | 'relu-pair';

export function recurrentProbes(index: GraphIndex, model: ModelProto, opts: RecurrentProbeOptions = {}): ProbeContribution {
  const opset = opsetVersion(model, '') ?? 1;
  const probes: Probe[] = [];
  const unavailable: Unavailable[] = [];
  const builders: RecurrentBuilder[] = [];
  let layer = 0;
  for (const node of index.topoOrder) {
    if (!RECURRENT_OPS.has(node.opType) || (node.domain ?? '') !== '') continue;
    // X, W and R are required; a broken file without them would get probe nodes with missing inputs.
    if (!node.input[0] || !node.input[1] || !node.input[2]) {
      unavailable.push({ what: `${node.opType} ${node.name || '(unnamed)'}`, reason: 'the node lacks its X, W or R input', node: node.name });
      continue;
    }
    const b = new RecurrentBuilder(`seqlens/${node.opType.toLowerCase()}${layer}`, opset);
    const r = nativeRecurrentProbes(index, node, layer, b, opts.gates ?? true, opts.cellVia ?? 'scan');
    probes.push(...r.probes);
    unavailable.push(...r.unavailable);
    builders.push(b);
    layer++;
  }
  if (opset >= 10) {
    const b = new RecurrentBuilder('seqlens/lstm-cells', opset);
    const r = decomposedLstmProbes(index, layer, b);
    probes.push(...r.probes);
    unavailable.push(...r.unavailable);
    builders.push(b);
  }
  return {
    probes,
    unavailable,
    delta: {
      nodes: builders.flatMap((b) => b.nodes),
      initializers: builders.flatMap((b) => b.initializers),
      outputs: probes.map((p) => p.name),
    },
  };
}
