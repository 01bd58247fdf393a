/**
 * One run's attention, layer by layer: what is in memory, what was deferred (it did not fit the run's
 * byte budget) and each deferred layer's max-pooled overview. `load` fetches deferred layers through the
 * model that ran (same session, same tokens) and then evicts the least recently used layers down to the
 * budget (ByteLru: the one eviction policy), keeping an overview of every layer that leaves memory.
 * The trace itself is never touched: readers ask the store for attention.
 */
import type { Probe } from '../types.js';
import type { ProbeTensor, Trace } from '../trace/traceTypes.js';
import { hasQueryKeyPlanes, maxPoolBlocks, POOL } from '../trace/pool.js';
import { freezeProbeTensor, freezeTrace } from '../trace/frozenTrace.js';
import { ByteLru } from './byteLru.js';
import { DEFAULT_ATTENTION_BUDGET } from './fetchPlan.js';

/** Fetches these deferred probes with another run over the same tokens. */
export type LayerFetch = (probes: readonly Probe[], signal?: AbortSignal) => Promise<ProbeTensor[]>;

export interface LayerStoreInit {
  /** Attention the run handed back. */
  resident: readonly ProbeTensor[];
  deferred?: readonly Probe[];
  /** Overviews of the deferred layers the run sent. */
  pooled?: readonly ProbeTensor[];
  budget?: number;
  /** Absent: nothing more can be fetched (a trace shown without its model). */
  fetch?: LayerFetch;
}

/** Encoder and decoder files may use the same tensor names: a probe is its file, stream and name. */
export function probeKey(p: Probe): string {
  return `${p.file ?? 'model'}|${p.stream ?? ''}|${p.name}`;
}

const bytesOf = (pt: ProbeTensor): number => pt.tensor.data.byteLength;

export class LayerStore {
  readonly budget: number;
  private readonly kept: ByteLru<string, ProbeTensor>;
  private readonly waiting: Probe[];
  private readonly overviews: ProbeTensor[];
  private readonly fetch?: LayerFetch;
  /** Layers fetched after the run and layers evicted: what tests and the status line count. */
  readonly stats = { fetches: 0, fetched: 0, evicted: 0 };

  constructor(init: LayerStoreInit) {
    this.budget = init.budget ?? DEFAULT_ATTENTION_BUDGET;
    this.kept = new ByteLru(this.budget);
    for (const pt of init.resident) this.kept.add(probeKey(pt.probe), freezeProbeTensor(pt), bytesOf(pt));
    this.waiting = [...(init.deferred ?? [])];
    this.overviews = [...(init.pooled ?? [])];
    this.fetch = init.fetch;
  }

  /** A store over a complete trace's own attention (nothing to fetch): traces built outside a model run. */
  static of(trace: Trace): LayerStore {
    return new LayerStore({ resident: trace.probes.filter((p) => p.probe.kind === 'attention'), deferred: trace.deferred, pooled: trace.pooled });
  }

  /** Attention probes not in memory now (deferred by the run, or evicted since). */
  get deferred(): readonly Probe[] {
    return this.waiting;
  }

  /** Attention in memory now, least recently used first. */
  resident(): ProbeTensor[] {
    return this.kept.values();
  }

  /** Bytes of attention in memory now. */
  get bytes(): number {
    return this.kept.bytes;
  }

  /** A resident layer's attention, which becomes the most recently used. */
  get(p: Probe): ProbeTensor | undefined {
    return this.kept.get(probeKey(p));
  }

  /** Overviews of the layers not in memory (sent by the run, or pooled here when a layer left). */
  pooled(): readonly ProbeTensor[] {
    return this.overviews;
  }

  /**
   * Fetches these deferred probes in one run (the caller keeps a call within the budget), then evicts
   * other layers, least recently used first, down to the budget.
   */
  async load(probes: readonly Probe[], signal?: AbortSignal): Promise<void> {
    const keys = new Set(probes.map(probeKey));
    const want = this.waiting.filter((p) => keys.has(probeKey(p)));
    if (!want.length) return;
    if (!this.fetch) throw new Error('This run cannot fetch more attention (its session is gone); run the model again.');
    const got = await this.fetch(want, signal);
    this.stats.fetches++;
    const loaded = new Set<string>();
    for (const t of got) {
      const p = want.find((q) => q.name === t.probe.name);
      const i = p ? this.waiting.indexOf(p) : -1;
      if (!p || i < 0) continue;
      this.waiting.splice(i, 1);
      // The store's probe (with its pooled output named) stands for the fetched one.
      const pt = freezeProbeTensor({ ...t, probe: p });
      this.kept.add(probeKey(p), pt, bytesOf(pt));
      loaded.add(probeKey(p));
      this.stats.fetched++;
    }
    for (const [, p] of this.kept.trim(loaded)) this.evicted(p);
  }

  private evicted(pt: ProbeTensor): void {
    this.waiting.push(pt.probe);
    this.stats.evicted++;
    // Keep an overview of what leaves memory, as the graph pools the layers it never sent.
    // (WebGPU runs have no pooled outputs in the graph; this overview serves them just the same.)
    if (hasQueryKeyPlanes(pt.probe) && !this.overviews.some((o) => probeKey(o.probe) === probeKey(pt.probe))) {
      const factor = pt.probe.pooled?.factor ?? POOL;
      this.overviews.push(freezeProbeTensor({ probe: pt.probe, tensor: maxPoolBlocks(pt.tensor, factor), pooledBy: factor }));
    }
  }
}

/** The trace with its attention moved out (into a LayerStore): what a view over a long input holds on to. */
export function withoutAttention(trace: Trace): { trace: Trace; attention: ProbeTensor[] } {
  const attention = trace.probes.filter((p) => p.probe.kind === 'attention');
  return { trace: freezeTrace({ ...trace, probes: trace.probes.filter((p) => p.probe.kind !== 'attention') }), attention };
}

/** The trace as it stands now: its other probes plus the store's resident attention, deferred list and overviews. */
export function withLayers(trace: Trace, store: LayerStore): Trace {
  const { deferred: _d, pooled: _p, ...rest } = trace;
  const deferred = [...store.deferred];
  const pooled = [...store.pooled()];
  return freezeTrace({
    ...rest,
    probes: [...trace.probes.filter((p) => p.probe.kind !== 'attention'), ...store.resident()],
    ...(deferred.length ? { deferred } : {}),
    ...(pooled.length ? { pooled } : {}),
  });
}
