/**
 * What the inspector page shows for a model: per .onnx file the summary, the architecture with its
 * evidence and the probe plan. The analysis is core's (src/core/inspect.ts, the same `seqlens inspect`
 * prints), run by the page's LoadedModel on the model it decoded once, so a run afterwards reuses it.
 */
import type { ModelManifest } from '../../src/core/manifest.js';
import type { LoadedModel } from '../../src/core/run/loadedModel.js';
import type { ModelSummary } from '../../src/core/onnx/summarize.js';
import type { Architecture, ArchitectureEvidence, ProbePlan } from '../../src/core/types.js';
import type { ModelPicture } from '../../src/core/graphBlocks.js';
import type { ModelInputs } from '../../src/core/inputKinds.js';

export interface FileInspection {
  key: string;
  summary: ModelSummary;
  evidence?: ArchitectureEvidence;
  plan?: ProbePlan;
  warnings?: string[];
  /** What the file takes: text, or arrays the user gives (core/inputKinds.ts). */
  inputs?: ModelInputs;
  /** The picture of the graph's blocks (core/graphBlocks.ts). */
  picture?: ModelPicture;
  error?: string;
}

export interface InspectInfo {
  label: string;
  architecture: Architecture;
  manifest?: ModelManifest;
  files: FileInspection[];
}

export function inspectLoaded(model: LoadedModel, label: string): InspectInfo {
  const files = model.inspect().map((f): FileInspection => (f.inspection
    ? {
      key: f.key, summary: f.summary, evidence: f.inspection.architecture, plan: f.inspection.plan, inputs: f.inspection.inputs,
      warnings: [...f.inspection.warnings, ...(f.pictureError ? [f.pictureError] : [])], ...(f.picture ? { picture: f.picture } : {}),
    }
    : { key: f.key, summary: f.summary, error: f.error }));
  const architecture = model.manifest?.architecture ?? files.find((f) => f.evidence)?.evidence?.architecture ?? 'unknown';
  return { label, architecture, manifest: model.manifest, files };
}
