/**
 * Webview entry: reads the page's configuration (data attributes the host writes on <body>), starts the
 * app, validates every host message, and exposes a read-only test hook (`window.__seqlens`).
 */
import { receiveHostMessages } from './pageStart.js';
import { isHostToWebview } from '../src/shared/protocol.js';
import { App } from './app.js';
import { vscodeApi } from './vscodeApi.js';
import { installTestHook } from './testHook.js';
import { warmUp } from './runtime/ortWebBackend.js';
import css from '../media/webview.css';
import { markPage, PAGE_MARKS } from './pageMarks.js';
import { distUrl, setEntryUrl } from './distUrl.js';

const style = document.createElement('style');
style.textContent = css;
document.head.append(style);

const body = document.body;
setEntryUrl(import.meta.url);
const wasmBase = body.dataset.wasmBase ?? distUrl('../media/ort/');
const root = document.getElementById('app') ?? body.appendChild(document.createElement('div'));
root.id = 'app';
const api = vscodeApi();
const mediaBase = body.dataset.mediaBase ?? distUrl('../media/');
const app = new App(api, root, { wasmBase, mediaBase });
if (body.dataset.mode === 'inspector') app.mode = 'inspector';

// `ready` went to the host when the bundle started (pageStart.ts): its answers may already be waiting.
receiveHostMessages((data) => {
  if (isHostToWebview(data)) app.handle(data);
  else api.postMessage({ type: 'log', level: 'warn', message: `dropped a malformed message: ${JSON.stringify(data)?.slice(0, 200)}` });
});
installTestHook(app);
markPage(PAGE_MARKS.started);
// Load onnxruntime-web and compile its wasm before the user's next run: once the page has answered its first
// request (a new page's first picture is usually a native run's, on Auto) or WARM_UP_DELAY_MS after it
// started, whichever comes first, and never while the host's native run for this page is in progress (it
// ends with that first picture). Begun at page start it slowed that first picture: a native trace drawn
// in a new page 2.0-2.2 s after its start with the warm-up beside it, 0.8-1.2 s without (headless Chromium).
// `data-warm-up="off"` (the benchmark's cold first run) leaves it to the first run, as before.
const WARM_UP_DELAY_MS = 1500;
if (body.dataset.warmUp !== 'off') {
  const delay = new Promise((resolve) => setTimeout(resolve, WARM_UP_DELAY_MS)).then(() => app.hostRunsSettled());
  const begin = Promise.race([app.toHost.answered, delay]);
  void warmUp(wasmBase, begin).then((w) => {
    if (!w.error) api.postMessage({ type: 'runtimeReady', ms: w.ms });
    if (w.error) api.postMessage({ type: 'log', level: 'warn', message: `onnxruntime-web warm-up failed after ${w.ms.toFixed(0)} ms (the first run loads it instead): ${w.error}` });
  });
}
