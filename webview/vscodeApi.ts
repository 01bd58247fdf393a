/**
 * The VS Code webview API, as the page's inline start script acquired it (src/shared/pageStart.ts; it may be
 * acquired once per page), in VS Code and in the test harness (which defines a fake `acquireVsCodeApi`) alike.
 */
import type { WebviewToHost } from '../src/shared/protocol.js';
import { pageStartHandle } from '../src/shared/pageStart.js';

export interface VsCodeApi {
  postMessage(msg: WebviewToHost, transfer?: Transferable[]): void;
  getState(): unknown;
  setState(state: unknown): void;
}

let api: VsCodeApi | undefined;

export function vscodeApi(): VsCodeApi {
  if (api) return api;
  const raw = pageStartHandle()?.api;
  if (raw) {
    api = { postMessage: (m, t) => raw.postMessage(m, t), getState: () => raw.getState(), setState: (s) => raw.setState(s) };
  } else {
    // Opened outside VS Code (a plain browser): log messages, keep state in memory.
    let state: unknown;
    api = { postMessage: (m) => console.log('[to host]', m), getState: () => state, setState: (s) => { state = s; } };
  }
  return api;
}
