/**
 * Every message between the extension host and the webview, as discriminated unions on `type`.
 * Requests that want an answer carry `id`; answers carry `inReplyTo`; failures are answers with
 * `error`. Both sides validate what they receive with the guards below and drop anything else.
 * Heavy numbers (weights, attention tensors) never travel here: the webview fetches model bytes
 * through its webview URI and keeps tensors; the host gets small per-token summaries.
 */
import type { Architecture } from '../core/types.js';

export interface ErrorInfo { code: string; message: string }

export interface ModelRef {
  /** Stable id within the registry (e.g. 'zoo:lstm', 'workspace:/abs/path.onnx'). */
  id: string;
  label: string;
  architecture: Architecture;
  source: 'zoo' | 'workspace' | 'settings';
  /** Webview URIs (strings) of the manifest's files, keyed like manifest `files`. */
  fileUris: Record<string, string>;
  /** Webview URI of the manifest JSON, when the model has one. */
  manifestUri?: string;
  /** Webview URIs of tokenizer files referenced by the manifest, keyed by their manifest path. */
  tokenizerUris: Record<string, string>;
  sizeBytes: number;
}

export type Backend = 'auto' | 'webgpu' | 'wasm';

/** What the editor decorations colour tokens by (setting `sequenceLens.decorationMode`). */
export type DecorationMode = 'attention' | 'hiddenNorm' | 'gate';

export type HostToWebview =
  | {
      type: 'init'; mode: 'panel' | 'inspector'; backend: Backend; maxTokens: number; trusted: boolean;
      /** Added by the host: webview URI of the folder with the onnxruntime-web wasm pair (trailing '/'); also on <body data-wasm-base>. */
      wasmBase?: string;
      /** Added by the host: the `sequenceLens.decorationMode` setting, the score the runResult tokens should carry. */
      decorationMode?: DecorationMode;
    }
  | { type: 'run'; id: number; model: ModelRef; text: string; compareWith?: ModelRef; documentUri?: string }
  | { type: 'inspect'; id: number; model: ModelRef }
  | { type: 'cancel'; id: number }
  | { type: 'setBackend'; backend: Backend }
  | { type: 'exportView'; id: number }
  /** Added by the host: the setting changed; re-send the last runResult (same inReplyTo) scored in this mode. */
  | { type: 'setDecorationMode'; mode: DecorationMode };

/** Per-token summary the host uses for decorations and hovers (small; offsets into the run's text). */
export interface TokenSummary {
  start: number;
  end: number;
  text: string;
  /** Score used to colour the token (0..1), per the decoration mode. */
  score: number;
  /** Top attended tokens (index into the tokens list, weight). */
  attends: { index: number; weight: number }[];
  /** Top next-token predictions. */
  predictions: { text: string; p: number }[];
}

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'runResult'; inReplyTo: number; backend: string; timings: Record<string, number>; tokens: TokenSummary[]; decorationMode: string }
  | { type: 'runError'; inReplyTo: number; error: ErrorInfo }
  | { type: 'progress'; inReplyTo: number; message: string; fraction?: number }
  | { type: 'inspectResult'; inReplyTo: number; architecture: Architecture }
  | { type: 'exportFile'; inReplyTo?: number; fileName: string; mime: string; data: Uint8Array }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Structural check of a message from the webview; anything else is dropped by the host. */
export function isWebviewToHost(v: unknown): v is WebviewToHost {
  if (!isObj(v) || typeof v.type !== 'string') return false;
  switch (v.type) {
    case 'ready':
      return true;
    case 'runResult':
      return typeof v.inReplyTo === 'number' && typeof v.backend === 'string' && Array.isArray(v.tokens) && isObj(v.timings);
    case 'runError':
      return typeof v.inReplyTo === 'number' && isObj(v.error) && typeof v.error.message === 'string';
    case 'progress':
      return typeof v.inReplyTo === 'number' && typeof v.message === 'string';
    case 'inspectResult':
      return typeof v.inReplyTo === 'number' && typeof v.architecture === 'string';
    case 'exportFile':
      return typeof v.fileName === 'string' && typeof v.mime === 'string' && v.data instanceof Uint8Array;
    case 'log':
      return typeof v.message === 'string' && ['info', 'warn', 'error'].includes(String(v.level));
    default:
      return false;
  }
}

export function isHostToWebview(v: unknown): v is HostToWebview {
  if (!isObj(v) || typeof v.type !== 'string') return false;
  switch (v.type) {
    case 'init':
      return typeof v.mode === 'string' && typeof v.backend === 'string';
    case 'run':
      return typeof v.id === 'number' && isObj(v.model) && typeof v.text === 'string';
    case 'inspect':
      return typeof v.id === 'number' && isObj(v.model);
    case 'cancel':
    case 'exportView':
      return typeof v.id === 'number';
    case 'setBackend':
      return ['auto', 'webgpu', 'wasm'].includes(String(v.backend));
    case 'setDecorationMode':
      return ['attention', 'hiddenNorm', 'gate'].includes(String(v.mode));
    default:
      return false;
  }
}
