/**
 * traceModel on the real zoo models: logits equal PyTorch's reference outputs, probe tensors have the
 * shapes the plan declares, native (onnxruntime-node) and wasm (onnxruntime-web in Node) agree, sessions
 * are reused, greedy decoding reproduces PyTorch's held-out predictions, and the runner's error cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { traceModel, type TraceOptions } from '../../src/core/run/traceModel.js';
import { TraceSessionCache } from '../../src/core/run/sessionCache.js';
import { isSeq2SeqIO } from '../../src/core/manifest.js';
import { SeqLensError } from '../../src/core/errors.js';
import { onnx } from '../../src/core/onnx/decode.js';
import type { Trace } from '../../src/core/trace/traceTypes.js';
import { getBackend } from '../../src/node/backends.js';
import { loadModel, zooDir, type ModelOnDisk } from '../../src/node/modelLoader.js';

const ZOO = zooDir();
const zoo = existsSync(ZOO) ? readdirSync(ZOO).filter((n) => existsSync(join(ZOO, n, 'manifest.json'))).sort() : [];
const oneFile = zoo.filter((n) => JSON.parse(readFileSync(join(ZOO, n, 'manifest.json'), 'utf8')).files.model);
const seq2seq = zoo.filter((n) => !oneFile.includes(n));

const SAMPLE = 'interface Foo {\n  bar(): number;\n}';
const DATE = 'Tuesday, the 3rd of March 1998';

async function run(m: ModelOnDisk, text: string, extra: Partial<TraceOptions> = {}): Promise<Trace> {
  return traceModel({ backend: await getBackend('native'), files: m.files, manifest: m.manifest, modelName: m.name, text, ...extra });
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SeqLensError, `expected SeqLensError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

test('the zoo is there', () => {
  assert.ok(oneFile.length >= 1, `one-file zoo models in ${ZOO}`);
});

for (const name of oneFile) {
  test(`${name}: logits match PyTorch's reference and probe tensors have the planned axes`, async () => {
    const m = await loadModel(name);
    const ref = JSON.parse(readFileSync(join(m.dir, 'reference.json'), 'utf8')) as
      { text: string; ids: number[]; argmax: number[]; logitsLast: number[] };
    const trace = await run(m, ref.text);
    assert.deepEqual(trace.tokens.map((t) => t.id), ref.ids);
    assert.ok(trace.logits);
    const [T, V] = trace.logits.dims;
    assert.equal(T, ref.ids.length);
    // Every position: PyTorch's argmax is our maximum (ties within float noise allowed).
    for (let t = 0; t < T; t++) {
      const row = trace.logits.data.subarray(t * V, (t + 1) * V);
      assert.ok(row[ref.argmax[t]] >= Math.max(...row) - 1e-4, `position ${t}`);
    }
    const last = trace.logits.data.subarray((T - 1) * V);
    assert.ok(maxAbsDiff(last, Float32Array.from(ref.logitsLast)) < 1e-4);

    assert.ok(trace.probes.length > 0);
    for (const { probe, tensor } of trace.probes) {
      assert.equal(tensor.dims.length, probe.axes.length, `${probe.name} rank vs axes ${probe.axes.join(',')}`);
      assert.equal(tensor.data.length, tensor.dims.reduce((a, b) => a * b, 1));
      probe.axes.forEach((axis, i) => {
        if (axis === 'seq' || axis === 'query' || axis === 'key') assert.equal(tensor.dims[i], T, `${probe.name} ${axis}`);
        if (axis === 'batch') assert.equal(tensor.dims[i], 1);
        if (axis === 'vocab') assert.equal(tensor.dims[i], V);
        if (axis === 'head') assert.equal(tensor.dims[i], probe.heads);
      });
      if (probe.kind === 'attention') {
        // Rows sum to 1 and a causal model gives no weight to later positions.
        const K = tensor.dims[tensor.dims.length - 1];
        for (let r = 0; r < tensor.data.length / K; r++) {
          const row = tensor.data.subarray(r * K, (r + 1) * K);
          assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
          const q = r % T;
          for (let k = q + 1; k < K; k++) assert.equal(row[k], 0);
        }
      }
    }
    for (const k of ['tokenize', 'instrument', 'sessionCreate', 'run', 'extract', 'total']) assert.equal(typeof trace.timings[k], 'number');
  });
}

for (const name of zoo) {
  test(`${name}: native and wasm backends agree within 1e-4`, async () => {
    const m = await loadModel(name);
    const text = seq2seq.includes(name) ? DATE : SAMPLE;
    const a = await run(m, text);
    const b = await run(m, text, { backend: await getBackend('wasm') });
    assert.equal(b.backend, 'wasm');
    assert.deepEqual(b.generated?.map((t) => t.id), a.generated?.map((t) => t.id));
    assert.equal(b.probes.length, a.probes.length);
    for (let i = 0; i < a.probes.length; i++) {
      assert.equal(b.probes[i].probe.name, a.probes[i].probe.name);
      assert.deepEqual(b.probes[i].tensor.dims, a.probes[i].tensor.dims);
      const d = maxAbsDiff(a.probes[i].tensor.data, b.probes[i].tensor.data);
      assert.ok(d < 1e-4, `${a.probes[i].probe.name}: ${d}`);
    }
    assert.ok(a.logits && b.logits && maxAbsDiff(a.logits.data, b.logits.data) < 1e-4);
  });
}

for (const name of seq2seq) {
  test(`${name}: greedy decoding reproduces PyTorch on heldout.json`, async () => {
    const m = await loadModel(name);
    assert.ok(m.manifest && isSeq2SeqIO(m.manifest.io));
    const io = m.manifest.io;
    const held = JSON.parse(readFileSync(join(m.dir, 'heldout.json'), 'utf8')) as
      { exactMatch: number; pairs: { source: string; target: string; predicted: string }[] };
    assert.equal(io.targetTokenizer.type, 'char');
    const targetVocab = JSON.parse(readFileSync(join(m.dir, io.targetTokenizer.type === 'char' ? io.targetTokenizer.vocab : ''), 'utf8')) as string[];
    const cache = new TraceSessionCache();
    let exact = 0;
    try {
      for (const pair of held.pairs) {
        const trace = await run(m, pair.source, { cache });
        const gen = trace.generated ?? [];
        // Compared as ids: PyTorch's string is the raw target characters up to the end token.
        const ids = gen.map((t) => t.id).filter((id) => id !== io.eos);
        assert.deepEqual(ids, [...pair.predicted].map((c) => targetVocab.indexOf(c)), `source "${pair.source}"`);
        if (ids.length === [...pair.target].length && ids.every((id, i) => targetVocab[id] === [...pair.target][i])) exact++;
        // One step per generated token, for every decoder probe; cross-attention rows over the source sum to 1.
        for (const pt of trace.probes.filter((p) => p.probe.file === 'decoder')) {
          assert.equal(pt.stepAxis, true);
          assert.equal(pt.tensor.dims[0], gen.length, pt.probe.name);
        }
        const cross = trace.probes.filter((p) => p.probe.kind === 'attention' && p.probe.stream === 'cross');
        // The plain encoder-decoder has no attention at all: that is its bottleneck.
        assert.equal(cross.length > 0, m.manifest.architecture !== 'seq2seq', 'cross-attention is traced where the model has it');
        for (const pt of cross) {
          const S = pt.tensor.dims[pt.tensor.dims.length - 1];
          assert.equal(S, trace.tokens.length);
          for (let r = 0; r < pt.tensor.data.length / S; r++) {
            const sum = pt.tensor.data.subarray(r * S, (r + 1) * S).reduce((a, b) => a + b, 0);
            assert.ok(Math.abs(sum - 1) < 1e-5, `${pt.probe.name} row ${r} sums to ${sum}`);
          }
        }
      }
      assert.equal(cache.size, 2, 'encoder and decoder sessions are created once for all pairs');
    } finally {
      await cache.dispose();
    }
    assert.equal(exact / held.pairs.length, held.exactMatch);
  });
}

test('a second run reuses the cached sessions', async () => {
  const m = await loadModel(oneFile[0]);
  const cache = new TraceSessionCache();
  try {
    const first = await run(m, SAMPLE, { cache });
    const second = await run(m, SAMPLE, { cache });
    assert.equal(cache.size, 1);
    assert.ok(first.timings.sessionCreate > 0);
    assert.equal(second.timings.sessionCreate, 0);
    assert.equal(maxAbsDiff(first.logits?.data ?? new Float32Array(), second.logits?.data ?? new Float32Array()), 0);
  } finally {
    await cache.dispose();
  }
});

test('text over the maximum length is truncated with a warning', async () => {
  const m = await loadModel(oneFile[0]);
  const max = m.manifest?.maxLength ?? 0;
  const long = 'x'.repeat(max + 25);
  const trace = await run(m, long);
  assert.equal(trace.tokens.length, max);
  assert.match(trace.warnings.join('\n'), new RegExp(`${max + 25} tokens.*at most ${max}`));
  const capped = await run(m, long, { maxTokens: 10 });
  assert.equal(capped.tokens.length, 10);
});

test('empty text, cancellation and a missing tokenizer are SeqLensErrors', async () => {
  const m = await loadModel(oneFile[0]);
  await rejectsWith(run(m, ''), 'empty-input');
  const ac = new AbortController();
  ac.abort();
  await rejectsWith(run(m, SAMPLE, { signal: ac.signal }), 'cancelled');
  if (seq2seq.length) {
    // Cancel while decoding: the runner stops between steps.
    const s = await loadModel(seq2seq[0]);
    const ac2 = new AbortController();
    await rejectsWith(run(s, DATE, {
      signal: ac2.signal, onProgress: (p) => { if (p.message.startsWith('Decoding')) ac2.abort(); },
    }), 'cancelled');
  }
  // The same .onnx without its manifest: nothing says how to tokenize.
  const bytes = await m.files(m.modelRel ?? 'model.onnx');
  const noTokenizer = (rel: string): Promise<Uint8Array> => Promise.reject(new Error(`no ${rel}`));
  await rejectsWith(traceModel({ backend: await getBackend('native'), files: noTokenizer, modelBytes: bytes, modelName: 'lm.onnx', text: SAMPLE }),
    'missing-tokenizer', /tokenizer\.json/);
});

test('a model without a manifest runs from its ids input and a given tokenizer, like with the manifest', async () => {
  const m = await loadModel(oneFile[0]);
  assert.ok(m.manifest);
  const bytes = await m.files(m.modelRel ?? 'model.onnx');
  const withManifest = await run(m, SAMPLE);
  const bare = await traceModel({
    backend: await getBackend('native'), files: m.files, modelBytes: bytes, modelName: 'bare.onnx', text: SAMPLE,
    tokenizer: m.manifest.tokenizer,
  });
  assert.deepEqual(bare.tokens, withManifest.tokens);
  assert.equal(bare.architecture, withManifest.architecture);
  assert.equal(maxAbsDiff(bare.logits?.data ?? new Float32Array(), withManifest.logits?.data ?? new Float32Array()), 0);
});

/** The zoo model re-encoded with its largest initializer moved to an external data file. */
function withExternalData(bytes: Uint8Array): { model: Uint8Array; data: Uint8Array; location: string } {
  const decoded = onnx.ModelProto.decode(bytes);
  const graph = decoded.graph;
  assert.ok(graph?.initializer);
  const big = [...graph.initializer].sort((a, b) => (b.rawData?.length ?? 0) - (a.rawData?.length ?? 0))[0];
  const raw = big.rawData ?? new Uint8Array();
  assert.ok(raw.length > 0);
  const location = 'weights.bin';
  big.rawData = new Uint8Array();
  big.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  big.externalData = [{ key: 'location', value: location }, { key: 'offset', value: '0' }, { key: 'length', value: String(raw.length) }];
  return { model: onnx.ModelProto.encode(decoded).finish(), data: raw.slice(), location };
}

