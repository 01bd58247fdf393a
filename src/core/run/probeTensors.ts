/**
 * Turning raw probe outputs into what the probe means: the softmax that fused ops leave to us, the one
 * position a decoder step adds, and stacking decoder steps on a leading step axis.
 */
import type { FloatTensor } from './backend.js';
import type { AxisRole, Probe } from '../types.js';

/** Softmax over the last axis, in place on a copy; -Infinity scores (masked keys) become exact zeros. */
export function softmaxLastAxis(t: FloatTensor): FloatTensor {
  const n = t.dims.length ? t.dims[t.dims.length - 1] : 1;
  const out = new Float32Array(t.data.length);
  for (let off = 0; off + n <= t.data.length; off += n) {
    let max = -Infinity;
    for (let i = 0; i < n; i++) max = Math.max(max, t.data[off + i]);
    if (max === -Infinity) continue; // a fully masked row stays all zeros
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.exp(t.data[off + i] - max);
      out[off + i] = e;
      sum += e;
    }
    for (let i = 0; i < n; i++) out[off + i] /= sum;
  }
  return { dims: [...t.dims], data: out };
}

export function applyPostprocess(probe: Probe, t: FloatTensor): FloatTensor {
  return probe.postprocess === 'softmax-last-axis' ? softmaxLastAxis(t) : t;
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Keeps index `index` of axis `axis` (the axis stays, with size 1). */
export function sliceAxis(t: FloatTensor, axis: number, index: number): FloatTensor {
  const dims = t.dims;
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const src = (o * dims[axis] + index) * inner;
    out.set(t.data.subarray(src, src + inner), o * inner);
  }
  const nd = [...dims];
  nd[axis] = 1;
  return { dims: nd, data: out };
}

/** The axis that runs over the positions a step adds: 'query' for attention, else 'seq'. */
export function positionAxis(axes: readonly AxisRole[]): number {
  const q = axes.indexOf('query');
  return q >= 0 ? q : axes.indexOf('seq');
}

/**
 * A decoder step that is fed the whole prefix recomputes every earlier position; the new one is the last.
 * Its tensor keeps only that position so steps stack like those of a one-token-per-step decoder.
 */
export function lastPosition(probe: Probe, t: FloatTensor): FloatTensor {
  const axis = positionAxis(probe.axes);
  if (axis < 0 || axis >= t.dims.length || t.dims[axis] <= 1) return t;
  return sliceAxis(t, axis, t.dims[axis] - 1);
}

/**
 * Stacks per-step tensors on a new leading axis. Steps may differ in size (a decoder's self-attention
 * sees one more key per step): each is zero-padded to the largest size on every axis, which for keys
 * that did not exist yet is exactly the attention they received.
 */
export function stackSteps(steps: readonly FloatTensor[]): FloatTensor {
  if (steps.length === 0) return { dims: [0], data: new Float32Array(0) };
  const rank = Math.max(...steps.map((s) => s.dims.length));
  const maxDims = Array.from({ length: rank }, (_, i) => Math.max(...steps.map((s) => s.dims[i] ?? 1)));
  const size = maxDims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(steps.length * size);
  const outStrides = strides(maxDims);
  steps.forEach((s, k) => {
    const base = k * size;
    const same = s.dims.length === rank && s.dims.every((d, i) => d === maxDims[i]);
    if (same) {
      out.set(s.data, base);
      return;
    }
    const dims = Array.from({ length: rank }, (_, i) => s.dims[i] ?? 1);
    const inStrides = strides(dims);
    const rowLen = dims[rank - 1];
    const rows = s.data.length / Math.max(rowLen, 1);
    for (let r = 0; r < rows; r++) {
      // Position of this row's first element in the padded layout.
      let rem = r * rowLen;
      let dst = base;
      for (let i = 0; i < rank - 1; i++) {
        const idx = Math.floor(rem / inStrides[i]);
        rem -= idx * inStrides[i];
        dst += idx * outStrides[i];
      }
      out.set(s.data.subarray(r * rowLen, (r + 1) * rowLen), dst);
    }
  });
  return { dims: [steps.length, ...maxDims], data: out };
}
