/**
 * One finished run as the views read it: the core Trace plus lookups by (stream, layer) and a cache
 * for derived numbers (rollout, norms, PCA...), computed the first time a view asks for them.
 */
import type { AttentionStream, GateName, ProbeKind } from '../../src/core/types.js';
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

  constructor(readonly trace: Trace, readonly label: string, readonly manifest?: ModelManifest) {}

  get tokens(): TokenSpan[] {
    return this.trace.tokens;
  }

  probes(kind: ProbeKind, stream?: AttentionStream): ProbeTensor[] {
    return this.trace.probes
      .filter((p) => p.probe.kind === kind && (stream === undefined || (p.probe.stream ?? 'encoder') === stream))
      .sort((a, b) => a.probe.layer - b.probe.layer);
  }

  streams(): AttentionStream[] {
    const s = new Set<AttentionStream>();
    for (const p of this.probes('attention')) s.add(p.probe.stream ?? 'encoder');
    return (['encoder', 'decoder', 'cross'] as const).filter((x) => s.has(x));
  }

  attention(stream: AttentionStream, layer: number): ProbeTensor | undefined {
    return this.probes('attention', stream).find((p) => p.probe.layer === layer);
  }

  layers(stream: AttentionStream): number[] {
    return this.probes('attention', stream).map((p) => p.probe.layer);
  }

  heads(stream: AttentionStream, layer: number): number {
    const p = this.attention(stream, layer);
    if (!p) return 0;
    return p.probe.heads ?? axisSize(p, 'head');
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
   * each), so 'att:' entries are kept LRU, at most 24 of them.
   */
  memo<T>(key: string, make: () => T): T {
    if (this.cache.has(key)) {
      const v = this.cache.get(key) as T;
      if (key.startsWith('att:')) { this.cache.delete(key); this.cache.set(key, v); }
      return v;
    }
    const v = make();
    this.cache.set(key, v);
    if (key.startsWith('att:')) {
      const att = [...this.cache.keys()].filter((k) => k.startsWith('att:'));
      for (const k of att.slice(0, Math.max(0, att.length - 24))) this.cache.delete(k);
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
