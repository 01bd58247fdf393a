/**
 * Every message between the extension host and the webview, as discriminated unions on `type`.
 * Requests carry `id` and name their reply type (`Replies`); every reply carries `inReplyTo`; a
 * failure is the one `error` reply. Everything else is a notification of its own type (progress,
 * tokensRescored, ...), never a re-sent reply. Both sides validate what they receive with the
 * guards below, nested fields included, and drop (and log) anything else.
 * Weights never travel here: the webview fetches model bytes through its webview URI and keeps tensors;
 * the host gets small per-token summaries. A native run (showTrace, layersResult) sends the page its probe
 * tensors as typed arrays, which webview.postMessage serializes as binary, never as JSON arrays of numbers.
 */
import { ARCHITECTURES, type Architecture } from '../core/types.js';
import type { ProbeTensor } from '../core/trace/traceTypes.js';
import type { ModelManifest } from '../core/manifest.js';
import { probeTensorProblem, wireRunProblem, type WireRun } from './traceWire.js';
import { arrayBuffer, arrayOf, at, bool, bytes, int, isObj, lit, num, optional, recordOf, shape, str, type Check } from './guards.js';

export type { WireRun } from './traceWire.js';

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
  /**
   * The manifest itself when it is no file: derived by the host from the folder (an encoder-decoder export
   * without a manifest, core/seq2seqFolder.ts). The page checks it with parseManifest like a fetched one.
   */
  manifest?: ModelManifest;
  /** Webview URIs of tokenizer files referenced by the manifest, keyed by their manifest path. */
  tokenizerUris: Record<string, string>;
  sizeBytes: number;
  /**
   * Changes when any of the model's files changes on disk (their sizes and modification times): the page
   * keeps a model's bytes by URI, so a file rewritten in place must not run from the old bytes.
   */
  version?: string;
}

/**
 * Where models run: the page's onnxruntime-web ('webgpu', 'wasm'; 'auto' picks, and the host may pick
 * 'native' for a big model), or 'native': onnxruntime-node beside the extension host (the page only draws).
 */
export type Backend = 'auto' | 'webgpu' | 'wasm' | 'native';
/** The page's own onnxruntime-web backends (what its backend menu and Runner take). */
export type PageBackend = Exclude<Backend, 'native'>;

/** What the editor decorations colour tokens by (setting `sequenceLens.decorationMode`). */
export type DecorationMode = 'attention' | 'hiddenNorm' | 'gate';

/**
 * Requests: messages that want exactly one reply. Each names its reply in `Replies` (same keys), so
 * `WebviewChannel.request()` returns the right type. `id` is unique across all webviews.
 */
export interface Requests {
  run: { type: 'run'; id: number; model: ModelRef; text: string; compareWith?: ModelRef; documentUri?: string };
  inspect: { type: 'inspect'; id: number; model: ModelRef };
  /** Export the shown view: the reply carries every file (PNG, SVG, CSV, JSON, .npy) at once. */
  exportView: { type: 'exportView'; id: number };
  /**
   * Show runs made outside the page (the native backend): tensors as typed arrays; deferred attention is
   * fetched through the host (fetchLayers). Answered like a run, with the tokens' summaries.
   */
  showTrace: {
    type: 'showTrace'; id: number; runs: WireRun[];
    /** The labels of the runs' models (the compare view names them). */
    labels: string[];
    /** What the badge says (e.g. 'NATIVE (onnxruntime-node, CPU)') and its tooltip: why this backend. */
    badge: string; why: string;
    /**
     * The model as the page would load it, when the page could have run it and only its onnxruntime-web was
     * still loading (Auto's first run): the page then loads it in the background and runs Continue itself.
     */
    pageModel?: ModelRef;
  };
}
export type HostRequest = Requests[keyof Requests];

