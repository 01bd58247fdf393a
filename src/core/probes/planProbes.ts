/**
 * The probe plan: every rule's contribution merged. Attention per layer and stream, the residual
 * stream per block, logits and the logit-lens projection, recurrent states and gates (recurrentProbes.ts),
 * plus what was seen but cannot be exposed. The delta exposes every probe tensor as a graph output.
 */
import { opsetVersion, type ModelProto } from '../onnx/decode.js';
import { emptyDelta, mergeDeltas, type GraphDelta } from '../onnx/graphDelta.js';
import type { LogitLens, ProbePlan, Unavailable } from '../types.js';
import type { ProbeContribution } from './contribution.js';
import { analyzeGraph, type AnalyzeOptions } from './analyzeGraph.js';
import { attentionProbes } from './attentionProbes.js';
import { hiddenProbes } from './hiddenProbes.js';
import { logitsProbe } from './logitsProbe.js';
import { recurrentProbes, type RecurrentProbeOptions } from './recurrentProbes.js';
import { inlinedAsDelta, IF_PREFIX } from './subgraphs.js';
import { pooledAttention } from './pooledAttention.js';
import { tensorProbes } from './tensorProbes.js';
import { architectureFromAnalysis } from '../architecture.js';
import { attrInt, attrString } from '../onnx/attributes.js';

/**
 * `pooledAttention` (default true): add the max-pooled overview of each attention probe
 * (probes/pooledAttention.ts). Only one-file models get them: an encoder or decoder file (`role`) is
 * run step by step with every probe fetched (run/seq2seqRun.ts), never deferring attention, so an
 * overview there would be computed on every step and never read.
 * `tensors`: tensors the user asked for by name, added as probes of kind 'tensor' (probes/tensorProbes.ts);
 * a name the graph does not compute throws SeqLensError('unsupported') with the reason.
 */
export function planProbes(model: ModelProto, opts: AnalyzeOptions & { recurrent?: RecurrentProbeOptions; pooledAttention?: boolean; tensors?: readonly string[] } = {}): { plan: ProbePlan; delta: GraphDelta } {
  const a = analyzeGraph(model, opts);
  const failures: Unavailable[] = [...a.failures];
  const guard = <T extends ProbeContribution>(what: string, f: () => T): T | ProbeContribution => {
    try {
      const part = f();
      // On a damaged graph (a node missing an input) a rule can wire `undefined` into a node it adds.
      if (part.delta.nodes.some((n) => [...(n.input ?? []), ...(n.output ?? [])].some((t) => typeof t !== 'string'))) {
        throw new Error('a node it adds reads a tensor the graph does not name');
      }
      return part;
    } catch (e) {
      failures.push({ what, reason: `the probe rule failed on this graph: ${e instanceof Error ? e.message : String(e)}` });
      return { probes: [], delta: emptyDelta(), unavailable: [] };
    }
  };
  const attention = guard('attention', () => attentionProbes(a.extended, model, a.sites));
  const hidden = guard('hidden states', () => hiddenProbes(a.extended, a.streams));
  const logitsPart = guard('logits', () => logitsProbe(a.extended, a.streams, a.inlined.aliases));
  const logits: ProbeContribution & { lens?: LogitLens } = logitsPart;
  // The extended index: recurrent ops in an inlined If branch get their probes like top-level ones.
  const recurrent = guard('recurrent states and gates', () => recurrentProbes(a.extended, model, opts.recurrent));
  const withOverviews = opts.pooledAttention !== false && !opts.role;
  const pooled = { probes: [], unavailable: [], delta: withOverviews ? pooledAttention(attention.probes, opsetVersion(model, '') ?? 1) : emptyDelta() };
  // Not guarded: a name the user typed that the graph does not compute is their error to read, not a rule's.
  const asked = opts.tensors?.length ? tensorProbes(a.extended, opts.tensors) : { probes: [], unavailable: [], delta: emptyDelta() };
  const parts = [attention, hidden, logits, recurrent, pooled, asked];
  const delta = mergeDeltas(...parts.map((p) => p.delta));
  // Inlined If branches travel only when a probe reads one of their tensors.
  const usesInlined = delta.outputs.some((o) => o.startsWith(IF_PREFIX))
    || delta.nodes.some((n) => (n.input ?? []).some((i) => i.startsWith(IF_PREFIX)));
  const full = usesInlined ? mergeDeltas({ ...inlinedAsDelta(a.inlined), outputs: [] }, delta) : delta;
  // A lens needs hidden states as wide as the projection's input: a Transformer stream it reads, or
  // a one-direction recurrent layer of that width (not, e.g., [state; attention context] concatenated).
  const lens = logits.lens;
  const lensFits = lens !== undefined && (lens.stream !== undefined || a.extended.nodes.some((n) =>
    ['LSTM', 'GRU', 'RNN'].includes(n.opType) && attrInt(n, 'hidden_size') === lens.hiddenSize
    && attrString(n, 'direction') !== 'bidirectional'));
  const plan: ProbePlan = {
    architecture: architectureFromAnalysis(a).architecture,
    probes: parts.flatMap((p) => p.probes),
    unavailable: [...a.inlined.unavailable, ...parts.flatMap((p) => p.unavailable), ...failures],
    ...(lens && lensFits ? { logitLens: lens } : {}),
  };
  return { plan, delta: full };
}
