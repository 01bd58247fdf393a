/**
 * Derived numbers the views show, memoised per run. The math itself belongs to src/core/trace; this
 * module only picks the right tensors and caches results so that switching views is instant.
 */
import type { AttentionStream, GateName } from '../../src/core/types.js';
import type { ProbeTensor } from '../../src/core/trace/traceTypes.js';
import { type Matrix, probeAxes, sliceMatrix } from './tensorSlice.js';
import type { RunData } from './runData.js';
import type { AttentionNeed, HeadPick } from '../views/viewTypes.js';
import * as math from './traceMath.js';
import { computePca } from '../runtime/pcaClient.js';
import { logitLens as coreLogitLens, logSumExp } from '../../src/core/trace/predictions.js';

/** Query/step rows × key columns for one probe, with the head picked. */
export function attentionOf(p: ProbeTensor, head: number | 'mean'): Matrix {
  const axes = probeAxes(p);
  const rowAxis = axes.includes('step') ? 'step' : 'query';
  return sliceMatrix(p, rowAxis, 'key', { head, query: 'last', batch: 0 });
}

/** The layers among `layers` whose attention is deferred and whose derived value `key(layer)` is not kept yet. */
export function layerNeeds(run: RunData, stream: AttentionStream, layers: number[], key?: (layer: number) => string): AttentionNeed[] {
  return layers.filter((l) => run.isDeferred(stream, l) && !(key && run.hasMemo(key(l)))).map((layer) => ({ run, stream, layer }));
}

/**
 * One head (or the mean of heads) of a layer. Means are kept for the life of the run (one n×n matrix a
 * layer), so they outlive the layer's tensor when a long input's attention is evicted (RunData.load).
 */
export const meanKey = (stream: AttentionStream, layer: number): string => `mean:${stream}:${layer}`;

export function attentionMatrix(run: RunData, stream: AttentionStream, layer: number, head: HeadPick): Matrix | undefined {
  if (head === 'rollout') return rollout(run, stream, layer);
  const key = head === 'mean' ? meanKey(stream, layer) : `att:${stream}:${layer}:${head}`;
  if (run.hasMemo(key)) return run.memoGet<Matrix>(key);
  const p = run.attention(stream, layer);
  return p ? run.memo(key, () => attentionOf(p, head)) : undefined;
}

/** All heads of a layer: [heads] matrices. */
export function headMatrices(run: RunData, stream: AttentionStream, layer: number): Matrix[] {
  return run.memo(`heads:${stream}:${layer}`, () => {
    const h = run.heads(stream, layer);
    const out: Matrix[] = [];
    for (let i = 0; i < h; i++) {
      const m = attentionMatrix(run, stream, layer, i);
      if (m) out.push(m);
    }
    return out;
  });
}

/** Attention rollout up to and including `layer` (self-attention streams only). */
export function rollout(run: RunData, stream: AttentionStream, layer: number): Matrix | undefined {
  if (stream === 'cross') return attentionMatrix(run, stream, layer, 'mean');
  const key = `rollout:${stream}:${layer}`;
  if (run.hasMemo(key)) return run.memoGet<Matrix>(key);
  // Every layer's mean is taken (and kept) now, while it is loaded; the rollout waits for all of them.
  const means = run.layers(stream).filter((l) => l <= layer).map((l) => attentionMatrix(run, stream, l, 'mean'));
  if (means.some((m) => !m)) return undefined;
  return run.memo(key, () => math.rollout(means as Matrix[]));
}

