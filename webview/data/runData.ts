/**
 * One finished run as the views read it: a read-only view over the run's frozen Trace and its attention in
 * the LayerStore the model handed out (deferred layers are fetched and evicted there), with lookups by
 * (stream, layer) and a cache for derived numbers (rollout, norms, PCA...), computed the first time a
 * view asks for them. Nothing here changes the trace.
 */
import type { AttentionStream, GateName, Probe, ProbeKind } from '../../src/core/types.js';
import { attentionBytes } from '../../src/core/run/fetchPlan.js';
import { LayerStore, withLayers } from '../../src/core/run/layerStore.js';
import { ByteLru } from '../../src/core/run/byteLru.js';
import type { ModelLens, ModelRun } from '../../src/core/run/loadedModel.js';
import type { PositionalEncoding } from '../../src/core/trace/positionalSource.js';
import type { ProbeTensor, TokenSpan, Trace } from '../../src/core/trace/traceTypes.js';
import type { ModelManifest } from '../../src/core/manifest.js';
import type { TopLogits } from '../../src/core/trace/predictions.js';
import { axisSize } from './tensorSlice.js';
import { labelTrace } from './tokenDisplay.js';

export type { PositionalEncoding } from '../../src/core/trace/positionalSource.js';

/** What the model adds to a trace for the views (see LoadedModel.run); all optional for traces shown alone. */
export interface RunParts {
  /** The run's attention; absent: the trace's own attention, with nothing to fetch. */
  layers?: LayerStore;
  positional?: PositionalEncoding;
  lens?: ModelLens;
  outputVocab?: (id: number) => string;
  /** The logits' top entries per position, where the whole logits stayed with the native backend (too big to move). */
  topLogits?: TopLogits;
}

/** Per-head matrices ('att:' entries) kept at most: 2,048² floats are 16 MB each. */
const MATRIX_BUDGET = 128 * 2 ** 20;

/** Whether a probe belongs to this stream (probes without one are the encoder's) and, if given, this layer. */
function isAt(p: Probe, stream: AttentionStream | undefined, layer?: number): boolean {
  return (stream === undefined || (p.stream ?? 'encoder') === stream) && (layer === undefined || p.layer === layer);
}

export class RunData {
  /** The run's attention: resident layers, deferred ones and overviews. */
  readonly store: LayerStore;
  readonly positional?: PositionalEncoding;
  /** Id → text in the output vocabulary (target tokenizer of seq2seq models). */
  readonly outputVocab?: (id: number) => string;
  /**
   * The model's own final norm + output projection (views into the model bytes, shared by every run of
   * the model), when the probe plan found one: what the logit lens pushes each layer's hidden state through.
   */
  readonly lens?: ModelLens;
  /** The logits' top entries per position (a native run whose logits were too big to send); `trace.logits` is then absent. */
  readonly topLogits?: TopLogits;
  /** Why fetching deferred attention stopped (cancelled or failed); views say it instead of "Loading…". UI state. */
  loadStopped?: string;
  private readonly cache = new Map<string, unknown>();
  /** Per-head matrices, evicted as the layer store evicts layers: least recently used past a byte budget. */
  private readonly matrices = new ByteLru<string, unknown>(MATRIX_BUDGET);

  constructor(readonly trace: Trace, readonly label: string, readonly manifest?: ModelManifest, parts: RunParts = {}) {
    this.store = parts.layers ?? LayerStore.of(trace);
    this.positional = parts.positional;
    this.outputVocab = parts.outputVocab;
    this.lens = parts.lens;
    this.topLogits = parts.topLogits;
    labelTrace(trace);
  }

  /** The view over a LoadedModel's run. */
  static of(run: ModelRun, label: string, manifest?: ModelManifest): RunData {
    return new RunData(run.trace, label, manifest, { layers: run.layers, positional: run.positional, lens: run.lens, outputVocab: run.vocab });
  }

  /** The trace as it stands now, attention in memory included (tests, exports of the whole run). */
  snapshot(): Trace {
    return withLayers(this.trace, this.store);
  }

  /** Attention the run did not hand back (it would not fit the budget), or that left memory since. */
  get deferred(): readonly Probe[] {
    return this.store.deferred;
  }

  /** Bytes of attention kept in memory at most. */
  get budget(): number {
    return this.store.budget;
  }

  /** Attention probes present now or fetchable later. */
  private allAttention(stream?: AttentionStream): Probe[] {
    return [...this.probes('attention', stream).map((p) => p.probe),
      ...this.deferred.filter((p) => isAt(p, stream))]
      .sort((a, b) => a.layer - b.layer);
  }

