/**
 * The page's first script, inline in its HTML (under the page's CSP nonce) ahead of the app bundle. It says
 * 'ready' to the host as the document starts and keeps the host's messages until the bundle takes them
 * (webview/pageStart.ts). The host answers 'ready' with `init` and, on a right-click, the trace to show;
 * that round trip through VS Code (200-300 ms in a new code-server window) now overlaps the fetch and
 * compile of the bundle (300 KB, 0.25-0.35 s there) instead of following them.
 *
 * Plain JavaScript, no imports: it runs as written, in VS Code's webview and in the test harness
 * (test/webview/harnessServer.ts inserts it). `acquireVsCodeApi` may be called once per page, so the
 * bundle takes the API from here (webview/vscodeApi.ts).
 */

/** The mark set as the page says 'ready' (webview/pageMarks.ts lists it with the others). */
export const READY_MARK = 'seqlens:ready';

/** Where the inline script leaves its handle for the bundle. */
export const PAGE_START_GLOBAL = '__seqlensPageStart';

/** What the inline script leaves on `window[PAGE_START_GLOBAL]`. */
export interface PageStartHandle {
  /** VS Code's webview API, acquired once here; undefined outside VS Code (a plain browser). */
  api?: { postMessage(msg: unknown, transfer?: Transferable[]): void; getState(): unknown; setState(s: unknown): void };
  /** Hands every message from the host to `handler`: first those that came before this call, in order, then the rest. */
  receive(handler: (data: unknown) => void): void;
}

export const PAGE_START_SCRIPT = `(() => {
  performance.mark(${JSON.stringify(READY_MARK)});
  const api = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
  const early = [];
  let handler;
  addEventListener('message', (e) => { if (handler) handler(e.data); else early.push(e.data); });
  // 'ready' went before the bundle loaded: a bundle that fails to load is said in the host's log, not left to a timeout alone.
  addEventListener('error', (e) => {
    const t = e.target;
    if (api && t && t.tagName === 'SCRIPT') api.postMessage({ type: 'log', level: 'error', message: 'The Sequence Lens page could not load its script ' + t.src + '; reinstalling the extension may help.' });
  }, true);
  window[${JSON.stringify(PAGE_START_GLOBAL)}] = {
    api,
    receive(h) { handler = h; for (const d of early.splice(0)) h(d); },
  };
  if (api) api.postMessage({ type: 'ready' });
})();`;

/** The inline script's handle, when the page has one (VS Code's page and the harness do). */
export function pageStartHandle(): PageStartHandle | undefined {
  return (globalThis as unknown as Record<string, PageStartHandle | undefined>)[PAGE_START_GLOBAL];
}
