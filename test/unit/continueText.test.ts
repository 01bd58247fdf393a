/**
 * Continuing a text greedily (src/core/run/continueText.ts): with the key/value cache (hf_decoder_with_past,
 * hf_decoder_merged: past_key_values.* in, present.* out) the ids equal those of re-running the whole prefix,
 * and both equal the argmax computed here independently with onnxruntime-node on the plain graph; a model
 * without a cache (gpt2_preln_opset17) re-runs the prefix. A cancel stops between steps, an end token stops
 * decoding, and LoadedModel traces prompt + generated tokens in one run, the generated ones marked.
 * The fixture graphs hold causal masks for at most 16 positions: prompt + continuation stay within that.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { tensorSummary } from '../../src/core/onnx/summarize.js';
import { graphInputs } from '../../src/core/run/feeds.js';
import { findSequenceInputs } from '../../src/core/run/sequenceInputs.js';
import { cachePairs, greedyContinue, type GreedyRequest } from '../../src/core/run/continueText.js';
import { LoadedModel } from '../../src/core/run/loadedModel.js';
import { getBackend } from '../../src/node/backends.js';
import type { SessionHandle } from '../../src/core/run/backend.js';
import { isSeqLensError } from '../../src/core/errors.js';
import { ort, readFixture, type Feeds } from './fixturesHelpers.js';

const PROMPT = [7, 19, 33, 2, 40];
const N = 8;
const CACHED = ['hf_decoder_with_past.onnx', 'hf_decoder_merged.onnx'];

/** Greedy ids computed here: the plain graph over the whole prefix each step (empty cache, flag false), argmax of the last row. */
async function referenceIds(file: string, prompt: number[], n: number): Promise<number[]> {
  const bytes = readFixture(file);
  const inputs = graphInputs(decodeModel(bytes));
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const ids = [...prompt, ...out];
      const feeds: Feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) };
      for (const t of inputs) {
        if (t.name === 'attention_mask') feeds[t.name] = new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
        if (t.name.startsWith('past_key_values')) feeds[t.name] = new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 8]);
        if (t.name === 'use_cache_branch') feeds[t.name] = new ort.Tensor('bool', Uint8Array.from([0]), [1]);
      }
      const logits = (await session.run(feeds)).logits;
      const v = Number(logits.dims[logits.dims.length - 1]);
      const row = (logits.data as Float32Array).subarray(logits.data.length - v);
      let best = 0;
      for (let k = 1; k < v; k++) if (row[k] > row[best]) best = k;
      out.push(best);
    }
    return out;
  } finally {
    await session.release();
  }
}

/** A request on the plain graph in an onnxruntime-node session; `runs` counts the session's runs. */
async function request(file: string, extra: Partial<GreedyRequest> = {}): Promise<{ req: GreedyRequest; runs: () => number; dispose: () => Promise<void> }> {
  const bytes = readFixture(file);
  const model = decodeModel(bytes);
  const inputs = graphInputs(model);
  const outputs = (model.graph?.output ?? []).map(tensorSummary);
  const inner = await (await getBackend('native')).createSession(bytes);
  let count = 0;
  const session: SessionHandle = {
    inputNames: inner.inputNames, outputNames: inner.outputNames, dispose: () => inner.dispose(),
    run: (feeds, fetches, signal) => { count++; return inner.run(feeds, fetches, signal); },
  };
  const req: GreedyRequest = {
    name: file, session, inputs, outputs, io: findSequenceInputs(inputs, file), logits: 'logits', promptIds: PROMPT, maxNew: N, ...extra,
  };
  return { req, runs: () => count, dispose: () => session.dispose() };
}

test('with the KV cache: the same ids as re-running the prefix and as onnxruntime-node\'s argmax on the plain graph', async () => {
  for (const file of CACHED) {
    const ref = await referenceIds(file, PROMPT, N);
    const { req, dispose } = await request(file);
    try {
      assert.ok(cachePairs(req.inputs, req.outputs)?.every((p) => p.present === p.past.replace('past_key_values', 'present')), `${file}: cache pairs`);
      const cached = await greedyContinue(req);
      const prefix = await greedyContinue({ ...req, useCache: false });
      assert.deepEqual(cached.ids, ref, `${file}: cached ids equal the reference`);
      assert.deepEqual(prefix.ids, ref, `${file}: prefix ids equal the reference`);
      assert.equal(cached.cachedSteps, N - 1, `${file}: every step after the first used the cache`);
      assert.equal(prefix.cachedSteps, 0);
      assert.equal(cached.stop, 'limit');
      console.log(`# ${file}: ${JSON.stringify(cached.ids)} (${cached.cachedSteps} steps with the cache)`);
    } finally {
      await dispose();
    }
  }
});

