// The webview bundle's code splitting, shared by esbuild.mjs and test/webview/buildBundle.ts: the page's
// first script holds what its first picture needs; chunks (dist/webview-chunks/) come on first use.
export const WEBVIEW_SPLIT = { splitting: true, chunkNames: 'webview-chunks/[name]-[hash]' };
