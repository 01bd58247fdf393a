// @ts-check
/**
 * onnxruntime-web's wasm, as the extension ships it: gzip-compressed (26.8 MB → 6.7 MB). The page fetches
 * the .gz and inflates it with DecompressionStream: in code-server every webview resource crosses the
 * network (about 4–5 MB/s measured), so the raw file was 5–7 s of the first run. Used by esbuild.mjs and
 * by the webview tests' own bundle build.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const ORT_WASM = 'ort-wasm-simd-threaded.asyncify.wasm';
export const ORT_GLUE = 'ort-wasm-simd-threaded.asyncify.mjs';
const FROM = 'node_modules/onnxruntime-web/dist';

/** Writes media/ort/<glue> and media/ort/<wasm>.gz (again only when onnxruntime-web's file is newer). */
export function writeOrtWasm(dir = 'media/ort') {
  mkdirSync(dir, { recursive: true });
  copyFileSync(`${FROM}/${ORT_GLUE}`, `${dir}/${ORT_GLUE}`);
  const src = `${FROM}/${ORT_WASM}`;
  const gz = `${dir}/${ORT_WASM}.gz`;
  if (!existsSync(gz) || statSync(gz).mtimeMs < statSync(src).mtimeMs) writeFileSync(gz, gzipSync(readFileSync(src), { level: 9 }));
  // The uncompressed copy of earlier builds would only be dead weight beside it.
  rmSync(`${dir}/${ORT_WASM}`, { force: true });
}
