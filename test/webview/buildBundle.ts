/**
 * Builds only dist/webview.js (same options as esbuild.mjs's webview entry) and checks that the ort-web
 * wasm pair is in media/ort/, so the webview tests do not depend on the host or CLI bundles compiling.
 */
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

export async function buildWebviewBundle(): Promise<void> {
  await esbuild.build({
    bundle: true, sourcemap: true, minify: false, target: 'es2022', logLevel: 'warning',
    entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'esm', loader: { '.css': 'text' },
  });
  mkdirSync('media/ort', { recursive: true });
  for (const f of ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm']) {
    if (!existsSync(`media/ort/${f}`)) copyFileSync(`node_modules/onnxruntime-web/dist/${f}`, `media/ort/${f}`);
  }
}
