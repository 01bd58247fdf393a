/**
 * The one place the webview calls core's graph analysis for the inspector (architecture + evidence +
 * probe plan). Interim: returns nothing until src/core/inspect.ts lands; the page then shows the summary only.
 */
import type { ModelProto } from '../../src/core/onnx/decode.js';
import type { ArchitectureEvidence, ProbePlan } from '../../src/core/types.js';

export function analyse(_bytes: Uint8Array, _model: ModelProto): { evidence?: ArchitectureEvidence; plan?: ProbePlan } {
  return {};
}
