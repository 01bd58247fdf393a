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
   * Rebuild LSTM/GRU gates and LSTM cell states (default true). They cost about as much compute as
   * the recurrent op itself (measured: a 1-layer 160-unit LSTM char model runs ~1.9× slower with
   * them, ~1.0× with hidden states only), so a caller may ask for hidden states alone.
   */
  gates?: boolean;
  /**
   * How the LSTM cell state is read out of its auxiliary LSTM node: 'affine' (identity output
   * activation, one node) or 'relu-pair' (c = relu(c) − relu(−c) from two rows per unit, for runtimes
   * whose LSTM lacks the Affine activation, such as onnxruntime-web's WebGPU EP). Default 'affine'.
   */
  cellVia?: CellReadout;
}

export type CellReadout = 'affine' | 'relu-pair';

export function recurrentProbes(index: GraphIndex, model: ModelProto, opts: RecurrentProbeOptions = {}): ProbeContribution {
  const opset = opsetVersion(model, '') ?? 1;
  const probes: Probe[] = [];
  const unavailable: Unavailable[] = [];
  const builders: RecurrentBuilder[] = [];
  let layer = 0;
  for (const node of index.topoOrder) {
    if (!RECURRENT_OPS.has(node.opType) || (node.domain ?? '') !== '') continue;
    const b = new RecurrentBuilder(`seqlens/${node.opType.toLowerCase()}${layer}`, opset);
    const r = nativeRecurrentProbes(index, node, layer, b, opts.gates ?? true, opts.cellVia ?? 'affine');
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
