/**
 * onnxruntime-web as a file of its own (dist/webview-ort.js), loaded by the webview with a dynamic
 * import. Being self-contained (no imports), it can also be started as onnxruntime-web's proxy worker
 * from a blob: copy of itself, which is how inference gets off the UI thread.
 */
export * from 'onnxruntime-web/jspi';