/** Hidden state of one probe as [seq, unit] (batch 0; directions concatenated). */
export function hiddenMatrix(p: ProbeTensor): Matrix {
  const axes = probeAxes(p);
  // Stacked decoder steps: one row per step, the step's last position.
  const rowAxis = axes.includes('step') ? 'step' : axes.includes('seq') ? 'seq' : 'query';
  const picks = { batch: 0, query: 'last', seq: 'last' } as const;
  if (!axes.includes('direction')) return sliceMatrix(p, rowAxis, 'unit', picks);
  const dirs = p.tensor.dims[axes.indexOf('direction')];
  const parts = Array.from({ length: dirs }, (_, d) => sliceMatrix(p, rowAxis, 'unit', { ...picks, direction: d }));
  if (parts.length === 1) return parts[0];
  const rows = parts[0].rows, cols = parts.reduce((s, m) => s + m.cols, 0);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let o = r * cols;
    for (const m of parts) { data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), o); o += m.cols; }
  }
  return { rows, cols, data };
}

export function hiddenLayers(run: RunData): { layer: number; label: string; m: Matrix }[] {
  return run.memo('hiddenLayers', () => run.hidden()
    .filter((p) => (p.probe.stream ?? 'encoder') !== 'decoder' || run.hidden().every((q) => q.probe.stream === 'decoder'))
    .map((p) => ({ layer: p.probe.layer, label: `${p.probe.stream && p.probe.stream !== 'encoder' ? `${p.probe.stream} ` : ''}L${p.probe.layer}`, m: hiddenMatrix(p) })));
}

/** Per-token L2 norm per layer: [layers, seq]. */
export function normStrip(run: RunData): Matrix {
  return run.memo('norms', () => math.norms(hiddenLayers(run).map((h) => h.m)));
}

/** Cosine between consecutive layers per token: [layers-1, seq]. */
export function layerCosine(run: RunData): Matrix {
  return run.memo('cosine', () => {
    const layers = hiddenLayers(run).map((h) => h.m);
    // Layers of different widths (e.g. an encoder and a decoder) have no cosine between them.
    if (layers.some((m) => m.cols !== layers[0].cols)) return { rows: 0, cols: layers[0]?.rows ?? 0, data: new Float32Array(0) };
    return math.layerCosine(layers);
  });
}

function pcaLayers(run: RunData): Matrix[] | undefined {
  const layers = hiddenLayers(run).map((h) => h.m);
  return !layers.length || layers.some((m) => m.cols !== layers[0].cols) ? undefined : layers;
}

/** 2-D PCA of all (layer, token) hidden states of equal width: per layer [seq, 2]. Computed here, now. */
export function pcaTrajectory(run: RunData): { points: Matrix[]; explained: number[] } | undefined {
  return run.memo('pca', () => {
    const layers = pcaLayers(run);
    return layers ? math.pca2(layers) : undefined;
  });
}

/** Derived work in flight off the UI thread (the app's settled() waits for it). */
export const pendingWork = new Set<Promise<unknown>>();
const pcaInFlight = new WeakSet<RunData>();

/**
 * The same PCA for drawing: computed in a worker; 'pending' until it is there, then `redraw` is
 * called. A failure falls back to computing it here.
 */
export function pcaTrajectoryAsync(run: RunData, redraw: () => void): ReturnType<typeof pcaTrajectory> | 'pending' {
  if (run.hasMemo('pca')) return run.memoGet('pca');
  const layers = pcaLayers(run);
  if (!layers) return undefined;
  if (!pcaInFlight.has(run)) {
    pcaInFlight.add(run);
    const work = computePca(layers).then(
      (r) => { run.memo('pca', () => r); },
      () => { pcaTrajectory(run); },
    ).finally(() => {
      pendingWork.delete(work);
      redraw();
    });
    pendingWork.add(work);
  }
  return 'pending';
}

export function gateMatrix(run: RunData, gate: GateName, layer: number): Matrix | undefined {
  const p = run.gate(gate, layer);
  return p ? run.memo(`gate:${gate}:${layer}`, () => hiddenMatrix(p)) : undefined;
}

export function cellMatrix(run: RunData, layer: number): Matrix | undefined {
  const p = run.trace.probes.find((q) => q.probe.kind === 'cell' && q.probe.layer === layer);
  return p ? run.memo(`cell:${layer}`, () => hiddenMatrix(p)) : undefined;
}