/** Messages from the host that answer nothing and want no answer. */
export type HostNotification =
  | {
      type: 'init'; mode: 'panel' | 'inspector'; backend: Backend; maxTokens: number; trusted: boolean;
      /** Added by the host: webview URI of the folder with the onnxruntime-web wasm pair (trailing '/'); also on <body data-wasm-base>. */
      wasmBase?: string;
      /** Added by the host: the `sequenceLens.decorationMode` setting, the score the run replies' tokens should carry. */
      decorationMode?: DecorationMode;
      /** Added by the host: the `sequenceLens.continueTokens` setting, how many tokens "Continue" generates at first. */
      continueTokens?: number;
    }
  /** Stop request `id` (the page answers it with an error reply, code 'cancelled', which the host no longer waits for). */
  | { type: 'cancel'; id: number }
  | { type: 'setBackend'; backend: Backend }
  /** The setting changed: the page sends `tokensRescored` for its last run, scored in this mode. */
  | { type: 'setDecorationMode'; mode: DecorationMode }
  /**
   * A run the host is making outside the page (native backend) for its request `id`: 'running' shows the
   * message with a Cancel button (which sends cancelHostWork), 'failed' and 'cancelled' end it.
   */
  | { type: 'hostRun'; id: number; state: 'running' | 'failed' | 'cancelled'; message: string; fraction?: number }
  /** The answer to the page's fetchLayers `inReplyTo`: the deferred attention it asked for. */
  | { type: 'layersResult'; inReplyTo: number; probes: ProbeTensor[] }
  /** The page's fetchLayers `inReplyTo` failed. */
  | { type: 'hostError'; inReplyTo: number; error: ErrorInfo }
  /**
   * Show the view with this id (see webview/views/allViews.ts) once the page has a run; with `press`, then
   * run that view's button control of this id (e.g. 'unitBracket'). The walkthrough's steps send it after a run.
   */
  | { type: 'showView'; view: string; press?: string }
  /**
   * The answer to the page's pickNpy `inReplyTo`: the bytes of the .npy file the user picked (none when the
   * dialog was dismissed), or why it could not be read. Its own type, so it never settles a fetchLayers.
   */
  | { type: 'npyPicked'; inReplyTo: number; fileName?: string; data?: ArrayBuffer; error?: ErrorInfo };

export type HostToWebview = HostRequest | HostNotification;

/** Per-token summary the host uses for decorations and hovers (small; offsets into the run's text). */
export interface TokenSummary {
  start: number;
  end: number;
  /** The vocabulary entry (the host labels tokens by the text they cover, and shows this beside it). */
  text: string;
  /** The token id, for the hover. */
  id?: number;
  /** Score used to colour the token (0..1), per the decoration mode. */
  score: number;
  /** Top attended tokens (index into the tokens list, weight). */
  attends: { index: number; weight: number }[];
  /** Top next-token predictions. */
  predictions: { text: string; p: number }[];
}

export interface ExportedFile { fileName: string; mime: string; data: Uint8Array }

export interface RunReply {
  type: 'runResult'; inReplyTo: number; backend: string; timings: Record<string, number>; tokens: TokenSummary[];
  /** The mode the scores were computed in (a model without attention falls back to another). */
  decorationMode: DecorationMode;
}
export interface InspectReply { type: 'inspectResult'; inReplyTo: number; architecture: Architecture }
export interface ExportViewReply { type: 'exportResult'; inReplyTo: number; view: string; files: ExportedFile[] }
/** The one failure reply, to any request (a cancelled run answers with code 'cancelled'). */
export interface ErrorReply { type: 'error'; inReplyTo: number; error: ErrorInfo }

/** What each request is answered with when it succeeds (else an ErrorReply). */
export interface Replies { run: RunReply; inspect: InspectReply; exportView: ExportViewReply; showTrace: RunReply }

/**
 * The reply type of each request, at run time: the host checks a reply against what its request
 * expects, and the page builds replies from it. Typed so a request without a reply fails to compile.
 */
export const REPLY_TYPE: { readonly [K in keyof Requests]: Replies[K]['type'] } = {
  run: 'runResult', inspect: 'inspectResult', exportView: 'exportResult', showTrace: 'runResult',
};

export type WebviewReply = Replies[keyof Replies] | ErrorReply;

export type LogLevel = 'info' | 'warn' | 'error';

