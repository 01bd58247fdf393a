/**
 * InferenceBackend over onnxruntime-web (WebGPU, else WASM) for the webview.
 * The 'onnxruntime-web/webgpu' bundle carries the JSEP/WebGPU EP and loads exactly the
 * ort-wasm-simd-threaded.asyncify.{mjs,wasm} pair that esbuild.mjs copies to media/ort/.
 * All runs (and session creations) go through one promise chain: the wasm instance is shared and
 * onnxruntime-web fails on overlapping calls.
 */
import * as ort from 'onnxruntime-web/webgpu';
import type { FloatTensor, HostTensor, InferenceBackend, SessionHandle, SessionOptionsExtra } from '../../src/core/run/backend.js';
import { SeqLensError } from '../../src/core/errors.js';

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

/** Points onnxruntime-web at the local wasm files (never a CDN) and turns threads off (no cross-origin isolation in webviews). */
export function configureOrt(wasmBase: string): void {
  const base = wasmBase.endsWith('/') ? wasmBase : `${wasmBase}/`;
  if (configuredBase === base) return;
  ort.env.wasm.wasmPaths = base;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  configuredBase = base;
}

/** WebGPU when the browser grants an adapter, else WASM. */
export async function detectBackend(): Promise<ConcreteBackend> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'wasm';
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? 'webgpu' : 'wasm';
  } catch {
    return 'wasm';
  }
}

function toOrtTensor(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.type, t.data, t.dims);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h & 0x7c00) >> 10, f = h & 0x03ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Copies an output into float32; the ort tensor is disposed by the caller right after. */
function toFloat(t: ort.Tensor): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d.slice();
  if (t.type === 'float16' && d instanceof Uint16Array) return Float32Array.from(d, halfToFloat);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float32Array.from(d, (v) => Number(v));
  if (ArrayBuffer.isView(d) && !(d instanceof DataView)) return Float32Array.from(d as ArrayLike<number>);
  throw new SeqLensError('unsupported', `Output of type ${t.type} cannot be read as numbers.`);
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new SeqLensError('cancelled', 'The run was cancelled.');
}

export class OrtWebBackend implements InferenceBackend {
  readonly timings: BackendTimings = { sessionCreate: 0, run: 0, extract: 0, runs: 0, sessionsCreated: 0 };
  private chain: Promise<unknown> = Promise.resolve();
  private readonly live = new Set<ort.InferenceSession>();

  constructor(readonly name: ConcreteBackend) {}

  /** Queues `task` after every earlier call; a failure does not break the chain. */
  serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => undefined);
    return next;
  }

  createSession(modelBytes: Uint8Array, extra?: SessionOptionsExtra): Promise<SessionHandle> {
    return this.serial(async () => {
      const t0 = performance.now();
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(modelBytes, {
          executionProviders: [this.name],
          graphOptimizationLevel: 'all',
          ...(extra?.externalData?.length ? { externalData: extra.externalData.map((f) => ({ path: f.path, data: f.data })) } : {}),
        });
      } catch (e) {
        throw new SeqLensError('runtime', `onnxruntime-web (${this.name}) could not load the model: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.timings.sessionCreate = performance.now() - t0;
      this.timings.sessionsCreated++;
      this.live.add(session);
      return this.handle(session);
    });
  }

  private handle(session: ort.InferenceSession): SessionHandle {
    const run = (feeds: Record<string, HostTensor>, fetches: readonly string[], signal?: AbortSignal) =>
      this.serial(async () => {
        checkAborted(signal);
        const ortFeeds: Record<string, ort.Tensor> = {};
        for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(v);
        const t0 = performance.now();
        let out: ort.InferenceSession.ReturnType;
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
        await session.release();
      }),
    };
  }

  /** Releases every session this backend created. */
  async dispose(): Promise<void> {
    await this.serial(async () => {
      for (const s of this.live) await s.release();
      this.live.clear();
    });
  }
}
