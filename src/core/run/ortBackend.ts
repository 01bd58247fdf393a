/**
 * An InferenceBackend over any onnxruntime JavaScript API (onnxruntime-node, onnxruntime-web in Node or in
 * the webview): they share onnxruntime-common's `InferenceSession`/`Tensor`, so one adapter serves all.
 * Type-only import: the caller hands in the module it loaded, so this file stays browser-safe.
 */
import type * as Ort from 'onnxruntime-web';
import type { ExternalFile, FloatTensor, HostTensor, InferenceBackend, SessionHandle, SessionOptionsExtra } from './backend.js';
import { SeqLensError } from '../errors.js';
import { halfBitsToFloat32 } from '../onnx/float16.js';

/** The part of an onnxruntime module this adapter uses. */
export interface OrtModule {
  InferenceSession: typeof Ort.InferenceSession;
  Tensor: typeof Ort.Tensor;
}

export interface OrtBackendOptions {
  /** Reported as the backend name: 'native', 'wasm', 'webgpu'. */
  name: string;
  sessionOptions?: Ort.InferenceSession.SessionOptions;
  /** Per-run options (onnxruntime-web logs a failing kernel at its default run severity, 2, unless told). */
  runOptions?: Ort.InferenceSession.RunOptions;
}

/**
 * Any tensor data onnxruntime hands back, as float32 (int64 via Number; bool as 0/1). float16 comes as its
 * raw bits in a Uint16Array where the JavaScript runtime has no Float16Array (Node 20): `type` tells them apart.
 */
export function toFloat32(data: unknown, type?: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (type === 'float16' && data instanceof Uint16Array) return halfBitsToFloat32(data);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, (v) => Number(v));
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    return Float32Array.from(data as unknown as ArrayLike<number>);
  }
  throw new SeqLensError('runtime', 'The model returned a non-numeric output (strings or maps), which Sequence Lens cannot read.');
}

function runtimeError(e: unknown, what: string): SeqLensError {
  if (e instanceof SeqLensError) return e;
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return new SeqLensError('runtime', `onnxruntime failed to ${what}: ${msg}`);
}

export function ortBackend(ort: OrtModule, opts: OrtBackendOptions): InferenceBackend {
  // onnxruntime-web fails on overlapping create/run calls, so every call on this backend goes through one chain.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };

  const toOrt = (t: HostTensor): Ort.Tensor => new ort.Tensor(t.type, t.data, t.dims);

  return {
    name: opts.name,
    createSession(modelBytes: Uint8Array, extra?: SessionOptionsExtra): Promise<SessionHandle> {
      return serial(async () => {
        const sessionOptions: Ort.InferenceSession.SessionOptions = { ...opts.sessionOptions };
        if (extra?.externalData?.length) {
          sessionOptions.externalData = extra.externalData.map((f: ExternalFile) => ({ path: f.path, data: f.data }));
        }
        if (extra?.externalDataFolder) {
          // onnxruntime-node resolves the model's external data locations against this folder and reads (maps) the files itself.
          const session = { ...(sessionOptions.extra?.session as Record<string, unknown> | undefined), model_external_initializers_file_folder_path: extra.externalDataFolder };
          sessionOptions.extra = { ...sessionOptions.extra, session };
        }
        if (extra?.skipConstantFolding && opts.name !== 'webgpu') {
          const optimization = { ...(sessionOptions.extra?.optimization as Record<string, unknown> | undefined), disable_specified_optimizers: 'ConstantFolding' };
          sessionOptions.extra = { ...sessionOptions.extra, optimization };
        }
        let session: Ort.InferenceSession;
        try {
          session = await ort.InferenceSession.create(modelBytes, sessionOptions);
        } catch (e) {
          throw runtimeError(e, 'load the model');
        }
        const handle: SessionHandle = {
          inputNames: session.inputNames,
          outputNames: session.outputNames,
          run: (feeds, fetches, signal) =>
            serial(async () => {
              if (signal?.aborted) throw new SeqLensError('cancelled', 'The run was cancelled.');
              const ortFeeds: Record<string, Ort.Tensor> = {};
              for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
              let out: Ort.InferenceSession.ReturnType;
              try {
                out = await session.run(ortFeeds, fetches, opts.runOptions);
              } catch (e) {
                throw runtimeError(e, 'run the model');
              }
              const result: Record<string, FloatTensor> = {};
              for (const [k, v] of Object.entries(out)) {
                const t = v as Ort.Tensor;
                // CPU outputs own their typed array (no view of WASM memory), so it outlives dispose().
                result[k] = { dims: [...t.dims], data: toFloat32(t.data, t.type) };
                t.dispose();
              }
              return result;
            }),
          dispose: () => serial(() => session.release()),
        };
        return handle;
      });
    },
  };
}
