// Builds the bundles and copies the one onnxruntime-web WASM pair the webview loads.
//   host:    src/extension.ts -> dist/extension.cjs (node, cjs, vscode external)
//   cli:     src/cli.ts       -> dist/cli.mjs       (node, esm, onnxruntime-node external)
//   webview: webview/main.ts  -> dist/webview.js    (browser, esm), and onnxruntime-web -> dist/webview-ort.js
// `node esbuild.mjs --production` minifies; `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info', target: 'es2022' };
const builds = [
  existsSync('src/extension.ts') && {
    ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.cjs', platform: 'node', format: 'cjs',
    external: ['vscode'],
  },
  existsSync('src/cli.ts') && {
    ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.mjs', platform: 'node', format: 'esm',
    external: ['onnxruntime-node', 'onnxruntime-web'],
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  },
  existsSync('webview/main.ts') && {
    ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'esm',
    loader: { '.css': 'text' },
  },
  // The hidden-state PCA worker, started by the webview from a blob: copy.
  existsSync('webview/workers/pcaWorker.ts') && {
    ...common, entryPoints: ['webview/workers/pcaWorker.ts'], outfile: 'dist/webview-pca.js', platform: 'browser', format: 'esm',
  },
  // onnxruntime-web on its own: imported at run time by the webview, and started by itself as its worker.
  existsSync('webview/runtime/ortEntry.ts') && {
    ...common, entryPoints: ['webview/runtime/ortEntry.ts'], outfile: 'dist/webview-ort.js', platform: 'browser', format: 'esm',
  },
].filter(Boolean);

// The webview uses onnxruntime-web's WebGPU+WASM build, which loads exactly this pair.
const ortDir = 'node_modules/onnxruntime-web/dist';
const ortFiles = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];
mkdirSync('media/ort', { recursive: true });
for (const f of ortFiles) copyFileSync(`${ortDir}/${f}`, `media/ort/${f}`);

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
