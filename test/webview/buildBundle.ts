/**
 * Builds the webview bundle (same options as esbuild.mjs's webview entry) into a private path that the
 * harness server serves as /dist/webview.js, so a concurrent `npm run build` cannot swap the bundle under
 * a running test; checks that the ort-web wasm pair is in media/ort/.
 */
export const TEST_BUNDLE = 'test-results/webview-bundle/webview.js';

import * as esbuild from 'esbuild';
import { writeOrtWasm } from '../../scripts/ortWasm.mjs';
import { rmSync } from 'node:fs';
import { WEBVIEW_SPLIT } from '../../scripts/webviewSplit.mjs';
import { basename, dirname, join } from 'node:path';

/** `out`: where the bundle goes (a test of its own passes its own path, so concurrent tests do not swap it). */
export async function buildWebviewBundle(out = TEST_BUNDLE): Promise<void> {
  rmSync(dirname(out), { recursive: true, force: true });
  await esbuild.build({
    bundle: true, sourcemap: true, minify: false, target: 'es2022', logLevel: 'warning',
    ...WEBVIEW_SPLIT, entryPoints: { [basename(out, '.js')]: 'webview/main.ts' }, outdir: dirname(out), platform: 'browser', format: 'esm', loader: { '.css': 'text' },
  });
  for (const [entry, file] of [['webview/runtime/ortEntry.ts', 'webview-ort.js'], ['webview/workers/pcaWorker.ts', 'webview-pca.js']]) {
    await esbuild.build({
      bundle: true, sourcemap: true, minify: false, target: 'es2022', logLevel: 'warning',
      entryPoints: [entry], outfile: join(dirname(out), file), platform: 'browser', format: 'esm',
    });
  }
  writeOrtWasm();
}