  /** The max-pooled overview of a deferred layer's attention (same axes, fewer queries and keys), if there is one. */
  overview(stream: AttentionStream, layer: number): ProbeTensor | undefined {
    return this.store.pooled().find((p) => isAt(p.probe, stream, layer));
  }

  /** What a view shows while `what` (e.g. "layer 3") is being fetched, or why fetching stopped. */
  loadingNote(what: string): string {
    return this.loadStopped ?? `Loading the attention of ${what} (${this.tokens.length.toLocaleString('en-US')} tokens)…`;
  }

  /** True when this layer's attention is not in memory (load() brings it). */
  isDeferred(stream: AttentionStream, layer: number): boolean {
    return this.deferred.some((p) => isAt(p, stream, layer));
  }

  /** Fetches the deferred attention of these layers in one run; the store then evicts down to its budget. */
  load(layers: { stream: AttentionStream; layer: number }[], signal?: AbortSignal): Promise<void> {
    return this.store.load(this.deferred.filter((p) => layers.some((l) => isAt(p, l.stream, l.layer))), signal);
  }

  /** Bytes one layer's attention takes (for batching loads within the budget). */
  layerBytes(stream: AttentionStream, layer: number): number {
    const p = this.allAttention(stream).find((q) => q.layer === layer);
    return p ? attentionBytes(p, this.tokens.length) : 0;
  }

  hasMemo(key: string): boolean {
    return this.cache.has(key) || this.matrices.has(key);
  }

  /** A kept value (an 'att:' entry becomes the most recently used). */
  memoGet<T>(key: string): T | undefined {
    return (this.cache.get(key) ?? this.matrices.get(key)) as T | undefined;
  }

  get tokens(): TokenSpan[] {
    return this.trace.tokens;
  }

  probes(kind: ProbeKind, stream?: AttentionStream): ProbeTensor[] {
    const all = kind === 'attention' ? this.store.resident() : this.trace.probes.filter((p) => p.probe.kind === kind);
    return all.filter((p) => isAt(p.probe, stream)).sort((a, b) => a.probe.layer - b.probe.layer);
  }

  streams(): AttentionStream[] {
    const s = new Set<AttentionStream>();
    for (const p of this.allAttention()) s.add(p.stream ?? 'encoder');
    return (['encoder', 'decoder', 'cross'] as const).filter((x) => s.has(x));
  }

  /** A layer's attention in memory (it becomes the store's most recently used). */
  attention(stream: AttentionStream, layer: number): ProbeTensor | undefined {
    const p = this.probes('attention', stream).find((q) => q.probe.layer === layer);
    return p && this.store.get(p.probe);
  }

  layers(stream: AttentionStream): number[] {
    return this.allAttention(stream).map((p) => p.layer);
  }

  heads(stream: AttentionStream, layer: number): number {
    const p = this.probes('attention', stream).find((q) => q.probe.layer === layer);
    if (p) return p.probe.heads ?? axisSize(p, 'head');
    return this.deferred.find((q) => isAt(q, stream, layer))?.heads ?? 0;
  }

  hidden(): ProbeTensor[] {
    return this.probes('hidden');
  }

  gates(): ProbeTensor[] {
    return this.trace.probes.filter((p) => p.probe.kind === 'gate' || p.probe.kind === 'cell');
  }

  gate(name: GateName, layer: number): ProbeTensor | undefined {
    return this.trace.probes.find((p) => p.probe.kind === 'gate' && p.probe.gate === name && p.probe.layer === layer);
  }

  /** Tokens on the query axis of a stream (decoder streams: the generated tokens). */
  queryTokens(stream: AttentionStream): TokenSpan[] {
    return stream === 'encoder' ? this.trace.tokens : (this.trace.generated ?? this.trace.tokens);
  }

  keyTokens(stream: AttentionStream): TokenSpan[] {
    return stream === 'decoder' ? (this.trace.generated ?? this.trace.tokens) : this.trace.tokens;
  }

  /**
   * Derived values, computed once. Per-head matrices ('att:' keys) are large at long inputs, so they are
   * kept within a byte budget, least recently used out first (the layer store's policy, ByteLru).
   */
  memo<T>(key: string, make: () => T): T {
    if (this.hasMemo(key)) return this.memoGet<T>(key) as T;
    const v = make();
    if (key.startsWith('att:')) this.matrices.set(key, v, (v as { data?: Float32Array } | undefined)?.data?.byteLength ?? 0);
    else this.cache.set(key, v);
    return v;
  }
}

// Views import token labels from here (where the tokens come from); they are made in tokenDisplay.ts.
export { tokenLabel, tokenHoverText, tokenRecords } from './tokenDisplay.js';
