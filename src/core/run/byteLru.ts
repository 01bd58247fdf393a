/**
 * The one eviction policy for what a long input keeps in memory: a byte budget, least recently used out
 * first. Attention grows with the square of the input (a 12-head layer at 2,048 tokens is 200 MB), so the
 * layer store (deferred attention) and the page's per-head matrices both keep what fits and drop the oldest.
 * A Map iterates in insertion order: touching an entry re-inserts it, so the first key is the oldest.
 */
export class ByteLru<K, V> {
  private readonly entries = new Map<K, { value: V; bytes: number }>();
  private total = 0;

  constructor(readonly budget: number) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The value, which becomes the most recently used. */
  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** The value, without changing the order. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Values, least recently used first. */
  values(): V[] {
    return [...this.entries.values()].map((e) => e.value);
  }

  /** Adds (or replaces) an entry as the most recently used, without evicting anything. */
  add(key: K, value: V, bytes: number): void {
    this.delete(key);
    this.entries.set(key, { value, bytes });
    this.total += bytes;
  }

  delete(key: K): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    this.total -= e.bytes;
    return true;
  }

  /**
   * Evicts least recently used entries outside `keep` until the budget holds (or only `keep` is left, so
   * that what the caller needs right now stays even when it alone exceeds the budget). Returns what left.
   */
  trim(keep: ReadonlySet<K> = new Set()): [K, V][] {
    const out: [K, V][] = [];
    for (const [k, e] of [...this.entries]) {
      if (this.total <= this.budget) break;
      if (keep.has(k)) continue;
      this.delete(k);
      out.push([k, e.value]);
    }
    return out;
  }

  /** add() then trim(), keeping the new entry. */
  set(key: K, value: V, bytes: number): [K, V][] {
    this.add(key, value, bytes);
    return this.trim(new Set([key]));
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
