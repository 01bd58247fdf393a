/**
 * onnxruntime-node's sessions on a thread of their own, beside the native worker's. onnxruntime-node creates
 * a session synchronously (an 80 MB decoder blocks its thread for 1.5 s), and so does the tokenizer's parse
 * (Qwen3's 11 MB tokenizer.json: about 0.9 s): on one thread a first run waited for both, one after the other.
 * With the sessions here, the native worker parses the tokenizer while this thread builds the session.
 *
 * `SessionThread` is the native worker's InferenceBackend: every create, run and release is a message to the
 * thread, and tensors move both ways in transferred buffers. `serveSessions` is the thread's side; the thread
 * runs the native worker's own script (nativeWorker.ts starts it with `role: 'sessions'`), so the extension
 * ships no second bundle for it.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import type { FloatTensor, HostTensor, InferenceBackend, SessionHandle, SessionOptionsExtra } from '../core/run/backend.js';
import { SeqLensError, isSeqLensError, knownErrorCode, oneLine } from '../core/errors.js';
import { Transferables } from '../shared/traceWire.js';
import type { NativeInfo } from './nativeMessages.js';
import { getBackend, nativeProvider } from './backends.js';

/** What each request to the thread is answered with. */
interface Replies {
  hello: NativeInfo;
  create: { session: number; inputNames: string[]; outputNames: string[] };
  run: Record<string, FloatTensor>;
  release: null;
}

type ToSessions =
  | { type: 'hello'; id: number }
  | { type: 'create'; id: number; bytes: Uint8Array; extra?: SessionOptionsExtra }
  | { type: 'run'; id: number; session: number; feeds: Record<string, HostTensor>; fetches: string[] }
  | { type: 'release'; id: number; session: number };

type FromSessions =
  | { type: 'reply'; id: number; value: Replies[keyof Replies] }
  | { type: 'failed'; id: number; code: string; message: string };

/** Posts with the buffers moved; a buffer that cannot move (onnxruntime-owned memory) is copied instead. */
export function postMoving(target: { postMessage(m: unknown, t?: ArrayBuffer[]): void }, msg: unknown, transfer: ArrayBuffer[]): void {
  try {
    target.postMessage(msg, transfer);
  } catch (e) {
    if (transfer.length && e instanceof Error && e.name === 'DataCloneError') target.postMessage(msg);
    else throw e;
  }
}

interface Waiting { resolve(v: unknown): void; reject(e: Error): void }

/** The native worker's backend: sessions live on the thread this starts. */
export class SessionThread implements InferenceBackend {
  readonly name = 'native';
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private stopped?: Error;

  /**
   * `script`: the native worker's own script, started again as the session thread. `onStop` is told when the
   * thread ends other than by `dispose()` (out of memory, a crash): every session it held is gone with it.
   */
  constructor(script: string, private readonly onStop: (why: string) => void) {
    this.worker = new Worker(script, { workerData: { role: 'sessions' }, stdout: false, stderr: false });
    let why: string | undefined;
    this.worker.on('message', (m: FromSessions) => this.receive(m));
    this.worker.on('error', (e: Error & { code?: string }) => {
      why = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'it ran out of memory' : `it failed: ${oneLine(e.message, 200)}`;
    });
    this.worker.on('exit', (code) => {
      const reason = why ?? `it exited with code ${code}`;
      const wasStopped = this.stopped;
      this.stopped ??= new SeqLensError('runtime', `onnxruntime's session thread stopped (${reason}).`);
      for (const w of this.waiting.values()) w.reject(this.stopped);
      this.waiting.clear();
      if (!wasStopped) this.onStop(reason);
    });
  }