test('without a cache (gpt2_preln_opset17): the prefix is run again each step; ids equal the argmax', async () => {
  const file = 'gpt2_preln_opset17.onnx';
  const { req, dispose } = await request(file);
  try {
    assert.equal(cachePairs(req.inputs, req.outputs), undefined);
    const r = await greedyContinue(req);
    assert.deepEqual(r.ids, await referenceIds(file, PROMPT, N));
    assert.equal(r.cachedSteps, 0);
  } finally {
    await dispose();
  }
});

test('a cancel stops between steps', async () => {
  const { req, runs, dispose } = await request('hf_decoder_with_past.onnx');
  try {
    const abort = new AbortController();
    let seen = 0;
    await assert.rejects(
      greedyContinue({ ...req, signal: abort.signal, progress: () => { if (++seen === 3) abort.abort(); } }),
      (e: unknown) => isSeqLensError(e) && e.code === 'cancelled',
    );
    assert.equal(runs(), 3, 'no step ran after the cancel');
  } finally {
    await dispose();
  }
});

test('an end token stops decoding (it is kept as the last id)', async () => {
  const ref = await referenceIds('hf_decoder_merged.onnx', PROMPT, N);
  const eos = ref[3];
  const at = ref.indexOf(eos);
  const { req, runs, dispose } = await request('hf_decoder_merged.onnx', { eos: [eos] });
  try {
    const r = await greedyContinue(req);
    assert.deepEqual(r.ids, ref.slice(0, at + 1));
    assert.equal(r.stop, 'eos');
    assert.equal(runs(), at + 1);
  } finally {
    await dispose();
  }
});

test('LoadedModel: one traced run over prompt + generated tokens, the generated ones marked', async () => {
  // A character vocabulary as large as the embedding (' ' to 'O' for 48), so every id is in range.
  const chars = Array.from({ length: 48 }, (_, i) => String.fromCharCode(32 + i));
  const files = async (rel: string): Promise<Uint8Array> => (rel === 'vocab.json' ? new TextEncoder().encode(JSON.stringify(chars)) : readFixture(rel));
  const backend = await getBackend('native');
  const text = PROMPT.map((id) => chars[id]).join('');
  for (const file of CACHED) {
    const model = await LoadedModel.load({ files, modelFile: file, name: file, tokenizer: { type: 'char', vocab: 'vocab.json' } });
    try {
      const trace = await model.trace({ backend, text, continueTokens: N });
      const ref = await referenceIds(file, PROMPT, N);
      const c = trace.continuation;
      assert.ok(c);
      assert.deepEqual([c.from, c.steps, c.cachedSteps, c.stop], [PROMPT.length, N, N - 1, 'limit']);
      assert.deepEqual(trace.tokens.map((t) => t.id), [...PROMPT, ...ref]);
      assert.deepEqual(trace.tokens.map((t) => !!t.generated), [...PROMPT.map(() => false), ...ref.map(() => true)]);
      assert.equal(trace.input, text + ref.map((id) => chars[id]).join(''));
      assert.equal(c.text, trace.input.slice(text.length));
      for (const t of trace.tokens) assert.equal(trace.input.slice(t.start, t.end), chars[t.id], 'each token covers its character');
      const T = PROMPT.length + N;
      for (const p of trace.probes.filter((x) => x.probe.kind === 'attention')) assert.deepEqual(p.tensor.dims, [1, 4, T, T], `${file}: attention over every position`);
      const logits = trace.logits;
      assert.ok(logits);
      assert.equal(logits.dims[0], T);
      // The traced run's logits pick the generated ids too (position i predicts token i + 1).
      const V = logits.dims[1];
      for (let i = PROMPT.length - 1; i < T - 1; i++) {
        const row: Float32Array = logits.data.subarray(i * V, (i + 1) * V);
        assert.equal(row.indexOf(Math.max(...row)), trace.tokens[i + 1].id, `${file}: position ${i}`);
      }
      await assert.rejects(model.trace({ backend, text: text.repeat(3), continueTokens: N, maxTokens: 15 }), /nothing to continue/);
      const capped = await model.trace({ backend, text, continueTokens: N, maxTokens: 9 });
      assert.equal(capped.continuation?.steps, 4);
      assert.ok(capped.warnings.some((w) => /Continued 4 tokens, not 8/.test(w)));
    } finally {
      await model.dispose();
    }
  }
});

