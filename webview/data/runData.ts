/**
 * One finished run as the views read it: the core Trace plus lookups by (stream, layer) and a cache
 * for derived numbers (rollout, norms, PCA...), computed the first time a view asks for them.
 */
import type { AttentionStream, GateName, Probe, ProbeKind } from '../../src/core/types.js';
import { attentionBytes, DEFAULT_ATTENTION_BUDGET } from '../../src/core/run/fetchPlan.js';
import { maxPoolBlocks } from '../../src/core/trace/pool.js';
import { hasQueryKeyPlanes, POOL } from '../../src/core/probes/pooledAttention.js';
import type { ProbeTensor, TokenSpan, Trace } from '../../src/core/trace/traceTypes.js';
import type { ModelManifest } from '../../src/core/manifest.js';
import type { OutputProjection } from '../../src/core/trace/predictions.js';
import { axisSize } from './tensorSlice.js';

export interface PositionalEncoding {
  /** Where it came from (initializer name or node), for the view's caption. */
  source: string;
  /** [positions, dims]. */
  rows: number;
  cols: number;
  data: Float32Array;
}

/** Whether a probe belongs to this stream (probes without one are the encoder's) and, if given, this layer. */
function isAt(p: Probe, stream: AttentionStream | undefined, layer?: number): boolean {
  return (stream === undefined || (p.stream ?? 'encoder') === stream) && (layer === undefined || p.layer === layer);
}

export class RunData {
  private readonly cache = new Map<string, unknown>();
  positional?: PositionalEncoding;
  /** Id → text in the output vocabulary (target tokenizer of seq2seq models). */
  outputVocab?: (id: number) => string;
  /**
   * The model's own final norm + output projection (views into the model bytes, shared by every run of
   * the model), when the probe plan found one: what the logit lens pushes each layer's hidden state through.
   */
  lens?: { projection: OutputProjection; stream?: AttentionStream };

  /**
   * Attention the run did not hand back (it would not fit `budget`): `load` fetches it with another run
   * through `loader`, and evicts the least recently used layers so that at most `budget` bytes stay.
   */
  readonly deferred: Probe[];
  loader?: (probes: Probe[], signal?: AbortSignal) => Promise<ProbeTensor[]>;
  /** Why fetching deferred attention stopped (cancelled or failed); views say it instead of "Loading…". */
  loadStopped?: string;
  budget = DEFAULT_ATTENTION_BUDGET;
  private readonly lastUse = new Map<string, number>();
  private useClock = 0;

  constructor(readonly trace: Trace, readonly label: string, readonly manifest?: ModelManifest) {
    this.deferred = [...(trace.deferred ?? [])];
  }

  /** Attention probes present now or fetchable later. */
  private allAttention(stream?: AttentionStream): Probe[] {
    return [...this.probes('attention', stream).map((p) => p.probe),
      ...this.deferred.filter((p) => isAt(p, stream))]
      .sort((a, b) => a.layer - b.layer);
  }

  /** The max-pooled overview of a deferred layer's attention (same axes, fewer queries and keys), if the run sent one. */
  overview(stream: AttentionStream, layer: number): ProbeTensor | undefined {
    return this.trace.pooled?.find((p) => isAt(p.probe, stream, layer));
  }

  /** What a view shows while `what` (e.g. "layer 3") is being fetched, or why fetching stopped. */
  loadingNote(what: string): string {
    return this.loadStopped ?? `Loading the attention of ${what} (${this.tokens.length.toLocaleString('en-US')} tokens)…`;
  }

  /** True when this layer's attention is not in memory (load() brings it). */
  isDeferred(stream: AttentionStream, layer: number): boolean {
    return this.deferred.some((p) => isAt(p, stream, layer));
  }