  private request<K extends keyof Replies>(msg: Extract<ToSessions, { type: K }>, transfer: ArrayBuffer[] = []): Promise<Replies[K]> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise<Replies[K]>((resolve, reject) => {
      this.waiting.set(msg.id, { resolve: resolve as (v: unknown) => void, reject });
      postMoving(this.worker, msg, transfer);
    });
  }

  private receive(m: FromSessions): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.type === 'failed') w.reject(new SeqLensError(knownErrorCode(m.code), m.message));
    else w.resolve(m.value);
  }

  /** Loads onnxruntime-node on the thread: its version and execution provider. */
  info(): Promise<NativeInfo> {
    return this.request({ type: 'hello', id: this.nextId++ });
  }

  async createSession(modelBytes: Uint8Array, extra?: SessionOptionsExtra): Promise<SessionHandle> {
    // The model's bytes move to the thread (instrumented bytes own their buffer; a view of a shared one is copied first).
    const tx = new Transferables();
    const made = await this.request({ type: 'create', id: this.nextId++, bytes: tx.own(modelBytes), ...(extra ? { extra } : {}) }, tx.list);
    let released = false;
    return {
      inputNames: made.inputNames,
      outputNames: made.outputNames,
      run: async (feeds, fetches, signal) => {
        if (signal?.aborted) throw new SeqLensError('cancelled', 'The run was cancelled.');
        return this.request({ type: 'run', id: this.nextId++, session: made.session, feeds, fetches: [...fetches] });
      },
      dispose: async () => {
        if (released || this.stopped) return;
        released = true;
        await this.request({ type: 'release', id: this.nextId++, session: made.session });
      },
    };
  }

  async dispose(): Promise<void> {
    this.stopped ??= new SeqLensError('runtime', 'The native backend was shut down.');
    await this.worker.terminate();
  }
}

/** The loaded onnxruntime-node's version and execution provider (after getBackend('native', { cuda: true })). */
async function nativeInfo(): Promise<NativeInfo> {
  const ort = (await import('onnxruntime-node')) as unknown as { env: { versions?: Record<string, string> } };
  // CUDA where its provider libraries lie beside the binding and a GPU shows, else the CPU (cudaProvider.ts); a
  // session CUDA could not create has moved it to the CPU since.
  const p = nativeProvider();
  return {
    version: ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown',
    provider: p?.provider ?? 'cpu',
    ...(p?.why ? { providerWhy: p.why } : {}),
  };
}

/** The thread's side: answers SessionThread's messages on `port` until the thread is terminated. */
export function serveSessions(port: MessagePort): void {
  const sessions = new Map<number, SessionHandle>();
  let nextSession = 1;
  let backend: Promise<InferenceBackend> | undefined;
  const ready = (): Promise<InferenceBackend> => {
    if (!backend) {
      backend = getBackend('native', { cuda: true });
      backend.catch(() => { backend = undefined; });
    }
    return backend;
  };
  const session = (id: number): SessionHandle => {
    const s = sessions.get(id);
    if (!s) throw new SeqLensError('runtime', 'The session was released.');
    return s;
  };

  async function answer(msg: ToSessions): Promise<[Replies[keyof Replies], ArrayBuffer[]]> {
    switch (msg.type) {
      case 'hello':
        await ready();
        return [await nativeInfo(), []];
      case 'create': {
        const s = await (await ready()).createSession(msg.bytes, msg.extra);
        const id = nextSession++;
        sessions.set(id, s);
        return [{ session: id, inputNames: [...s.inputNames], outputNames: [...s.outputNames] }, []];
      }
      case 'run': {
        const out = await session(msg.session).run(msg.feeds, msg.fetches);
        const tx = new Transferables();
        const moved: Record<string, FloatTensor> = {};
        for (const [k, t] of Object.entries(out)) moved[k] = tx.tensor(t);
        return [moved, tx.list];
      }
      case 'release': {
        const s = sessions.get(msg.session);
        sessions.delete(msg.session);
        await s?.dispose();
        return [null, []];
      }
    }
  }

  port.on('message', (msg: ToSessions) => {
    answer(msg).then(
      ([value, transfer]) => postMoving(port, { type: 'reply', id: msg.id, value } satisfies FromSessions, transfer),
      (e: unknown) => {
        const err = isSeqLensError(e) ? { code: e.code, message: e.message } : { code: 'runtime', message: oneLine(e instanceof Error ? e.message : String(e)) };
        port.postMessage({ type: 'failed', id: msg.id, ...err } satisfies FromSessions);
      },
    );
  });
}
