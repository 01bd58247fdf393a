/**
 * InferenceBackend over onnxruntime-web (WebGPU, else WASM) for the webview.
 * The 'onnxruntime-web/jspi' bundle carries the WebGPU EP and the JS glue of the JSPI build; the page
 * hands it that build's .wasm (media/ort/, copied there by esbuild.mjs with its .mjs glue) as bytes. That
 * build needs WebAssembly JSPI (Chromium 137+): a page without it says so (`jspiMissing`), and Auto sends
 * its runs to the native backend.
 * onnxruntime-web is its own file (dist/webview-ort.js, see ortEntry.ts), imported at run time: with
 * `env.wasm.proxy` it starts a blob: copy of that file as a worker and runs inference there, off the
 * UI thread (a 12-layer model at 2,048 tokens runs for seconds). Where no worker can be started the
 * runs stay on the page's thread.
 * All runs (and session creations) go through one promise chain: onnxruntime-web fails on overlapping calls.
 * `warmUp()` loads all of that when the panel starts (not at the first run); sessions chain after it.
 * Auto picks WebGPU only on a hardware adapter (`detectBackend`, `backendChoice`); threads are used where
 * the page is cross-origin isolated (`threadChoice`).
 */
import type * as Ort from 'onnxruntime-web/jspi';
import type { FloatTensor, HostTensor, InferenceBackend, SessionHandle, SessionOptionsExtra } from '../../src/core/run/backend.js';
import { SeqLensError } from '../../src/core/errors.js';
import { halfToFloat } from '../../src/core/onnx/float16.js';
import { distUrl } from '../distUrl.js';

export type ConcreteBackend = 'webgpu' | 'wasm';

/** Per-call timings the UI shows next to the backend name (milliseconds, the latest call of each kind). */
export interface BackendTimings {
  sessionCreate: number;
  run: number;
  extract: number;
  runs: number;
  sessionsCreated: number;
}

let configuredBase: string | undefined;
let ortPromise: Promise<typeof Ort> | undefined;
/** Whether inference runs in onnxruntime-web's worker (decided once per page, when onnxruntime-web loads). */
export let inferenceInWorker = false;
/** Whether onnxruntime-web has been loaded and configured on this page (until then `inferenceInWorker` says nothing). */
export let ortLoaded = false;

/** Where the local wasm file is (never a CDN); read when onnxruntime-web loads (the first call wins). */
export function configureOrt(wasmBase: string): void {
  configuredBase = wasmBase.endsWith('/') ? wasmBase : `${wasmBase}/`;
}

/** How many threads onnxruntime-web's WASM code runs with, and the badge's words for why. */
export interface ThreadChoice { threads: number; reason: string }

/**
 * Threads need SharedArrayBuffer, which a page has only when cross-origin isolated (COOP + COEP). VS Code
 * isolates webviews only when started that way (`--enable-coi` on the desktop, `?vscode-coi` in the browser);
 * elsewhere one thread, as onnxruntime-web would otherwise warn and fall back to. At most 4 threads: the
 * models the panel runs are small per token, and more threads mostly add hand-off cost (onnxruntime's own
 * default is at most 4 too).
 */
export function threadChoice(): ThreadChoice {
  if (!globalThis.crossOriginIsolated) return { threads: 1, reason: '1 thread: the page is not cross-origin isolated' };
  const threads = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
  return { threads, reason: threads === 1 ? '1 thread: the machine reports one core' : `${threads} threads` };
}

/** Can this page start a worker from a blob: URL (what onnxruntime-web does with a cross-origin script)? */
async function workersAllowed(): Promise<boolean> {
  if (typeof Worker === 'undefined') return false;
  let url = '';
  try {
    url = URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' }));
    const w = new Worker(url, { type: 'module' });
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      w.onmessage = () => { clearTimeout(timer); resolve(true); };
      w.onerror = () => { clearTimeout(timer); resolve(false); };
    });
    w.terminate();
    return ok;
  } catch {
    return false;
  } finally {
    if (url) URL.revokeObjectURL(url);
  }
}

