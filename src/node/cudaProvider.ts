/**
 * Which execution provider the native backend's sessions run on (#10): onnxruntime-node's CUDA provider
 * when its libraries lie beside the binding and the machine shows an NVIDIA GPU, else the CPU. A session
 * that CUDA cannot create is created on the CPU instead, once: from then on every session runs there, and
 * the reason is kept for the badge's tooltip. The npm package carries no CUDA provider library (its install
 * script would fetch one; Sequence Lens never downloads anything): docs/native-backend.md says how to put
 * one there. The decisions read an injected file system (no child processes, nothing synchronous), so they
 * are unit-tested without a GPU (test/unit/cudaProvider.test.ts).
 */
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceBackend, SessionHandle, SessionOptionsExtra } from '../core/run/backend.js';
import { oneLine } from '../core/errors.js';

export type ExecutionProvider = 'cuda' | 'cpu';

/** The provider sessions run on, and why (the badge's tooltip line). */
export interface ProviderChoice {
  provider: ExecutionProvider;
  why: string;
}

/** Where the setup is described (the tooltip names it). */
export const CUDA_DOC = 'docs/native-backend.md';

/** What onnxruntime's CUDA provider needs beside libonnxruntime (it loads them from the folder libonnxruntime is in). */
export const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] as const;

/**
 * The `<platform>-<arch>` whose onnxruntime-node binding knows the 'cuda' provider: of the npm package's
 * bindings (linux x64 and arm64, darwin arm64, win32 x64 and arm64) only linux-x64's is built with it.
 */
export const CUDA_TARGETS: readonly string[] = ['linux-x64'];

export const BINDING_FILE = 'onnxruntime_binding.node';

/** The one call the probe makes: a folder's names (a missing folder rejects). */
export interface ProbeFs {
  readdir(dir: string): Promise<string[]>;
}

export interface CudaProbe {
  platform: string;
  arch: string;
  /** Folders onnxruntime-node's binding may be loaded from, in the order it is looked for (bindingDirs()). */
  bindingDirs: readonly string[];
  fs: ProbeFs;
  /** Where device nodes are ('/dev'). */
  devDir?: string;
}

async function names(fs: ProbeFs, dir: string): Promise<string[] | undefined> {
  try {
    return await fs.readdir(dir);
  } catch {
    return undefined;
  }
}

/** A GPU device node: the NVIDIA driver's /dev/nvidia<N>, or WSL2's paravirtual GPU /dev/dxg (CUDA on WSL). */
function gpuNode(dev: readonly string[]): string | undefined {
  const nvidia = dev.filter((n) => /^nvidia\d+$/.test(n)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  return nvidia[0] ?? (dev.includes('dxg') ? 'dxg' : undefined);
}

/** CUDA when this binding has it, its provider libraries lie beside the binding and a GPU shows; else the CPU, and why. */
export async function chooseProvider(p: CudaProbe): Promise<ProviderChoice> {
  const target = `${p.platform}-${p.arch}`;
  if (!CUDA_TARGETS.includes(target)) {
    return { provider: 'cpu', why: `onnxruntime-node's ${target} binding has no CUDA execution provider (only linux-x64's has one).` };
  }
  let bindingDir: string | undefined;
  let beside: string[] = [];
  for (const dir of p.bindingDirs) {
    const n = await names(p.fs, dir);
    if (n?.includes(BINDING_FILE)) {
      bindingDir = dir;
      beside = n;
      break;
    }
  }
  if (!bindingDir) {
    return { provider: 'cpu', why: `onnxruntime-node's binding was not found (looked in ${p.bindingDirs.join(', ') || 'no folder'}), so no CUDA provider library either.` };
  }
  const missing = CUDA_PROVIDER_LIBS.filter((f) => !beside.includes(f));
  if (missing.length) {
    return { provider: 'cpu', why: `CUDA provider library not found beside the binding (no ${missing.join(', ')} in ${bindingDir}; see ${CUDA_DOC}).` };
  }
  const devDir = p.devDir ?? '/dev';
  const gpu = gpuNode((await names(p.fs, devDir)) ?? []);
  if (!gpu) {
    return { provider: 'cpu', why: `CUDA provider libraries are beside the binding, but this machine shows no NVIDIA GPU (no ${devDir}/nvidia0).` };
  }
  return { provider: 'cuda', why: `CUDA provider libraries beside the binding (${bindingDir}) and a GPU (${devDir}/${gpu}).` };
}

/**
 * Sessions on `cuda` while `state.provider` is 'cuda'. The first that CUDA cannot create (its libraries do
 * not load: no CUDA 12 runtime or cuDNN 9 on the library path, a driver too old, GPU memory full) is created
 * on `cpu`, and so is every later one: `state` then says 'cpu' and why. When the CPU cannot create it either,
 * the model is at fault, not CUDA: that error is thrown and CUDA stays.
 */
export function withCpuFallback(cuda: InferenceBackend, cpu: InferenceBackend, state: ProviderChoice): InferenceBackend {
  return {
    name: cpu.name,
    async createSession(modelBytes: Uint8Array, extra?: SessionOptionsExtra): Promise<SessionHandle> {
      if (state.provider !== 'cuda') return cpu.createSession(modelBytes, extra);
      let cudaError: unknown;
      try {
        return await cuda.createSession(modelBytes, extra);
      } catch (e) {
        cudaError = e;
      }
      const session = await cpu.createSession(modelBytes, extra);
      const msg = (cudaError instanceof Error ? cudaError.message : String(cudaError)).replace(/^onnxruntime failed to load the model: /, '');
      state.provider = 'cpu';
      state.why = `CUDA could not create a session (${oneLine(msg, 240)}), so sessions run on the CPU until the native backend restarts.`;
      return session;
    },
    async dispose(): Promise<void> {
      await cuda.dispose?.();
      await cpu.dispose?.();
    },
  };
}

/**
 * The folders onnxruntime-node's binding is loaded from, first match wins: dist/native/<platform>-<arch>/
 * beside the bundle (the packaged extension: esbuild.mjs points the bundled binding.js there), then
 * node_modules/onnxruntime-node/bin/napi-v<N>/<platform>/<arch>/ (development, tsx, the CLI).
 * `here` is the calling module's URL (in the worker bundle, dist/nativeWorker.cjs).
 */
export async function bindingDirs(here: string = import.meta.url, fs: ProbeFs = { readdir: (d) => readdir(d) }): Promise<string[]> {
  const platform = process.platform;
  const arch = process.arch;
  const dirs = [join(dirname(fileURLToPath(here)), 'native', `${platform}-${arch}`)];
  let pkg: string | undefined;
  try {
    // onnxruntime-node's main is dist/index.js.
    pkg = dirname(dirname(createRequire(here).resolve('onnxruntime-node')));
  } catch {
    return dirs;
  }
  const bin = join(pkg, 'bin');
  const napi = ((await names(fs, bin)) ?? []).filter((d) => /^napi-v\d+$/.test(d)).sort().reverse();
  for (const d of napi) dirs.push(join(bin, d, platform, arch));
  return dirs;
}

/** chooseProvider on this machine: the binding's folder and /dev. */
export async function probeProvider(here?: string): Promise<ProviderChoice> {
  const fs: ProbeFs = { readdir: (d) => readdir(d) };
  return chooseProvider({ platform: process.platform, arch: process.arch, bindingDirs: await bindingDirs(here, fs), fs });
}
