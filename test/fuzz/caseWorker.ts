/**
 * Runs fuzz cases for the runner, one at a time, and reports each outcome. Two lanes share it:
 *  - 'inprocess': a worker thread calling the core directly, with the allocation guard armed around
 *    each case; the runner terminates the thread when a case overruns its time;
 *  - 'trace': a child process holding onnxruntime-web's WASM backend (its memory and any abort stay
 *    out of the runner); the runner kills it when a case overruns.
 * Messages in: { seed, index }. Messages out: 'ready', then one CaseOutcome per case.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armAllocationGuard, installAllocationGuard, takeViolations } from './allocationGuard.js';
import type { CaseOutcome, CaseRequest } from './outcome.js';

const lane: 'inprocess' | 'trace' = parentPort ? (workerData as { lane: 'inprocess' }).lane : 'trace';
/** The runner makes the scratch folder and removes it, since a killed host cannot clean up after itself. */
const given: string | undefined = parentPort ? (workerData as { scratch?: string }).scratch : process.argv[2];
// Before the core is imported, so every allocation it makes goes through the guard.
if (lane === 'inprocess') installAllocationGuard();

const { Corpus } = await import('./corpus.js');
const { makeCase } = await import('./cases.js');
const { runInProcessCase, runTraceCase } = await import('./targets.js');
const { classify } = await import('./outcome.js');
const { getBackend } = await import('../../src/node/backends.js');

const corpus = new Corpus();
// Seeds are read (and the tokenizers cut down) before 'ready', so no case's time bound pays for it.
corpus.onnx();
corpus.folders();
if (lane === 'inprocess') {
  corpus.tokenizers();
  corpus.npy();
}
const scratch = given ?? mkdtempSync(join(tmpdir(), `seqlens-fuzz-${lane}-`));
const send = (m: CaseOutcome | 'ready'): void => {
  if (parentPort) parentPort.postMessage(m);
  else process.send?.(m);
};

async function handle(req: CaseRequest): Promise<CaseOutcome> {
  const c = makeCase(req.seed, req.index, corpus);
  const base = { index: c.index, target: c.target, origin: c.origin, steps: c.steps };
  const t0 = performance.now();
  let error: unknown;
  try {
    if (lane === 'inprocess') {
      takeViolations();
      armAllocationGuard(true);
      try {
        await runInProcessCase(c, join(scratch, 'case'));
      } finally {
        armAllocationGuard(false);
      }
    } else {
      await runTraceCase(c, await getBackend('wasm'), join(scratch, 'case'));
    }
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const violations = lane === 'inprocess' ? takeViolations() : [];
  return { ...base, ms, rssMb: Math.round(process.memoryUsage().rss / 2 ** 20), ...classify(error, violations) };
}

let queue = Promise.resolve();
const onRequest = (req: CaseRequest): void => {
  queue = queue.then(async () => send(await handle(req)));
};
if (parentPort) parentPort.on('message', onRequest);
else process.on('message', (m) => onRequest(m as CaseRequest));
if (!given) process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
send('ready');
