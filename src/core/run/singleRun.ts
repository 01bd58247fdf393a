/**
 * One run of a one-file model over a token sequence: which probes come back (all of them, those within
 * the attention byte budget, or exactly the `only` ones when deferred attention is fetched later), the
 * run itself, and the probe tensors read out of it. The caller tokenized and prepared the session.
 */
import type { FloatTensor, HostTensor } from './backend.js';
import type { Architecture, Probe } from '../types.js';
import type { ProbeTensor, TokenSpan, Trace } from '../trace/traceTypes.js';
import { singleFeeds } from './feeds.js';
import type { SingleInputs } from './sequenceInputs.js';
import { applyPostprocess } from './probeTensors.js';
import { planFetch } from './fetchPlan.js';
import { withProbedAxes } from '../trace/probedTensor.js';
import { SeqLensError } from '../errors.js';
import { now, runStep, withFile, type PreparedFile, type Progress } from './runSteps.js';

export interface SingleRun {
  name: string;
  architecture: Architecture;
  backendName: string;
  text: string;
  tokens: TokenSpan[];
  prepared: PreparedFile;
  /** Which inputs take the ids (a text run). */
  io?: SingleInputs;
  /** A run on tensors: its feeds, built by the caller (tensorFeeds.ts); `io` and the token ids are then not read. */
  feeds?: Record<string, HostTensor>;
  /** The manifest's logits output, if it names one. */
  logits?: string;
  warnings: string[];
  timings: Record<string, number>;
  signal?: AbortSignal;
  progress: Progress;
  /** At most this many bytes of attention come back; the rest is listed in `trace.deferred`. */
  attentionBudgetBytes?: number;
  preferProbe?: (p: Probe) => boolean;
  /** Fetch exactly these probes and no logits (deferred attention, fetched later). */
  only?: readonly string[];
  /** Other graph outputs to fetch in the same run (the positional-encoding subgraph), returned beside the trace. */
  extra?: readonly string[];
}

/** Removes the batch axis of size 1 from [1, seq, vocab] logits. */
function squeezeBatch(t: FloatTensor): FloatTensor {
  return t.dims.length === 3 && t.dims[0] === 1 ? { dims: t.dims.slice(1), data: t.data } : t;
}

export function logitsName(prepared: PreparedFile, named: string | undefined): string | undefined {
  if (named) return named;
  const probe = prepared.plan.probes.find((p) => p.kind === 'logits');
  if (probe) return probe.name;
  const rank3 = prepared.outputs.find((o) => o.shape?.length === 3 && (o.type === 'float' || o.type === 'float16'));
  return rank3?.name ?? (prepared.outputs.length === 1 ? prepared.outputs[0].name : undefined);
}

export async function runSingle(r: SingleRun): Promise<{ trace: Trace; extra: Record<string, FloatTensor> }> {
  const { prepared, timings, warnings } = r;
  const planned = withFile(prepared.plan.probes, 'model', undefined);
  let probes = planned;
  let deferred: Probe[] = [];
  if (r.only) {
    const want = new Set(r.only);
    probes = planned.filter((p) => want.has(p.name));
  } else if (r.attentionBudgetBytes !== undefined) {
    ({ fetch: probes, deferred } = planFetch(planned, r.tokens.length, r.attentionBudgetBytes, r.preferProbe));
  }
  const logits = r.only ? undefined : logitsName(prepared, r.logits);
  // Deferred attention still sends its pooled overview (1/256 of the bytes at a pool of 16).
  const overviews = deferred.filter((p) => p.pooled);
  // A tensor asked for by name may be one a probe reads already (or the logits): fetched once.
  const fetches = [...new Set([...probes.map((p) => p.name), ...overviews.map((p) => p.pooled!.name), ...(logits ? [logits] : []), ...(r.extra ?? [])])];
  r.progress(`Running ${r.name} on ${r.tokens.length} ${r.feeds ? 'positions' : 'tokens'}`);
  const feeds = r.feeds ?? (r.io ? singleFeeds(prepared.inputs, r.io, r.tokens.map((t) => t.id)) : undefined);
  if (!feeds) throw new SeqLensError('runtime', `${r.name}: a run needs token ids or input tensors.`);
  const out = await runStep(prepared.session, feeds, fetches, r.signal, timings);

  const te = now();
  const probeTensors: ProbeTensor[] = [];
  for (const p of probes) {
    const raw = out[p.name];
    if (!raw) {
      warnings.push(`Probe ${p.name} (${p.kind}, layer ${p.layer}) produced no tensor.`);
      continue;
    }
    probeTensors.push({ probe: withProbedAxes(p, raw, r.tokens.length), tensor: applyPostprocess(p, raw) });
  }
  const logitsTensor = logits && out[logits] ? squeezeBatch(out[logits]) : undefined;
  const extra: Record<string, FloatTensor> = {};
  for (const name of r.extra ?? []) if (out[name]) extra[name] = out[name];
  timings.extract += now() - te;
  const trace: Trace = {
    model: r.name,
    architecture: r.architecture,
    backend: r.backendName,
    input: r.text,
    tokens: r.tokens,
    probes: probeTensors,
    logits: logitsTensor,
    timings,
    warnings,
    ...(deferred.length ? { deferred } : {}),
    ...(overviews.length ? {
      pooled: overviews.filter((p) => out[p.pooled!.name]).map((p) => ({ probe: p, tensor: out[p.pooled!.name], pooledBy: p.pooled!.factor })),
    } : {}),
  };
  return { trace, extra };
}
