/**
 * The bundle's first module to run (main.ts imports it first): marks the script's start and says `ready` to the
 * host at once, before the rest of the bundle's modules and the App are set up (130-230 ms in headless
 * Chromium). The host answers `ready` with `init` and, on a right-click, the trace to show; its answer and the
 * trip of the trace through VS Code now overlap with that set-up instead of following it. Nothing is lost:
 * a message event is dispatched only once the bundle's evaluation has ended (and main.ts has taken the
 * messages), and one that came earlier all the same (a module awaiting at its top level) waits here.
 */
import { markPage, PAGE_MARKS } from './pageMarks.js';
import { vscodeApi } from './vscodeApi.js';

let handler: ((data: unknown) => void) | undefined;
const early: unknown[] = [];

markPage(PAGE_MARKS.scriptStart);
window.addEventListener('message', (e: MessageEvent<unknown>) => {
  if (handler) handler(e.data);
  else early.push(e.data);
});
markPage(PAGE_MARKS.ready);
vscodeApi().postMessage({ type: 'ready' });

/** Hands every message from the host to `h`: first those that came before this call, in order, then the rest. */
export function receiveHostMessages(h: (data: unknown) => void): void {
  handler = h;
  for (const data of early.splice(0)) h(data);
}