/** Output logits as [positions, vocab] (batch 0). */
export function logitsMatrix(run: RunData): Matrix | undefined {
  const l = run.trace.logits;
  if (!l) return undefined;
  return run.memo('logits', () => {
    const vocab = l.dims[l.dims.length - 1];
    return { rows: l.data.length / vocab, cols: vocab, data: l.data };
  });
}

/** Positions with next-token logits: rows of the whole logits, or of their top entries (a native run's big vocabulary). */
export function logitRows(run: RunData): number | undefined {
  return logitsMatrix(run)?.rows ?? run.topLogits?.rows;
}

export function topK(run: RunData, k: number): math.TopK[][] | undefined {
  const m = logitsMatrix(run);
  if (m) return run.memo(`topk:${k}`, () => math.topKSoftmax(m, k));
  const top = run.topLogits;
  return top && k <= top.k ? run.memo(`topk:${k}`, () => math.topKFromTop(top, k)) : undefined;
}

/** p(actual next token) per position, for language models: from the whole logits, or from each row's next-token logit and log-sum-exp. */
export function nextTokenProb(run: RunData): Float32Array | undefined {
  if (run.trace.generated) return undefined;
  const rows = logitRows(run);
  if (rows === undefined) return undefined;
  return run.memo('nextP', () => Float32Array.from({ length: Math.max(0, Math.min(rows, run.tokens.length) - 1) }, (_, t) => nextTokenAt(run, t)?.p ?? 0));
}

/**
 * The probability the model gave the token that really comes at t + 1, and its rank among all the vocabulary's
 * tokens. From top entries only, a token below them has rank `beyond`: past the k sent (shown as "> k").
 */
export function nextTokenAt(run: RunData, t: number): { p: number; rank: number; beyond: boolean } | undefined {
  if (t + 1 >= run.tokens.length) return undefined;
  const next = run.tokens[t + 1].id;
  const m = logitsMatrix(run);
  if (m) {
    if (t >= m.rows) return undefined;
    const row = m.data.subarray(t * m.cols, (t + 1) * m.cols), logit = row[next];
    let rank = 1;
    for (const x of row) if (x > logit) rank++;
    return { p: Math.exp(logit - logSumExp(row)), rank, beyond: false };
  }
  const top = run.topLogits;
  if (!top || t >= top.rows) return undefined;
  const logit = top.next[t];
  let rank = 1;
  for (let i = 0; i < top.k; i++) if (top.logits[t * top.k + i] > logit) rank++;
  const inTop = Array.from(top.ids.subarray(t * top.k, (t + 1) * top.k)).includes(next);
  return { p: Math.exp(logit - top.logSumExp[t]), rank, beyond: !inTop };
}

/** What the exports hold of a run's logits: the whole tensor, or its top entries per position. */
export function logitTensors(run: RunData, prefix: string): { name: string; tensor: { dims: number[]; data: Float32Array } }[] {
  if (run.trace.logits) return [{ name: `${prefix}logits`, tensor: run.trace.logits }];
  const top = run.topLogits;
  if (!top) return [];
  return [
    { name: `${prefix}logits-top${top.k}`, tensor: { dims: [top.rows, top.k], data: top.logits } },
    { name: `${prefix}logits-top${top.k}-ids`, tensor: { dims: [top.rows, top.k], data: top.ids } },
  ];
}

/** Logit lens: per layer, probes of kind 'logits' (layer-indexed) as [positions, vocab]. */
export function lensLayers(run: RunData): { layer: number; m: Matrix }[] {
  return run.memo('lens', () => run.probes('logits').map((p) => {
    const axes = probeAxes(p);
    return { layer: p.probe.layer, m: sliceMatrix(p, axes.includes('seq') ? 'seq' : 'query', 'vocab', { batch: 0 }) };
  }));
}

