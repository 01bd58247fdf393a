/**
 * Probes the user asks for by tensor name (`seqlens trace MODEL --probe NAME`, the inspector's "Probe this
 * tensor"): any tensor a node of the graph computes becomes a graph output, read as a probe of kind
 * 'tensor'. Its axes are not known before the run (most exports carry no shapes): they are named from the
 * tensor the run returns (see trace/probedTensor.ts). A name the graph does not compute is refused with a
 * sentence that says why, before any session is made.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import { emptyDelta } from '../onnx/graphDelta.js';
import { SeqLensError } from '../errors.js';
import type { Probe } from '../types.js';
import type { ProbeContribution } from './contribution.js';

/** Why `name` cannot be probed in this graph, or undefined when it can. */
export function tensorProbeProblem(index: GraphIndex, name: string): string | undefined {
  if (index.producer.has(name)) return undefined;
  if (index.initializers.has(name)) return `"${name}" is a weight (an initializer): it does not change with the input, so there is nothing per token to read`;
  if (index.inputs.has(name)) return `"${name}" is a graph input: it holds what the run feeds, not something the model computes`;
  return `the graph has no tensor named "${name}" (open the model in VS Code: the inspector lists every block's nodes and their outputs; tensors inside Loop or Scan bodies cannot be read)`;
}

/** One 'tensor' probe per requested name; throws SeqLensError('unsupported') naming the first bad one. */
export function tensorProbes(index: GraphIndex, names: readonly string[]): ProbeContribution {
  const delta = emptyDelta();
  const probes: Probe[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const problem = tensorProbeProblem(index, name);
    if (problem) throw new SeqLensError('unsupported', `Cannot probe this tensor: ${problem}.`);
    const node = index.producer.get(name)!;
    probes.push({
      name, kind: 'tensor', layer: probes.length, axes: [],
      source: { op: node.opType, node: node.name || `${node.opType}→${node.output[0] ?? name}` },
    });
    delta.outputs.push(name);
  }
  return { probes, delta, unavailable: [] };
}
