/**
 * The rows of "sequential against parallel" and what is read from them: their types, the lengths measured,
 * the attention bytes of a length, the CSV, where the parallel model wins. Apart from the measurement
 * (sequentialParallel.ts, which decodes and runs models) so the panel's chart needs none of that to draw.
 */
import type { Architecture } from '../types.js';
import { SeqLensError } from '../errors.js';

/** How a model covers the sequence: one step after another (RNN, LSTM, GRU) or all positions at once. */
export type StoryKind = 'sequential' | 'parallel';

/** What the graph says about a model, found once before timing. */
export interface StoryModelInfo {
  name: string;
  kind: StoryKind;
  architecture: Architecture;
  /** Attention matrices per position pair: one [heads, T, T] per attention layer, heads summed over layers. */
  attentionLayers: number;
  /** Heads of each attention layer, in layer order (empty for recurrent models). */
  headsPerLayer: number[];
  /** The longest input the graph accepts: rows of a learned positional table, or a fixed sequence axis. */
  graphLimit?: number;
  manifestMaxLength?: number;
  /** Token ids are drawn below this (rows of the embedding the ids index), so every id is valid. */
  vocabSize: number;
}

export interface StoryRow {
  model: string;
  kind: StoryKind;
  tokens: number;
  /** Median wall time of one run over `tokens` tokens (ms). */
  msTotal: number;
  msPerToken: number;
  /** layers × heads × T² × 4 bytes: the float32 attention weights the Transformer holds at once (0 for recurrent models). */
  attentionBytes: number;
  architecture: Architecture;
  backend: string;
  repeats: number;
  /**
   * How much the process's memory grew over the first (warm-up) run at this length, in bytes, when the
   * caller could measure it. Lengths run in ascending order, so this is what this length needed beyond
   * what the shorter ones had already made the runtime keep.
   */
  memoryGrowthBytes?: number;
}

export interface StoryProgress { message: string; fraction: number }

export interface StoryResult {
  backend: string;
  models: StoryModelInfo[];
  rows: StoryRow[];
  /** What the table alone does not say (lengths skipped for a model, inputs beyond the manifest's maxLength). */
  notes: string[];
}

export const STORY_MAX_TOKENS = 2048;
export const STORY_MIN_TOKENS = 16;

/** 16, 32, 64, … up to `max` (and `max` itself when it is not a power of two). */
export function storyLengths(max = STORY_MAX_TOKENS, min = STORY_MIN_TOKENS): number[] {
  if (!(Number.isInteger(max) && max >= 1)) throw new SeqLensError('unsupported', `The longest input must be a positive whole number of tokens, not ${max}.`);
  const out: number[] = [];
  for (let t = Math.min(min, max); t <= max; t *= 2) out.push(t);
  if (out[out.length - 1] !== max) out.push(max);
  return out;
}

/** Attention weights held at once for T tokens: Σ over layers of heads × T² float32 values. */
export function attentionBytesFor(info: Pick<StoryModelInfo, 'headsPerLayer'>, tokens: number): number {
  const heads = info.headsPerLayer.reduce((a, b) => a + b, 0);
  return heads * tokens * tokens * 4;
}

/** The columns of the CSV, first the six every reader relies on, then what qualifies them. */
export const STORY_CSV_COLUMNS = [
  'model', 'kind', 'tokens', 'ms_total', 'ms_per_token', 'attention_bytes',
  'architecture', 'backend', 'repeats', 'memory_growth_bytes',
] as const;

/** Rows as CSV (one header line; numbers plain, so any spreadsheet or pandas reads them). */
export function storyCsv(rows: readonly StoryRow[]): string {
  const lines: string[] = [STORY_CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push([
      r.model, r.kind, r.tokens, r.msTotal.toFixed(3), r.msPerToken.toPrecision(4), r.attentionBytes,
      r.architecture, r.backend, r.repeats, r.memoryGrowthBytes ?? '',
    ].join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * Where the parallel model is faster per token than every sequential one, per length (the story's
 * answer), from measured rows. A length is listed only when every model ran at it.
 */
export function parallelWins(rows: readonly StoryRow[]): { tokens: number; wins: boolean; ratio: number }[] {
  const byLen = new Map<number, StoryRow[]>();
  for (const r of rows) byLen.set(r.tokens, [...(byLen.get(r.tokens) ?? []), r]);
  const out: { tokens: number; wins: boolean; ratio: number }[] = [];
  for (const [tokens, rs] of [...byLen].sort((a, b) => a[0] - b[0])) {
    const par = rs.filter((r) => r.kind === 'parallel');
    const seq = rs.filter((r) => r.kind === 'sequential');
    if (!par.length || !seq.length) continue;
    const bestSeq = Math.min(...seq.map((r) => r.msPerToken));
    const bestPar = Math.min(...par.map((r) => r.msPerToken));
    // ratio > 1: the fastest recurrent model takes that many times longer per token than the Transformer.
    out.push({ tokens, wins: bestPar < bestSeq, ratio: bestSeq / bestPar });
  }
  return out;
}
