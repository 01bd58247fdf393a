/**
 * "No allocation proportional to a length the file merely claims", made checkable: in the in-process
 * lane every typed array, ArrayBuffer and Array construction above a limit throws and is recorded. The
 * seeds are at most a few MB, so nothing honest needs a single block of 64 MiB; a block that size
 * came from a claimed dim, count or length. The constructors are wrapped in Proxies, which keep
 * `instanceof`, statics and subclassing (Node's Buffer) working, and must be installed before the
 * code under test is imported.
 */

export const ALLOCATION_LIMIT_BYTES = 64 * 1024 * 1024;

export class AllocationTooLarge extends Error {
  override name = 'AllocationTooLarge';
}

let armed = false;
const violations: string[] = [];

/** Only the case itself is watched, not the runner (which builds and copies seeds). */
export function armAllocationGuard(on: boolean): void {
  armed = on;
}

export function takeViolations(): string[] {
  return violations.splice(0);
}

function sizeOf(args: readonly unknown[], bytesPerElement: number): number | undefined {
  const first = args[0];
  if (typeof first === 'number') return first * bytesPerElement;
  // Array.from / TypedArray.from of an array-like with a claimed length.
  if (typeof first === 'object' && first !== null && !ArrayBuffer.isView(first) && !(first instanceof ArrayBuffer)
    && typeof (first as { length?: unknown }).length === 'number' && !Array.isArray(first)) {
    return (first as { length: number }).length * bytesPerElement;
  }
  return undefined;
}

function guard(name: string, bytesPerElement: number, size: number | undefined): void {
  if (!armed || size === undefined || !(size > ALLOCATION_LIMIT_BYTES)) return;
  const where = (new Error().stack ?? '').split('\n').slice(3, 7).map((l) => l.trim()).join(' < ');
  const what = `${name}(${size / bytesPerElement}) = ${Math.round(size / 2 ** 20)} MiB at ${where}`;
  violations.push(what);
  throw new AllocationTooLarge(`allocation of ${what}`);
}

function wrap<T extends abstract new (...args: never[]) => unknown>(name: string, ctor: T, bytesPerElement: number): T {
  return new Proxy(ctor, {
    construct(target, args, newTarget) {
      guard(name, bytesPerElement, sizeOf(args, bytesPerElement));
      return Reflect.construct(target as unknown as new (...a: unknown[]) => object, args, newTarget === undefined ? target : newTarget) as object;
    },
    apply(target, thisArg, args) {
      // Array(n) without `new`.
      guard(name, bytesPerElement, sizeOf(args, bytesPerElement));
      return Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
    },
  });
}

let installed = false;

export function installAllocationGuard(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<string, unknown>;
  const typed: [string, number][] = [['Int8Array', 1], ['Uint8Array', 1], ['Uint8ClampedArray', 1], ['Int16Array', 2], ['Uint16Array', 2],
    ['Int32Array', 4], ['Uint32Array', 4], ['Float32Array', 4], ['Float64Array', 8], ['BigInt64Array', 8], ['BigUint64Array', 8], ['ArrayBuffer', 1]];
  for (const [name, width] of typed) {
    g[name] = wrap(name, g[name] as abstract new (...args: never[]) => unknown, width);
  }
  // A JavaScript array costs at least 8 bytes per element.
  g.Array = wrap('Array', Array, 8);
}
