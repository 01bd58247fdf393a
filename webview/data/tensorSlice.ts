/**
 * Cuts 2-D matrices out of probe tensors by axis *role* (probe.axes), never by guessing from shapes.
 * Decoder probes stacked over generated steps get a leading 'step' axis.
 */
import type { AxisRole } from '../../src/core/types.js';
import type { ProbeTensor } from '../../src/core/trace/traceTypes.js';

export type AxisName = AxisRole | 'step';
/** How an axis that is neither rows nor columns is reduced. */
export type AxisPick = number | 'mean' | 'last';

export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major rows × cols. */
  data: Float32Array;
}

export function probeAxes(p: ProbeTensor): AxisName[] {
  const axes: AxisName[] = [...p.probe.axes];
  if (p.stepAxis && axes.length < p.tensor.dims.length) axes.unshift('step');
  return axes;
}

export function axisSize(p: ProbeTensor, axis: AxisName): number {
  const i = probeAxes(p).indexOf(axis);
  return i < 0 ? 1 : p.tensor.dims[i];
}

/**
 * Returns tensor[rowAxis, colAxis] with every other axis picked (default index 0, 'mean' averages,
 * 'last' takes the last index). `colAxis` may be undefined for a single column.
 */
export function sliceMatrix(p: ProbeTensor, rowAxis: AxisName, colAxis: AxisName | undefined, picks: Partial<Record<AxisName, AxisPick>> = {}): Matrix {
  const axes = probeAxes(p);
  const dims = p.tensor.dims;
  const data = p.tensor.data;
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) { strides[i] = s; s *= dims[i]; }
  const ri = axes.indexOf(rowAxis);
  const ci = colAxis ? axes.indexOf(colAxis) : -1;
  if (ri < 0) throw new Error(`probe ${p.probe.name} has no ${rowAxis} axis (axes: ${axes.join(',')})`);
  if (colAxis && ci < 0) throw new Error(`probe ${p.probe.name} has no ${colAxis} axis (axes: ${axes.join(',')})`);
  const rows = dims[ri], cols = ci >= 0 ? dims[ci] : 1;
  // Offsets of every combination of the other axes (with weights for means).
  let combos: { off: number; w: number }[] = [{ off: 0, w: 1 }];
  for (let a = 0; a < dims.length; a++) {
    if (a === ri || a === ci) continue;
    const pick = picks[axes[a]] ?? 0;
    if (pick === 'mean') {
      const next: { off: number; w: number }[] = [];
      for (const c of combos) for (let k = 0; k < dims[a]; k++) next.push({ off: c.off + k * strides[a], w: c.w / dims[a] });
      combos = next;
    } else {
      const k = pick === 'last' ? dims[a] - 1 : Math.min(Math.max(0, pick), dims[a] - 1);
      combos = combos.map((c) => ({ off: c.off + k * strides[a], w: c.w }));
    }
  }
  const out = new Float32Array(rows * cols);
  const rs = strides[ri], cs = ci >= 0 ? strides[ci] : 0;
  for (const { off, w } of combos) {
    for (let r = 0; r < rows; r++) {
      const base = off + r * rs;
      const o = r * cols;
      if (w === 1 && combos.length === 1) {
        for (let c = 0; c < cols; c++) out[o + c] = data[base + c * cs];
      } else {
        for (let c = 0; c < cols; c++) out[o + c] += w * data[base + c * cs];
      }
    }
  }
  return { rows, cols, data: out };
}

export function matrixStats(m: Matrix): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  for (const v of m.data) { if (v < min) min = v; if (v > max) max = v; }
  if (!Number.isFinite(min)) return { min: 0, max: 0 };
  return { min, max };
}

export function transpose(m: Matrix): Matrix {
  const out = new Float32Array(m.data.length);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) out[c * m.rows + r] = m.data[r * m.cols + c];
  return { rows: m.cols, cols: m.rows, data: out };
}
