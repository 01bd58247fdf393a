/**
 * The one HTML page both the side panel and the .onnx inspector load: the page's start script (inline, see
 * src/shared/pageStart.ts) and the webview app bundle (dist/webview.js), both under a strict nonce CSP.
 * No vscode import, so it is unit-tested as a string.
 */
import { PAGE_START_SCRIPT } from '../shared/pageStart.js';

export interface WebviewPageOptions {
  /** `webview.cspSource` of the hosting webview. */
  cspSource: string;
  nonce: string;
  /** Webview URI of dist/webview.js. */
  scriptUri: string;
  /** Webview URIs of the chunks dist/webview.js imports at once (dist/webview-preload.json), fetched beside it. */
  preloadUris?: readonly string[];
  /** Webview URI of the folder holding the onnxruntime-web wasm pair (media/ort/), with a trailing '/'. */
  wasmBase: string;
  /** Webview URI of media/ (css, icons), with a trailing '/'. */
  mediaBase: string;
  mode: 'panel' | 'inspector';
  title: string;
}

/** 128 bits of randomness, hex: hex is a subset of the CSP nonce alphabet (base64). */
export function makeNonce(random: (n: number) => Uint8Array): string {
  return Array.from(random(16), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource} 'unsafe-inline'`,
    // blob: only for onnxruntime-web's own script, which the page fetches once and imports as a blob (see
    // ortWebBackend.ts importFromBlob); inline scripts only with the nonce (the page's start script).
    `script-src 'nonce-${nonce}' ${cspSource} blob: 'wasm-unsafe-eval'`,
    `connect-src ${cspSource}`,
    `img-src ${cspSource} data: blob:`,
    // onnxruntime-web runs inference in a worker it starts from a blob: copy of its own chunk.
    'worker-src blob:',
  ].join('; ');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function webviewPage(o: WebviewPageOptions): string {
  const slash = (s: string): string => (s.endsWith('/') ? s : `${s}/`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeAttr(o.title)}</title>
${(o.preloadUris ?? []).map((u) => `<link rel="modulepreload" nonce="${o.nonce}" href="${escapeAttr(u)}">`).join('\n')}
</head>
<body data-mode="${o.mode}" data-wasm-base="${escapeAttr(slash(o.wasmBase))}" data-media-base="${escapeAttr(slash(o.mediaBase))}">
<div id="app"></div>
<script nonce="${o.nonce}">${PAGE_START_SCRIPT}</script>
<script type="module" nonce="${o.nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
