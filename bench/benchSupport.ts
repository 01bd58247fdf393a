/** Small helpers the benchmarks share: the generated-model cache, medians, number formatting. */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const BENCH_CACHE = resolve(process.env.SEQLENS_BENCH_CACHE ?? '.cache/bench');

/** Path of a model from bench/make_models.py, generating it (with Debian's torch) when missing. */
export function benchModelPath(file: string, which: 'overhead' | 'large'): string {
  const path = join(BENCH_CACHE, file);
  if (!existsSync(path)) {
    console.log(`generating ${path} with /usr/bin/python3 bench/make_models.py (torch, random weights)...`);
    execFileSync('/usr/bin/python3', ['bench/make_models.py', BENCH_CACHE, which], { stdio: 'inherit' });
  }
  return path;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const fmt = (v: number, d = 2): string => v.toFixed(d);
