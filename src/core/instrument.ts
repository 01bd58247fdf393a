/**
 * The instrumented model: the original bytes followed by the probe plan's delta (see
 * onnx/graphDelta.ts). Running it gives the model's own outputs, unchanged, plus every probe
 * tensor as an extra graph output.
 */
import { decodeModel, externalDataFiles, type ModelProto } from './onnx/decode.js';
import { applyDelta } from './onnx/graphDelta.js';
import { inlineLocalFunctions } from './onnx/localFunctions.js';
import { SeqLensError } from './errors.js';
import type { ProbePlan } from './types.js';
import { planProbes } from './probes/planProbes.js';
import type { AnalyzeOptions } from './probes/analyzeGraph.js';
import type { RecurrentProbeOptions } from './probes/recurrentProbes.js';

export interface InstrumentOptions extends AnalyzeOptions {
  /** The caller supplies the external data files to the runtime itself (onnxruntime-web `externalData`). */
  allowExternalData?: boolean;
  fileName?: string;
  /** Options for the recurrent probes (e.g. the cell read-out a runtime supports). */
  recurrent?: RecurrentProbeOptions;
  /** Add the max-pooled overview of each attention probe (default true). */
  pooledAttention?: boolean;
  /** Tensors to expose by name as well, as probes of kind 'tensor' (`seqlens trace --probe NAME`). */
  tensors?: readonly string[];
}

export function instrument(original: Uint8Array, model?: ModelProto, opts: InstrumentOptions = {}): { bytes: Uint8Array; plan: ProbePlan } {
  const decoded = model ?? decodeModel(original, opts.fileName);
  // Calls of local functions are expanded first (their inner tensors cannot be graph outputs otherwise).
  const inlined = inlineLocalFunctions(decoded, opts.fileName);
  const m = inlined?.model ?? decoded;
  const bytes = inlined?.bytes ?? original;
  const ext = externalDataFiles(m);
  if (ext.size && !opts.allowExternalData) {
    throw new SeqLensError('external-data',
      `${opts.fileName ?? 'The model'} keeps its weights in ${[...ext.keys()].join(', ')}; that file must be loaded with it.`);
  }
  const { plan, delta } = planProbes(m, { role: opts.role, inputValues: opts.inputValues, recurrent: opts.recurrent, pooledAttention: opts.pooledAttention, tensors: opts.tensors });
  const graph = m.graph;
  const out = applyDelta(bytes, delta, graph ? graph.output.map((o) => o.name) : [], m.opsetImport.map((o) => o.domain));
  return { bytes: out, plan };
}
