/**
 * The fuzz tier at CI size: a fixed seed, every target (inspect, instrument, tokenize, manifest, .npy,
 * a WASM trace, `seqlens inspect` and `seqlens trace`), every case ending in ok or a one-sentence
 * SeqLensError within its time bound and without an allocation the input merely claims. A failure prints
 * each failing case's recipe and its reproducer (`npm run fuzz -- --seed S --case I`). The long run is
 * `npm run fuzz -- --n 10000` (docs/fuzzing.md). SEQLENS_FUZZ_CASES changes the size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TARGETS, targetOf } from './cases.js';
import { describeCase, formatReport, runFuzz } from './runFuzz.js';

const SEED = 11;
const CASES = Number(process.env.SEQLENS_FUZZ_CASES ?? 600);

test(`fuzz: ${CASES} cases (seed ${SEED}) end in ok or a one-sentence SeqLensError, each within its bound`, { timeout: 900_000 }, async (t) => {
  const report = await runFuzz({ seed: SEED, n: CASES, log: (line) => t.diagnostic(line) });
  for (const line of formatReport(report).split('\n')) t.diagnostic(line);
  for (const target of TARGETS) assert.ok((report.byTarget[target]?.cases ?? 0) > 0, `no ${target} case in ${CASES} cases`);
  const failures = report.failures.map((f) => `${f.outcome}${f.code ? ` (${f.code})` : ''}: ${(f.message ?? '').slice(0, 300)}\n  ${describeCase(f, SEED)}${f.stack ? `\n${f.stack}` : ''}`);
  assert.equal(failures.length, 0, `${failures.length} failing case(s):\n${failures.join('\n')}`);
});

test('a case over its time bound is reported as a timeout and its worker or process replaced, not left running', { timeout: 300_000 }, async () => {
  // The first in-process and CLI cases of the seed, run with bounds no case can meet, then again normally.
  const firstOf = (lane: 'inprocess' | 'cli'): number => {
    for (let i = 0; ; i++) {
      const target = targetOf(SEED, i);
      if (lane === 'cli' ? target.startsWith('cli-') : ['inspect', 'instrument', 'tokenize', 'manifest', 'npy'].includes(target)) return i;
    }
  };
  const cases = [firstOf('inprocess'), firstOf('cli')];
  const bounded = await runFuzz({ seed: SEED, n: 0, cases, timeouts: { inprocess: 1, cli: 1 } });
  assert.deepEqual(bounded.failures.map((f) => f.outcome), ['timeout', 'timeout']);
  const normal = await runFuzz({ seed: SEED, n: 0, cases });
  assert.equal(normal.failures.length, 0, formatReport(normal));
});
