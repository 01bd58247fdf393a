/**
 * The one interface core needs from an inference engine. The CLI implements it with
 * onnxruntime-node or onnxruntime-web (WASM in Node); the webview with onnxruntime-web
 * (WebGPU, else WASM). Keeping the orchestration in core is what makes the panel's numbers and
 * `seqlens trace --dump` the same numbers.
 */

/** float16 travels as its raw bits (Uint16Array); Sequence Lens only feeds it empty (a first run's cache). */
export type ElementType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

export interface HostTensor {
  type: ElementType;
  dims: number[];
  data: Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;
}

/** A float tensor read back from a session (probes, logits, states). */
export interface FloatTensor {
  dims: number[];
  data: Float32Array;
}

export interface SessionHandle {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; returns the requested outputs converted to float32. */
  run(feeds: Record<string, HostTensor>, fetches: readonly string[], signal?: AbortSignal): Promise<Record<string, FloatTensor>>;
  dispose(): Promise<void>;
}

/** A weights file that the model references by `location` (ONNX external data), already read. */
export interface ExternalFile {
  /** The `location` string exactly as the model's TensorProto.external_data gives it. */
  path: string;
  data: Uint8Array;
}

/** Optional extras for session creation; backends that cannot honour one fail with a clear error. */
export interface SessionOptionsExtra {
  externalData?: ExternalFile[];
  /**
   * Instead of `externalData`: the folder the model's external data files lie in on a local disk, read by
   * the runtime itself (onnxruntime-node only; see LoadedModel's externalData). The weights then never pass
   * through JavaScript.
   */
  externalDataFolder?: string;
  /**
   * Leave onnxruntime's constant folding out (see onnx/constantFolding.ts): for graphs where it would only
   * copy big weights transposed, which the CPU's MatMul fusion reads in place. Backends on other devices ignore it.
   */
  skipConstantFolding?: boolean;
}

export interface InferenceBackend {
  /** 'native' (onnxruntime-node), 'wasm' or 'webgpu'. */
  readonly name: string;
  createSession(modelBytes: Uint8Array, extra?: SessionOptionsExtra): Promise<SessionHandle>;
  /** Releases what the backend holds beyond its sessions (optional). */
  dispose?(): Promise<void>;
}
