/**
 * Encoder-decoder exports in separate files, as Hugging Face optimum ships T5, Marian and BART:
 * `encoder_model.onnx` + `decoder_model.onnx` (+ `decoder_with_past_model.onnx`, `decoder_model_merged.onnx`)
 * beside tokenizer.json and config.json, with no manifest. The folder is recognised from its file names
 * and paired into a Seq2Seq manifest (src/core/seq2seqFolder.ts), or refused in one sentence. The model
 * is tools/fixtures/t5Seq2seq.ts (protobuf written in TypeScript): RMSNorm, no 1/√d scaling, T5's
 * bucketed relative position bias added before the Softmax, a causal decoder and cross-attention, over
 * the real Llama 2 tokenizer (32,000 ids). A greedy trace of text with accents, CJK and an emoji is
 * compared with onnxruntime-node running the plain files with the same tensors added as outputs, at 1e-4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { graphIO, layoutFiles, pairSeq2SeqFolder, runDecoderFile, seq2seqFolderLayout, type GraphIO, type Seq2SeqFolderFacts } from '../../src/core/seq2seqFolder.js';
import { isSeq2SeqIO, parseManifest, type ModelManifest } from '../../src/core/manifest.js';
import { LoadedModel } from '../../src/core/run/loadedModel.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { getBackend } from '../../src/node/backends.js';
import type { TensorSummary } from '../../src/core/onnx/summarize.js';
import type { ProbeTensor, Trace } from '../../src/core/trace/traceTypes.js';
import { llamaTokenizerPath, t5Config, t5MergedDecoder, t5Seq2seq, T5, T5_FILES } from '../../tools/fixtures/t5Seq2seq.js';
import { maxAbsDiff, ort, readFixture, run, withOutputs } from './fixturesHelpers.js';

const TEXT = 'Café 東京 🙂';
const FOLDER = [T5_FILES.encoder, T5_FILES.decoder, T5_FILES.decoderWithPast, 'tokenizer.json', 'config.json'];
const files = t5Seq2seq();
const bytesOf: Record<string, Uint8Array> = {
  [T5_FILES.encoder]: files.encoder, [T5_FILES.decoder]: files.decoder, [T5_FILES.decoderWithPast]: files.decoderWithPast,
};
const tokenizerJson = new Uint8Array(readFileSync(llamaTokenizerPath()));

function facts(over: Partial<Seq2SeqFolderFacts> = {}): Seq2SeqFolderFacts {
  const graphs: Record<string, GraphIO> = {};
  for (const [name, bytes] of Object.entries(bytesOf)) graphs[name] = graphIO(decodeModel(bytes, name));
  return { folderName: 't5-tiny', fileNames: FOLDER, graphs, config: t5Config(), ...over };
}

function pairedManifest(): ModelManifest {
  const p = pairSeq2SeqFolder(facts());
  assert.ok(p.ok, p.ok ? '' : p.reason);
  return p.manifest;
}

const readFolder = async (rel: string): Promise<Uint8Array> => {
  if (rel === 'tokenizer.json') return tokenizerJson;
  const b = bytesOf[rel];
  if (!b) throw new Error(`no file ${rel} in the folder`);
  return b;
};

test('layout: the export is recognised from its file names; a manifest.json or a sidecar still wins', () => {
  assert.deepEqual(seq2seqFolderLayout(FOLDER),
    { encoder: 'encoder_model.onnx', decoder: 'decoder_model.onnx', decoderWithPast: 'decoder_with_past_model.onnx' });
  assert.deepEqual(layoutFiles(seq2seqFolderLayout(FOLDER)!), [T5_FILES.encoder, T5_FILES.decoder, T5_FILES.decoderWithPast]);
  // transformers.js-style: the merged decoder alone (quantized variants beside it stay loose files).
  const merged = seq2seqFolderLayout(['encoder_model.onnx', 'decoder_model_merged.onnx', 'encoder_model_quantized.onnx', 'tokenizer.json']);
  assert.deepEqual(merged, { encoder: 'encoder_model.onnx', merged: 'decoder_model_merged.onnx' });
  assert.equal(runDecoderFile(merged!), 'decoder_model_merged.onnx');
  assert.equal(runDecoderFile(seq2seqFolderLayout([...FOLDER, 'decoder_model_merged.onnx'])!), 'decoder_model.onnx', 'the plain decoder first');
  assert.equal(seq2seqFolderLayout([...FOLDER, 'manifest.json']), undefined);
  assert.equal(seq2seqFolderLayout([...FOLDER, 'decoder_model.seqlens.json']), undefined);
  assert.equal(seq2seqFolderLayout(['encoder_model.onnx', 'decoder_with_past_model.onnx']), undefined, 'no decoder that runs without a cache');
  assert.equal(seq2seqFolderLayout(['model.onnx', 'tokenizer.json']), undefined);
});

test('pairing the T5 folder: a Seq2Seq manifest the manifest checker accepts, prefix mode, ids from config.json', () => {
  const p = pairSeq2SeqFolder(facts());
  assert.ok(p.ok, p.ok ? '' : p.reason);
  const m = p.manifest;
  assert.deepEqual(parseManifest(JSON.parse(JSON.stringify(m))), m);
  assert.equal(m.name, 't5-tiny');
  assert.equal(m.task, 'seq2seq');
  assert.deepEqual(m.files, { encoder: 'encoder_model.onnx', decoder: 'decoder_model.onnx' });
  assert.ok(isSeq2SeqIO(m.io));
  assert.deepEqual(m.io.encoder, { ids: 'input_ids', outputs: 'last_hidden_state', mask: 'attention_mask' });
  assert.deepEqual(m.io.decoder, {
    tokens: 'input_ids', tokensMode: 'prefix', encoderOut: 'encoder_hidden_states', srcMask: 'encoder_attention_mask', logits: 'logits',
  });
  assert.deepEqual([m.io.bos, m.io.eos, m.io.maxTargetLength], [0, 2, 15], 'decoder_start_token_id, eos_token_id, max_length − 1');
  assert.deepEqual(m.tokenizer, { type: 'hf', file: 'tokenizer.json' });
  assert.match(p.note, /decoder_with_past_model\.onnx not used/);
  // generation_config.json wins; a list of end tokens gives its first.
  const g = pairSeq2SeqFolder(facts({ generationConfig: { eos_token_id: [1, 2], max_new_tokens: 40 } }));
  assert.ok(g.ok && isSeq2SeqIO(g.manifest.io));
  assert.deepEqual([g.manifest.io.eos, g.manifest.io.maxTargetLength], [1, 40]);
});

test('pairing a merged decoder alone: its cache inputs and use_cache_branch are allowed (fed empty / false)', () => {
  const t = (name: string, type: string, shape: (string | number)[]): TensorSummary => ({ name, type, shape });
  const mergedIO: GraphIO = {
    inputs: [t('encoder_attention_mask', 'int64', ['b', 'S']), t('input_ids', 'int64', ['b', 'T']), t('encoder_hidden_states', 'float', ['b', 'S', 32]),
      t('past_key_values.0.decoder.key', 'float', ['b', 4, 'past_decoder_sequence_length', 8]),
      t('past_key_values.0.encoder.key', 'float', ['b', 4, 'encoder_sequence_length_out', 8]), t('use_cache_branch', 'bool', [1])],
    outputs: ['logits', 'present.0.decoder.key'],
  };
  const names = ['encoder_model.onnx', 'decoder_model_merged.onnx', 'tokenizer.json', 'config.json'];
  const p = pairSeq2SeqFolder(facts({ fileNames: names, graphs: { ...facts().graphs, 'decoder_model_merged.onnx': mergedIO } }));
  assert.ok(p.ok, p.ok ? '' : p.reason);
  assert.equal(p.manifest.files.decoder, 'decoder_model_merged.onnx');
  // The same cache inputs without the flag: a decoder that needs a past it cannot be given.
  const noFlag = { ...mergedIO, inputs: mergedIO.inputs.filter((i) => i.name !== 'use_cache_branch') };
  const q = pairSeq2SeqFolder(facts({ fileNames: names, graphs: { ...facts().graphs, 'decoder_model_merged.onnx': noFlag } }));
  assert.ok(!q.ok);
  assert.equal(q.reason, "decoder_model_merged.onnx takes an input 'past_key_values.0.decoder.key' this layout does not know; write a manifest.json beside the models (docs/model-forms.md).");
});

test('folders that cannot be paired get one sentence that says why', () => {
  const one = (r: ReturnType<typeof pairSeq2SeqFolder>): string => {
    assert.ok(!r.ok);
    assert.doesNotMatch(r.reason, /\.\s+\S/, 'one sentence');
    return r.reason;
  };
  const base = facts();
  const dec = base.graphs[T5_FILES.decoder]!;
  const xyz: GraphIO = { ...dec, inputs: [...dec.inputs, { name: 'xyz', type: 'float', shape: ['b', 3] }] };
  assert.equal(one(pairSeq2SeqFolder(facts({ graphs: { ...base.graphs, [T5_FILES.decoder]: xyz } }))),
    "decoder_model.onnx takes an input 'xyz' this layout does not know; write a manifest.json beside the models (docs/model-forms.md).");
  // Whisper: the encoder reads audio features.
  const whisper: GraphIO = { inputs: [{ name: 'input_features', type: 'float', shape: ['b', 80, 3000] }], outputs: ['last_hidden_state'] };
  assert.match(one(pairSeq2SeqFolder(facts({ graphs: { ...base.graphs, [T5_FILES.encoder]: whisper } }))), /takes 'input_features' instead of token ids/);
  assert.match(one(pairSeq2SeqFolder(facts({ fileNames: FOLDER.filter((f) => f !== 'tokenizer.json') }))), /has no tokenizer\.json/);
  assert.match(one(pairSeq2SeqFolder(facts({ config: { eos_token_id: 2 } }))), /gives no decoder_start_token_id/);
  assert.match(one(pairSeq2SeqFolder(facts({ fileNames: FOLDER.filter((f) => f !== 'config.json'), config: undefined }))), /has no config\.json/);
  // The torch.onnx pair among the fixtures, saved under optimum's names: its inputs are src_ids / tgt_ids.
  const encdec = {
    [T5_FILES.encoder]: graphIO(decodeModel(readFixture('encdec_encoder.onnx'))),
    [T5_FILES.decoder]: graphIO(decodeModel(readFixture('encdec_decoder.onnx'))),
  };
  assert.equal(one(pairSeq2SeqFolder(facts({ folderName: 'encdec', graphs: encdec }))),
    "encoder_model.onnx takes 'src_ids' instead of token ids 'input_ids' (audio and image encoders are not text models here); write a manifest.json beside the models (docs/model-forms.md).");
});

test('plan: encoder self-attention (bidirectional), decoder self-attention (causal) and cross-attention, each at the Softmax after the T5 bias', async () => {
  const model = await LoadedModel.load({ files: readFolder, manifest: pairedManifest(), name: 't5-tiny' });
  try {
    const byKey = new Map(model.inspect().map((f) => [f.key, f]));
    const enc = byKey.get('encoder')?.inspection;
    const dec = byKey.get('decoder')?.inspection;
    assert.ok(enc && dec);
    const attn = (i: typeof enc, stream: string): string[] =>
      i.plan.probes.filter((p) => p.kind === 'attention' && p.stream === stream).map((p) => `${p.layer}:${p.heads}:${p.source.node}`);
    assert.deepEqual(attn(enc, 'encoder'), ['0:4:enc_l0_probs', '1:4:enc_l1_probs']);
    assert.deepEqual(attn(dec, 'decoder'), ['0:4:dec_l0_self_probs', '1:4:dec_l1_self_probs']);
    assert.deepEqual(attn(dec, 'cross'), ['0:4:dec_l0_cross_probs', '1:4:dec_l1_cross_probs']);
    assert.ok(enc.architecture.evidence.some((e) => /no causal mask/.test(e)), enc.architecture.evidence.join('; '));
    assert.ok(dec.architecture.evidence.some((e) => /decoder self-attention.*Greater of position indices/.test(e)), dec.architecture.evidence.join('; '));
    // The Softmax reads Q·Kᵀ plus the bucketed position bias (no scaling between them).
    for (const [bytes, sm, bias] of [[files.encoder, 'enc_l0_probs', 'enc_bias'], [files.decoder, 'dec_l0_self_probs', 'dec_self_bias']] as const) {
      const nodes = decodeModel(bytes).graph!.node;
      const softmax = nodes.find((x) => x.output[0] === sm)!;
      const add = nodes.find((x) => x.output[0] === softmax.input[0])!;
      assert.equal(add.opType, 'Add');
      assert.equal(nodes.find((x) => x.output[0] === add.input[0])?.opType, 'MatMul');
      assert.equal(add.input[1], bias);
      assert.ok(nodes.some((x) => x.opType === 'Gather' && x.input[0].endsWith('rel_bias')), 'bias looked up from the bucket table');
    }
  } finally {
    await model.dispose();
  }
});

function probe(trace: Trace, stream: string, layer: number): ProbeTensor {
  const p = trace.probes.find((x) => x.probe.kind === 'attention' && x.probe.stream === stream && x.probe.layer === layer);
  assert.ok(p, `${stream} attention layer ${layer} in the trace`);
  return p;
}

const i64 = (v: readonly number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);

test('seq2seq trace on "Café 東京 🙂" equals onnxruntime-node on the plain files (attention and first-step logits, 1e-4)', async () => {
  const manifest = pairedManifest();
  assert.ok(isSeq2SeqIO(manifest.io));
  const trace = await traceModel({ backend: await getBackend('native'), files: readFolder, manifest, modelName: 't5-tiny', text: TEXT });
  // Tokens: byte-fallback pieces for the emoji, offsets inside the text, every character covered once.
  const ids = trace.tokens.map((t) => t.id);
  assert.ok(ids.length >= 5 && ids.every((id) => id >= 0 && id < T5.vocab));
  assert.ok(trace.tokens.every((t) => t.start >= 0 && t.end <= TEXT.length && t.start <= t.end));
  assert.ok(trace.generated && trace.generated.length >= 2, 'at least two decode steps');
  const generated = trace.generated.map((g) => g.id);
  const S = ids.length;
  const V = T5.vocab;
  assert.deepEqual(trace.logits?.dims, [generated.length, V]);

  // Reference encoder: the plain file with the layer-1 attention added as an output.
  const enc = await run(withOutputs(files.encoder, ['enc_l1_probs']), { input_ids: i64(ids), attention_mask: i64(new Array<number>(S).fill(1)) });
  const encAttn = probe(trace, 'encoder', 1);
  assert.deepEqual(encAttn.tensor.dims, [1, T5.heads, S, S]);
  const diffs: Record<string, number> = { 'encoder layer 1 attention': maxAbsDiff(encAttn.tensor.data, enc.enc_l1_probs.data as Float32Array) };

  // Reference decoder, step by step: prefix [start] then [start, first generated], over the reference encoder's states.
  const dec = withOutputs(files.decoder, ['dec_l0_self_probs', 'dec_l1_cross_probs']);
  const self0 = probe(trace, 'decoder', 0), cross1 = probe(trace, 'cross', 1);
  assert.ok(self0.stepAxis && cross1.stepAxis);
  const steps = generated.length;
  assert.deepEqual(cross1.tensor.dims, [steps, 1, T5.heads, 1, S]);
  const maxKeys = self0.tensor.dims[self0.tensor.dims.length - 1];
  for (let step = 0; step < 2; step++) {
    const prefix: number[] = [manifest.io.bos, ...generated.slice(0, step)];
    const T: number = prefix.length;
    const out = await run(dec, {
      input_ids: i64(prefix), encoder_hidden_states: enc.last_hidden_state, encoder_attention_mask: i64(new Array<number>(S).fill(1)),
    });
    const logits = out.logits.data as Float32Array;
    const lastRow = logits.subarray((T - 1) * V, T * V);
    diffs[`logits, decode step ${step + 1}`] = maxAbsDiff(trace.logits!.data.subarray(step * V, (step + 1) * V), lastRow);
    // The step's last query row, [heads, keys]; the trace pads keys not yet generated with zeros.
    const selfRef = out.dec_l0_self_probs.data as Float32Array, crossRef = out.dec_l1_cross_probs.data as Float32Array;
    const selfGot: number[] = [], selfWant: number[] = [], crossGot: number[] = [], crossWant: number[] = [];
    for (let h = 0; h < T5.heads; h++) {
      for (let k = 0; k < maxKeys; k++) {
        selfGot.push(self0.tensor.data[step * T5.heads * maxKeys + h * maxKeys + k]);
        selfWant.push(k < T ? selfRef[h * T * T + (T - 1) * T + k] : 0);
      }
      for (let k = 0; k < S; k++) {
        crossGot.push(cross1.tensor.data[step * T5.heads * S + h * S + k]);
        crossWant.push(crossRef[h * T * S + (T - 1) * S + k]);
      }
    }
    diffs[`decoder self-attention layer 0, step ${step + 1}`] = maxAbsDiff(selfGot, selfWant);
    diffs[`cross-attention layer 1, step ${step + 1}`] = maxAbsDiff(crossGot, crossWant);
    // Causal: no weight on a key after the query.
    for (let h = 0; h < T5.heads; h++) for (let k = T; k < maxKeys; k++) assert.equal(selfGot[h * maxKeys + k], 0);
  }
  for (const [what, d] of Object.entries(diffs)) assert.ok(d <= 1e-4, `${what}: max |Δ| ${d}`);
  console.log(`t5 seq2seq folder: ${S} source tokens, ${steps} generated; max |Δ| ${Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
});

test('decoder_with_past_model.onnx continues the plain decoder: its logits equal the plain decoder on the longer prefix', async () => {
  const src = [5, 900, 31000, 7];
  const mask = i64([1, 1, 1, 1]);
  const enc = await run(files.encoder, { input_ids: i64(src), attention_mask: mask });
  const first = await run(files.decoder, { input_ids: i64([0]), encoder_hidden_states: enc.last_hidden_state, encoder_attention_mask: mask });
  const feeds: Record<string, ort.Tensor> = { input_ids: i64([17]), encoder_attention_mask: mask };
  for (let l = 0; l < T5.layers; l++) {
    for (const side of ['decoder', 'encoder']) for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${side}.${kv}`] = first[`present.${l}.${side}.${kv}`];
  }
  const withPast = await run(files.decoderWithPast, feeds);
  const plain = await run(files.decoder, { input_ids: i64([0, 17]), encoder_hidden_states: enc.last_hidden_state, encoder_attention_mask: mask });
  const V = T5.vocab;
  const d = maxAbsDiff(withPast.logits.data as Float32Array, (plain.logits.data as Float32Array).subarray(V, 2 * V));
  assert.ok(d <= 1e-4, `max |Δ| ${d}`);
});

test('a merged decoder alone (transformers.js layout): each step takes the branch without the cache; logits equal the plain decoder', async () => {
  const merged = t5MergedDecoder();
  const names = ['encoder_model.onnx', 'decoder_model_merged.onnx', 'tokenizer.json', 'config.json'];
  const graphs = { 'encoder_model.onnx': graphIO(decodeModel(files.encoder)), 'decoder_model_merged.onnx': graphIO(decodeModel(merged)) };
  const p = pairSeq2SeqFolder({ folderName: 't5-merged', fileNames: names, graphs, config: t5Config() });
  assert.ok(p.ok, p.ok ? '' : p.reason);
  assert.ok(isSeq2SeqIO(p.manifest.io));
  assert.equal(p.manifest.files.decoder, 'decoder_model_merged.onnx');
  const read = async (rel: string): Promise<Uint8Array> => (rel === 'decoder_model_merged.onnx' ? merged : readFolder(rel));
  const trace = await traceModel({ backend: await getBackend('native'), files: read, manifest: p.manifest, modelName: 't5-merged', text: TEXT });
  const streams = trace.probes.filter((x) => x.probe.kind === 'attention').map((x) => `${x.probe.stream}${x.probe.layer}`).sort();
  assert.deepEqual(streams, ['cross0', 'cross1', 'decoder0', 'decoder1', 'encoder0', 'encoder1']);
  const plain = await traceModel({ backend: await getBackend('native'), files: readFolder, manifest: pairedManifest(), modelName: 't5-tiny', text: TEXT });
  assert.deepEqual(trace.generated?.map((g) => g.id), plain.generated?.map((g) => g.id));
  const d = maxAbsDiff(trace.logits!.data, plain.logits!.data);
  assert.ok(d <= 1e-4, `logits of every step, merged vs plain decoder: max |Δ| ${d}`);
  const cross = (t: Trace): Float32Array => probe(t, 'cross', 1).tensor.data;
  assert.ok(maxAbsDiff(cross(trace), cross(plain)) <= 1e-4);
});
