/**
 * Messages between the native host (extension host side, src/node/nativeHost.ts) and its worker thread
 * (src/node/nativeWorker.ts). Requests carry `id`; the worker answers each with exactly one `result` or
 * `error` (a one-line message with a SeqLensError code), and sends `progress` while it works.
 */
import type { ProbeTensor } from '../core/trace/traceTypes.js';
import type { WireRun } from '../shared/traceWire.js';
import type { ModelManifest } from '../core/manifest.js';

/** A model as files on disk: what the worker reads (never through the page). */
export interface NativeModelSpec {
  /** Registry id: with `version`, the key the worker keeps the loaded model under. */
  id: string;
  label: string;
  /** Absolute path of the manifest JSON, when the model has one. */
  manifestPath?: string;
  /** The manifest itself when it is no file (derived from an encoder-decoder export's folder, core/seq2seqFolder.ts). */
  manifest?: ModelManifest;
  /** Absolute paths of the .onnx files, keyed like manifest `files` ('model' for a bare .onnx). */
  files: Record<string, string>;
  /** Absolute paths of tokenizer files, keyed by the path the manifest (or the model's folder) names them by. */
  tokenizerFiles: Record<string, string>;
  /** Changes when any file changes on disk: a new version loads the model anew. */
  version?: string;
}

export interface NativeTraceRequest {
  type: 'trace';
  id: number;
  model: NativeModelSpec;
  text: string;
  maxTokens?: number;
  attentionBudgetBytes?: number;
  /** The layer the panel shows: fetched first when not every layer fits the budget. */
  preferLayer?: number;
  /**
   * The largest logit-lens projection sent to the page (copied out of the model); bigger ones stay, and the page
   * shows no lens. Default 32 MB; a remote window asks for less (its page receives a few MB a second).
   */
  lensWireMaxBytes?: number;
}

export type ToWorker =
  | NativeTraceRequest
  /**
   * Load a model before its first run (the user selected text with it active): its files, tokenizer and
   * session, and one run of a few characters so onnxruntime has run each kernel once. Nothing is sent back but the time.
   */
  | { type: 'prepare'; id: number; model: NativeModelSpec }
  | { type: 'fetchLayers'; id: number; runKey: string; names: string[] }
  /** Which onnxruntime-node and execution provider the worker has (loads onnxruntime-node). */
  | { type: 'hello'; id: number }
  | { type: 'cancel'; id: number }
  | { type: 'dispose' };

export interface NativeInfo {
  /** onnxruntime-node's version. */
  version: string;
  /** The execution provider sessions run on ('cpu'; 'cuda' where its libraries are present: src/node/cudaProvider.ts). */
  provider: string;
  /** Why that provider, one line for the badge's tooltip (e.g. 'CUDA provider library not found beside the binding (…)'). */
  providerWhy?: string;
}

export type WorkerResult =
  | { kind: 'trace'; run: WireRun }
  | { kind: 'layers'; probes: ProbeTensor[] }
  | { kind: 'hello'; info: NativeInfo }
  | { kind: 'prepared'; ms: number; timings: Record<string, number> };

export type FromWorker =
  /** `sentAt`: when the worker posted it (performance.timeOrigin + performance.now(), ms); the host times the transfer. */
  | { type: 'result'; id: number; result: WorkerResult; sentAt?: number }
  | { type: 'error'; id: number; code: string; message: string }
  | { type: 'progress'; id: number; message: string; fraction?: number };
