/**
 * Traces are handed out frozen: a view or a later layer fetch cannot change what another reader sees.
 * Everything but the numbers is frozen (typed arrays cannot be; nothing writes into them).
 */
import type { Probe } from '../types.js';
import type { FloatTensor } from '../run/backend.js';
import type { ProbeTensor, TokenSpan, Trace } from './traceTypes.js';

function freezeTensor(t: FloatTensor): FloatTensor {
  Object.freeze(t.dims);
  return Object.freeze(t);
}

function freezeProbe(p: Probe): Probe {
  Object.freeze(p.axes);
  return Object.freeze(p);
}

export function freezeProbeTensor(pt: ProbeTensor): ProbeTensor {
  freezeProbe(pt.probe);
  freezeTensor(pt.tensor);
  return Object.freeze(pt);
}

function freezeList<T>(list: T[] | undefined, each: (v: T) => unknown): void {
  if (!list) return;
  for (const v of list) each(v);
  Object.freeze(list);
}

export function freezeTrace(trace: Trace): Trace {
  const token = (t: TokenSpan): TokenSpan => Object.freeze(t);
  freezeList(trace.tokens, token);
  freezeList(trace.generated, token);
  freezeList(trace.probes, freezeProbeTensor);
  freezeList(trace.pooled, freezeProbeTensor);
  freezeList(trace.deferred, freezeProbe);
  freezeList(trace.warnings, () => undefined);
  if (trace.logits) freezeTensor(trace.logits);
  Object.freeze(trace.timings);
  return Object.freeze(trace);
}
