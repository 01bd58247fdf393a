/**
 * Worker entry (dist/webview-pca.js): the hidden-state PCA plane, off the UI thread. At 12 layers ×
 * 2,048 tokens the power iteration reads tens of millions of values per pass and would hold the panel
 * for a second or more. Self-contained (no imports left after bundling), so the page can start it from a
 * blob: copy, as it must in a VS Code webview.
 */
import { pca2 } from '../data/traceMath.js';
import type { Matrix } from '../data/tensorSlice.js';

interface PcaRequest { id: number; layers: Matrix[] }

const scope = self as unknown as { onmessage: ((e: MessageEvent<PcaRequest>) => void) | null; postMessage(m: unknown, transfer: Transferable[]): void };
scope.onmessage = (e) => {
  const { id, layers } = e.data;
  try {
    const r = pca2(layers);
    scope.postMessage({ id, result: r }, r.points.map((p) => p.data.buffer));
  } catch (err) {
    scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }, []);
  }
};
