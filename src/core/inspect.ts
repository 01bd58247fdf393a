/**
 * `inspectModel`: everything the inspection view and `seqlens inspect` show about one .onnx file:
 * the summary, the architecture with its evidence, and the probe plan. Throws SeqLensError
 * ('not-onnx', 'truncated') for files that are not usable ONNX; a model whose weights live in an
 * external data file still inspects (the graph is all inspection needs) and says so in `warnings`.
 */
import { decodeModel, externalDataFiles, type ModelProto } from './onnx/decode.js';
import { summarize, type ModelSummary } from './onnx/summarize.js';
import type { ArchitectureEvidence, ProbePlan } from './types.js';
import { planProbes } from './probes/planProbes.js';
import { analyzeGraph, type AnalyzeOptions } from './probes/analyzeGraph.js';
import { architectureFromAnalysis } from './architecture.js';

export interface ModelInspection {
  fileName: string;
  summary: ModelSummary;
  architecture: ArchitectureEvidence;
  plan: ProbePlan;
  warnings: string[];
}

/** `planned`: the plan the caller already built for this model with `opts` (a LoadedModel's), so it is not built again. */
export function inspectDecoded(model: ModelProto, byteLength: number, fileName: string, opts: AnalyzeOptions = {}, planned?: ProbePlan): ModelInspection {
  const summary = summarize(model, byteLength);
  const architecture = architectureFromAnalysis(analyzeGraph(model, opts), opts.role);
  const plan = planned ?? planProbes(model, opts).plan;
  const warnings: string[] = [];
  const ext = externalDataFiles(model);
  if (ext.size) {
    warnings.push(`Weights are stored outside ${fileName}, in ${[...ext.keys()].join(', ')}: running the model needs that file too.`);
  }
  if (plan.probes.length === 0) warnings.push('No attention, hidden-state or recurrent structure was found in this graph.');
  return { fileName, summary, architecture, plan, warnings };
}

export function inspectModel(bytes: Uint8Array, fileName: string, opts: AnalyzeOptions = {}): ModelInspection {
  return inspectDecoded(decodeModel(bytes, fileName), bytes.byteLength, fileName, opts);
}
