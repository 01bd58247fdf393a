/**
 * Serves the repository over http://127.0.0.1 (a secure context, so WebGPU is allowed) for the webview
 * harness: test/webview/harness.html, dist/webview.js, media/ (ort wasm pair, zoo models).
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { PAGE_START_SCRIPT } from '../../src/shared/pageStart.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json', '.css': 'text/css', '.onnx': 'application/octet-stream', '.map': 'application/json',
};

export interface Harness { server: Server; origin: string; requests: string[]; close(): Promise<void> }

export interface HarnessOptions {
  /**
   * Serve every response with COOP `same-origin` and COEP `require-corp`, which makes the page cross-origin
   * isolated (SharedArrayBuffer, so onnxruntime-web's threads), as VS Code does for webviews when started
   * with `--enable-coi` / `?vscode-coi`. Every file (the page, its module, onnxruntime-web's worker script,
   * wasm, models) comes from this one origin, so none needs a CORP header of its own; workers started from a
   * URL take COEP from their script's response, hence the headers on every response, not only the page.
   */
  crossOriginIsolated?: boolean;
}

/** `bundle`: file served as /dist/webview.js (its folder as /dist/: chunks, maps); default the real dist/webview.js. */
export async function startHarness(root = resolve('.'), bundle?: string, opts: HarnessOptions = {}): Promise<Harness> {
  const isolation: Record<string, string> = opts.crossOriginIsolated
    ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
    : {};
  const requests: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(url.pathname);
      const path = url.pathname === '/' ? '/test/webview/harness.html' : url.pathname;
      // The bundle's entry and its chunks (dist/webview.js, dist/webview-chunks/…) come from the test build.
      const mapped = bundle && path.startsWith('/dist/webview') ? `/${dirname(bundle)}/${path.slice('/dist/'.length)}` : path;
      const file = normalize(join(root, decodeURIComponent(mapped)));
      if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
      try {
        if (!(await stat(file)).isFile()) throw new Error('not a file');
        const read = await readFile(file);
        // The harness page gets the start script VS Code's page has (src/panels/webviewHtml.ts).
        const body = path.endsWith('/harness.html') ? read.toString('utf8').replace(/<!--page-start:[^>]*-->/, `<script nonce="harness">${PAGE_START_SCRIPT}</script>`) : read;
        res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...isolation });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { server, origin: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic'];
/** WebGPU on the CPU (SwiftShader): --disable-gpu would hide the adapter. */
export const WEBGPU_ARGS = ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader'];
