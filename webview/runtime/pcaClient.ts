/**
 * Runs the hidden-state PCA in a worker (dist/webview-pca.js, started from a blob: copy because webview
 * resources are cross-origin to the page); where no worker starts, on the page after a frame has been
 * painted. The numbers are the same either way: the worker runs the same pca2.
 */
import type { Matrix } from '../data/tensorSlice.js';
import { pca2 } from '../data/traceMath.js';
import { distUrl } from '../distUrl.js';

export type PcaPlane = ReturnType<typeof pca2>;

let worker: Promise<Worker | undefined> | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve(r: PcaPlane): void; reject(e: Error): void }>();

async function startWorker(): Promise<Worker | undefined> {
  try {
    const url = distUrl('webview-pca.js');
    const res = await fetch(url);
    if (!res.ok) return undefined;
    const blobUrl = URL.createObjectURL(new Blob([await res.text()], { type: 'text/javascript' }));
    const w = new Worker(blobUrl, { type: 'module' });
    w.onmessage = (e: MessageEvent<{ id: number; result?: PcaPlane; error?: string }>) => {
      const p = waiting.get(e.data.id);
      waiting.delete(e.data.id);
      if (e.data.result) p?.resolve(e.data.result);
      else p?.reject(new Error(e.data.error ?? 'the PCA worker failed'));
    };
    w.onerror = (e) => {
      for (const p of waiting.values()) p.reject(new Error(e.message || 'the PCA worker failed'));
      waiting.clear();
    };
    return w;
  } catch {
    return undefined;
  }
}

/** The 2-D PCA plane of these layers' states; the layers are copied to the worker, not moved. */
export async function computePca(layers: Matrix[]): Promise<PcaPlane> {
  worker ??= startWorker();
  const w = await worker;
  if (!w) {
    await new Promise((r) => setTimeout(r, 0));
    return pca2(layers);
  }
  const id = nextId++;
  return new Promise<PcaPlane>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.postMessage({ id, layers });
  });
}
