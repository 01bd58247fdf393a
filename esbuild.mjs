// Builds the bundles and copies the one onnxruntime-web WASM pair the webview loads.
//   host:    src/extension.ts -> dist/extension.cjs (node, cjs, vscode external)
//   cli:     src/cli.ts       -> dist/cli.mjs       (node, esm, onnxruntime-node external)
//   native:  src/node/nativeWorker.ts -> dist/nativeWorker.cjs (node, cjs): the native backend's worker thread,
//            with onnxruntime-node's JavaScript bundled in; its binary (which esbuild cannot bundle) is loaded at
//            run time from dist/native/<platform>-<arch>/, copied there from node_modules for one platform
//   webview: webview/main.ts  -> dist/webview.js    (browser, esm; chunks loaded on first use in dist/webview-chunks/),
//            and onnxruntime-web -> dist/webview-ort.js
// `node esbuild.mjs --production` minifies; `--watch` rebuilds on change.
// `--native <platform>-<arch>` (default: this machine's) picks the onnxruntime-node binaries copied into dist/native/
// (one platform per .vsix: `vsce package --target`, `npm run package:all` builds them all); `--native none` copies
// none (the universal WASM-only package).
import { writeOrtWasm } from './scripts/ortWasm.mjs';
import { WEBVIEW_SPLIT } from './scripts/webviewSplit.mjs';
import { NATIVE_FILES, ortNodeBinDir } from './scripts/nativeFiles.mjs';
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const nativeArg = process.argv.indexOf('--native');
const nativeTarget = nativeArg >= 0 ? process.argv[nativeArg + 1] : `${process.platform}-${process.arch}`;

/**
 * onnxruntime-node loads its binding with require(`../bin/napi-v6/${platform}/${arch}/onnxruntime_binding.node`),
 * which a bundle cannot resolve: the worker bundle loads it from dist/native/<platform>-<arch>/ beside itself
 * (libonnxruntime is found next to the binding: its RUNPATH is $ORIGIN). A missing folder (the universal
 * package, another platform) makes that require fail, which the native backend reports as unavailable.
 */
const ortNodeBinding = {
  name: 'ort-node-binding',
  setup(build) {
    build.onLoad({ filter: /onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const src = await readFile(args.path, 'utf8');
      const from = 'require(`../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`)';
      if (!src.includes(from)) throw new Error(`onnxruntime-node's binding.js changed: no ${from}`);
      const to = "require(require('node:path').join(__dirname, 'native', `${process.platform}-${process.arch}`, 'onnxruntime_binding.node'))";
      return { contents: src.replace(from, to), loader: 'js' };
    });
  },
};

/**
 * Writes dist/webview-preload.json: the chunks dist/webview.js imports at once (code it shares with the chunks
 * loaded later). The page's HTML preloads them beside the bundle (src/panels/webviewHtml.ts), so they do not
 * wait for the bundle to arrive and be parsed before their own fetch starts.
 */
const webviewPreloadList = {
  name: 'webview-preload-list',
  setup(build) {
    build.onEnd((result) => {
      const entry = result.metafile?.outputs['dist/webview.js'];
      if (!entry) return;
      const chunks = entry.imports.filter((i) => i.kind === 'import-statement').map((i) => i.path.replace(/^dist\//, ''));
      writeFileSync('dist/webview-preload.json', `${JSON.stringify(chunks)}\n`);
    });
  },
};

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
  existsSync('src/node/nativeWorker.ts') && {
    ...common, entryPoints: ['src/node/nativeWorker.ts'], outfile: 'dist/nativeWorker.cjs', platform: 'node', format: 'cjs',
    // The worker only runs onnxruntime-node; backends.ts's WASM-in-Node loader is never called there.
    external: ['onnxruntime-web'], plugins: [ortNodeBinding],
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  },
  // The page's first script is what its first picture needs; what runs a model in the page (decoding, probes,
  // tokenizers, protobufjs), the inspector's facts and the story bench come as chunks on first use.
  existsSync('webview/main.ts') && {
    ...common, ...WEBVIEW_SPLIT, entryPoints: { webview: 'webview/main.ts' }, outdir: 'dist', platform: 'browser', format: 'esm',
    loader: { '.css': 'text' }, metafile: true, plugins: [webviewPreloadList],
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

// The webview uses onnxruntime-web's WebGPU+WASM build, which loads exactly this pair (its wasm gzipped).
writeOrtWasm();

// Chunks are named by their hash: last build's would pile up.
rmSync('dist/webview-chunks', { recursive: true, force: true });

// onnxruntime-node's binaries for one platform (see ortNodeBinding), and no other platform's.
rmSync('dist/native', { recursive: true, force: true });
if (nativeTarget !== 'none') {
  const [platform, arch] = nativeTarget.split('-');
  const from = ortNodeBinDir(platform, arch);
  // Only what this platform's binding loads (scripts/nativeFiles.mjs): never CUDA's provider libraries a
  // developer put in node_modules, nor a second copy of the library.
  const files = NATIVE_FILES[platform];
  if (from && files) {
    const to = `dist/native/${platform}-${arch}`;
    mkdirSync(to, { recursive: true });
    let bytes = 0;
    for (const f of files) {
      if (!existsSync(join(from, f))) throw new Error(`native backend: onnxruntime-node's ${platform}-${arch} folder (${from}) has no ${f}`);
      copyFileSync(join(from, f), join(to, f));
      bytes += statSync(join(from, f)).size;
    }
    const left = readdirSync(from).filter((f) => !files.includes(f));
    console.log(`native backend: onnxruntime-node ${platform}-${arch} binaries -> ${to} (${files.join(', ')}; ${(bytes / 2 ** 20).toFixed(1)} MB)` +
      (left.length ? `; not copied: ${left.join(', ')}` : ''));
  } else {
    console.warn(`native backend: no onnxruntime-node binaries for ${nativeTarget} (node_modules/onnxruntime-node/bin/napi-v*/${platform}/${arch}); the native backend will report itself unavailable.`);
  }
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
