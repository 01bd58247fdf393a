/**
 * LoadedModel on the real zoo models with onnxruntime-node: one decode and one plan per model however many
 * runs, layer fetches and inspections follow; deferred layers fetched later equal a run that fetched
 * everything; the layer store stays within its byte budget and keeps an overview of what it evicts;
 * traces are handed out frozen and a later layer fetch does not change them; the first run's timings
 * name every part and later runs report no one-time cost again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel, type TraceRunOptions } from '../../src/core/run/loadedModel.js';
import { attentionBytes } from '../../src/core/run/fetchPlan.js';
import { withLayers } from '../../src/core/run/layerStore.js';
import { ByteLru } from '../../src/core/run/byteLru.js';
import { maxPoolBlocks } from '../../src/core/trace/pool.js';
import { SeqLensError } from '../../src/core/errors.js';
import type { InferenceBackend } from '../../src/core/run/backend.js';
import type { ProbeTensor, Trace } from '../../src/core/trace/traceTypes.js';
import { getBackend } from '../../src/node/backends.js';
import { loadModel } from '../../src/node/modelLoader.js';

const TEXT = 'export function debounce<T>(fn: (x: T) => void, ms: number) {\n  let timer: number | undefined;';
const OTHER = 'interface Foo {\n  bar(): number;\n}';

/** A zoo model loaded for `body`, on onnxruntime-node; its sessions are released afterwards. */
async function withZoo(name: string, body: (model: LoadedModel, backend: InferenceBackend) => Promise<void>): Promise<void> {
  const m = await loadModel(name);
  const model = await LoadedModel.load({ files: m.files, manifest: m.manifest, name: m.name });
  try {
    await body(model, await getBackend('native'));
  } finally {
    await model.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const attention = (t: Trace): ProbeTensor[] => t.probes.filter((p) => p.probe.kind === 'attention');

test('ByteLru: the least recently used leave first, down to the budget; what the caller keeps stays', () => {
  const lru = new ByteLru<string, number>(10);
  lru.add('a', 1, 4);
  lru.add('b', 2, 4);
  lru.get('a'); // b is now the oldest
  assert.deepEqual(lru.set('c', 3, 4), [['b', 2]]);
  assert.equal(lru.bytes, 8);
  // One entry over the budget on its own is kept (the view needs it), the others leave.
  assert.deepEqual(lru.set('big', 4, 20).map(([k]) => k), ['a', 'c']);
  assert.deepEqual(lru.values(), [4]);
});

test('zoo Transformer: two runs, a deferred-layer fetch and an inspection decode and plan once', () => withZoo('transformer', async (model, backend) => {
  const full = await model.trace({ backend, text: TEXT });
  const att = attention(full);
  assert.ok(att.length >= 2, 'the zoo Transformer has attention in two layers');
  const budget = attentionBytes(att[0].probe, full.tokens.length);
  const run = await model.run({ backend, text: TEXT, attentionBudgetBytes: budget, preferProbe: (p) => p.layer === 0 });
  await run.layers.load(run.layers.deferred);
  const other = await model.trace({ backend, text: OTHER });
  model.inspect();
  assert.ok(other.tokens.length > 0);
  assert.deepEqual({ ...model.stats }, {
    decodes: 1, plans: 1, instruments: 1, sessions: 1, tokenizers: 1, positionalSearches: 1, lensResolves: 1,
  });
  assert.equal(model.sessionCount, 1);
}));

test('zoo Transformer: deferred layers fetched later equal a full fetch; the store stays within budget; traces stay frozen', () => withZoo('transformer', async (model, backend) => {
  const full = await model.trace({ backend, text: TEXT });
  const attFull = attention(full);
  const T = full.tokens.length;
  const budget = attentionBytes(attFull[0].probe, T);
  const run = await model.run({ backend, text: TEXT, attentionBudgetBytes: budget, preferProbe: (p) => p.layer === 0 });
  const { trace, layers } = run;

  // The run's trace holds no attention: the store does, within the budget (layer 0, the preferred one).
  assert.equal(attention(trace).length, 0);
  assert.deepEqual(layers.resident().map((p) => p.probe.layer), [0]);
  assert.deepEqual(layers.deferred.map((p) => p.layer), attFull.slice(1).map((p) => p.probe.layer));
  assert.ok(layers.bytes <= budget);
  assert.ok(Object.isFrozen(trace) && Object.isFrozen(trace.probes) && Object.isFrozen(trace.tokens));
  assert.ok(Object.isFrozen(full) && Object.isFrozen(full.probes[0]) && Object.isFrozen(full.probes[0].tensor));
  assert.throws(() => (trace.probes as ProbeTensor[]).push(attFull[0]), TypeError);
  const before = [...trace.probes];

  // Layer 1 comes in; layer 0 leaves (one layer's budget) and keeps a max-pooled overview.
  await layers.load(layers.deferred.filter((p) => p.layer === 1));
  assert.deepEqual(layers.resident().map((p) => p.probe.layer), [1]);
  assert.ok(layers.bytes <= budget, `${layers.bytes} bytes kept, budget ${budget}`);
  assert.ok(layers.deferred.some((p) => p.layer === 0));
  const fetched = layers.resident()[0];
  const ref1 = attFull.find((p) => p.probe.name === fetched.probe.name)!;
  assert.deepEqual(fetched.tensor.dims, ref1.tensor.dims);
  assert.ok(maxAbsDiff(fetched.tensor.data, ref1.tensor.data) <= 1e-6);
  const overview0 = layers.pooled().find((p) => p.probe.layer === 0)!;
  assert.ok(overview0, 'the evicted layer 0 has an overview');
  assert.deepEqual(Array.from(overview0.tensor.data), Array.from(maxPoolBlocks(attFull[0].tensor, overview0.pooledBy!).data));

  // Layer 0 again: the same numbers as the run that fetched everything.
  await layers.load(layers.deferred.filter((p) => p.layer === 0));
  const again = layers.get(attFull[0].probe)!;
  assert.ok(again && maxAbsDiff(again.tensor.data, attFull[0].tensor.data) <= 1e-6);
  assert.ok(layers.bytes <= budget);
  assert.equal(layers.stats.evicted, 2);

  // The trace the run handed out is what it was; the snapshot is the store's state.
  assert.deepEqual(trace.probes, before);
  assert.equal(attention(trace).length, 0);
  const now = withLayers(trace, layers);
  assert.deepEqual(attention(now).map((p) => p.probe.layer), [0]);
  assert.equal(now.probes.length, full.probes.length - attFull.length + 1);
  assert.ok(Object.isFrozen(now));

  // Released sessions (the panel switched backends): the run can no longer fetch layers, and says why.
  await model.releaseBackend(backend);
  await assert.rejects(layers.load(layers.deferred), (e: unknown) => e instanceof SeqLensError && /backend changed/.test(e.message));
}));

test('zoo Transformer: the first run names its parts, later runs pay no one-time cost; positions and the lens come with the run', () => withZoo('transformer', async (model, backend) => {
  const first = await model.run({ backend, text: TEXT });
  for (const k of ['fetch', 'decode', 'plan', 'instrument', 'sessionCreate', 'tokenizer', 'tokenize', 'run', 'extract', 'total']) {
    assert.equal(typeof first.trace.timings[k], 'number', k);
  }
  for (const k of ['decode', 'plan', 'instrument', 'sessionCreate', 'tokenizer', 'run', 'total']) assert.ok(first.trace.timings[k] > 0, `${k} > 0`);
  const second = await model.run({ backend, text: OTHER });
  for (const k of ['fetch', 'decode', 'plan', 'instrument', 'sessionCreate', 'tokenizer']) assert.equal(second.trace.timings[k], 0, k);
  // The sinusoidal positions come out of the same session, one row per token.
  assert.ok(first.positional, 'positional encoding');
  assert.equal(first.positional.rows, first.trace.tokens.length);
  assert.ok(first.positional.data.every((v) => v >= -1 - 1e-6 && v <= 1 + 1e-6));
  assert.equal(second.positional?.rows, second.trace.tokens.length);
  assert.ok(first.lens && first.lens === second.lens, 'one lens for every run');
  assert.equal(typeof first.vocab?.(0), 'string');
  assert.equal(model.stats.sessions, 1);
}));

test('zoo Transformer: a lens bigger than lensMaxBytes is not read at all; one within it is, and its size is the one checked', () => withZoo('transformer', async (model, backend) => {
  const small = await model.run({ backend, text: TEXT, lensMaxBytes: 1024 });
  assert.equal(small.lens, undefined);
  assert.equal(model.stats.lensResolves, 0, 'the projection was read to be left out');
  const whole = await model.run({ backend, text: TEXT });
  assert.ok(whole.lens, 'the zoo Transformer has a lens');
  const bytes = whole.lens.projection.weight.data.byteLength;
  assert.ok(bytes > 1024);
  const exact = await model.run({ backend, text: TEXT, lensMaxBytes: bytes });
  assert.equal(exact.lens, whole.lens);
  assert.equal((await model.run({ backend, text: TEXT, lensMaxBytes: bytes - 1 })).lens, undefined);
  assert.equal(model.stats.lensResolves, 1);
}));

test('another backend kind gets its own instrumentation and session, not another decode', () => withZoo('lstm', async (model, native) => {
  // onnxruntime-node under the WebGPU name: the plan WebGPU gets (cells through Relu, no pooled overviews).
  const gpuLike: InferenceBackend = { name: 'webgpu', createSession: (b, e) => native.createSession(b, e) };
  const a = await model.trace({ backend: native, text: OTHER });
  const b = await model.trace({ backend: gpuLike, text: OTHER });
  assert.equal(model.stats.decodes, 1);
  assert.equal(model.stats.plans, 2);
  assert.equal(model.sessionCount, 2);
  const cells = (t: Trace): ProbeTensor[] => t.probes.filter((p) => p.probe.kind === 'cell');
  assert.ok(cells(a).length > 0);
  for (const [i, c] of cells(a).entries()) assert.ok(maxAbsDiff(c.tensor.data, cells(b)[i].tensor.data) < 1e-5, c.probe.name);
  await model.releaseBackend(native);
  assert.equal(model.sessionCount, 1);
}));

test('encoder-decoder: both files decoded and planned once over several runs', () => withZoo('dates-transformer', async (model, backend) => {
  const opts: TraceRunOptions = { backend, text: 'Tuesday, the 3rd of March 1998' };
  const a = await model.trace(opts);
  const b = await model.run({ ...opts, text: '12 May 2001' });
  assert.ok(a.generated?.length && b.trace.generated?.length);
  assert.ok(b.layers.resident().length > 0, 'its attention is in the store');
  assert.equal(b.layers.deferred.length, 0);
  assert.deepEqual([model.stats.decodes, model.stats.plans, model.stats.sessions], [2, 2, 2]);
  // Source and target tokenizers, each parsed once.
  assert.equal(model.stats.tokenizers, 2);
}));
