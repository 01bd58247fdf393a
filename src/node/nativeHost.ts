/**
 * The extension host's side of the native backend: starts the worker thread (nativeWorker.ts) on the first
 * request, pairs requests and replies by id, cancels, and survives the worker: a crash, an exit or an
 * out-of-memory in it rejects every waiting request with one clear line, and the next request starts a
 * fresh worker. Never imports `vscode` (unit-tested in plain Node).
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { oneLine } from '../core/errors.js';
import type { ProbeTensor } from '../core/trace/traceTypes.js';
import type { WireRun } from '../shared/traceWire.js';
import type { FromWorker, NativeInfo, NativeModelSpec, NativeTraceRequest, ToWorker, WorkerResult } from './nativeMessages.js';
import type { NativeWorkerData } from './nativeWorker.js';

export type { NativeInfo, NativeModelSpec } from './nativeMessages.js';

/** A failure of the native backend, with a code: SeqLensError's, or 'native-stopped', 'native-unavailable', 'cancelled'. */
export class NativeBackendError extends Error {
  constructor(readonly code: string, message: string) {
    super(oneLine(message));
    this.name = 'NativeBackendError';
  }
}

export interface NativeHostOptions {
  /** The worker's script: dist/nativeWorker.cjs in the extension; src/node/nativeWorker.ts under tsx (tests). */
  workerPath: string;
  /** See NativeWorkerData.faultFile (tests and the E2E make the worker crash mid-run through it). */
  faultFile?: string;
  /** The worker's V8 heap limits (model bytes and tensors live outside it, in ArrayBuffers and onnxruntime). */
  resourceLimits?: ResourceLimits;
  /** Node options of the worker (tests: ['--import', 'tsx'] to run the .ts worker). */
  execArgv?: string[];
  /** One line per worker start and stop. */
  log?: (line: string) => void;
}

export interface NativeRequestOptions {
  signal?: AbortSignal;
  onProgress?: (message: string, fraction?: number) => void;
}

interface Pending {
  resolve(r: WorkerResult): void;
  reject(e: NativeBackendError): void;
  onProgress?: (message: string, fraction?: number) => void;
  cleanup(): void;
}

const cancelled = (): NativeBackendError => new NativeBackendError('cancelled', 'The run was cancelled.');

export class NativeHost {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private helloReply?: Promise<NativeInfo>;
  private disposed = false;
  /** Workers started so far (tests check that a crash is followed by a fresh one). */
  starts = 0;

  constructor(private readonly opts: NativeHostOptions) {}

  /** Whether a worker is running now. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Requests waiting for their reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** onnxruntime-node's version and execution provider; rejects ('native-unavailable') when it cannot be loaded. */
  hello(): Promise<NativeInfo> {
    this.helloReply ??= this.request({ type: 'hello', id: this.nextId++ }).then((r) => {
      if (r.kind !== 'hello') throw new NativeBackendError('protocol', `The native backend answered 'hello' with '${r.kind}'.`);
      return r.info;
    });
    // A failure is not kept: the next call asks again (a fresh worker, or onnxruntime-node installed since).
    this.helloReply.catch(() => { this.helloReply = undefined; });
    return this.helloReply;
  }

  /** A trace for the panel, run in the worker; its tensors arrive moved, not copied. */
  async trace(req: Omit<NativeTraceRequest, 'type' | 'id'>, opts: NativeRequestOptions = {}): Promise<WireRun> {
    const r = await this.request({ type: 'trace', id: this.nextId++, ...req }, opts);
    if (r.kind !== 'trace') throw new NativeBackendError('protocol', `The native backend answered 'trace' with '${r.kind}'.`);
    // The run may have moved sessions from CUDA to the CPU (cudaProvider.ts): the next hello() asks again.
    this.helloReply = undefined;
    return r.run;
  }

  /** Loads a model ahead of its first run (see 'prepare' in nativeMessages.ts): the time it took (ms), and its parts. */
  async prepare(model: NativeModelSpec, opts: NativeRequestOptions = {}): Promise<{ ms: number; timings: Record<string, number> }> {
    const r = await this.request({ type: 'prepare', id: this.nextId++, model }, opts);
    if (r.kind !== 'prepared') throw new NativeBackendError('protocol', `The native backend answered 'prepare' with '${r.kind}'.`);
    return { ms: r.ms, timings: r.timings };
  }

