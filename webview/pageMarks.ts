/**
 * Performance marks of a new page's start and first picture, for bench/firstPicture.ts and for anyone looking at
 * a webview's timeline in the developer tools (issue #9: a cold right-click until the heatmap). A mark costs
 * microseconds. `ready` is set by the page's inline start script (src/shared/pageStart.ts) as the document starts,
 * `scriptStart` by pageStart.ts, the bundle's first module to run.
 */
import { READY_MARK } from '../src/shared/pageStart.js';

export const PAGE_MARKS = {
  scriptStart: 'seqlens:script-start',
  ready: READY_MARK,
  /** The bundle's modules have run and the App is built: host messages are handled from here on. */
  started: 'seqlens:started',
  traceReceived: 'seqlens:trace-received',
  traceDrawn: 'seqlens:trace-drawn',
} as const;

export function markPage(name: (typeof PAGE_MARKS)[keyof typeof PAGE_MARKS]): void {
  performance.mark(name);
}
