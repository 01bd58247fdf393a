/**
 * What the inspector page shows for a .onnx file: the summary, the architecture with its evidence and
 * the probe plan. The analysis is core's (src/core/onnx/summarize, src/core/inspect); this only runs
 * it per file of a (possibly multi-file) model in the webview, where the bytes already are.
 */
import type { ModelManifest } from '../../src/core/manifest.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { summarize, type ModelSummary } from '../../src/core/onnx/summarize.js';
import type { Architecture, ArchitectureEvidence, ProbePlan } from '../../src/core/types.js';
import { analyse } from './coreInspect.js';

export interface FileInspection {
  key: string;
  summary: ModelSummary;
  evidence?: ArchitectureEvidence;
  plan?: ProbePlan;
  warnings?: string[];
  error?: string;
}

export interface InspectInfo {
  label: string;
  architecture: Architecture;
  manifest?: ModelManifest;
  files: FileInspection[];
}

export function inspectBytes(files: Record<string, Uint8Array>, manifest: ModelManifest | undefined, label: string): InspectInfo {
  const out: FileInspection[] = [];
  for (const [key, bytes] of Object.entries(files)) {
    const model = decodeModel(bytes, key);
    const summary = summarize(model, bytes.byteLength);
    try {
      out.push({ key, summary, ...analyse(bytes, model, key) });
    } catch (e) {
      out.push({ key, summary, error: e instanceof Error ? e.message : String(e) });
    }
  }
  const architecture = manifest?.architecture ?? out.find((f) => f.evidence)?.evidence?.architecture ?? 'unknown';
  return { label, architecture, manifest, files: out };
}
