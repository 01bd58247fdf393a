/**
 * The one interface core needs from an inference engine. The CLI implements it with
 * onnxruntime-node or onnxruntime-web (WASM in Node); the webview with onnxruntime-web
 * (WebGPU, else WASM). Keeping the orchestration in core is what makes the panel's numbers and
 * `seqlens trace --dump` the same numbers.
 */

export type ElementType = 'float32' | 'int64' | 'int32' | 'bool';

export interface HostTensor {
  type: ElementType;
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
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

export interface InferenceBackend {
  /** 'native' (onnxruntime-node), 'wasm' or 'webgpu'. */
  readonly name: string;
  createSession(modelBytes: Uint8Array): Promise<SessionHandle>;
}
