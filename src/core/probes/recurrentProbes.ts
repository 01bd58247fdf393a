/**
 * PLACEHOLDER owned by the recurrent-ops helper, who replaces this file: ONNX LSTM/GRU/RNN probes
 * (hidden state per step, gates and cell via a Scan rewrite). Until then it contributes nothing.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import type { ModelProto } from '../onnx/decode.js';
import { emptyDelta } from '../onnx/graphDelta.js';
import type { ProbeContribution } from './contribution.js';

export function recurrentProbes(index: GraphIndex, model: ModelProto): ProbeContribution {
  void index;
  void model;
  return { probes: [], delta: emptyDelta(), unavailable: [] };
}
