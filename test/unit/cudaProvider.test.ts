/**
 * The native backend's execution provider (#10): CUDA only where the binding has it (linux-x64), its
 * provider libraries lie beside the binding that is loaded, and a GPU shows in /dev; else the CPU, with the
 * reason the badge's tooltip gives. A CUDA session that cannot be created falls back to the CPU once.
 * Fake folders and fake backends: nothing here needs a GPU or CUDA.
 * Run: node --import tsx --test test/unit/cudaProvider.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  bindingDirs, chooseProvider, CUDA_DOC, CUDA_PROVIDER_LIBS, probeProvider, withCpuFallback,
  type CudaProbe, type ProbeFs, type ProviderChoice,
} from '../../src/node/cudaProvider.js';
import type { InferenceBackend, SessionHandle } from '../../src/core/run/backend.js';

const PACKAGED = '/ext/dist/native/linux-x64';
const DEV = '/repo/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
const CPU_LIBS = ['onnxruntime_binding.node', 'libonnxruntime.so.1'];
const CUDA_LIBS = [...CPU_LIBS, ...CUDA_PROVIDER_LIBS];

function fakeFs(folders: Record<string, string[]>): ProbeFs & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readdir(dir: string): Promise<string[]> {
      reads.push(dir);
      const n = folders[dir];
      if (!n) return Promise.reject(Object.assign(new Error(`ENOENT: no such file or directory, scandir '${dir}'`), { code: 'ENOENT' }));
      return Promise.resolve([...n]);
    },
  };
}

function probe(folders: Record<string, string[]>, over: Partial<CudaProbe> = {}): CudaProbe {
  return { platform: 'linux', arch: 'x64', bindingDirs: [PACKAGED, DEV], fs: fakeFs(folders), devDir: '/dev', ...over };
}

test('CUDA: provider libraries beside the binding and /dev/nvidia0', async () => {
  const c = await chooseProvider(probe({ [PACKAGED]: CUDA_LIBS, '/dev': ['null', 'nvidiactl', 'nvidia-uvm', 'nvidia0'] }));
  assert.equal(c.provider, 'cuda');
  assert.equal(c.why, `CUDA provider libraries beside the binding (${PACKAGED}) and a GPU (/dev/nvidia0).`);
  const many = await chooseProvider(probe({ [PACKAGED]: CUDA_LIBS, '/dev': ['nvidia10', 'nvidia2', 'nvidiactl'] }));
  assert.equal(many.provider, 'cuda');
  assert.match(many.why, /\(\/dev\/nvidia2\)\.$/, 'the lowest-numbered GPU node is named');
  const wsl = await chooseProvider(probe({ [PACKAGED]: CUDA_LIBS, '/dev': ['dxg', 'null'] }));
  assert.deepEqual(wsl, { provider: 'cuda', why: `CUDA provider libraries beside the binding (${PACKAGED}) and a GPU (/dev/dxg).` });
});

test('CPU: no CUDA provider library beside the binding (the npm package ships none)', async () => {
  const c = await chooseProvider(probe({ [PACKAGED]: CPU_LIBS, '/dev': ['nvidia0'] }));
  assert.deepEqual(c, {
    provider: 'cpu',
    why: `CUDA provider library not found beside the binding (no libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so in ${PACKAGED}; see ${CUDA_DOC}).`,
  });
  const half = await chooseProvider(probe({ [PACKAGED]: [...CPU_LIBS, 'libonnxruntime_providers_cuda.so'], '/dev': ['nvidia0'] }));
  assert.equal(half.provider, 'cpu');
  assert.match(half.why, /^CUDA provider library not found beside the binding \(no libonnxruntime_providers_shared\.so in /);
});

test('the binding that is loaded decides: the packaged folder first, node_modules when there is none', async () => {
  // Development: no dist/native beside the module, the binding in node_modules with CUDA's libraries.
  const dev = await chooseProvider(probe({ [DEV]: CUDA_LIBS, '/dev': ['nvidia0'] }));
  assert.equal(dev.provider, 'cuda');
  assert.match(dev.why, new RegExp(`\\(${DEV.replace(/[/.]/g, '\\$&')}\\)`));
  // Packaged: the libraries sit in node_modules, but the binding loaded is the packaged one, without them.
  const packaged = await chooseProvider(probe({ [PACKAGED]: CPU_LIBS, [DEV]: CUDA_LIBS, '/dev': ['nvidia0'] }));
  assert.equal(packaged.provider, 'cpu');
  assert.ok(packaged.why.includes(`in ${PACKAGED};`));
  // A folder without the binding (an empty dist/native/linux-x64) is passed over.
  const empty = await chooseProvider(probe({ [PACKAGED]: ['README'], [DEV]: CUDA_LIBS, '/dev': ['nvidia0'] }));
  assert.equal(empty.provider, 'cuda');
  const none = await chooseProvider(probe({ '/dev': ['nvidia0'] }));
  assert.equal(none.provider, 'cpu');
  assert.match(none.why, /^onnxruntime-node's binding was not found \(looked in \/ext\/dist\/native\/linux-x64, \/repo\//);
});

test('CPU: no GPU device node (none, or /dev unreadable), without asking the binding folder twice', async () => {
  const fs = fakeFs({ [PACKAGED]: CUDA_LIBS, '/dev': ['null', 'tty', 'nvidiactl'] });
  const c = await chooseProvider(probe({}, { fs }));
  assert.deepEqual(c, { provider: 'cpu', why: 'CUDA provider libraries are beside the binding, but this machine shows no NVIDIA GPU (no /dev/nvidia0).' });
  assert.deepEqual(fs.reads, [PACKAGED, '/dev']);
  const noDev = await chooseProvider(probe({ [PACKAGED]: CUDA_LIBS }));
  assert.equal(noDev.provider, 'cpu');
  assert.match(noDev.why, /no NVIDIA GPU/);
});

test('CPU: only linux-x64\'s binding has the CUDA provider; nothing is read elsewhere', async () => {
  for (const [platform, arch] of [['linux', 'arm64'], ['darwin', 'arm64'], ['win32', 'x64'], ['win32', 'arm64']] as const) {
    const fs = fakeFs({ [PACKAGED]: CUDA_LIBS, '/dev': ['nvidia0'] });
    const c = await chooseProvider(probe({}, { platform, arch, fs }));
    assert.deepEqual(c, { provider: 'cpu', why: `onnxruntime-node's ${platform}-${arch} binding has no CUDA execution provider (only linux-x64's has one).` });
    assert.deepEqual(fs.reads, []);
  }
});

/** A backend whose createSession fails with `error` (when given) and counts its calls. */
function fakeBackend(label: string, error?: string): InferenceBackend & { calls: number } {
  const b = {
    name: 'native',
    calls: 0,
    createSession(): Promise<SessionHandle> {
      b.calls++;
      if (error) return Promise.reject(new Error(error));
      const handle: SessionHandle = { inputNames: [label], outputNames: [], run: () => Promise.resolve({}), dispose: () => Promise.resolve() };
      return Promise.resolve(handle);
    },
  };
  return b;
}

