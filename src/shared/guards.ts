/**
 * The small checks every guard of a message is built from (protocol.ts, traceWire.ts). Each check returns
 * undefined when the value is fine, else what is wrong with it, for the log line.
 */

/** Why a value is not what it should be (undefined when it is). */
export type Check = (v: unknown) => string | undefined;

/** Where a problem is: `.model` + `.architecture is not ...` reads `.model.architecture is not ...`. */
export function at(where: string, problem: string): string {
  return problem.startsWith('.') || problem.startsWith('[') ? `${where}${problem}` : `${where} ${problem}`;
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const str: Check = (v) => (typeof v === 'string' ? undefined : 'is not a string');
export const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'is not a boolean');
/** Any number, NaN included: a score of a degenerate matrix is still a score the host can show. */
export const num: Check = (v) => (typeof v === 'number' ? undefined : 'is not a number');
/** Ids, offsets and indices. */
export const int: Check = (v) => (Number.isSafeInteger(v) ? undefined : 'is not an integer');
export const bytes: Check = (v) => (v instanceof Uint8Array ? undefined : 'is not a Uint8Array');
export const arrayBuffer: Check = (v) => (v instanceof ArrayBuffer ? undefined : 'is not an ArrayBuffer');
export const f32: Check = (v) => (v instanceof Float32Array ? undefined : 'is not a Float32Array');
export const lit = <T extends string>(...values: readonly T[]): Check => (v) =>
  values.includes(v as T) ? undefined : `is not ${values.map((x) => `'${x}'`).join(' or ')}`;
export const optional = (c: Check): Check => (v) => (v === undefined ? undefined : c(v));
export const arrayOf = (c: Check): Check => (v) => {
  if (!Array.isArray(v)) return 'is not an array';
  for (let i = 0; i < v.length; i++) {
    const e = c(v[i]);
    if (e) return at(`[${i}]`, e);
  }
  return undefined;
};
export const recordOf = (c: Check): Check => (v) => {
  if (!isObj(v)) return 'is not an object';
  for (const [k, x] of Object.entries(v)) {
    const e = c(x);
    if (e) return at(`.${k}`, e);
  }
  return undefined;
};

/** An object whose listed fields pass their checks (other fields are not looked at). */
export function fields(checks: Record<string, Check>): Check {
  const entries = Object.entries(checks);
  return (v) => {
    if (!isObj(v)) return 'is not an object';
    for (const [k, c] of entries) {
      const e = c(v[k]);
      if (e) return at(`.${k}`, e);
    }
    return undefined;
  };
}

/**
 * `fields` with the field list typed against T (every field of T, optional ones too, and no other), so a
 * field added to a message type without a check fails to compile.
 */
export function shape<T>(checks: { readonly [K in keyof T]-?: Check }): Check {
  return fields(checks as Record<string, Check>);
}
