/**
 * The bundle's first module to run (main.ts imports it first): marks the script's start and takes the host's
 * messages from the page's inline start script (src/shared/pageStart.ts), which said 'ready' as the document
 * started and kept what the host sent meanwhile. Every page that loads the bundle has that script: VS Code's
 * (webviewHtml.ts) and the test harness's (harnessServer.ts).
 */
import { markPage, PAGE_MARKS } from './pageMarks.js';
import { pageStartHandle } from '../src/shared/pageStart.js';

markPage(PAGE_MARKS.scriptStart);

/** Hands every message from the host to `h`: first those that came before this call, in order, then the rest. */
export function receiveHostMessages(h: (data: unknown) => void): void {
  const start = pageStartHandle();
  if (!start) throw new Error('This page lacks Sequence Lens\'s inline start script (src/shared/pageStart.ts), which says \'ready\' and keeps the host\'s messages.');
  start.receive(h);
}
