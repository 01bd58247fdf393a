/**
 * Hidden-state summaries per token and layer: the L2 norm (how loud a position is), the cosine between
 * consecutive layers (how much a block changed it), read from probes of any axis layout.
 */
import { SeqLensError } from '../errors.js';
import { axesOf, toMatrix, type AxisName, type Matrix } from './tensorAxes.js';
import type { ProbeTensor } from './traceTypes.js';

export interface HiddenSelect {
  batch?: number;
  /** Bidirectional recurrent outputs: one direction, or 'concat' (default) for [forward ‖ backward]. */
  direction?: number | 'concat';
  /** For probes stacked over decoder steps: one step, or all steps as rows (default). */
  step?: number;
}

/** A hidden-state probe as [rows = positions (or steps), cols = units]. */
export function hiddenMatrix(pt: ProbeTensor, select: HiddenSelect = {}): Matrix {
  const axes = axesOf(pt);
  if (!axes.includes('unit')) throw new SeqLensError('runtime', `Probe "${pt.probe.name}" has no unit axis (${axes.join(', ')})`);
  const rows: AxisName[] = [];
  if (axes.includes('step') && select.step === undefined) rows.push('step');
  if (axes.includes('seq')) rows.push('seq');
  const cols: AxisName[] = [];
  const index: Partial<Record<AxisName, number>> = { batch: select.batch ?? 0 };
  if (select.step !== undefined) index.step = select.step;
  const direction = select.direction ?? 'concat';
  if (axes.includes('direction') && direction === 'concat') cols.push('direction');
  else if (typeof direction === 'number') index.direction = direction;
  cols.push('unit');
  return toMatrix(pt.tensor, axes, { rows, cols, index });
}

/** L2 norm of every row (token). */
export function rowNorms(m: Matrix): Float32Array {
  const out = new Float32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j]!;
      s += v * v;
    }
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** Per layer, the L2 norm of each token's hidden state: result[layer][token]. */
export function tokenNorms(layers: readonly Matrix[]): Float32Array[] {
  return layers.map(rowNorms);
}

/** Cosine similarity of matching rows of two matrices (0 where either row is all zeros). */
export function rowCosine(a: Matrix, b: Matrix): Float32Array {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new SeqLensError('runtime', `cosine needs equal shapes; got ${a.rows}×${a.cols} and ${b.rows}×${b.cols}`);
  const out = new Float32Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < a.cols; j++) {
      const x = a.data[i * a.cols + j]!;
      const y = b.data[i * a.cols + j]!;
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    out[i] = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
  }
  return out;
}

/** Layer-to-layer cosine per token: result[l][token] = cos(h_l, h_{l+1}), so L layers give L-1 rows. */
export function layerCosine(layers: readonly Matrix[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (let l = 0; l + 1 < layers.length; l++) out.push(rowCosine(layers[l]!, layers[l + 1]!));
  return out;
}
