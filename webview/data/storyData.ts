/**
 * What the "Sequential vs parallel" view reads: the measurement core makes (StoryResult, the same rows
 * `seqlens bench-story` writes as CSV), and the request the page fills when the user presses Measure.
 * Kept apart from the page's runtime so the view stays pure drawing over data.
 */
import type { StoryProgress, StoryResult, StoryRow } from '../../src/core/bench/storyRows.js';

export type { StoryProgress, StoryResult, StoryRow };

export interface StoryRequest {
  /** Longest input in tokens (16, 32, … up to it). */
  maxTokens: number;
  repeats: number;
  signal: AbortSignal;
  onProgress(p: StoryProgress): void;
  onRow(row: StoryRow): void;
}

/** Runs the measurement on the page's backend (see webview/runtime/storyBench.ts). */
export type StoryMeasure = (req: StoryRequest) => Promise<StoryResult>;

/** One model's points, in ascending length. */
export interface StorySeries {
  model: string;
  kind: StoryRow['kind'];
  rows: StoryRow[];
}

/** Rows grouped per model, in the order the models were first measured. */
export function storySeries(rows: readonly StoryRow[]): StorySeries[] {
  const out: StorySeries[] = [];
  for (const r of rows) {
    let s = out.find((x) => x.model === r.model);
    if (!s) out.push(s = { model: r.model, kind: r.kind, rows: [] });
    s.rows.push(r);
  }
  for (const s of out) s.rows.sort((a, b) => a.tokens - b.tokens);
  return out;
}
