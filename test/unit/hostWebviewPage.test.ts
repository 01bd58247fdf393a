/** The webview page both host panels load: strict nonce CSP, the app bundle, the wasm base. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, webviewPage } from '../../src/panels/webviewHtml.js';

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
    // Only one script, and nothing inline that the CSP would have to allow.
    assert.equal(html.match(/<script/g)?.length, 1);
  });

  it('makes a fresh hex nonce from 16 random bytes', () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 16, 32, 64, 128, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(makeNonce(() => bytes), '000102ff10204080030405060708090a');
  });
});