  /** Deferred attention of an earlier run (`runKey` from its WireRun), fetched by name. */
  async fetchLayers(runKey: string, names: string[], opts: NativeRequestOptions = {}): Promise<ProbeTensor[]> {
    const r = await this.request({ type: 'fetchLayers', id: this.nextId++, runKey, names }, opts);
    if (r.kind !== 'layers') throw new NativeBackendError('protocol', `The native backend answered 'fetchLayers' with '${r.kind}'.`);
    return r.probes;
  }

  /** Stops the worker now (as a crash would): waiting requests reject, the next request starts a fresh one. */
  async kill(): Promise<void> {
    const w = this.worker;
    if (w) await w.terminate();
  }

  private request(msg: Extract<ToWorker, { id: number }>, opts: NativeRequestOptions = {}): Promise<WorkerResult> {
    if (this.disposed) return Promise.reject(new NativeBackendError('native-stopped', 'The native backend was shut down.'));
    if (opts.signal?.aborted) return Promise.reject(cancelled());
    const worker = this.ensureWorker();
    return new Promise<WorkerResult>((resolve, reject) => {
      const onAbort = (): void => {
        // Answered at once; the worker stops between steps (work inside onnxruntime ends in the background)
        // and its late reply is dropped.
        if (!this.pending.delete(msg.id)) return;
        this.post({ type: 'cancel', id: msg.id });
        this.refCount();
        reject(cancelled());
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(msg.id, {
        resolve, reject, onProgress: opts.onProgress,
        cleanup: () => opts.signal?.removeEventListener('abort', onAbort),
      });
      this.refCount();
      worker.postMessage(msg);
    });
  }

  private post(msg: ToWorker): void {
    try {
      this.worker?.postMessage(msg);
    } catch {
      // The worker is going away; its exit rejects what waits.
    }
  }

  /** Keeps the process alive while requests wait; an idle worker does not hold it. */
  private refCount(): void {
    if (!this.worker) return;
    if (this.pending.size) this.worker.ref();
    else this.worker.unref();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const workerData: NativeWorkerData = { script: this.opts.workerPath, ...(this.opts.faultFile ? { faultFile: this.opts.faultFile } : {}) };
    const w = new Worker(this.opts.workerPath, {
      workerData, ...(this.opts.resourceLimits ? { resourceLimits: this.opts.resourceLimits } : {}),
      ...(this.opts.execArgv ? { execArgv: this.opts.execArgv } : {}),
      // onnxruntime's own log lines would interleave with the host's.
      stderr: false, stdout: false,
    });
    this.worker = w;
    this.starts++;
    const threadId = w.threadId;
    this.opts.log?.(`native backend: worker ${threadId} started`);
    let why: string | undefined;
    w.on('message', (m: FromWorker) => this.receive(m));
    w.on('error', (e: Error & { code?: string }) => {
      why = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'it ran out of memory' : `it failed: ${oneLine(e.message, 200)}`;
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      this.helloReply = undefined;
      const reason = why ?? (this.disposed ? 'shut down' : code === 1 ? 'it was stopped' : `its thread exited with code ${code}`);
      this.opts.log?.(`native backend: worker ${threadId} stopped (${reason})`);
      const stopped = new NativeBackendError('native-stopped', `The native backend stopped (${reason}); the next run starts it again.`);
      for (const [id, p] of [...this.pending]) {
        this.pending.delete(id);
        p.cleanup();
        p.reject(stopped);
      }
    });
    return w;
  }

  private receive(m: FromWorker): void {
    if (m.type === 'progress') {
      this.pending.get(m.id)?.onProgress?.(m.message, m.fraction);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) {
      if (m.type === 'error' && m.id < 0) this.opts.log?.(`native backend: ${m.message}`);
      return;
    }
    this.pending.delete(m.id);
    p.cleanup();
    this.refCount();
    if (m.type === 'error') {
      p.reject(new NativeBackendError(m.code, m.message));
      return;
    }
    // The worker → host hand-over of the result (structured clone; tensors' buffers are moved) joins its timings.
    if (m.result.kind === 'trace' && m.sentAt !== undefined) m.result.run.trace.timings.transfer = performance.timeOrigin + performance.now() - m.sentAt;
    p.resolve(m.result);
  }

  /** Stops the worker; waiting requests reject. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const w = this.worker;
    if (!w) return;
    this.post({ type: 'dispose' });
    // Sessions are released by the worker; a worker that does not end within a second is stopped.
    const ended = new Promise<void>((r) => w.once('exit', () => r()));
    const timer = setTimeout(() => void w.terminate(), 1000);
    await ended;
    clearTimeout(timer);
  }
}