/** Hidden-state layers the logit lens reads (the plan's lens stream), lowest first. */
export function lensHidden(run: RunData): { layer: number; m: Matrix }[] {
  const lens = run.lens;
  if (!lens) return [];
  const [a, b] = lens.projection.weight.dims;
  const width = lens.projection.transposed ? b : a;
  // Only states as wide as the projection's input: a Transformer layer before a GRU head (an audio
  // encoder) is another width than the GRU's states the projection reads.
  return run.memo('lensHidden', () => run.hidden()
    .filter((p) => lens.stream === undefined || (p.probe.stream ?? 'encoder') === lens.stream)
    .map((p) => ({ layer: p.probe.layer, m: hiddenMatrix(p) }))
    .filter((l) => l.m.cols === width));
}

/**
 * Logit lens at one position: top-k per layer of that layer's hidden state through the model's final
 * norm and output projection. Computed per position on demand (hidden × vocab multiply-adds per layer),
 * so a long input only pays for the positions on screen.
 */
export function lensAt(run: RunData, position: number, k: number): math.TopK[][] {
  const lens = run.lens;
  if (!lens) return [];
  return run.memo(`lens:${k}:${position}`, () => {
    const layers = lensHidden(run);
    if (position >= (layers[0]?.m.rows ?? 0)) return [];
    return coreLogitLens(layers.map((l) => l.m), lens.projection, { k, positions: [position] })
      .map((perPos) => perPos[0].map((p) => ({ id: p.id, p: p.prob, logit: p.logit })));
  });
}

/**
 * Direct strided access to one attention probe (no copies): what the head view and the model view use,
 * so 12 heads × 2,048² weights are never sliced into new arrays just to draw a window or a thumbnail.
 */
export interface AttentionReader {
  heads: number;
  rows: number;
  cols: number;
  /** Offset of (head, row, 0) in the tensor data; columns are `colStride` apart. */
  rowOffset(head: number, row: number): number;
  colStride: number;
  data: Float32Array;
}

export function attentionReader(p: ProbeTensor): AttentionReader {
  const axes = probeAxes(p);
  const dims = p.tensor.dims;
  const strides: number[] = new Array<number>(dims.length);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) { strides[i] = s; s *= dims[i]; }
  const ax = (name: string): number => axes.indexOf(name as never);
  const rowAxis = ax('step') >= 0 ? ax('step') : ax('query');
  const hAxis = ax('head'), kAxis = ax('key'), qAxis = ax('query');
  // A stepped decoder probe keeps its last query position.
  const fixed = rowAxis !== qAxis && qAxis >= 0 ? (dims[qAxis] - 1) * strides[qAxis] : 0;
  return {
    heads: hAxis >= 0 ? dims[hAxis] : 1,
    rows: dims[rowAxis],
    cols: dims[kAxis],
    colStride: strides[kAxis],
    data: p.tensor.data,
    rowOffset: (h, r) => fixed + (hAxis >= 0 ? h * strides[hAxis] : 0) + r * strides[rowAxis],
  };
}

/** Max-pooled [outRows × outCols] picture of one head (for thumbnails). */
export function pooledHead(r: AttentionReader, head: number, outRows: number, outCols: number): { rows: number; cols: number; data: Float32Array } {
  const rows = Math.min(outRows, r.rows), cols = Math.min(outCols, r.cols);
  const out = new Float32Array(rows * cols);
  for (let y = 0; y < rows; y++) {
    const ra = Math.floor((y * r.rows) / rows), rb = Math.max(ra + 1, Math.floor(((y + 1) * r.rows) / rows));
    for (let row = ra; row < rb; row++) {
      const base = r.rowOffset(head, row);
      for (let x = 0; x < cols; x++) {
        const ca = Math.floor((x * r.cols) / cols), cb = Math.max(ca + 1, Math.floor(((x + 1) * r.cols) / cols));
        let m = out[y * cols + x];
        for (let c = ca; c < cb; c++) { const v = r.data[base + c * r.colStride]; if (v > m) m = v; }
        out[y * cols + x] = m;
      }
    }
  }
  return { rows, cols, data: out };
}
