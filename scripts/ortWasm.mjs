// @ts-check
/**
 * onnxruntime-web's wasm, as the extension ships it: the JSPI build (WebGPU and WASM EPs; 16.8 MB, where the
 * asyncify build it replaced was 26.8 MB and took 2.1-2.8 s against 1.2-1.4 s to create a first session in
 * Chromium, with runs that varied 11-61 ms against a steady 6 ms), gzip-compressed. The page fetches
 * the .gz and inflates it with DecompressionStream: in code-server every webview resource crosses the
 * network (about 4–5 MB/s measured), so the raw file was 5–7 s of the first run. Used by esbuild.mjs and
 * by the webview tests' own bundle build.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const ORT_WASM = 'ort-wasm-simd-threaded.jspi.wasm';
export const ORT_GLUE = 'ort-wasm-simd-threaded.jspi.mjs';
const FROM = 'node_modules/onnxruntime-web/dist';

/** Writes media/ort/<glue> and media/ort/<wasm>.gz (again only when onnxruntime-web's file is newer). */
export function writeOrtWasm(dir = 'media/ort') {
  mkdirSync(dir, { recursive: true });
  copyFileSync(`${FROM}/${ORT_GLUE}`, `${dir}/${ORT_GLUE}`);
  const src = `${FROM}/${ORT_WASM}`;
  const gz = `${dir}/${ORT_WASM}.gz`;
  if (!existsSync(gz) || statSync(gz).mtimeMs < statSync(src).mtimeMs) writeFileSync(gz, gzipSync(readFileSync(src), { level: 9 }));
  // The uncompressed copy, and the files of the build shipped before (asyncify), would only be dead weight beside it.
  for (const f of readdirSync(dir)) if (f.startsWith('ort-wasm-') && f !== ORT_GLUE && f !== `${ORT_WASM}.gz`) rmSync(`${dir}/${f}`, { force: true });
}
