// Which of onnxruntime-node's files one platform's package carries (esbuild.mjs copies them into
// dist/native/<platform>-<arch>/; scripts/packageTargets.mjs checks each .vsix holds exactly these).
//
// What each binding loads, read from the binaries of onnxruntime-node 1.30.0 (readelf -d, llvm-objdump
// --macho --dylibs-used, llvm-readobj --coff-imports):
//   linux:  onnxruntime_binding.node NEEDS libonnxruntime.so.1 (RUNPATH $ORIGIN/).
//   darwin: onnxruntime_binding.node loads @rpath/libonnxruntime.1.dylib (rpath @loader_path);
//           libonnxruntime.1.30.0.dylib is a byte-identical second copy (install name libonnxruntime.1.dylib)
//           that nothing loads: leaving it out keeps darwin-arm64 at about 26 MB instead of 38 MB.
//   win32:  onnxruntime_binding.node imports onnxruntime.dll, which delay-loads DirectML.dll (the DirectML
//           execution provider). dxcompiler.dll and dxil.dll are no import of either: onnxruntime's WebGPU
//           execution provider (Dawn on D3D12) loads them by name when asked for; Sequence Lens never asks
//           for it, and with them win32-x64 would be about 41 MB, over the 40 MB a package may take.
// CUDA's provider libraries (libonnxruntime_providers_cuda.so, _shared.so) are never packaged: the user
// puts them beside the binding (docs/native-backend.md), and a packaged copy would be hundreds of MB.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const ORT_NODE_BIN = 'node_modules/onnxruntime-node/bin';

/** @type {Record<string, string[]>} the files each platform's package carries, by process.platform */
export const NATIVE_FILES = {
  linux: ['onnxruntime_binding.node', 'libonnxruntime.so.1'],
  darwin: ['onnxruntime_binding.node', 'libonnxruntime.1.dylib'],
  win32: ['onnxruntime_binding.node', 'onnxruntime.dll', 'DirectML.dll'],
};

/** The folder onnxruntime-node keeps one platform's binaries in (bin/napi-v<N>/<platform>/<arch>), or undefined. */
export function ortNodeBinDir(platform, arch) {
  if (!existsSync(ORT_NODE_BIN)) return undefined;
  for (const napi of readdirSync(ORT_NODE_BIN).filter((d) => /^napi-v\d+$/.test(d)).sort().reverse()) {
    const dir = join(ORT_NODE_BIN, napi, platform, arch);
    if (existsSync(join(dir, 'onnxruntime_binding.node'))) return dir;
  }
  return undefined;
}

/** Every `<platform>-<arch>` onnxruntime-node carries a binding for, read from its bin/napi-v<N>/ folders. */
export function ortNodeTargets() {
  const targets = new Set();
  if (!existsSync(ORT_NODE_BIN)) return [];
  for (const napi of readdirSync(ORT_NODE_BIN).filter((d) => /^napi-v\d+$/.test(d))) {
    for (const platform of readdirSync(join(ORT_NODE_BIN, napi))) {
      for (const arch of readdirSync(join(ORT_NODE_BIN, napi, platform))) {
        if (existsSync(join(ORT_NODE_BIN, napi, platform, arch, 'onnxruntime_binding.node'))) targets.add(`${platform}-${arch}`);
      }
    }
  }
  return [...targets].sort();
}
