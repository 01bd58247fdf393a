/**
 * What one probe rule (attention, hidden states, logits, recurrent ops...) adds to the plan: the
 * probes it found, the graph additions that expose them, and what it saw but could not expose.
 * planProbes merges contributions; rules never see each other's deltas.
 */
import type { Probe, Unavailable } from '../types.js';
import type { GraphDelta } from '../onnx/graphDelta.js';

export interface ProbeContribution {
  probes: Probe[];
  delta: GraphDelta;
  unavailable: Unavailable[];
}
