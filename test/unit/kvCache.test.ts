/**
 * Decoders with a key/value cache, as exports ship them: the Hugging Face layout
 * (`past_key_values.N.key/value` in, `present.N.*` out; hf_decoder_with_past), torch's `past_k0`
 * names (gpt2_kvcache_opset17), and optimum's merged layout where one If on `use_cache_branch` holds
 * the graphs with and without the cache (hf_decoder_merged). A first run feeds an empty past and the
 * flag false; the plan reads the branch that run takes. Probe values are compared with onnxruntime-node
 * running the plain graph with the same tensors added as outputs (for the merged model: the graph
 * with the cache at top level, same weights), at 1e-4. Fixtures: tools/fixtures/buildSubgraphFixtures.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { detectArchitecture } from '../../src/core/architecture.js';
import { inspectModel } from '../../src/core/inspect.js';
import { instrument } from '../../src/core/instrument.js';
import { emptyPastDims, firstRunFlags, isPastInput } from '../../src/core/cacheInputs.js';
import { graphInputs, singleFeeds } from '../../src/core/run/feeds.js';
import { findSequenceInputs } from '../../src/core/run/sequenceInputs.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { getBackend } from '../../src/node/backends.js';
import type { TensorSummary } from '../../src/core/onnx/summarize.js';
import type { Trace } from '../../src/core/trace/traceTypes.js';
import { assertSameTensor, ort, readFixture, run, type Feeds, maxAbsDiff, withOutputs } from './fixturesHelpers.js';

const MERGED_PREFIX = 'seqlens/if/optimum::if/no_past/';
const TEXT = 'LED A=(B+C)*2;';



/** ids, a mask of ones over past + new, `past` cached positions of cos values (or empty), the flag. */
function decoderFeeds(ids: number[], pastNames: string[], past = 0, flag?: boolean): Feeds {
  const f: Feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
  };
  for (const name of pastNames) {
    f[name] = new ort.Tensor('float32', Float32Array.from({ length: 4 * past * 8 }, (_, k) => Math.cos(k + name.length)), [1, 4, past, 8]);
  }
  if (flag !== undefined) f.use_cache_branch = new ort.Tensor('bool', Uint8Array.from([flag ? 1 : 0]), [1]);
  return f;
}

function withMask(f: Feeds, length: number): Feeds {
  return { ...f, attention_mask: new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]) };
}

const HF_PAST = ['past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value'];

async function traceFixture(file: string, vocab: number): Promise<Trace> {
  // A character vocabulary as large as the embedding (' ' to 'O' for 48), so every id is in range.
  const chars = Array.from({ length: vocab }, (_, i) => String.fromCharCode(32 + i));
  const files = async (rel: string): Promise<Uint8Array> =>
    (rel === 'vocab.json' ? new TextEncoder().encode(JSON.stringify(chars)) : readFixture(rel));
  return traceModel({
    backend: await getBackend('native'), files, modelBytes: readFixture(file), modelName: file, text: TEXT,
    tokenizer: { type: 'char', vocab: 'vocab.json' },
  });
}

