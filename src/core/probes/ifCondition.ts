/**
 * The value of an `If` condition before the model runs, where it can be known: a constant, or a
 * graph input whose value the run itself sets (the `use_cache_branch` flag of a merged decoder, see
 * cacheInputs.ts), seen through the few scalar ops exporters put in between (Not, Cast, Identity,
 * reshapes, comparisons, And/Or). Anything else (a value computed from the tokens) is unknown.
 */
import type { GraphIndex } from '../onnx/graphIndex.js';
import { attrInt } from '../onnx/attributes.js';
import { constantValues } from './graphWalk.js';

export interface ConditionValue {
  value: boolean;
  /** The graph inputs it was computed from (empty for a constant). */
  inputs: string[];
}

interface Scalar { v: number; inputs: string[] }

const PASS = new Set(['Identity', 'Squeeze', 'Unsqueeze', 'Reshape', 'Flatten', 'Expand']);
const CAST_TO_BOOL = 9;

function scalar(index: GraphIndex, name: string, known: ReadonlyMap<string, readonly number[]>, depth: number): Scalar | undefined {
  if (depth > 12 || !name) return undefined;
  const c = constantValues(index, name, 1);
  if (c && c.length === 1) return { v: c[0], inputs: [] };
  if (index.inputs.has(name)) {
    const k = known.get(name);
    return k && k.length === 1 ? { v: k[0], inputs: [name] } : undefined;
  }
  const p = index.producer.get(name);
  if (!p || (p.domain ?? '') !== '') return undefined;
  const arg = (i: number): Scalar | undefined => scalar(index, p.input[i], known, depth + 1);
  const both = (f: (a: number, b: number) => boolean): Scalar | undefined => {
    const a = arg(0);
    const b = a && arg(1);
    return a && b ? { v: f(a.v, b.v) ? 1 : 0, inputs: [...a.inputs, ...b.inputs] } : undefined;
  };
  if (PASS.has(p.opType)) return arg(0);
  switch (p.opType) {
    case 'Cast': {
      const a = arg(0);
      return a && (attrInt(p, 'to') === CAST_TO_BOOL ? { v: a.v !== 0 ? 1 : 0, inputs: a.inputs } : a);
    }
    case 'Not': {
      const a = arg(0);
      return a && { v: a.v !== 0 ? 0 : 1, inputs: a.inputs };
    }
    case 'Equal': return both((a, b) => a === b);
    case 'Greater': return both((a, b) => a > b);
    case 'Less': return both((a, b) => a < b);
    case 'GreaterOrEqual': return both((a, b) => a >= b);
    case 'LessOrEqual': return both((a, b) => a <= b);
    case 'And': return both((a, b) => a !== 0 && b !== 0);
    case 'Or': return both((a, b) => a !== 0 || b !== 0);
    case 'Xor': return both((a, b) => (a !== 0) !== (b !== 0));
    default: return undefined;
  }
}

/** The condition's value given the values the run feeds to some inputs; undefined when it depends on anything else. */
export function conditionValue(index: GraphIndex, name: string, known: ReadonlyMap<string, readonly number[]>): ConditionValue | undefined {
  const s = scalar(index, name, known, 0);
  return s && { value: s.v !== 0, inputs: [...new Set(s.inputs)] };
}