/**
 * Imports dist/webview-ort.js from a blob: copy fetched once by the page. onnxruntime-web starts its worker
 * from its own script URL; from a webview resource URL (another origin) it fetches the script a second time
 * to make a blob of it, and in code-server that fetch queues behind a large model's bytes in the webview's
 * service worker until it times out (30 s), which killed the worker ("[wasm] [object Event]"). A blob:
 * module is same-origin, so the worker starts from it with no second fetch.
 */
async function importFromBlob(url: string): Promise<typeof Ort> {
  const res = await fetch(url);
  if (!res.ok) throw new SeqLensError('runtime', `Could not read onnxruntime-web's script ${url} (HTTP ${res.status}).`);
  // Kept for the page's life: the worker is (re)started from this URL.
  const blobUrl = URL.createObjectURL(new Blob([await res.text()], { type: 'text/javascript' }));
  return import(/* @vite-ignore */ blobUrl) as Promise<typeof Ort>;
}

/**
 * The wasm as shipped is gzipped (a quarter of the bytes to move through the webview's resource path);
 * a server that already inflated it (Content-Encoding) hands over the raw module, recognised by its magic.
 */
async function inflated(bytes: ArrayBuffer): Promise<ArrayBuffer> {
  const head = new Uint8Array(bytes, 0, Math.min(2, bytes.byteLength));
  if (head[0] !== 0x1f || head[1] !== 0x8b) return bytes;
  return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
}

/** The shipped wasm file (scripts/ortWasm.mjs writes it gzipped into media/ort/). */
const WASM_FILE = 'ort-wasm-simd-threaded.jspi.wasm.gz';

/**
 * Why this page cannot run onnxruntime-web's JSPI build, or undefined when it can. JSPI (WebAssembly's
 * JavaScript Promise Integration, `WebAssembly.Suspending`) is in Chromium from 137: VS Code builds on
 * Electron 37 or later, Chrome and Edge 137+, Firefox where enabled; not Safari.
 */
export function jspiMissing(): string | undefined {
  const wa = (globalThis as { WebAssembly?: { Suspending?: unknown } }).WebAssembly;
  if (typeof wa?.Suspending === 'function') return undefined;
  return 'This webview\'s browser lacks WebAssembly JSPI, which Sequence Lens\'s onnxruntime-web build needs (Chromium 137 or later: ' +
    'a VS Code on Electron 37 or later, or Chrome or Edge 137+; not Safari). Update VS Code or the browser, or set sequenceLens.backend to "native".';
}

/**
 * onnxruntime-web, loaded on first use and configured once. The wasm binary is fetched here, on the
 * page, and handed over as bytes: webview resources are served through the page's service worker, which
 * does not serve onnxruntime-web's worker, so nothing is fetched from inside that worker.
 */
export function ortLib(): Promise<typeof Ort> {
  ortPromise ??= (async () => {
    const missing = jspiMissing();
    if (missing) throw new SeqLensError('runtime', missing);
    // dist/webview-ort.js sits beside dist/webview.js (the page's module), in the extension and in the test harness.
    const url = distUrl('webview-ort.js');
    const wasmUrl = `${configuredBase ?? distUrl('../media/ort/')}${WASM_FILE}`;
    const [ort, worker, wasm] = await Promise.all([
      importFromBlob(url),
      workersAllowed(),
      fetch(wasmUrl).then(async (r) => {
        if (!r.ok) throw new SeqLensError('runtime', `Could not read onnxruntime-web's wasm file ${wasmUrl} (HTTP ${r.status}).`);
        return inflated(await r.arrayBuffer());
      }),
    ]);
    ort.env.wasm.wasmBinary = wasm;
    ort.env.wasm.numThreads = threadChoice().threads;
    ort.env.wasm.proxy = worker;
    ort.env.logLevel = 'error';
    inferenceInWorker = worker;
    ortLoaded = true;
    return ort;
  })();
  ortPromise.catch(() => { ortPromise = undefined; });
  return ortPromise;
}