test('external data: read beside the model when present, a clear error when missing', async () => {
  const m = await loadModel(oneFile[0]);
  const original = await m.files(m.modelRel ?? 'model.onnx');
  const ext = withExternalData(original);
  const files = (withData: boolean) => async (rel: string): Promise<Uint8Array> => {
    if (rel === ext.location) {
      if (withData) return ext.data;
      throw new Error('ENOENT');
    }
    return m.files(rel);
  };
  const manifest = m.manifest;
  const base = { backend: await getBackend('native'), manifest, modelBytes: ext.model, text: SAMPLE };
  const ok = await traceModel({ ...base, files: files(true) });
  const ref = await run(m, SAMPLE);
  assert.ok(maxAbsDiff(ok.logits?.data ?? new Float32Array(), ref.logits?.data ?? new Float32Array()) < 1e-6);
  await rejectsWith(traceModel({ ...base, files: files(false) }), 'external-data', /weights\.bin.*missing/);
});

/*
 * Graphs made other ways (torch exports at several opsets, protobuf-built fused attention), run without a
 * manifest: the ids and mask inputs are found from the graph, and attention rows sum to 1, also where the
 * fused op only exposes raw scores and the runner applies the softmax.
 */
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'graphs');
interface FixtureFacts { architecture: string; vocab?: number; inputs?: { ids?: string }; streams?: Record<string, number>; weightsUnavailable?: boolean; layers?: number }
const fixtureFacts: Record<string, FixtureFacts> = existsSync(join(FIXTURES, 'fixtures.json'))
  ? JSON.parse(readFileSync(join(FIXTURES, 'fixtures.json'), 'utf8')) : {};
