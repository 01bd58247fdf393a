/**
 * `seqlens bench-story` in Node: loads the zoo's RNN, LSTM, GRU and Transformer from disk, times them with
 * core's measureStory (process RSS as the memory probe), and formats the short table the CLI prints.
 */
import { cpus } from 'node:os';
import type { InferenceBackend } from '../core/run/backend.js';
import type { Architecture } from '../core/types.js';
import { measureStory, type StoryModel, type StoryOptions } from '../core/bench/sequentialParallel.js';
import { parallelWins, type StoryResult } from '../core/bench/storyRows.js';
import { SeqLensError } from '../core/errors.js';
import { loadModel, zooNames } from './modelLoader.js';

/** The story's cast, by architecture, in the order they are plotted. */
export const STORY_ARCHITECTURES: readonly Architecture[] = ['rnn', 'lstm', 'gru', 'transformer-decoder'];

/** The zoo's one-file language models of the story's architectures (with the manifest's maxLength). */
export async function storyZooModels(): Promise<StoryModel[]> {
  const found: { arch: Architecture; model: StoryModel }[] = [];
  for (const name of zooNames()) {
    const m = await loadModel(name);
    const arch = m.manifest?.architecture;
    if (!arch || !STORY_ARCHITECTURES.includes(arch) || !m.modelRel) continue;
    found.push({ arch, model: { name, bytes: await m.files(m.modelRel), manifestMaxLength: m.manifest?.maxLength } });
  }
  if (!found.length) throw new SeqLensError('not-onnx', 'No zoo RNN, LSTM, GRU or Transformer was found in media/models.');
  return found.sort((a, b) => STORY_ARCHITECTURES.indexOf(a.arch) - STORY_ARCHITECTURES.indexOf(b.arch)).map((f) => f.model);
}

export type StoryClock = 'wall' | 'cpu';

export interface StoryRunOptions extends Omit<StoryOptions, 'backend' | 'models' | 'memory' | 'clock'> {
  models?: StoryModel[];
  /** 'cpu': the process's user + system CPU time (meaningful with one computing thread). Default 'wall'. */
  clock?: StoryClock;
}

/** The process's CPU time in ms (user + system, every thread of the process). */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Runs the measurement in this process, with RSS as the memory probe. */
export async function runStory(backend: InferenceBackend, opts: StoryRunOptions = {}): Promise<StoryResult> {
  const models = opts.models ?? await storyZooModels();
  return measureStory({
    ...opts, backend, models, memory: () => process.memoryUsage().rss, clock: opts.clock === 'cpu' ? cpuMs : undefined,
  });
}

/** One line about where the figures come from (cores, CPU, Node). */
export function machineLine(backend: string, threads?: number): string {
  const c = cpus();
  return `${backend} backend${threads ? `, ${threads} intra-op thread${threads > 1 ? 's' : ''}` : ''} · ${c.length} cores (${c[0]?.model.trim() ?? 'unknown CPU'}) · Node ${process.version}`;
}

/** Bytes in the unit that keeps 16 tokens (8 KB) and 2,048 tokens (128 MB) both readable. */
export function bytesText(bytes: number): string {
  if (bytes < 2 ** 20) return `${Math.round(bytes / 1024)} KB`;
  const m = bytes / 2 ** 20;
  return `${m >= 10 ? m.toFixed(0) : m.toFixed(1)} MB`;
}

/** ms per token per model (columns) and length (rows), the Transformer's attention and its RSS growth. */
export function formatStory(result: StoryResult): string {
  const models = result.models.map((m) => m.name);
  const lengths = [...new Set(result.rows.map((r) => r.tokens))].sort((a, b) => a - b);
  const parallel = result.models.filter((m) => m.kind === 'parallel').map((m) => m.name);
  const header = ['tokens', ...models.map((m) => `${m} ms/tok`), ...parallel.flatMap((p) => [`${p} attention`, `${p} RSS growth`])];
  const table: string[][] = [header];
  for (const t of lengths) {
    const row = (m: string) => result.rows.find((r) => r.model === m && r.tokens === t);
    table.push([
      String(t),
      ...models.map((m) => { const r = row(m); return r ? r.msPerToken.toPrecision(3) : '-'; }),
      ...parallel.flatMap((p) => {
        const r = row(p);
        return r ? [bytesText(r.attentionBytes), r.memoryGrowthBytes !== undefined ? bytesText(r.memoryGrowthBytes) : '-'] : ['-', '-'];
      }),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  const wins = parallelWins(result.rows);
  const won = wins.filter((w) => w.wins).map((w) => w.tokens);
  lines.push('');
  lines.push(won.length
    ? `Transformer faster per token than every recurrent model at: ${won.join(', ')} tokens.`
    : 'The Transformer was not faster per token than the fastest recurrent model at any length measured.');
  for (const n of result.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
