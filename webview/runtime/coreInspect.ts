/**
 * The one place the webview calls core's graph analysis for the inspector (architecture + evidence +
 * probe plan): src/core/inspect.ts, the same analysis `seqlens inspect` prints.
 */
import type { ModelProto } from '../../src/core/onnx/decode.js';
import { inspectDecoded } from '../../src/core/inspect.js';
import type { ArchitectureEvidence, ProbePlan } from '../../src/core/types.js';

export function analyse(bytes: Uint8Array, model: ModelProto, key: string): { evidence?: ArchitectureEvidence; plan?: ProbePlan; warnings?: string[] } {
  const role = key === 'encoder' || key === 'decoder' ? { role: key } as const : {};
  const r = inspectDecoded(model, bytes.byteLength, key, role);
  return { evidence: r.architecture, plan: r.plan, warnings: r.warnings };
}
