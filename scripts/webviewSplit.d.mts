export declare const WEBVIEW_SPLIT: { splitting: boolean; chunkNames: string };
