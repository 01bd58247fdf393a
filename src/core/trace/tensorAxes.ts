/**
 * Reading probe tensors by axis meaning instead of position: a probe says what each axis is
 * (`Probe.axes`, plus a leading 'step' axis when decoder steps were stacked), and these helpers
 * cut any layout down to a row-major matrix. Everything here is pure and browser-safe.
 */
import { SeqLensError } from '../errors.js';
import type { FloatTensor } from '../run/backend.js';
import type { AxisRole } from '../types.js';
import type { ProbeTensor } from './traceTypes.js';

/** Axis roles plus the decoder-step axis that stacking adds. */
export type AxisName = AxisRole | 'step';

/** A dense row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** The axis names of a probe tensor, outermost first. */
export function axesOf(pt: ProbeTensor): AxisName[] {
  const axes: AxisName[] = [...pt.probe.axes];
  if (pt.stepAxis && axes.length === pt.tensor.dims.length - 1) axes.unshift('step');
  if (axes.length !== pt.tensor.dims.length) {
    throw new SeqLensError('runtime', `Probe "${pt.probe.name}" has ${pt.tensor.dims.length} dims [${pt.tensor.dims.join(', ')}] but ${axes.length} axis roles (${axes.join(', ')})`);
  }
  return axes;
}

export interface MatrixSpec {
  /** Axes that run along the rows, outermost first (their sizes multiply). May be empty (one row). */
  rows: readonly AxisName[];
  /** Axes that run along the columns. */
  cols: readonly AxisName[];
  /** Axes averaged away (e.g. 'head' for the mean over heads). */
  mean?: readonly AxisName[];
  /** Index for any other axis (default 0: the first batch item, direction, ...). */
  index?: Partial<Record<AxisName, number>>;
}

/** Offsets of every multi-index over the given (size, stride) axes, outermost first. */
function offsets(sizes: readonly number[], strides: readonly number[]): Int32Array {
  const count = sizes.reduce((a, b) => a * b, 1);
  const out = new Int32Array(count);
  let n = 1;
  out[0] = 0;
  // Build from the innermost axis outwards: out = outer ⊗ inner.
  for (let a = sizes.length - 1; a >= 0; a--) {
    const size = sizes[a]!;
    const stride = strides[a]!;
    for (let i = 1; i < size; i++) for (let j = 0; j < n; j++) out[i * n + j] = out[j]! + i * stride;
    n *= size;
  }
  return out;
}

/** Cuts a tensor whose axes are named `axes` down to a matrix as described by `spec`. */
export function toMatrix(tensor: FloatTensor, axes: readonly AxisName[], spec: MatrixSpec): Matrix {
  const { dims, data } = tensor;
  if (axes.length !== dims.length) throw new SeqLensError('runtime', `axis roles (${axes.join(', ')}) do not match dims [${dims.join(', ')}]`);
  const strides = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * dims[i + 1]!;
  const pick = (names: readonly AxisName[]): { sizes: number[]; strides: number[] } => {
    const sizes: number[] = [];
    const st: number[] = [];
    for (const name of names) {
      const a = axes.indexOf(name);
      if (a < 0) throw new SeqLensError('runtime', `tensor has no '${name}' axis (axes: ${axes.join(', ')})`);
      sizes.push(dims[a]!);
      st.push(strides[a]!);
    }
    return { sizes, strides: st };
  };
  const used = new Set<AxisName>([...spec.rows, ...spec.cols, ...(spec.mean ?? [])]);
  let base = 0;
  axes.forEach((name, a) => {
    if (used.has(name)) return;
    const i = spec.index?.[name] ?? 0;
    if (i < 0 || i >= dims[a]!) throw new SeqLensError('runtime', `index ${i} is outside axis '${name}' of size ${dims[a]}`);
    base += i * strides[a]!;
  });
  const r = pick(spec.rows);
  const c = pick(spec.cols);
  const m = pick(spec.mean ?? []);
  const rowOff = offsets(r.sizes, r.strides);
  const colOff = offsets(c.sizes, c.strides);
  const meanOff = offsets(m.sizes, m.strides);
  const rows = rowOff.length;
  const cols = colOff.length;
  const out = new Float32Array(rows * cols);
  if (meanOff.length === 1) {
    for (let i = 0; i < rows; i++) {
      const ro = base + rowOff[i]!;
      for (let j = 0; j < cols; j++) out[i * cols + j] = data[ro + colOff[j]!]!;
    }
  } else {
    const acc = new Float64Array(rows * cols);
    for (const mo of meanOff) {
      for (let i = 0; i < rows; i++) {
        const ro = base + mo + rowOff[i]!;
        for (let j = 0; j < cols; j++) acc[i * cols + j]! += data[ro + colOff[j]!]!;
      }
    }
    for (let k = 0; k < out.length; k++) out[k] = acc[k]! / meanOff.length;
  }
  return { rows, cols, data: out };
}

export function matrixRow(m: Matrix, r: number): Float32Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}