const bytes = new Uint8Array([8, 1]);

test('fallback: a session CUDA cannot create is created on the CPU, and every later one, with the reason kept', async () => {
  const cuda = fakeBackend('cuda', 'onnxruntime failed to load the model: Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file: No such file or directory');
  const cpu = fakeBackend('cpu');
  const state: ProviderChoice = { provider: 'cuda', why: 'libraries and GPU' };
  const b = withCpuFallback(cuda, cpu, state);
  assert.equal(b.name, 'native');
  assert.deepEqual((await b.createSession(bytes)).inputNames, ['cpu']);
  assert.equal(state.provider, 'cpu');
  assert.equal(state.why, 'CUDA could not create a session (Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file: No such file or directory), so sessions run on the CPU until the native backend restarts.');
  assert.deepEqual((await b.createSession(bytes)).inputNames, ['cpu']);
  assert.equal(cuda.calls, 1, 'CUDA is tried once');
  assert.equal(cpu.calls, 2);

  // What onnxruntime-node 1.30.0 throws (through ortBackend) when the provider library does not load.
  const real: ProviderChoice = { provider: 'cuda', why: 'w' };
  await withCpuFallback(fakeBackend('cuda', 'onnxruntime failed to load the model: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'), fakeBackend('cpu'), real).createSession(bytes);
  assert.deepEqual(real, { provider: 'cpu', why: 'CUDA could not create a session (OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library), so sessions run on the CPU until the native backend restarts.' });
});

test('fallback: sessions stay on CUDA while it works; a model the CPU rejects too is the model\'s fault', async () => {
  const ok = withCpuFallback(fakeBackend('cuda'), fakeBackend('cpu'), { provider: 'cuda', why: 'w' });
  assert.deepEqual((await ok.createSession(bytes)).inputNames, ['cuda']);

  const cuda = fakeBackend('cuda', 'onnxruntime failed to load the model: protobuf parsing failed');
  const cpu = fakeBackend('cpu', 'onnxruntime failed to load the model: protobuf parsing failed (cpu)');
  const state: ProviderChoice = { provider: 'cuda', why: 'w' };
  const b = withCpuFallback(cuda, cpu, state);
  await assert.rejects(b.createSession(bytes), /protobuf parsing failed \(cpu\)/);
  assert.deepEqual(state, { provider: 'cuda', why: 'w' }, 'CUDA stays');
  await assert.rejects(b.createSession(bytes));
  assert.equal(cuda.calls, 2, 'CUDA is tried again for the next model');

  const already = fakeBackend('cuda');
  const onCpu = withCpuFallback(already, fakeBackend('cpu'), { provider: 'cpu', why: 'no libraries' });
  assert.deepEqual((await onCpu.createSession(bytes)).inputNames, ['cpu']);
  assert.equal(already.calls, 0);
});

test('this machine: the binding onnxruntime-node loads in development, and the provider for it (never needs CUDA)', async () => {
  const here = pathToFileURL(resolve('src/node/cudaProvider.ts')).href;
  const dirs = await bindingDirs(here);
  assert.equal(dirs[0], resolve('src/node/native', `${process.platform}-${process.arch}`));
  const dev = resolve('node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch);
  if (existsSync(join(dev, 'onnxruntime_binding.node'))) assert.ok(dirs.includes(dev), `${dev} in ${dirs.join(', ')}`);
  const c = await probeProvider(here);
  assert.ok(c.provider === 'cpu' || c.provider === 'cuda');
  assert.ok(c.why.length > 0);
  const libsHere = CUDA_PROVIDER_LIBS.every((f) => existsSync(join(dev, f)));
  if (`${process.platform}-${process.arch}` === 'linux-x64' && !libsHere) {
    assert.equal(c.provider, 'cpu');
    assert.ok(c.why.startsWith(`CUDA provider library not found beside the binding (no libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so in ${dev};`), c.why);
  }
});