test('empty past: batch 1, past length 0, heads and head size from the graph; the flag false', () => {
  const t = (name: string, shape: (string | number | null)[], type = 'float'): TensorSummary => ({ name, type, shape });
  assert.deepEqual(emptyPastDims(t('past_key_values.0.key', ['batch_size', 12, 'past_sequence_length', 64])), [1, 12, 0, 64]);
  assert.deepEqual(emptyPastDims(t('past_k0', ['batch', 4, 'past', 8])), [1, 4, 0, 8]);
  assert.deepEqual(emptyPastDims(t('past_key_values.3.value', [null, 8, null, 64])), [1, 8, 0, 64], 'unnamed length: the HF axis');
  assert.equal(emptyPastDims(t('past_key_values.0.key', ['batch_size', 'num_heads', 'past_sequence_length', 64])), undefined,
    'a symbolic head count cannot be guessed');
  assert.ok(isPastInput(t('past_key_values.0.key', ['b', 4, 'p', 8])));
  assert.ok(isPastInput(t('past_key_values.0.key', ['b', 4, 'p', 8], 'float16')));
  assert.ok(!isPastInput(t('input_ids', ['b', 's'], 'int64')));
  assert.deepEqual([...firstRunFlags([t('use_cache_branch', [1], 'bool')])], [['use_cache_branch', [0]]]);

  for (const file of ['hf_decoder_with_past.onnx', 'hf_decoder_merged.onnx', 'gpt2_kvcache_opset17.onnx']) {
    const inputs = graphInputs(decodeModel(readFixture(file)));
    const io = findSequenceInputs(inputs, file);
    const feeds = singleFeeds(inputs, io, [5, 6, 7]);
    const pasts = inputs.filter(isPastInput);
    assert.equal(pasts.length, 4, `${file}: four cache inputs`);
    for (const p of pasts) {
      assert.equal(feeds[p.name].type, 'float32');
      assert.deepEqual(feeds[p.name].dims, [1, 4, 0, 8], `${file}: ${p.name}`);
      assert.equal(feeds[p.name].data.length, 0);
    }
    if (file === 'hf_decoder_merged.onnx') {
      assert.equal(feeds.use_cache_branch.type, 'bool');
      assert.deepEqual([...feeds.use_cache_branch.data], [0]);
      assert.deepEqual(feeds.use_cache_branch.dims, [1]);
    }
    if (file.startsWith('hf_')) assert.deepEqual(feeds.attention_mask.dims, [1, 3], 'mask over past (0) + new');
  }
  // fp16 caches are fed as float16 (empty), not float32.
  const fp16 = singleFeeds([t('input_ids', ['b', 's'], 'int64'), t('past_key_values.0.key', ['b', 2, 'past_sequence_length', 4], 'float16')], { ids: 'input_ids' }, [1]);
  assert.equal(fp16['past_key_values.0.key'].type, 'float16');
  assert.throws(() => singleFeeds([t('input_ids', ['b', 's'], 'int64'), t('past_key_values.0.key', ['b', 'h', 'p', 'd'])], { ids: 'input_ids' }, [1]),
    /Cache input "past_key_values\.0\.key" has shape \[b, h, p, d\]/);
});