const runnable = Object.entries(fixtureFacts).filter(([file, f]) =>
  existsSync(join(FIXTURES, file)) && f.architecture !== 'unknown' && f.vocab && f.inputs?.ids &&
  Object.keys(f.inputs).every((k) => k === 'ids' || k === 'mask'));

for (const [file, facts] of runnable) {
  test(`no manifest: ${file} runs from its graph inputs; attention rows sum to 1`, async () => {
    // A character vocabulary as large as the model's embedding (' ' to 'O' for 48), so every id is in range.
    const vocab = Array.from({ length: facts.vocab ?? 0 }, (_, i) => String.fromCharCode(32 + i));
    const files = async (rel: string): Promise<Uint8Array> => {
      if (rel === 'vocab.json') return new TextEncoder().encode(JSON.stringify(vocab));
      return new Uint8Array(readFileSync(join(FIXTURES, rel)));
    };
    // 14 characters: the protobuf-built graphs hold causal masks for at most 16 positions.
    const text = 'LED A=(B+C)*2;';
    const trace = await traceModel({
      backend: await getBackend('native'), files, modelBytes: await files(file), modelName: file, text,
      tokenizer: { type: 'char', vocab: 'vocab.json' },
    });
    const T = trace.tokens.length;
    assert.equal(T, text.length);
    const attention = trace.probes.filter((p) => p.probe.kind === 'attention');
    // com.microsoft MultiHeadAttention exposes raw scores only: these rows sum to 1 because the runner applied the softmax.
    if (file.startsWith('ms_multihead')) assert.ok(attention.some((p) => p.probe.postprocess === 'softmax-last-axis'));
    const expected = Object.values(facts.streams ?? {}).reduce((a, b) => a + b, 0);
    if (!facts.weightsUnavailable) assert.equal(attention.length, expected, 'one attention probe per layer and stream');
    for (const pt of attention) {
      const K = pt.tensor.dims[pt.tensor.dims.length - 1];
      assert.equal(K, T);
      for (let r = 0; r < pt.tensor.data.length / K; r++) {
        const sum = pt.tensor.data.subarray(r * K, (r + 1) * K).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `${pt.probe.name} row ${r}: ${sum}`);
      }
    }
    assert.ok(trace.probes.some((p) => p.probe.kind === 'hidden'), 'hidden states');
    assert.ok(trace.logits);
    assert.deepEqual(trace.logits.dims, [T, facts.vocab]);
  });
}