/** Messages from the page that answer nothing. */
export type WebviewNotification =
  | { type: 'ready' }
  /** onnxruntime-web has loaded in the page (its warm-up ran, in `ms`): the page's own runs start at once from now on. */
  | { type: 'runtimeReady'; ms: number }
  /** How request `requestId` is getting on (not a reply: the request is still waiting). */
  | { type: 'progress'; requestId: number; message: string; fraction?: number }
  /** The pin or the decoration mode changed in the page: new scores for the tokens of run `runId`. */
  | { type: 'tokensRescored'; runId: number; tokens: TokenSummary[]; decorationMode: DecorationMode }
  /** A file from the view's own export button (an asked-for export comes in an ExportViewReply). */
  | ({ type: 'exportFile' } & ExportedFile)
  | { type: 'log'; level: LogLevel; message: string }
  /**
   * The page asks the host for deferred attention of a native run (`runKey` from its WireRun), by probe
   * name; answered by layersResult or hostError with `inReplyTo: id` (ids are the page's own).
   */
  | { type: 'fetchLayers'; id: number; runKey: string; names: string[] }
  /** Stop the host's work: a native run (`id` is the host's request id) or a fetchLayers (the page's id). */
  | { type: 'cancelHostWork'; id: number; what: 'run' | 'fetch' }
  /** "Try it" while models run natively: the host runs the shown model on this text (and a second text to compare). */
  | { type: 'tryOnHost'; text: string; compareText?: string }
  /**
   * The user picked a backend in the panel's menu: the host writes `sequenceLens.backend` (where it is set), so
   * the host's runs and every page follow one setting; the change comes back to the pages as setBackend.
   */
  | { type: 'chooseBackend'; backend: Backend }
  /**
   * Ask the user (the host's open dialog: a webview cannot open files) for one .npy file for model input
   * `input`, for a run on arrays (image, audio frames, features); answered by npyPicked with `inReplyTo: id`.
   */
  | { type: 'pickNpy'; id: number; input: string };

export type WebviewToHost = WebviewReply | WebviewNotification;

// ---- Guards. Each check returns undefined when the value is fine, else what is wrong with it (for the log line).

const backend = lit<Backend>('auto', 'webgpu', 'wasm', 'native');
const decorationMode = lit<DecorationMode>('attention', 'hiddenNorm', 'gate');
const architecture = lit<Architecture>(...ARCHITECTURES);

const modelRef = shape<ModelRef>({
  id: str, label: str, architecture, source: lit<ModelRef['source']>('zoo', 'workspace', 'settings'),
  fileUris: recordOf(str), manifestUri: optional(str), manifest: optional(recordOf(() => undefined)), tokenizerUris: recordOf(str),
  sizeBytes: num, version: optional(str),
});

const tokenSummary = shape<TokenSummary>({
  start: int, end: int, text: str, id: optional(int), score: num,
  attends: arrayOf(shape<TokenSummary['attends'][number]>({ index: int, weight: num })),
  predictions: arrayOf(shape<TokenSummary['predictions'][number]>({ text: str, p: num })),
});

const exportedFile = shape<ExportedFile>({ fileName: str, mime: str, data: bytes });

type Of<U, T> = Extract<U, { type: T }>;

const hostChecks: { readonly [T in HostToWebview['type']]: Check } = {
  run: shape<Requests['run']>({ type: str, id: int, model: modelRef, text: str, compareWith: optional(modelRef), documentUri: optional(str) }),
  inspect: shape<Requests['inspect']>({ type: str, id: int, model: modelRef }),
  exportView: shape<Requests['exportView']>({ type: str, id: int }),
  showTrace: shape<Requests['showTrace']>({
    type: str, id: int, runs: arrayOf(wireRunProblem), labels: arrayOf(str), badge: str, why: str, pageModel: optional(modelRef),
  }),
  hostRun: shape<Of<HostNotification, 'hostRun'>>({
    type: str, id: int, state: lit('running', 'failed', 'cancelled'), message: str, fraction: optional(num),
  }),
  layersResult: shape<Of<HostNotification, 'layersResult'>>({ type: str, inReplyTo: int, probes: arrayOf(probeTensorProblem) }),
  hostError: shape<Of<HostNotification, 'hostError'>>({ type: str, inReplyTo: int, error: shape<ErrorInfo>({ code: str, message: str }) }),
  init: shape<Of<HostNotification, 'init'>>({
    type: str, mode: lit('panel', 'inspector'), backend, maxTokens: int, trusted: bool, wasmBase: optional(str), decorationMode: optional(decorationMode),
    continueTokens: optional(int),
  }),
  cancel: shape<Of<HostNotification, 'cancel'>>({ type: str, id: int }),
  setBackend: shape<Of<HostNotification, 'setBackend'>>({ type: str, backend }),
  setDecorationMode: shape<Of<HostNotification, 'setDecorationMode'>>({ type: str, mode: decorationMode }),
  showView: shape<Of<HostNotification, 'showView'>>({ type: str, view: str, press: optional(str) }),
  npyPicked: shape<Of<HostNotification, 'npyPicked'>>({
    type: str, inReplyTo: int, fileName: optional(str), data: optional(arrayBuffer), error: optional(shape<ErrorInfo>({ code: str, message: str })),
  }),
};

