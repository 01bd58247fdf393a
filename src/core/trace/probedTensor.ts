/**
 * A tensor probed by name (Probe kind 'tensor') read per token: its axes are named from the tensor the run
 * returned (the axis as long as the input is 'seq', leading size-1 axes before it 'batch', the rest 'unit'),
 * and it is cut into a [tokens × units] matrix (every axis but the sequence flattened into units, the first
 * batch item) with one L2 norm per token, which the panel draws as a heatmap and the CLI summarises.
 */
import type { AxisRole, Probe } from '../types.js';
import type { FloatTensor } from '../run/backend.js';
import type { ProbeTensor } from './traceTypes.js';
import { rowNorms } from './hiddenStates.js';
import type { Matrix } from './tensorAxes.js';

/**
 * Axis roles of a probed tensor with these dims over `tokens` positions. The sequence axis is the first
 * axis of that length (after leading size-1 axes, the batch); without one every axis is 'unit'.
 */
export function probedAxes(dims: readonly number[], tokens: number): AxisRole[] {
  let seq = -1;
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === tokens && (tokens !== 1 || i === dims.length - 2)) { seq = i; break; }
  }
  return dims.map((d, i): AxisRole => (i === seq ? 'seq' : seq > 0 && i < seq && d === 1 && !dims.slice(0, i).some((x) => x !== 1) ? 'batch' : 'unit'));
}

/** The probe with its axes named from the tensor the run returned. */
export function withProbedAxes(p: Probe, t: FloatTensor, tokens: number): Probe {
  return p.kind === 'tensor' ? { ...p, axes: probedAxes(t.dims, tokens) } : p;
}

export interface ProbedMatrix extends Matrix {
  /** False when the tensor has no axis over the tokens: one row holds the whole tensor. */
  perToken: boolean;
  /** L2 norm of each row. */
  norms: Float32Array;
}

/** The probed tensor as [tokens × units] (units: every non-sequence axis flattened, the first batch item). */
export function probedMatrix(pt: ProbeTensor): ProbedMatrix {
  const { dims, data } = pt.tensor;
  const axes = pt.probe.axes.length === dims.length ? pt.probe.axes : dims.map((): AxisRole => 'unit');
  const seq = axes.indexOf('seq');
  if (seq < 0) {
    const m = { rows: 1, cols: data.length, data };
    return { ...m, perToken: false, norms: rowNorms(m) };
  }
  // Batch axes before seq are size 1 (probedAxes names only those): skipping them is taking item 0.
  const rows = dims[seq];
  const inner = dims.slice(seq + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, seq).reduce((a, b) => a * b, 1);
  const cols = outer * inner;
  const out = new Float32Array(rows * cols);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < rows; r++) {
      out.set(data.subarray((o * rows + r) * inner, (o * rows + r + 1) * inner), r * cols + o * inner);
    }
  }
  const m = { rows, cols, data: out };
  return { ...m, perToken: true, norms: rowNorms(m) };
}
