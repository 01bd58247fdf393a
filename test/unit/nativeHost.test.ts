/**
 * The native backend (#10): onnxruntime-node in a worker thread beside the extension host, driven by
 * NativeHost. Its traces are the in-process ones (traceModel on onnxruntime-node) to 1e-6, deferred layers
 * come back by name, cancel answers at once, and a worker that exits, is terminated or runs out of memory
 * mid-run rejects with one line while the next run starts a fresh worker and works.
 * Run: node --import tsx --test test/unit/nativeHost.test.ts
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NativeBackendError, NativeHost, type NativeModelSpec } from '../../src/node/nativeHost.js';
import { getBackend } from '../../src/node/backends.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { parseManifest } from '../../src/core/manifest.js';
import type { ProbeTensor, Trace } from '../../src/core/trace/traceTypes.js';
import { wireRunProblem } from '../../src/shared/traceWire.js';
import { nextTokenTopK, predictFromTop } from '../../src/core/trace/predictions.js';

const WORKER = resolve('src/node/nativeWorkerTsx.mjs');
const SCRATCH = resolve('test-results/native-host');
const TEXT = 'The lighthouse keeper counted the ships every evening.';

let hasNative = true;
try {
  await import('onnxruntime-node');
} catch {
  hasNative = false;
}

function zooSpec(name: string): NativeModelSpec {
  const dir = resolve('media/models', name);
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  return {
    id: `zoo:${name}`, label: name, manifestPath: join(dir, 'manifest.json'),
    files: Object.fromEntries(Object.entries(manifest.files).map(([k, rel]) => [k, join(dir, rel)])), tokenizerFiles: {},
  };
}

async function inProcess(name: string, text: string): Promise<Trace> {
  const dir = resolve('media/models', name);
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  return traceModel({
    backend: await getBackend('native'), manifest, modelName: name, text,
    files: async (rel) => new Uint8Array(readFileSync(join(dir, rel))),
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function byName(list: readonly ProbeTensor[]): Map<string, ProbeTensor> {
  return new Map(list.map((p) => [`${p.probe.stream ?? ''}|${p.probe.name}`, p]));
}

function assertOneLine(message: string): void {
  assert.ok(message.length > 0 && message.length <= 400 && !/[\n\r]/.test(message), `one line: ${JSON.stringify(message)}`);
  assert.doesNotMatch(message, /\bat \S+:\d+:\d+|\[object /);
}

describe('native backend host', { skip: hasNative ? false : 'onnxruntime-node is not installed', timeout: 300_000 }, () => {
  mkdirSync(SCRATCH, { recursive: true });
  const faultFile = join(SCRATCH, 'fault');
  const host = new NativeHost({ workerPath: WORKER, faultFile });
  after(() => host.dispose());

  for (const name of ['transformer', 'lstm', 'dates-transformer']) {
    test(`${name}: the worker's trace is the in-process onnxruntime-node trace (1e-6)`, async () => {
      const run = await host.trace({ model: zooSpec(name), text: TEXT, attentionBudgetBytes: 2 ** 30 });
      assert.equal(wireRunProblem(run), undefined, 'the run passes the page\'s guard');
      const ref = await inProcess(name, TEXT);
      assert.deepEqual(run.trace.tokens.map((t) => [t.id, t.start, t.end]), ref.tokens.map((t) => [t.id, t.start, t.end]));
      assert.deepEqual(run.trace.generated?.map((t) => t.id), ref.generated?.map((t) => t.id));
      const got = byName([...run.trace.probes, ...run.attention]);
      const want = byName(ref.probes);
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
      let worst = 0;
      for (const [k, w] of want) {
        const g = got.get(k)!;
        assert.deepEqual(g.tensor.dims, w.tensor.dims, k);
        worst = Math.max(worst, maxDiff(g.tensor.data, w.tensor.data));
      }
      if (ref.logits) worst = Math.max(worst, maxDiff(run.trace.logits!.data, ref.logits.data));
      assert.ok(worst <= 1e-6, `max |native worker - in-process| = ${worst}`);
      assert.equal(run.trace.backend, 'native');
      // Tensors arrive in buffers of their own (moved, not views into something larger).
      for (const p of run.attention) assert.equal(p.tensor.data.byteLength, p.tensor.data.buffer.byteLength);
      console.log(`# ${name}: ${run.trace.tokens.length} tokens, ${got.size} probes, max diff ${worst.toExponential(2)}, run ${run.trace.timings.run?.toFixed(1)} ms`);
    });
  }

  test('the logits\' top entries travel beside small logits and give their predictions; the guard refuses broken ones', async () => {
    const run = await host.trace({ model: zooSpec('transformer'), text: TEXT });
    const top = run.topLogits;
    assert.ok(top && run.trace.logits, 'a 97-character vocabulary\'s logits travel whole, with their top entries');
    // The same ids and logits as the whole row gives; probabilities through a float32 log-sum-exp (1e-6).
    const fromTop = predictFromTop(top, 5), whole = nextTokenTopK(run.trace.logits, 5);
    assert.deepEqual(fromTop.map((r) => r.map((p) => [p.id, p.logit])), whole.map((r) => r.map((p) => [p.id, p.logit])));
    fromTop.flat().forEach((p, i) => assert.ok(Math.abs(p.prob - whole.flat()[i]!.prob) < 1e-6, `${p.prob} against ${whole.flat()[i]!.prob}`));
    // Row t's next-token logit is the logit of token t + 1; the last row has none.
    const V = top.vocab;
    for (let t = 0; t + 1 < top.rows; t++) assert.equal(top.next[t], run.trace.logits.data[t * V + run.trace.tokens[t + 1]!.id]);
    assert.ok(Number.isNaN(top.next[top.rows - 1]));
    const broken = (patch: Record<string, unknown>): string | undefined => wireRunProblem({ ...run, topLogits: { ...top, ...patch } });
    assert.match(broken({ ids: top.ids.map((id, i) => (i === 3 ? V : id)) }) ?? '', /topLogits\.ids holds an id outside the vocabulary/);
    assert.match(broken({ logits: top.logits.subarray(1) }) ?? '', /topLogits.*rows × k/);
    assert.match(broken({ next: new Float32Array(1) }) ?? '', /one number per row/);
    assert.match(wireRunProblem({ ...run, someVocab: { ids: [1, 2], texts: ['a'] } }) ?? '', /someVocab.*differ in length/);
    // The logit lens's projection travels up to the size the host asks for (a remote window asks for less).
    assert.ok(run.lens, 'the zoo Transformer\'s projection goes by default');
    const small = await host.trace({ model: zooSpec('transformer'), text: TEXT, lensWireMaxBytes: run.lens.projection.weight.data.byteLength - 1 });
    assert.equal(small.lens, undefined, 'a projection past lensWireMaxBytes stays in the worker');
  });

  test('deferred layers beyond the budget are fetched by name and equal the in-process ones', async () => {
    const run = await host.trace({ model: zooSpec('transformer'), text: TEXT, attentionBudgetBytes: 4096, preferLayer: 1 });
    assert.deepEqual(run.attention.map((p) => p.probe.layer), [1], 'the preferred layer is the one sent');
    const deferred = run.trace.deferred ?? [];
    assert.equal(deferred.length, 1);
    const fetched = await host.fetchLayers(run.runKey, deferred.map((p) => p.name));
    assert.equal(fetched.length, 1);
    const ref = byName((await inProcess('transformer', TEXT)).probes);
    const w = ref.get(`${fetched[0].probe.stream ?? ''}|${fetched[0].probe.name}`)!;
    assert.ok(maxDiff(fetched[0].tensor.data, w.tensor.data) <= 1e-6);
    await assert.rejects(host.fetchLayers('run-unknown', ['x']), (e: NativeBackendError) => e.code === 'runtime' && /run the model again/.test(e.message));
  });

  test('prepare loads a model ahead of its first run: that run reads no file and creates no session', async () => {
    const spec = zooSpec('gru');
    const { ms, timings } = await host.prepare(spec);
    assert.ok(ms > 0);
    assert.ok(timings.sessionCreate > 0 && timings.fetch > 0, `prepare read the files and made the session (${JSON.stringify(timings)})`);
    const run = await host.trace({ model: spec, text: TEXT });
    const t = run.trace.timings;
    assert.equal(t.fetch, 0, `no file read again (${JSON.stringify(t)})`);
    assert.equal(t.sessionCreate, 0, 'the session made by prepare is used');
    assert.equal(t.tokenizer, 0, 'the tokenizer parsed by prepare is used');
    assert.equal(run.trace.tokens.length, TEXT.length);
    // A model whose file is gone: one line, with its code; nothing is kept loaded for it.
    const gone = { ...spec, id: 'gone', files: { ...spec.files, model: join(SCRATCH, 'no-such-model.onnx') } };
    await assert.rejects(host.prepare(gone), (e: NativeBackendError) => e.code === 'model-missing' && !/\n/.test(e.message));
  });

  test('cancel answers at once; the next run works', async () => {
    const abort = new AbortController();
    const p = host.trace({ model: zooSpec('dates-transformer'), text: TEXT }, { signal: abort.signal });
    abort.abort();
    await assert.rejects(p, (e: NativeBackendError) => e.code === 'cancelled');
    assert.equal(host.pendingCount, 0);
    const run = await host.trace({ model: zooSpec('transformer'), text: 'again' });
    assert.equal(run.trace.tokens.length, 5);
  });

  test('a worker that exits mid-run rejects with one line; the next run starts a fresh worker', async () => {
    const starts = host.starts;
    writeFileSync(faultFile, 'exit');
    const progress: string[] = [];
    await assert.rejects(host.trace({ model: zooSpec('transformer'), text: TEXT }, { onProgress: (m) => progress.push(m) }), (e: NativeBackendError) => {
      assertOneLine(e.message);
      return e.code === 'native-stopped' && /^The native backend stopped \(its thread exited with code 70\); the next run starts it again\.$/.test(e.message);
    });
    assert.ok(progress.length > 0, 'the run had started');
    assert.equal(existsSync(faultFile), false);
    const run = await host.trace({ model: zooSpec('transformer'), text: TEXT });
    assert.equal(run.trace.tokens.length, TEXT.length);
    assert.equal(host.starts, starts + 1);
  });

  test('a worker terminated mid-run (kill) rejects cleanly; the next run works', async () => {
    const p = host.trace({ model: zooSpec('dates-transformer'), text: TEXT }, {
      onProgress: () => void host.kill(),
    });
    await assert.rejects(p, (e: NativeBackendError) => e.code === 'native-stopped' && /\(it was stopped\)/.test(e.message));
    assert.equal(host.pendingCount, 0);
    const run = await host.trace({ model: zooSpec('transformer'), text: TEXT });
    assert.ok(run.trace.probes.length > 0);
  });

  test('out of memory in the worker: one line, the host lives on, the next run works', async () => {
    const small = new NativeHost({ workerPath: WORKER, faultFile, resourceLimits: { maxOldGenerationSizeMb: 96 } });
    try {
      writeFileSync(faultFile, 'oom');
      await assert.rejects(small.trace({ model: zooSpec('transformer'), text: TEXT }), (e: NativeBackendError) => {
        assertOneLine(e.message);
        return e.code === 'native-stopped' && e.message === 'The native backend stopped (it ran out of memory); the next run starts it again.';
      });
      const run = await small.trace({ model: zooSpec('transformer'), text: TEXT });
      assert.equal(run.trace.tokens.length, TEXT.length);
    } finally {
      await small.dispose();
    }
  });

  test('errors from the model are one line with their code', async () => {
    const spec = { ...zooSpec('transformer'), id: 'missing', manifestPath: join(SCRATCH, 'nope', 'manifest.json') };
    await assert.rejects(host.trace({ model: spec, text: TEXT }), (e: NativeBackendError) => {
      assertOneLine(e.message);
      return e.code === 'bad-manifest';
    });
  });
});