const webviewChecks: { readonly [T in WebviewToHost['type']]: Check } = {
  runResult: shape<RunReply>({ type: str, inReplyTo: int, backend: str, timings: recordOf(num), tokens: arrayOf(tokenSummary), decorationMode }),
  inspectResult: shape<InspectReply>({ type: str, inReplyTo: int, architecture }),
  exportResult: shape<ExportViewReply>({ type: str, inReplyTo: int, view: str, files: arrayOf(exportedFile) }),
  error: shape<ErrorReply>({ type: str, inReplyTo: int, error: shape<ErrorInfo>({ code: str, message: str }) }),
  ready: shape<Of<WebviewNotification, 'ready'>>({ type: str }),
  runtimeReady: shape<Of<WebviewNotification, 'runtimeReady'>>({ type: str, ms: num }),
  progress: shape<Of<WebviewNotification, 'progress'>>({ type: str, requestId: int, message: str, fraction: optional(num) }),
  tokensRescored: shape<Of<WebviewNotification, 'tokensRescored'>>({ type: str, runId: int, tokens: arrayOf(tokenSummary), decorationMode }),
  exportFile: shape<Of<WebviewNotification, 'exportFile'>>({ type: str, fileName: str, mime: str, data: bytes }),
  log: shape<Of<WebviewNotification, 'log'>>({ type: str, level: lit<LogLevel>('info', 'warn', 'error'), message: str }),
  fetchLayers: shape<Of<WebviewNotification, 'fetchLayers'>>({ type: str, id: int, runKey: str, names: arrayOf(str) }),
  cancelHostWork: shape<Of<WebviewNotification, 'cancelHostWork'>>({ type: str, id: int, what: lit('run', 'fetch') }),
  tryOnHost: shape<Of<WebviewNotification, 'tryOnHost'>>({ type: str, text: str, compareText: optional(str) }),
  chooseBackend: shape<Of<WebviewNotification, 'chooseBackend'>>({ type: str, backend }),
  pickNpy: shape<Of<WebviewNotification, 'pickNpy'>>({ type: str, id: int, input: str }),
};

function problem(checks: Readonly<Record<string, Check>>, v: unknown): string | undefined {
  if (!isObj(v)) return 'not an object';
  if (typeof v.type !== 'string') return 'no type';
  const check = Object.hasOwn(checks, v.type) ? checks[v.type] : undefined;
  if (!check) return `unknown type '${v.type.slice(0, 40)}'`;
  const e = check(v);
  return e ? at(`'${v.type}'`, e) : undefined;
}

/** Why a message from the webview is not a WebviewToHost (undefined when it is one). */
export function webviewToHostProblem(v: unknown): string | undefined {
  return problem(webviewChecks, v);
}

/** Why a message from the host is not a HostToWebview (undefined when it is one). */
export function hostToWebviewProblem(v: unknown): string | undefined {
  return problem(hostChecks, v);
}

/** Structural check, nested fields included, of a message from the webview; anything else is dropped by the host. */
export function isWebviewToHost(v: unknown): v is WebviewToHost {
  return webviewToHostProblem(v) === undefined;
}

/** The same for messages from the host, checked by the page. */
export function isHostToWebview(v: unknown): v is HostToWebview {
  return hostToWebviewProblem(v) === undefined;
}

/** True for a reply (it answers a request), false for a notification. */
export function isReply(m: WebviewToHost): m is WebviewReply {
  return 'inReplyTo' in m;
}
