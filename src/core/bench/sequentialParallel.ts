/**
 * "Sequential against parallel, measured here": times the plain (un-instrumented) zoo models over inputs
 * of 16, 32, …, 2,048 tokens on whatever InferenceBackend the caller has (onnxruntime-node or -web in the
 * CLI, onnxruntime-web in the panel), and states the memory the Transformer's attention needs at each
 * length. A recurrent model walks the tokens one after the other inside its RNN/LSTM/GRU op; the
 * Transformer computes every position at once, paying T² attention weights per head and layer.
 *
 * Pure timing logic over the backend abstraction (no Node, no DOM): the caller hands in the model bytes
 * and, where it can read one cheaply, a process-memory probe.
 */
import type { HostTensor, InferenceBackend, SessionHandle } from '../run/backend.js';
import type { Architecture } from '../types.js';
import { decodeModel, type ModelProto } from '../onnx/decode.js';
import { indexGraph } from '../onnx/graphIndex.js';
import { planProbes } from '../probes/planProbes.js';
import { findPositionalSource } from '../trace/positionalSource.js';
import { graphInputs, singleFeeds } from '../run/feeds.js';
import { findSequenceInputs, type SingleInputs } from '../run/sequenceInputs.js';
import type { TensorSummary } from '../onnx/summarize.js';
import { checkAbort, now } from '../run/runSteps.js';
import { SeqLensError } from '../errors.js';
import { attentionBytesFor, storyLengths, type StoryModelInfo, type StoryProgress, type StoryResult, type StoryRow } from './storyRows.js';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const RECURRENT: readonly Architecture[] = ['rnn', 'lstm', 'gru'];

/** One model to time: its .onnx bytes as they are (the measurement never instruments them). */
export interface StoryModel {
  /** Name for the table and the CSV (the zoo folder: rnn, lstm, gru, transformer). */
  name: string;
  bytes: Uint8Array;
  /**
   * The manifest's maxLength: where the panel truncates this model's input. Longer inputs still run and are
   * timed (the time does not depend on what the model predicts), and the CLI says so in a note.
   */
  manifestMaxLength?: number;
}

export interface StoryOptions {
  backend: InferenceBackend;
  models: readonly StoryModel[];
  /** Input lengths in tokens (default 16, 32, …, 2,048). */
  lengths?: readonly number[];
  /** Timed runs per model and length; the median is reported (default 5). */
  repeats?: number;
  /** Untimed runs first at each length (default 1): the first run at a new shape allocates and plans. */
  warmUps?: number;
  /**
   * How long (ms) every model first runs untimed at the shortest length (default 400; at most 500 runs).
   * WebAssembly starts on baseline code and optimises the hot kernels in the background while they run:
   * without this the first lengths would time the engine's warm-up, not the model (the zoo RNN on WASM took
   * 1.5-1.9 ms at 16 tokens for its first ten runs here, 0.4-0.7 ms after). At the shortest length it leaves
   * the memory the longer lengths need to be taken, and measured, when they come.
   */
  openingMs?: number;
  /**
   * The clock runs are timed with, in ms (default: the wall clock). On a shared machine the CLI can pass the
   * process's CPU time instead: with one intra-op thread onnxruntime computes on the calling thread, so the
   * time spent descheduled by other work drops out.
   */
  clock?: () => number;
  /** Current process memory in bytes (Node: RSS). Absent where nothing cheap measures it (the webview). */
  memory?: () => number;
  signal?: AbortSignal;
  onProgress?: (p: StoryProgress) => void;
  /** Each row as soon as it is measured (the panel draws the curve as it grows). */
  onRow?: (row: StoryRow) => void;
}

/** Rows of the initializer the ids index (the token embedding), so generated ids stay in range. */
function embeddingRows(model: ModelProto, idsInput: string): number | undefined {
  const graph = model.graph;
  if (!graph) return undefined;
  const index = indexGraph(graph);
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  // The ids may pass through a Cast (or a Reshape) before the Gather that reads the embedding.
  let frontier = [idsInput];
  for (let depth = 0; depth < 3 && frontier.length; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const n of index.consumers.get(t) ?? []) {
        if (n.opType === 'Gather' && n.input[1] === t) {
          const dims = inits.get(n.input[0])?.dims;
          if (dims?.length) return Number(dims[0]);
        }
        if (n.opType === 'Cast' || n.opType === 'Reshape' || n.opType === 'Unsqueeze' || n.opType === 'Squeeze') next.push(...n.output);
      }
    }
    frontier = next;
  }
  return undefined;
}

interface Prepared {
  info: StoryModelInfo;
  inputs: TensorSummary[];
  io: SingleInputs;
}

/** Reads what the timing needs from the graph: kind, attention heads per layer, input limits, vocabulary. */
export function describeStoryModel(m: StoryModel): StoryModelInfo {
  return prepare(m).info;
}

function prepare(m: StoryModel): Prepared {
  const model = decodeModel(m.bytes, m.name);
  const inputs = graphInputs(model);
  const io = findSequenceInputs(inputs, m.name);
  const { plan } = planProbes(model, { pooledAttention: false });
  const attention = plan.probes.filter((p) => p.kind === 'attention').sort((a, b) => a.layer - b.layer);
  const recurrent = RECURRENT.includes(plan.architecture) || plan.probes.some((p) => p.kind === 'gate' || p.kind === 'cell');
  if (!attention.length && !recurrent) {
    throw new SeqLensError('not-sequence-model', `${m.name}: neither attention nor a recurrent layer was found, so it is neither side of the comparison.`);
  }
  const positional = findPositionalSource(model);
  const limits = [io.fixedLength, positional?.kind === 'table' ? positional.encoding.rows : undefined].filter((v): v is number => v !== undefined);
  return {
    inputs,
    io,
    info: {
      name: m.name,
      kind: attention.length ? 'parallel' : 'sequential',
      architecture: plan.architecture,
      attentionLayers: attention.length,
      headsPerLayer: attention.map((p) => p.heads ?? 1),
      graphLimit: limits.length ? Math.min(...limits) : undefined,
      manifestMaxLength: m.manifestMaxLength,
      vocabSize: Math.max(2, embeddingRows(model, io.ids) ?? 2),
    },
  };
}