/** Auto's choice and why, for the badge's tooltip. */
export interface BackendChoice {
  backend: ConcreteBackend;
  /** One sentence, e.g. "WASM: the only WebGPU adapter is a software one (SwiftShader)". */
  reason: string;
  /** What the WebGPU adapter says it is (vendor, architecture, device, description), when one was granted. */
  adapter?: string;
}

/** The parts of GPUAdapter / GPUAdapterInfo read here (the DOM typings of this TypeScript lack WebGPU). */
interface AdapterInfoLike { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }
interface AdapterLike { isFallbackAdapter?: boolean; info?: AdapterInfoLike; requestAdapterInfo?: () => Promise<AdapterInfoLike> }

/**
 * Software implementations behind the WebGPU API, as their adapter info spells them: Chromium's
 * SwiftShader (headless, blocklisted GPUs, VMs), Mesa's llvmpipe/lavapipe/softpipe, Windows' WARP
 * ("Microsoft Basic Render Driver"), and drivers that call their device a CPU. On these a model runs
 * many times slower than on the WASM backend (the zoo Transformer: 15 s against 45 ms).
 */
const SOFTWARE_NAMES: readonly [RegExp, string][] = [
  [/swiftshader/i, 'SwiftShader'], [/llvmpipe/i, 'llvmpipe'], [/lavapipe/i, 'lavapipe'], [/softpipe/i, 'softpipe'],
  [/basic render driver|\bwarp\b/i, 'WARP'], [/\bcpu\b/i, 'a CPU device'], [/software/i, 'a software renderer'],
];

let lastChoice: BackendChoice | undefined;
let adapterProbe: Promise<BackendChoice> | undefined;

/** Auto's latest choice and why; undefined before Auto has chosen on this page. */
export function backendChoice(): BackendChoice | undefined {
  return lastChoice;
}

async function adapterInfo(adapter: AdapterLike): Promise<AdapterInfoLike> {
  if (adapter.info) return adapter.info;
  // Chromium before 127 had only the method (later removed).
  try {
    return (await adapter.requestAdapterInfo?.()) ?? {};
  } catch {
    return {};
  }
}

