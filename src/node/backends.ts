/**
 * The CLI's two inference engines: onnxruntime-node ('native', optional dependency) and onnxruntime-web's
 * WASM build running inside Node ('wasm', the same engine the webview falls back to). Both are loaded
 * lazily so `seqlens inspect` never pays for them.
 */
import type { InferenceBackend } from '../core/run/backend.js';
import { ortBackend, type OrtModule } from '../core/run/ortBackend.js';
import { SeqLensError } from '../core/errors.js';
import { probeProvider, withCpuFallback, type ProviderChoice } from './cudaProvider.js';

export type BackendName = 'native' | 'wasm';

export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm'];

export function isBackendName(v: string): v is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(v);
}

async function loadNative(): Promise<OrtModule> {
  try {
    const ort = (await import('onnxruntime-node')) as unknown as OrtModule & { env: { logLevel?: string } };
    // Set before the first session creates onnxruntime's environment: warnings would break one-line errors.
    ort.env.logLevel = 'error';
    return ort;
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new SeqLensError('runtime', `The native backend needs the optional package onnxruntime-node (${msg}); use --backend wasm.`);
  }
}

async function loadWasm(): Promise<OrtModule> {
  // The package's "node" export condition gives the Node build of onnxruntime-web, which finds its .wasm beside it.
  const ort = (await import('onnxruntime-web')) as unknown as OrtModule & { env: { logLevel?: string; wasm: { numThreads: number; proxy: boolean } } };
  // One thread: the webview has no SharedArrayBuffer, so this matches what users get there.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  // onnxruntime's warnings (shape-merge notes and the like) would break the CLI's one-line errors.
  ort.env.logLevel = 'error';
  return ort;
}

const cache = new Map<string, Promise<InferenceBackend>>();

/**
 * A failing run is reported once, as the error the run throws: onnxruntime would also log the failing
 * kernel to stderr (its run severity defaults to warning), a second line the CLI promises not to print.
 */
const quietRuns = { logSeverityLevel: 4 } as const;

export interface BackendOptions {
  /** onnxruntime-node intra-op threads (default: onnxruntime's choice, one per core). Benchmarks pin it to 1. */
  threads?: number;
  /**
   * 'native' only: run on onnxruntime's CUDA execution provider where its libraries lie beside the binding
   * and a GPU shows, else the CPU (cudaProvider.ts). The extension's native worker asks for it; the CLI does
   * not (its timings are the CPU's).
   */
  cuda?: boolean;
}

let nativeChoice: ProviderChoice | undefined;

/** The provider the CUDA-enabled native backend's sessions run on now, and why; undefined before it loads. */
export function nativeProvider(): ProviderChoice | undefined {
  return nativeChoice ? { ...nativeChoice } : undefined;
}

/** The backend by name; the module is imported once per process. */
export function getBackend(name: BackendName, opts: BackendOptions = {}): Promise<InferenceBackend> {
  const key = `${name}:${opts.threads ?? ''}:${opts.cuda ? 'cuda' : ''}`;
  let b = cache.get(key);
  if (!b) {
    const threads = opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {};
    b = name === 'native'
      ? loadNative().then(async (ort) => {
        const sessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3, ...threads } as const;
        const cpu = ortBackend(ort, { name: 'native', sessionOptions, runOptions: quietRuns });
        if (!opts.cuda) return cpu;
        const choice = await probeProvider();
        nativeChoice = choice;
        if (choice.provider !== 'cuda') return cpu;
        // Nodes CUDA has no kernel for run on the CPU; a session CUDA cannot create falls back to `cpu` (and `choice` says why).
        const cuda = ortBackend(ort, { name: 'native', sessionOptions: { ...sessionOptions, executionProviders: ['cuda', 'cpu'] }, runOptions: quietRuns });
        return withCpuFallback(cuda, cpu, choice);
      })
      : loadWasm().then((ort) => ortBackend(ort, { name: 'wasm', sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 }, runOptions: quietRuns }));
    cache.set(key, b);
  }
  return b;
}