/** A fixed, text-like id sequence: the timing of these ops does not depend on which ids they see. */
function idsFor(tokens: number, vocab: number): number[] {
  let x = 12345;
  return Array.from({ length: tokens }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return 1 + (x % (vocab - 1));
  });
}

interface Live extends Prepared {
  session: SessionHandle;
  fetches: string[];
}

/** Times every model at every length (lengths outer, repeats round the models: noise falls on all alike). */
export async function measureStory(opts: StoryOptions): Promise<StoryResult> {
  const lengths = [...(opts.lengths ?? storyLengths())].sort((a, b) => a - b);
  const repeats = Math.max(1, Math.floor(opts.repeats ?? 5));
  const warmUps = Math.max(0, Math.floor(opts.warmUps ?? 1));
  const clock = opts.clock ?? now;
  const notes: string[] = [];
  const rows: StoryRow[] = [];
  const live: Live[] = [];
  const progress = (message: string, fraction: number): void => opts.onProgress?.({ message, fraction });
  try {
    for (const m of opts.models) {
      checkAbort(opts.signal);
      progress(`Loading ${m.name}…`, 0);
      const p = prepare(m);
      // The plain bytes, as a user's run would load them without Sequence Lens: no probes, no extra outputs.
      // A copy: onnxruntime-web's worker transfers (detaches) the buffer it is given, and the caller keeps its bytes.
      const session = await opts.backend.createSession(m.bytes.slice());
      // Only the model's own outputs (the logits), as its users fetch them.
      live.push({ ...p, session, fetches: [...session.outputNames] });
      const { graphLimit, manifestMaxLength } = p.info;
      const skipped = lengths.filter((t) => graphLimit !== undefined && t > graphLimit);
      if (skipped.length) notes.push(`${m.name}: its graph takes at most ${graphLimit} tokens; ${skipped.join(', ')} skipped.`);
      const beyond = lengths.filter((t) => manifestMaxLength !== undefined && t > manifestMaxLength && !skipped.includes(t));
      if (beyond.length) {
        notes.push(`${m.name}: the panel caps its input at ${manifestMaxLength} tokens (manifest maxLength); its graph takes ${beyond.join(', ')} too, timed here.`);
      }
    }
    const opening = Math.max(0, opts.openingMs ?? 400);
    const shortest = lengths[0];
    for (const l of live) {
      if (!opening || shortest === undefined) break;
      progress(`Warming up ${l.info.name}…`, 0);
      const feeds = singleFeeds(l.inputs, l.io, idsFor(shortest, l.info.vocabSize));
      const t0 = now();
      for (let i = 0; i < 500 && now() - t0 < opening; i++) {
        checkAbort(opts.signal);
        await l.session.run(feeds, l.fetches, opts.signal);
      }
    }
    for (const [k, tokens] of lengths.entries()) {
      const here = live.filter((l) => l.info.graphLimit === undefined || tokens <= l.info.graphLimit);
      const feeds = new Map<Live, Record<string, HostTensor>>();
      const growth = new Map<Live, number>();
      for (const l of here) {
        checkAbort(opts.signal);
        progress(`${tokens} tokens: warming up ${l.info.name}`, k / lengths.length);
        const f = singleFeeds(l.inputs, l.io, idsFor(tokens, l.info.vocabSize));
        feeds.set(l, f);
        const before = opts.memory?.();
        for (let i = 0; i < warmUps; i++) await l.session.run(f, l.fetches, opts.signal);
        const after = opts.memory?.();
        if (before !== undefined && after !== undefined) growth.set(l, Math.max(0, after - before));
      }
      // Repeats go round the models (A B C D A B C D …), so a burst of other work on a shared machine
      // lands on every model alike instead of on whichever one was being timed.
      const times = new Map<Live, number[]>(here.map((l) => [l, []]));
      for (let i = 0; i < repeats; i++) {
        progress(`${tokens} tokens: run ${i + 1} of ${repeats}`, (k + i / repeats) / lengths.length);
        for (const l of here) {
          checkAbort(opts.signal);
          const t0 = clock();
          await l.session.run(feeds.get(l)!, l.fetches, opts.signal);
          times.get(l)!.push(clock() - t0);
        }
      }
      for (const l of here) {
        const { info } = l;
        const msTotal = median(times.get(l)!);
        const g = growth.get(l);
        const row: StoryRow = {
          model: info.name, kind: info.kind, tokens, msTotal, msPerToken: msTotal / tokens,
          attentionBytes: attentionBytesFor(info, tokens), architecture: info.architecture,
          backend: opts.backend.name, repeats,
          ...(g !== undefined ? { memoryGrowthBytes: g } : {}),
        };
        rows.push(row);
        opts.onRow?.(row);
      }
    }
    progress('Done', 1);
    return { backend: opts.backend.name, models: live.map((l) => l.info), rows, notes };
  } finally {
    for (const l of live) await l.session.dispose().catch(() => undefined);
  }
}