  /**
   * Fetches the deferred attention of these layers in one run (the caller keeps a call within `budget`),
   * then evicts other layers, least recently used first, down to the budget.
   */
  async load(layers: { stream: AttentionStream; layer: number }[], signal?: AbortSignal): Promise<void> {
    const want = this.deferred.filter((p) => layers.some((l) => isAt(p, l.stream, l.layer)));
    if (!want.length) return;
    if (!this.loader) throw new Error('This run cannot fetch more attention (its session is gone); run the model again.');
    const got = await this.loader(want, signal);
    const names = new Set(got.map((t) => t.probe.name));
    for (const t of got) {
      const i = this.deferred.findIndex((p) => p.name === t.probe.name);
      if (i < 0) continue;
      this.deferred.splice(i, 1);
      this.trace.probes.push({ ...t, probe: { ...t.probe, ...want.find((p) => p.name === t.probe.name) } });
      this.lastUse.set(t.probe.name, ++this.useClock);
    }
    const loaded = this.trace.probes.filter((p) => p.probe.kind === 'attention' && !p.stepAxis);
    let bytes = loaded.reduce((sum, p) => sum + p.tensor.data.length * 4, 0);
    const byAge = loaded.filter((p) => !names.has(p.probe.name))
      .sort((a, b) => (this.lastUse.get(a.probe.name) ?? 0) - (this.lastUse.get(b.probe.name) ?? 0));
    for (const p of byAge) {
      if (bytes <= this.budget) break;
      bytes -= p.tensor.data.length * 4;
      this.trace.probes.splice(this.trace.probes.indexOf(p), 1);
      this.deferred.push(p.probe);
      // Keep an overview of what leaves memory, as the graph pools the layers it never sent.
      // (WebGPU runs have no pooled outputs in the graph; the page's overview serves them just the same.)
      if (hasQueryKeyPlanes(p.probe) && !this.overview(p.probe.stream ?? 'encoder', p.probe.layer)) {
        const factor = p.probe.pooled?.factor ?? POOL;
        (this.trace.pooled ??= []).push({ probe: p.probe, tensor: maxPoolBlocks(p.tensor, factor), pooledBy: factor });
      }
    }
  }

  /** Bytes one layer's attention takes (for batching loads within the budget). */
  layerBytes(stream: AttentionStream, layer: number): number {
    const p = this.allAttention(stream).find((q) => q.layer === layer);
    return p ? attentionBytes(p, this.tokens.length) : 0;
  }

  hasMemo(key: string): boolean {
    return this.cache.has(key);
  }

  /** A kept value (an 'att:' entry becomes the most recently used). */
  memoGet<T>(key: string): T | undefined {
    const v = this.cache.get(key) as T | undefined;
    if (v !== undefined && key.startsWith('att:')) { this.cache.delete(key); this.cache.set(key, v); }
    return v;
  }

  get tokens(): TokenSpan[] {
    return this.trace.tokens;
  }

  probes(kind: ProbeKind, stream?: AttentionStream): ProbeTensor[] {
    return this.trace.probes
      .filter((p) => p.probe.kind === kind && isAt(p.probe, stream))
      .sort((a, b) => a.probe.layer - b.probe.layer);
  }

  streams(): AttentionStream[] {
    const s = new Set<AttentionStream>();
    for (const p of this.allAttention()) s.add(p.stream ?? 'encoder');
    return (['encoder', 'decoder', 'cross'] as const).filter((x) => s.has(x));
  }

  attention(stream: AttentionStream, layer: number): ProbeTensor | undefined {
    const p = this.probes('attention', stream).find((q) => q.probe.layer === layer);
    if (p) this.lastUse.set(p.probe.name, ++this.useClock);
    return p;
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
   * Derived values, computed once. Per-head matrices are large at long inputs (2,048² floats = 16 MB
   * each), so 'att:' entries are kept least recently used first, at most 24 of them and 128 MB.
   */
  memo<T>(key: string, make: () => T): T {
    if (this.cache.has(key)) return this.memoGet<T>(key) as T;
    const v = make();
    this.cache.set(key, v);
    if (key.startsWith('att:')) {
      const att = [...this.cache.keys()].filter((k) => k.startsWith('att:'));
      const bytes = (k: string): number => (this.cache.get(k) as { data?: Float32Array } | undefined)?.data?.byteLength ?? 0;
      let total = att.reduce((n, k) => n + bytes(k), 0);
      let count = att.length;
      for (const k of att) {
        if (k === key || (count <= 24 && total <= 128 * 2 ** 20)) break;
        total -= bytes(k);
        count -= 1;
        this.cache.delete(k);
      }
    }
    return v;
  }
}

/** How a token is shown in a label: whitespace made visible, long tokens cut. */
export function tokenLabel(t: TokenSpan | undefined, max = 12): string {
  if (!t) return '';
  // Empty, control or private-use "characters" (special tokens such as EOS in char vocabularies) get a visible mark.
  const c = t.text.codePointAt(0) ?? 0;
  if (t.text === '' || (t.text.length <= 2 && ((c < 0x20 && t.text !== '\n' && t.text !== '\t') || (c >= 0xe000 && c <= 0xf8ff)))) return '∅';
  const s = t.text
    .replace(/^Ġ/, '·').replace(/^▁/, '·')
    .replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/\r/g, '␍');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
