/** The nine views, in tab order. */
import { AttentionHeatmap } from './attentionHeatmap.js';
import type { View } from './viewTypes.js';

export function allViews(): View[] {
  return [new AttentionHeatmap()];
}
