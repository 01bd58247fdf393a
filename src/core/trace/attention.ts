/**
 * Attention maps as the views need them: one [query × key] matrix per layer and head (or the mean over
 * heads), whatever the probe's axis order, and attention rollout (Abnar & Zuidema, 2020).
 */
import { SeqLensError } from '../errors.js';
import { axesOf, toMatrix, type AxisName, type Matrix } from './tensorAxes.js';
import type { ProbeTensor } from './traceTypes.js';

export interface AttentionSelect {
  /** A head index, or 'mean' for the average over heads (default 'mean'). */
  head?: number | 'mean';
  batch?: number;
  /** For probes stacked over decoder steps: one step, or all steps as rows (default). */
  step?: number;
}

/**
 * The attention of one head (or the head mean) as [rows = query positions, cols = key positions].
 * Stacked decoder probes put one row per generated step (times queries per step, usually 1); attention
 * with no query axis (additive attention [batch, key]) is one row per step.
 */
export function attentionMatrix(pt: ProbeTensor, select: AttentionSelect = {}): Matrix {
  const axes = axesOf(pt);
  if (!axes.includes('key')) throw new SeqLensError('runtime', `Probe "${pt.probe.name}" has no key axis (${axes.join(', ')})`);
  const head = select.head ?? 'mean';
  const hasHead = axes.includes('head');
  const rows: AxisName[] = [];
  if (axes.includes('step') && select.step === undefined) rows.push('step');
  if (axes.includes('query')) rows.push('query');
  const index: Partial<Record<AxisName, number>> = { batch: select.batch ?? 0 };
  if (select.step !== undefined) index.step = select.step;
  if (hasHead && head !== 'mean') index.head = head;
  return toMatrix(pt.tensor, axes, { rows, cols: ['key'], mean: hasHead && head === 'mean' ? ['head'] : [], index });
}

/** Number of heads of an attention probe (1 when it has no head axis). */
export function headCount(pt: ProbeTensor): number {
  const axes = axesOf(pt);
  const h = axes.indexOf('head');
  return h < 0 ? 1 : pt.tensor.dims[h]!;
}

function identityPlusRowNormalised(a: Matrix): Float64Array {
  const n = a.rows;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const v = a.data[i * n + j]! + (i === j ? 1 : 0);
      out[i * n + j] = v;
      sum += v;
    }
    if (sum > 0) for (let j = 0; j < n; j++) out[i * n + j]! /= sum;
  }
  return out;
}

export interface Rollout {
  /** Rollout through all layers: row i says how much each input position flows into position i at the top. */
  final: Matrix;
  /** Rollout up to and including each layer (cumulative[0] is the first layer's own normalised map). */
  cumulative: Matrix[];
}

/**
 * Attention rollout: per layer, heads averaged, the residual connection modelled by adding the identity,
 * rows renormalised; then the layers multiplied bottom-up: R_l = Â_l · R_{l-1}.
 * `layers` are head-averaged square matrices, lowest layer first.
 */
export function attentionRollout(layers: readonly Matrix[]): Rollout {
  if (layers.length === 0) throw new SeqLensError('runtime', 'attention rollout needs at least one layer');
  const n = layers[0]!.rows;
  for (const l of layers) {
    if (l.rows !== n || l.cols !== n) throw new SeqLensError('runtime', `attention rollout needs square maps of one size; got ${l.rows}×${l.cols} and ${n}×${n}`);
  }
  let r = identityPlusRowNormalised(layers[0]!);
  const cumulative: Matrix[] = [{ rows: n, cols: n, data: Float32Array.from(r) }];
  for (let l = 1; l < layers.length; l++) {
    const a = identityPlusRowNormalised(layers[l]!);
    const next = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const aik = a[i * n + k]!;
        if (aik === 0) continue;
        for (let j = 0; j < n; j++) next[i * n + j]! += aik * r[k * n + j]!;
      }
    }
    r = next;
    cumulative.push({ rows: n, cols: n, data: Float32Array.from(r) });
  }
  return { final: cumulative[cumulative.length - 1]!, cumulative };
}

/** Rollout straight from attention probes of one stream (sorted by layer here). */
export function rolloutFromProbes(probes: readonly ProbeTensor[], batch = 0): Rollout {
  const sorted = [...probes].sort((a, b) => a.probe.layer - b.probe.layer);
  return attentionRollout(sorted.map((pt) => attentionMatrix(pt, { head: 'mean', batch })));
}
