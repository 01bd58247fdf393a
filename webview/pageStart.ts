/**
 * The bundle's first module to run (main.ts imports it first): marks the script's start and takes the host's
 * messages from the page's inline start script (src/shared/pageStart.ts), which said 'ready' as the document
 * started and kept what the host sent meanwhile. A page without that script (opened outside VS Code and the
 * harness) says 'ready' here and listens from now on.
 */
import { markPage, PAGE_MARKS } from './pageMarks.js';
import { vscodeApi } from './vscodeApi.js';
import { pageStartHandle } from '../src/shared/pageStart.js';

markPage(PAGE_MARKS.scriptStart);

/** Hands every message from the host to `h`: first those that came before this call, in order, then the rest. */
export function receiveHostMessages(h: (data: unknown) => void): void {
  const start = pageStartHandle();
  if (start) {
    start.receive(h);
    return;
  }
  window.addEventListener('message', (e: MessageEvent<unknown>) => h(e.data));
  markPage(PAGE_MARKS.ready);
  vscodeApi().postMessage({ type: 'ready' });
}
