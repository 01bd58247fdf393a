/**
 * Score (0..1) to colour bucket for the token decorations. Pure, so it is unit-tested without
 * VS Code. A handful of buckets keeps the number of decoration types small and fixed.
 */
import type { DecorationMode } from '../shared/protocol.js';

export const BUCKETS = 8;

/** 0..BUCKETS-1; NaN and out-of-range scores are clamped (webview data is untrusted). */
export function scoreBucket(score: number): number {
  if (!Number.isFinite(score) || score <= 0) return 0;
  if (score >= 1) return BUCKETS - 1;
  return Math.min(BUCKETS - 1, Math.floor(score * BUCKETS));
}

const HUES: Record<DecorationMode, [number, number, number]> = {
  attention: [255, 140, 0],
  hiddenNorm: [64, 156, 255],
  gate: [60, 190, 110],
};

/** Background of a bucket: the mode's hue, more opaque for higher scores (faint but visible at 0). */
export function bucketColor(mode: DecorationMode, bucket: number): string {
  const [r, g, b] = HUES[mode];
  const alpha = 0.06 + (0.64 * bucket) / (BUCKETS - 1);
  return `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(2)})`;
}

export function modeLabel(mode: DecorationMode): string {
  return mode === 'attention' ? 'attention' : mode === 'hiddenNorm' ? 'hidden-state norm' : 'gate value';
}
