/**
 * The smallest model onnxruntime-web accepts: one Identity node, float32 [1] in, float32 [1] out. The
 * webview creates and runs a session of it when the panel starts, so onnxruntime-web's worker and wasm
 * instance exist before the user's first run (see warmUp in ortWebBackend.ts). Built here as bytes with
 * core's protobuf bindings rather than shipped as a file: nothing more to fetch, nothing to keep in sync.
 */
import { onnx } from '../../src/core/onnx/onnxProto.js';

/** Input and output names of the warm-up model. */
export const WARM_UP_INPUT = 'x';
export const WARM_UP_OUTPUT = 'y';

export function warmUpModelBytes(): Uint8Array {
  const floatOfOne: onnx.ITypeProto = { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } };
  const bytes = onnx.ModelProto.encode({
    // IR 8 / opset 13: old enough for any onnxruntime-web of the last years, new enough for its optimizer.
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'sequence-lens warm-up',
    graph: {
      name: 'warm-up',
      node: [{ opType: 'Identity', name: 'identity', input: [WARM_UP_INPUT], output: [WARM_UP_OUTPUT] }],
      input: [{ name: WARM_UP_INPUT, type: floatOfOne }],
      output: [{ name: WARM_UP_OUTPUT, type: floatOfOne }],
    },
  }).finish();
  // A copy of its own: protobufjs hands small messages out of a shared 8 KB slab, and onnxruntime-web's
  // worker mode transfers the model's whole buffer, which would detach the slab under later encodes.
  return bytes.slice();
}
