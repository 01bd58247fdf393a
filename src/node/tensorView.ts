/**
 * Reading probe tensors by axis meaning rather than by position, so the CLI's summaries work for every
 * layout the planner reports (['batch','head','query','key'], ['seq','direction','batch','unit'], ...)
 * and for decoder probes stacked on a leading step axis.
 */
import type { ProbeTensor } from '../core/trace/traceTypes.js';
import type { AxisRole } from '../core/types.js';

export type Role = AxisRole | 'step';

export interface AxisView {
  roles: Role[];
  dims: number[];
  size(role: Role): number;
  /** Value at the given role indices; roles not given are index 0. Several axes of one role are not expected. */
  at(index: Partial<Record<Role, number>>): number;
}

export function axisView(pt: ProbeTensor): AxisView {
  const dims = pt.tensor.dims;
  let roles: Role[] = pt.stepAxis ? ['step', ...pt.probe.axes] : [...pt.probe.axes];
  // Shapes that do not match the declared axes (a planner guess) are read by position from the right.
  if (roles.length !== dims.length) roles = roles.slice(Math.max(0, roles.length - dims.length));
  while (roles.length < dims.length) roles.unshift('batch');
  const strides = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) strides[i] = strides[i + 1] * dims[i + 1];
  const data = pt.tensor.data;
  return {
    roles,
    dims,
    size: (role) => {
      const i = roles.indexOf(role);
      return i >= 0 ? dims[i] : 1;
    },
    at: (index) => {
      let off = 0;
      roles.forEach((r, i) => {
        off += (index[r] ?? 0) * strides[i];
      });
      return data[off];
    },
  };
}

/** The positions a probe runs over: generated steps for stacked decoder probes, else query / seq. */
export function positionRole(v: AxisView): Role {
  if (v.roles.includes('step')) return 'step';
  if (v.roles.includes('query')) return 'query';
  return 'seq';
}

/**
 * Attention as weights[head][position][key], where position is the query (or the generated step).
 * For stacked decoder probes each step holds the one new query row.
 */
export function attentionMatrix(pt: ProbeTensor): { heads: number; positions: number; keys: number; get(h: number, q: number, k: number): number } {
  const v = axisView(pt);
  const pos = positionRole(v);
  const heads = v.size('head');
  const positions = v.size(pos);
  const keys = v.size('key');
  const stepped = pos === 'step';
  return {
    heads, positions, keys,
    get: (h, q, k) => v.at(stepped ? { head: h, step: q, query: v.size('query') - 1, key: k } : { head: h, query: q, key: k }),
  };
}

/** Per-position vectors (hidden, cell, gate): units across direction × unit, one vector per position. */
export function positionVectors(pt: ProbeTensor): Float32Array[] {
  const v = axisView(pt);
  const pos = positionRole(v);
  const n = v.size(pos);
  const dirs = v.size('direction');
  const units = v.size('unit') * v.size('gate');
  const out: Float32Array[] = [];
  for (let p = 0; p < n; p++) {
    const vec = new Float32Array(dirs * units);
    for (let d = 0; d < dirs; d++) {
      for (let u = 0; u < units; u++) {
        // gate×unit flattened: gate is the slower axis when both are present.
        const g = Math.floor(u / v.size('unit'));
        const uu = u % v.size('unit');
        vec[d * units + u] = v.at({ [pos]: p, direction: d, gate: g, unit: uu });
      }
    }
    out.push(vec);
  }
  return out;
}
