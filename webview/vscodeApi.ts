/**
 * The VS Code webview API behind a replaceable factory, so the app runs in the test harness (which
 * defines a fake `acquireVsCodeApi`) and in VS Code alike. The page's inline start script acquires it
 * (it may be acquired once per page): it is taken from there.
 */
import type { WebviewToHost } from '../src/shared/protocol.js';
import { pageStartHandle } from '../src/shared/pageStart.js';

export interface VsCodeApi {
  postMessage(msg: WebviewToHost, transfer?: Transferable[]): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  // Provided by VS Code inside webviews (and by test/webview/harness.html).
  function acquireVsCodeApi(): { postMessage(msg: unknown, transfer?: Transferable[]): void; getState(): unknown; setState(s: unknown): void };
}

let api: VsCodeApi | undefined;

export function vscodeApi(): VsCodeApi {
  if (api) return api;
  const start = pageStartHandle();
  const raw = start ? start.api : typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
  if (raw) {
    api = { postMessage: (m, t) => raw.postMessage(m, t), getState: () => raw.getState(), setState: (s) => raw.setState(s) };
  } else {
    // Opened outside VS Code (a plain browser): log messages, keep state in memory.
    let state: unknown;
    api = { postMessage: (m) => console.log('[to host]', m), getState: () => state, setState: (s) => { state = s; } };
  }
  return api;
}
