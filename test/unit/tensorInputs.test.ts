/**
 * Models whose inputs are not text (issue 8, section 2), on an "audio" encoder written by hand
 * (tools/fixtures/audioEncoder.ts: float features [batch, frames, 40] and a speaker vector, one
 * Transformer encoder layer with a Softmax attention, a GRU over the frames). The plan finds its
 * attention, residual stream and GRU; its inputs are classified as arrays, not text; a run on .npy
 * arrays gives the probe values onnxruntime-node gives on the plain model (the same tensors made graph
 * outputs by re-encoding, not instrumented) at 1e-4, over positions t0, t1, ... that cover no text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { audioEncoder, AUDIO } from '../../tools/fixtures/audioEncoder.js';
import { mulberry32 } from '../../tools/mulberry32.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { planProbes } from '../../src/core/probes/planProbes.js';
import { detectArchitecture } from '../../src/core/architecture.js';
import { inspectModel } from '../../src/core/inspect.js';
import { classifyInputs } from '../../src/core/inputKinds.js';
import { graphInputs } from '../../src/core/run/feeds.js';
import { tensorFeeds, positionTokens } from '../../src/core/run/tensorFeeds.js';
import { LoadedModel } from '../../src/core/run/loadedModel.js';
import { decodeNpy, encodeNpy } from '../../src/core/trace/npy.js';
import { tokenLabels, tokenHover } from '../../src/core/tokenize/tokenLabels.js';
import type { TensorSummary } from '../../src/core/onnx/summarize.js';
import type { FloatTensor } from '../../src/core/run/backend.js';
import { getBackend } from '../../src/node/backends.js';
import { readFixture, run, maxAbsDiff, withOutputs } from './fixturesHelpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FRAMES = 20;

function randomTensor(dims: number[], seed: number): FloatTensor {
  const rand = mulberry32(seed);
  return { dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1) };
}



test('audio encoder: the plan finds its attention, residual stream and GRU', () => {
  const model = decodeModel(audioEncoder());
  const { plan } = planProbes(model);
  const of = (k: string): string[] => plan.probes.filter((p) => p.kind === k).map((p) => p.name);
  assert.deepEqual(of('attention'), ['probs']);
  const attn = plan.probes.find((p) => p.kind === 'attention');
  assert.equal(attn?.heads, AUDIO.heads);
  assert.equal(attn?.stream, 'encoder');
  assert.deepEqual(of('hidden'), ['h0', 'enc', 'gru_y']);
  assert.deepEqual(plan.probes.filter((p) => p.kind === 'gate').map((p) => p.gate), ['update', 'reset', 'hidden-candidate']);
  assert.equal(plan.unavailable.length, 0);
  const arch = detectArchitecture(model);
  assert.equal(arch.architecture, 'gru');
  assert.equal(arch.heads, AUDIO.heads);
});

test('inputs: arrays for the audio encoder and an image model, text for token models, mixed for a decoder step', () => {
  const audio = classifyInputs(graphInputs(decodeModel(audioEncoder())));
  assert.equal(audio.kind, 'tensors');
  assert.deepEqual(audio.toGive, ['input_features', 'speaker']);
  assert.deepEqual(audio.inputs.map((i) => i.role), ['tensor', 'tensor']);
  assert.deepEqual(audio.namedDims, [
    { name: 'batch_size', uses: [{ input: 'input_features', axis: 0 }, { input: 'speaker', axis: 0 }] },
    { name: 'frames', uses: [{ input: 'input_features', axis: 1 }] },
  ]);
  const t = (name: string, type: string, shape: TensorSummary['shape']): TensorSummary => ({ name, type, shape });
  const image = classifyInputs([t('pixel_values', 'float', ['batch', 3, 224, 224])]);
  assert.equal(image.kind, 'tensors');
  assert.deepEqual(image.toGive, ['pixel_values']);
  // Audio with a frame mask: the mask is filled, not asked for.
  const masked = classifyInputs([t('input_values', 'float', ['batch', 'samples']), t('attention_mask', 'int64', ['batch', 'samples'])]);
  assert.deepEqual([masked.kind, masked.toGive, masked.inputs[1]?.role], ['tensors', ['input_values'], 'attention-mask']);

  for (const [file, kind] of [['hf_decoder_with_past.onnx', 'text'], ['hf_decoder_merged.onnx', 'text'], ['bert_postln_opset17.onnx', 'text'],
    ['gpt2_kvcache_opset17.onnx', 'text'], ['encdec_decoder.onnx', 'mixed']] as const) {
    const c = classifyInputs(graphInputs(decodeModel(readFixture(file))));
    assert.equal(c.kind, kind, `${file}: ${c.inputs.map((i) => `${i.name}=${i.role}`).join(' ')}`);
    if (kind === 'text') assert.deepEqual(c.toGive, [], file);
  }
  const merged = classifyInputs(graphInputs(decodeModel(readFixture('hf_decoder_merged.onnx'))));
  assert.deepEqual(merged.inputs.map((i) => i.role), ['token-ids', 'attention-mask', 'past', 'past', 'past', 'past', 'cache-flag']);
  const step = classifyInputs(graphInputs(decodeModel(readFixture('encdec_decoder.onnx'))));
  assert.ok(step.toGive.length >= 2 && step.toGive.some((n) => step.inputs.find((i) => i.name === n)?.role === 'token-ids'), step.toGive.join(','));
  // The inspection carries it (the inspector's decision reads it).
  assert.equal(inspectModel(audioEncoder(), 'audio_encoder.onnx').inputs.kind, 'tensors');
});

test('arrays that do not fit the inputs: one sentence naming the input and what to give', () => {
  const inputs = graphInputs(decodeModel(audioEncoder()));
  const feats = randomTensor([1, FRAMES, AUDIO.features], 1);
  const speaker = randomTensor([1, AUDIO.speaker], 2);
  const fails = (given: Record<string, FloatTensor>, pattern: RegExp): void => {
    assert.throws(() => tensorFeeds(inputs, given, 'audio.onnx', (n) => `--input ${n}=FILE.npy`), (e: Error) => {
      assert.match(e.message, pattern);
      assert.equal((e as Error & { code?: string }).code, 'bad-input');
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  };
  fails({ input_features: feats }, /audio\.onnx needs --input speaker=FILE\.npy: .*speaker \(float \[batch_size, 8\]\)/);
  fails({ input_features: feats, speaker, extra: speaker }, /audio\.onnx has no input "extra"; its inputs are input_features \(float \[batch_size, frames, 40\]\), speaker/);
  fails({ input_features: randomTensor([1, FRAMES, 39], 3), speaker }, /Input "input_features" takes float \[batch_size, frames, 40\]; axis 2 of its array \[1, 20, 39\] is 39, not 40/);
  fails({ input_features: randomTensor([FRAMES], 3), speaker }, /Input "input_features" takes .* \(rank 3\); its array is \[20\] \(rank 1\)/);
  fails({ input_features: randomTensor([2, FRAMES, 40], 3), speaker: randomTensor([2, 8], 4) }, /batch of 2 .* one example at a time/);
  fails({ input_features: feats, speaker: randomTensor([3, 8], 4) }, /"batch_size" is 1 in input "input_features" but 3 in input "speaker"/);
  // A file saved without its batch axis is one example.
  const ok = tensorFeeds(inputs, { input_features: randomTensor([FRAMES, 40], 5), speaker: randomTensor([8], 6) }, 'audio.onnx');
  assert.deepEqual(ok.given, [{ name: 'input_features', dims: [1, FRAMES, 40] }, { name: 'speaker', dims: [1, 8] }]);
  assert.equal(ok.length, FRAMES);
  // Text companions are filled over the sequence length of the arrays.
  const withMask = tensorFeeds([{ name: 'input_values', type: 'float', shape: ['batch', 'samples'] }, { name: 'attention_mask', type: 'int64', shape: ['batch', 'samples'] }],
    { input_values: randomTensor([1, 7], 7) }, 'wav.onnx');
  assert.deepEqual([withMask.feeds.attention_mask?.type, withMask.feeds.attention_mask?.dims, withMask.length], ['int64', [1, 7], 7]);
});

test('positions are labelled t0, t1, ... and say what they are', () => {
  const labels = tokenLabels('', positionTokens(3));
  assert.deepEqual(labels.map((l) => [l.label, l.kind, l.source]), [['t0', 'position', ''], ['t1', 'position', ''], ['t2', 'position', '']]);
  assert.equal(tokenHover(labels[1]!), '"t1" · position 1 along the input');
});

test('a run on .npy arrays: the probes equal onnxruntime-node on the plain model (1e-4), over positions', async () => {
  const bytes = audioEncoder();
  const feats = randomTensor([1, FRAMES, AUDIO.features], 11);
  const speaker = randomTensor([AUDIO.speaker], 12); // saved without the batch axis
  // Through the .npy format, as a user's files come.
  const given = { input_features: decodeNpy(encodeNpy(feats)), speaker: decodeNpy(encodeNpy(speaker)) };
  const model = await LoadedModel.load({ files: () => Promise.reject(new Error('no files beside it')), modelBytes: bytes, name: 'audio_encoder.onnx' });
  try {
    const trace = await model.trace({ backend: await getBackend('native'), text: '', inputs: given });
    assert.equal(trace.input, '');
    assert.equal(trace.tokens.length, FRAMES);
    assert.ok(trace.tokens.every((t, i) => t.position === i && t.start === 0 && t.end === 0 && t.text === `t${i}`));
    assert.deepEqual(trace.tensorInputs, [{ name: 'input_features', dims: [1, FRAMES, 40] }, { name: 'speaker', dims: [1, 8] }]);
    const names = ['probs', 'h0', 'enc', 'gru_y'];
    const ref = await run(withOutputs(bytes, names), {
      input_features: new ort.Tensor('float32', feats.data, feats.dims),
      speaker: new ort.Tensor('float32', speaker.data, [1, AUDIO.speaker]),
    });
    for (const name of names) {
      const pt = trace.probes.find((p) => p.probe.name === name);
      assert.ok(pt, `probe ${name}`);
      assert.deepEqual(pt.tensor.dims, ref[name]!.dims.map(Number), name);
      const d = maxAbsDiff(pt.tensor.data, ref[name]!.data as Float32Array);
      assert.ok(d < 1e-4, `${name}: max |Δ| ${d}`);
    }
    const logits = ref.logits!;
    assert.ok(trace.logits && maxAbsDiff(trace.logits.data, logits.data as Float32Array) < 1e-4, 'logits');
    // The attention rows are distributions over the positions.
    const probs = trace.probes.find((p) => p.probe.kind === 'attention')!.tensor;
    assert.deepEqual(probs.dims, [1, AUDIO.heads, FRAMES, FRAMES]);
    // The GRU's gates come from its rewrite (update gate in [0, 1] at every frame).
    const update = trace.probes.find((p) => p.probe.gate === 'update');
    assert.ok(update && update.tensor.data.every((v) => v >= 0 && v <= 1) && update.tensor.dims[0] === FRAMES);
  } finally {
    await model.dispose();
  }
});

test('CLI: seqlens trace MODEL --input NAME=FILE.npy ... prints positions; a missing input is one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqlens-npy-'));
  writeFileSync(join(dir, 'audio_encoder.onnx'), audioEncoder());
  writeFileSync(join(dir, 'feats.npy'), encodeNpy(randomTensor([1, 6, AUDIO.features], 21)));
  writeFileSync(join(dir, 'spk.npy'), encodeNpy(randomTensor([1, AUDIO.speaker], 22)));
  const at = (f: string): string => join(dir, f);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const ok = cli('trace', at('audio_encoder.onnx'), '--input', `input_features=${at('feats.npy')}`, '--input', `speaker=${at('spk.npy')}`);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /inputs: input_features \[1, 6, 40\], speaker \[1, 8\]/);
  assert.match(ok.stdout, /positions \(6\): .*t0.*t5/);
  assert.match(ok.stdout, /attention:/);
  const json = cli('trace', at('audio_encoder.onnx'), '--input', `input_features=${at('feats.npy')}`, '--input', `speaker=${at('spk.npy')}`, '--json');
  assert.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { tokens: { label: string; kind: string }[] };
  assert.deepEqual(parsed.tokens.slice(0, 2).map((t) => [t.label, t.kind]), [['t0', 'position'], ['t1', 'position']]);
  const missing = cli('trace', at('audio_encoder.onnx'), '--input', `input_features=${at('feats.npy')}`);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /needs --input speaker=FILE\.npy/);
  const noFile = cli('trace', at('audio_encoder.onnx'), '--input', `input_features=${at('nope.npy')}`, '--input', `speaker=${at('spk.npy')}`);
  assert.match(noFile.stderr, /^seqlens: .*--input input_features: cannot read .*nope\.npy \(no such file\)/);
  const inspect = cli('inspect', at('audio_encoder.onnx'));
  assert.match(inspect.stdout, /takes arrays, not text: seqlens trace .*audio_encoder\.onnx --input input_features=FILE\.npy --input speaker=FILE\.npy/);
});
