/**
 * `inspectModel`: everything the inspection view and `seqlens inspect` show about one .onnx file:
 * the summary, the architecture with its evidence, and the probe plan. Throws SeqLensError
 * ('not-onnx', 'truncated') for files that are not usable ONNX; a model whose weights live in an
 * external data file still inspects (the graph is all inspection needs) and says so in `warnings`.
 */
import { decodeModel, type ModelProto } from './onnx/decode.js';
import { externalDataSummary } from './onnx/externalData.js';
import { inlineLocalFunctions } from './onnx/localFunctions.js';
import { classifyInputs, type ModelInputs } from './inputKinds.js';
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
  /** What the model takes: text (a text box runs it) or arrays the user gives (one .npy file per input). */
  inputs: ModelInputs;
  warnings: string[];
}

/** `planned`: the plan the caller already built for this model with `opts` (a LoadedModel's), so it is not built again. */
export function inspectDecoded(model: ModelProto, byteLength: number, fileName: string, opts: AnalyzeOptions = {}, planned?: ProbePlan): ModelInspection {
  const summary = summarize(model, byteLength);
  // Attention inside local functions is found in the expanded graph (a LoadedModel hands it in expanded already).
  const graph = inlineLocalFunctions(model, fileName)?.model ?? model;
  const architecture = architectureFromAnalysis(analyzeGraph(graph, opts), opts.role);
  const plan = planned ?? planProbes(graph, opts).plan;
  const warnings: string[] = [];
  const ext = externalDataSummary(model);
  if (ext) {
    warnings.push(`Weights are stored outside ${fileName}: ${ext.text}; running the model needs ${ext.files.length > 1 ? 'them' : 'it'} beside it.`);
  }
  if (plan.probes.length === 0) {
    // Structure that was seen but cannot be read is named with its reason, never called "not found".
    const seen = plan.unavailable[0];
    warnings.push(seen
      ? `No probe can be read: ${seen.what} ${seen.node && !seen.what.includes(seen.node) ? `(${seen.node}) ` : ''}cannot be exposed because ${seen.reason}.`
      : 'No attention, hidden-state or recurrent structure was found in this graph.');
  }
  return { fileName, summary, architecture, plan, inputs: classifyInputs(summary.inputs), warnings };
}

export function inspectModel(bytes: Uint8Array, fileName: string, opts: AnalyzeOptions = {}): ModelInspection {
  return inspectDecoded(decodeModel(bytes, fileName), bytes.byteLength, fileName, opts);
}
