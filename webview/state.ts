/**
 * The webview's state: the selection every view shares, the runs shown, the chosen backend.
 * The selection (with each view's zoom) survives the webview being hidden through the VS Code API's getState/setState.
 */
import type { Selection } from './views/viewTypes.js';

export function defaultSelection(): Selection {
  return { stream: 'encoder', layer: 0, head: 'mean', hiddenHeads: [], units: [], threshold: 0.5, step: 0 };
}

export function restoreSelection(saved: unknown): Selection {
  const sel = defaultSelection();
  if (typeof saved !== 'object' || saved === null) return sel;
  const s = saved as Record<string, unknown>;
  if (s.stream === 'encoder' || s.stream === 'decoder' || s.stream === 'cross') sel.stream = s.stream;
  if (typeof s.layer === 'number') sel.layer = s.layer;
  if (typeof s.head === 'number' || s.head === 'mean' || s.head === 'rollout') sel.head = s.head;
  if (typeof s.threshold === 'number') sel.threshold = s.threshold;
  if (typeof s.zoom === 'object' && s.zoom !== null) {
    const zoom: Record<string, number> = {};
    for (const [id, z] of Object.entries(s.zoom as Record<string, unknown>)) if (typeof z === 'number' && Number.isFinite(z) && z >= 1) zoom[id] = z;
    sel.zoom = zoom;
  }
  return sel;
}
