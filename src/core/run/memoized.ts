/** One build per key, shared by concurrent callers; a rejected build is forgotten so the next call retries. */
export function memoized<K, T>(cache: Map<K, Promise<T>>, key: K, build: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = build();
    cache.set(key, p);
    p.catch(() => { if (cache.get(key) === p) cache.delete(key); });
  }
  return p;
}