/** Asks the browser for its adapter and judges it: WebGPU only on hardware. */
async function probeAdapter(): Promise<BackendChoice> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<AdapterLike | null> } }).gpu;
  if (!gpu) return { backend: 'wasm', reason: 'WASM: this page has no WebGPU' };
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { backend: 'wasm', reason: `WASM: asking for a WebGPU adapter failed (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!adapter) return { backend: 'wasm', reason: 'WASM: the browser granted no WebGPU adapter' };
  const info = await adapterInfo(adapter);
  const described = [info.vendor, info.architecture, info.device, info.description].filter((x) => !!x).join(' ');
  const software = SOFTWARE_NAMES.find(([re]) => re.test(described))?.[1];
  // isFallbackAdapter moved from the adapter to its info (Chromium 131+); either may say so.
  const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
  const adapterText = described || undefined;
  if (software || fallback) {
    const name = software ?? 'the browser marks it as a fallback adapter';
    return { backend: 'wasm', reason: `WASM: the only WebGPU adapter is a software one (${name})`, adapter: adapterText };
  }
  return { backend: 'webgpu', reason: `WebGPU: a hardware adapter${adapterText ? ` (${adapterText})` : ''}`, adapter: adapterText };
}

/**
 * Auto's backend: WebGPU on a hardware adapter, else WASM (`backendChoice()` says why). The adapter is
 * asked for once per page: switching backends and back does not ask again.
 */
export async function detectBackend(): Promise<ConcreteBackend> {
  adapterProbe ??= probeAdapter();
  lastChoice = await adapterProbe;
  return lastChoice.backend;
}

/** What warm-up did: how long it took, and why it failed if it did. */
export interface WarmUpResult {
  /** Milliseconds from the call to a released session (or to the failure). */
  ms: number;
  /** Its parts (ms): onnxruntime-web's script, wasm bytes and worker check; the session (the worker's start and wasm instance); the runs. */
  parts?: { load: number; session: number; run: number };
  /** How many times the warm-up model ran. */
  runs?: number;
  error?: string;
}

/**
 * Runs of the warm-up model: the first compiles the code a Transformer's run calls (V8 compiles each wasm
 * function at its first call), the later ones make the hot functions due for V8's optimising compiler, which
 * then works in the background. Bounded by time as well, since a run that arrives meanwhile waits for the
 * warm-up: on a slow machine fewer runs.
 */
const WARM_UP_RUNS = 8;
const WARM_UP_RUN_BUDGET_MS = 400;

let warming: Promise<WarmUpResult> | undefined;

/**
 * Loads onnxruntime-web before the first run: the import of dist/webview-ort.js, the wasm bytes, the worker
 * check, then a session of a small Transformer block (warmUpModel.ts) on the WASM EP, run a few times and
 * released, so that onnxruntime-web's worker, its wasm instance (shared by both EPs) and the compiled code of
 * a session's creation and run exist when the user first clicks. Once per page: switching backends does not
 * redo it. Never rejects: a failure is reported in the result (the caller logs it) and the first real session
 * loads onnxruntime-web itself, as it would have without warm-up.
 */
export function warmUp(wasmBase?: string, after?: Promise<unknown>): Promise<WarmUpResult> {
  if (wasmBase !== undefined && configuredBase === undefined) configureOrt(wasmBase);
  warming ??= (async (): Promise<WarmUpResult> => {
    // `after`: when to begin (warmUpResult() answers from the call on, and resolves once it has run).
    await after;
    const t0 = performance.now();
    try {
      // The warm-up model is built by code that writes ONNX (protobufjs): loaded here, not with the page's first script.
      const [ort, { WARM_UP_INPUT, WARM_UP_TOKENS, warmUpIds, warmUpModelBytes }] = await Promise.all([ortLib(), import('./warmUpModel.js')]);
      const t1 = performance.now();
      const session = await ort.InferenceSession.create(warmUpModelBytes(), { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
      const t2 = performance.now();
      let runs = 0;
      try {
        while (runs < WARM_UP_RUNS && (runs === 0 || performance.now() - t2 < WARM_UP_RUN_BUDGET_MS)) {
          // A new tensor each run: in worker mode onnxruntime-web transfers the input's buffer.
          const out = await session.run({ [WARM_UP_INPUT]: new ort.Tensor('int64', warmUpIds(), [1, WARM_UP_TOKENS]) });
          for (const t of Object.values(out)) t.dispose();
          runs++;
        }
      } finally {
        await session.release();
      }
      const t3 = performance.now();
      return { ms: t3 - t0, parts: { load: t1 - t0, session: t2 - t1, run: t3 - t2 }, runs };
    } catch (e) {
      return { ms: performance.now() - t0, error: e instanceof Error ? e.message : String(e) };
    }
  })();
  return warming;
}

/** The warm-up started on this page, if any (the test hook reads it). */
export function warmUpResult(): Promise<WarmUpResult> | undefined {
  return warming;
}

/** In worker mode onnxruntime-web transfers the input buffers to the worker: hand it copies, callers reuse theirs. */
function toOrtTensor(ort: typeof Ort, t: HostTensor): Ort.Tensor {
  const data = inferenceInWorker ? t.data.slice() : t.data;
  return new ort.Tensor(t.type, data as typeof t.data, t.dims);
}

/**
 * An output as float32; the ort tensor is disposed by the caller right after. On the page thread its data
 * may be a view into onnxruntime's memory and is copied; from the worker it arrives in a buffer of its
 * own (transferred), which is kept as it is (a 2,048-token layer of attention is 200 MB).
 */
function toFloat(t: Ort.Tensor): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return inferenceInWorker ? d : d.slice();
  if (t.type === 'float16' && d instanceof Uint16Array) return Float32Array.from(d, halfToFloat);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float32Array.from(d, (v) => Number(v));
  if (ArrayBuffer.isView(d) && !(d instanceof DataView)) return Float32Array.from(d as ArrayLike<number>);
  throw new SeqLensError('unsupported', `Output of type ${t.type} cannot be read as numbers.`);
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new SeqLensError('cancelled', 'The run was cancelled.');
}

/** Sessions created and not yet released, over every backend of the page (the soak benchmark reads it). */
let liveSessions = 0;
export function liveSessionCount(): number {
  return liveSessions;
}

export class OrtWebBackend implements InferenceBackend {
  readonly timings: BackendTimings = { sessionCreate: 0, run: 0, extract: 0, runs: 0, sessionsCreated: 0 };
  private chain: Promise<unknown> = Promise.resolve();
  private readonly live = new Set<Ort.InferenceSession>();

  constructor(readonly name: ConcreteBackend) {}

  /** Queues `task` after every earlier call; a failure does not break the chain. */
  serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => undefined);
    return next;
  }

  createSession(modelBytes: Uint8Array, extra?: SessionOptionsExtra): Promise<SessionHandle> {
    return this.serial(async () => {
      // Sessions wait for a warm-up in flight: onnxruntime-web fails when two calls initialise it at once
      // (the warm-up's WASM EP and, say, this WebGPU session). Warm-up never rejects.
      await warming;
      const ort = await ortLib();
      const t0 = performance.now();
      let session: Ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(modelBytes, {
          executionProviders: [this.name],
          graphOptimizationLevel: 'all',
          // Errors only: the worker does not see env.logLevel, and node-placement warnings are noise here.
          logSeverityLevel: 3,
          ...(extra?.externalData?.length ? { externalData: extra.externalData.map((f) => ({ path: f.path, data: f.data })) } : {}),
        });
      } catch (e) {
        throw new SeqLensError('runtime', `onnxruntime-web (${this.name}) could not load the model: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.timings.sessionCreate = performance.now() - t0;
      this.timings.sessionsCreated++;
      this.live.add(session);
      liveSessions++;
      return this.handle(session);
    });
  }

  private handle(session: Ort.InferenceSession): SessionHandle {
    const run = (feeds: Record<string, HostTensor>, fetches: readonly string[], signal?: AbortSignal) =>
      this.serial(async () => {
        checkAborted(signal);
        const ort = await ortLib();
        const ortFeeds: Record<string, Ort.Tensor> = {};
        for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(ort, v);
        const t0 = performance.now();
        let out: Ort.InferenceSession.ReturnType;
        try {
          out = await session.run(ortFeeds, [...fetches]);
        } catch (e) {
          throw new SeqLensError('runtime', `onnxruntime-web (${this.name}) failed to run: ${e instanceof Error ? e.message : String(e)}`);
        } finally {
          for (const t of Object.values(ortFeeds)) t.dispose();
        }
        const t1 = performance.now();
        const result: Record<string, FloatTensor> = {};
        try {
          for (const name of fetches) {
            const t = out[name];
            if (!t) throw new SeqLensError('runtime', `The model did not return output ${name}.`);
            // GPU-resident outputs are downloaded here; CPU ones are copied so the ort buffer can be freed.
            if (t.location !== 'cpu' && t.location !== 'cpu-pinned') await t.getData();
            result[name] = { dims: t.dims.map(Number), data: toFloat(t) };
          }
        } finally {
          for (const t of Object.values(out)) t.dispose();
        }
        this.timings.run = t1 - t0;
        this.timings.extract = performance.now() - t1;
        this.timings.runs++;
        checkAborted(signal);
        return result;
      });
    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run,
      dispose: () => this.serial(async () => {
        if (!this.live.delete(session)) return;
        liveSessions--;
        await session.release();
      }),
    };
  }

  /** Releases every session this backend created. */
  async dispose(): Promise<void> {
    await this.serial(async () => {
      for (const s of this.live) await s.release();
      liveSessions -= this.live.size;
      this.live.clear();
    });
  }
}
