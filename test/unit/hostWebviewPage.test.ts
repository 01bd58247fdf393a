/** The webview page both host panels load: strict nonce CSP, the app bundle, the wasm base. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, webviewPage } from '../../src/panels/webviewHtml.js';
import { PAGE_START_GLOBAL, type PageStartHandle } from '../../src/shared/pageStart.js';
import { webviewToHostProblem } from '../../src/shared/protocol.js';

const opts = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  nonce: 'abc123',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
  wasmBase: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/ort',
  mediaBase: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/',
  mode: 'panel' as const,
  title: 'Sequence <Lens>',
};

describe('webview page', () => {
  it('has exactly the agreed CSP', () => {
    assert.equal(contentSecurityPolicy('SRC', 'N'),
      "default-src 'none'; style-src SRC 'unsafe-inline'; script-src 'nonce-N' SRC blob: 'wasm-unsafe-eval'; connect-src SRC; img-src SRC data: blob:; worker-src blob:");
  });

  it('loads the bundle as a module with the nonce and gives the wasm folder with a trailing slash', () => {
    const html = webviewPage(opts);
    assert.match(html, /<script type="module" nonce="abc123" src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\.js"><\/script>/);
    assert.match(html, /data-wasm-base="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/media\/ort\/"/);
    assert.match(html, /data-mode="panel"/);
    assert.match(html, /<title>Sequence &lt;Lens&gt;<\/title>/);
    // Two scripts, each with the nonce: the inline start script, then the bundle; no inline handlers.
    assert.equal(html.match(/<script/g)?.length, 2);
    assert.equal(html.match(/<script[^>]* nonce="abc123"/g)?.length, 2);
    assert.doesNotMatch(html, /\son[a-z]+=/i);
    assert.ok(html.indexOf('<script nonce="abc123">') < html.indexOf('<script type="module"'), 'the start script comes first');
  });

  it('the start script says ready at once, acquires the API once, and keeps host messages until the bundle takes them', () => {
    const html = webviewPage(opts);
    const script = /<script nonce="abc123">([\s\S]*?)<\/script>/.exec(html)?.[1];
    assert.ok(script);
    // Run it as the page would, against a fake window and VS Code API.
    const posted: unknown[] = [];
    let acquired = 0;
    type Listener = (e: { data?: unknown; target?: unknown }) => void;
    const listeners: Listener[] = [];
    const errorListeners: Listener[] = [];
    const marks: string[] = [];
    const win: Record<string, unknown> = {};
    const run = new Function('window', 'acquireVsCodeApi', 'addEventListener', 'performance', script);
    run(win, () => {
      acquired++;
      return { postMessage: (m: unknown) => posted.push(m), getState: () => undefined, setState: () => undefined };
    }, (type: string, l: Listener) => {
      if (type === 'message') listeners.push(l);
      if (type === 'error') errorListeners.push(l);
    }, { mark: (n: string) => marks.push(n) });
    assert.deepEqual(posted, [{ type: 'ready' }]);
    assert.equal(acquired, 1);
    assert.deepEqual(marks, ['seqlens:ready']);
    const handle = win[PAGE_START_GLOBAL] as PageStartHandle;
    assert.ok(handle.api);
    for (const l of listeners) l({ data: { type: 'init' } });
    for (const l of listeners) l({ data: { type: 'showTrace', id: 1 } });
    const got: unknown[] = [];
    handle.receive((d) => got.push(d));
    for (const l of listeners) l({ data: { type: 'cancel', id: 1 } });
    assert.deepEqual(got, [{ type: 'init' }, { type: 'showTrace', id: 1 }, { type: 'cancel', id: 1 }]);
    // The bundle failing to load (a script element's error, caught on the way down) reaches the host's log.
    for (const l of errorListeners) l({ target: { tagName: 'IMG', src: 'x.png' } });
    for (const l of errorListeners) l({ target: { tagName: 'SCRIPT', src: 'https://r/dist/webview.js' } });
    assert.equal(posted.length, 2);
    assert.match(String((posted[1] as Record<string, unknown>).message), /could not load its script https:\/\/r\/dist\/webview\.js/);
    assert.equal(webviewToHostProblem(posted[1]), undefined);
  });

  it('preloads the chunks the bundle imports at once, under the nonce, and nothing when there are none', () => {
    const chunk = 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview-chunks/chunk-AB12.js';
    const html = webviewPage({ ...opts, preloadUris: [chunk, `${chunk}?"x`] });
    assert.equal(html.match(/<link rel="modulepreload" nonce="abc123" href="[^"]*">/g)?.length, 2);
    assert.ok(html.includes(`href="${chunk}"`));
    assert.ok(html.includes('href="https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview-chunks/chunk-AB12.js?&quot;x"'), 'attribute escaped');
    assert.ok(html.indexOf('modulepreload') < html.indexOf('<script'), 'in the head, before the scripts');
    assert.doesNotMatch(webviewPage(opts), /modulepreload/);
  });

  it('makes a fresh hex nonce from 16 random bytes', () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 16, 32, 64, 128, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(makeNonce(() => bytes), '000102ff10204080030405060708090a');
  });
});