test('plans: attention, hidden states and logits found in the decoder with past and in the merged decoder', () => {
  for (const file of ['hf_decoder_with_past.onnx', 'hf_decoder_merged.onnx']) {
    const model = decodeModel(readFixture(file));
    const { plan } = planProbes(model);
    const count = (k: string): number => plan.probes.filter((p) => p.kind === k).length;
    assert.deepEqual([count('attention'), count('hidden'), count('logits')], [2, 3, 1], file);
    assert.ok(plan.probes.filter((p) => p.kind === 'attention').every((p) => p.stream === 'decoder' && p.heads === 4));
    assert.equal(plan.unavailable.length, 0, plan.unavailable.map((u) => u.reason).join('; '));
    assert.equal(plan.logitLens?.finalNorm?.scale, 'lnf_scale');
    const arch = detectArchitecture(model);
    assert.equal(arch.architecture, 'transformer-decoder');
    assert.equal(arch.layers, 2, 'one branch counted, not both');
    assert.deepEqual(inspectModel(readFixture(file), file).warnings, []);
  }
  const merged = decodeModel(readFixture('hf_decoder_merged.onnx'));
  const first = planProbes(merged).plan;
  assert.ok(first.probes.filter((p) => p.kind !== 'logits').every((p) => p.name.startsWith(MERGED_PREFIX)), 'the branch without cache');
  assert.ok(detectArchitecture(merged).evidence.some((e) => /takes its else branch \(use_cache_branch = false/.test(e)));
  // Values the caller will feed pick the other branch.
  const later = planProbes(merged, { inputValues: { use_cache_branch: [1] } }).plan;
  assert.ok(later.probes.filter((p) => p.kind === 'attention').every((p) => p.name.startsWith('seqlens/if/optimum::if/with_past/')));
});

/** Each probe of `trace` against the plain reference model's tensor of the same meaning. */
async function compareWithReference(trace: Trace, refBytes: Uint8Array, feeds: Feeds, refName: (probe: string) => string): Promise<number> {
  const names = trace.probes.map((p) => refName(p.probe.name));
  const ref = await run(withOutputs(refBytes, names.filter((n) => n !== 'logits')), feeds);
  let worst = 0;
  for (const { probe, tensor } of trace.probes) {
    const r = ref[refName(probe.name)];
    assert.ok(r, `reference has ${refName(probe.name)}`);
    assert.deepEqual(tensor.dims, r.dims.map(Number), `${probe.name} dims`);
    const d = maxAbsDiff(tensor.data, r.data as Float32Array);
    assert.ok(d < 1e-4, `${probe.name}: max |diff| ${d}`);
    worst = Math.max(worst, d);
  }
  assert.ok(trace.logits);
  worst = Math.max(worst, maxAbsDiff(trace.logits.data, ref.logits.data as Float32Array));
  assert.ok(worst < 1e-4, `logits: max |diff| ${worst}`);
  return worst;
}

test('first run with an empty past: probe values equal the plain graph\'s tensors (HF layout, torch names)', async () => {
  const hf = await traceFixture('hf_decoder_with_past.onnx', 48);
  const T = hf.tokens.length;
  assert.equal(hf.probes.length, 6);
  for (const p of hf.probes.filter((x) => x.probe.kind === 'attention')) assert.deepEqual(p.tensor.dims, [1, 4, T, T], 'keys: past 0 + new');
  const ids = hf.tokens.map((t) => t.id);
  const d1 = await compareWithReference(hf, readFixture('hf_decoder_with_past.onnx'), withMask(decoderFeeds(ids, HF_PAST), T), (n) => n);
  const torch = await traceFixture('gpt2_kvcache_opset17.onnx', 64);
  assert.equal(torch.probes.filter((p) => p.probe.kind === 'attention').length, 2);
  const d2 = await compareWithReference(torch, readFixture('gpt2_kvcache_opset17.onnx'),
    decoderFeeds(torch.tokens.map((t) => t.id), ['past_k0', 'past_v0', 'past_k1', 'past_v1']), (n) => n);
  console.log(`# max |diff| vs reference: hf_decoder_with_past ${d1}, gpt2_kvcache_opset17 ${d2}`);
});

test('merged decoder: the branch without cache is read; values equal the unmerged decoder\'s', async () => {
  const trace = await traceFixture('hf_decoder_merged.onnx', 48);
  assert.deepEqual(trace.probes.map((p) => p.probe.kind), ['attention', 'attention', 'hidden', 'hidden', 'hidden', 'logits']);
  const T = trace.tokens.length;
  const feeds = withMask(decoderFeeds(trace.tokens.map((t) => t.id), HF_PAST), T);
  const d = await compareWithReference(trace, readFixture('hf_decoder_with_past.onnx'), feeds, (n) => n.replace(MERGED_PREFIX, ''));
  console.log(`# max |diff| merged (no-cache branch) vs decoder_with_past: ${d}`);
  // The instrumented model keeps the model's own outputs bit for bit.
  const bytes = readFixture('hf_decoder_merged.onnx');
  const inst = instrument(bytes);
  const mergedFeeds = { ...feeds, use_cache_branch: new ort.Tensor('bool', Uint8Array.from([0]), [1]) };
  const plain = await run(bytes, mergedFeeds);
  const probed = await run(inst.bytes, mergedFeeds);
  for (const name of Object.keys(plain)) assertSameTensor(plain[name], probed[name], name);
});

test('merged decoder with a real cache: told use_cache_branch = true, the plan reads the branch with the cache', async () => {
  const PAST = 3;
  const ids = [7, 19, 33, 2, 40];
  const bytes = readFixture('hf_decoder_merged.onnx');
  const inst = instrument(bytes, undefined, { inputValues: { use_cache_branch: [1] } });
  const feeds = withMask(decoderFeeds(ids, HF_PAST, PAST, true), PAST + ids.length);
  const probed = await run(inst.bytes, feeds);
  const { use_cache_branch: _flag, ...refFeeds } = feeds;
  const att = inst.plan.probes.filter((p) => p.kind === 'attention');
  assert.equal(att.length, 2);
  const refNames = inst.plan.probes.filter((p) => p.kind !== 'logits').map((p) => p.name.replace('seqlens/if/optimum::if/with_past/', ''));
  const ref = await run(withOutputs(readFixture('hf_decoder_with_past.onnx'), refNames), refFeeds);
  let worst = 0;
  for (const p of inst.plan.probes) {
    const r = ref[p.name.replace('seqlens/if/optimum::if/with_past/', '')];
    assert.deepEqual(probed[p.name].dims, r.dims);
    worst = Math.max(worst, maxAbsDiff(probed[p.name].data as Float32Array, r.data as Float32Array));
  }
  for (const p of att) assert.deepEqual(probed[p.name].dims.map(Number), [1, 4, ids.length, PAST + ids.length]);
  assert.ok(worst < 1e-4, `max |diff| ${worst}`);
  console.log(`# max |diff| merged (cache branch, past ${PAST}) vs decoder_with_past: ${worst}`);
});
