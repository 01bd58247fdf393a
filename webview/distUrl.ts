/**
 * URLs of the files beside the page's bundle (dist/webview-ort.js, dist/webview-pca.js, ../media/). Resolved
 * from dist/webview.js, the page's entry (main.ts sets it), not from each module's own import.meta.url: code
 * split into dist/webview-chunks/ has its own URL there.
 */
let entryUrl: string | undefined;

/** main.ts passes its import.meta.url (dist/webview.js). */
export function setEntryUrl(url: string): void {
  entryUrl = url;
}

/** `rel` resolved against dist/webview.js (e.g. 'webview-ort.js', '../media/ort/'). */
export function distUrl(rel: string): string {
  if (!entryUrl) throw new Error('distUrl before the page entry set its URL');
  return new URL(rel, entryUrl).toString();
}
