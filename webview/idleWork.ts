/**
 * Work a new page can leave until after its first picture: run when the page is next idle (after the frame that
 * shows the picture, when a trace is being drawn), or after `timeoutMs` at the latest.
 */
export function whenIdle(fn: () => void, timeoutMs: number): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => fn(), { timeout: timeoutMs });
  else setTimeout(fn, 0);
}
