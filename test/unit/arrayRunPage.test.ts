/**
 * The page's side of a model whose inputs are not text, in plain Node: the inspector's decision (no
 * text box for the hand-written audio encoder, a text box for token models and manifest models), the
 * pickNpy round trip (a dismissed dialog, a file, a damaged file, an error), and every view drawn from a
 * run on arrays (tokens are synthetic positions t0, t1, ... with empty source spans): each view either
 * says why it has nothing to show or draws a scene, and labels and hovers read t0, t1, ...
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audioEncoder, AUDIO } from '../../tools/fixtures/audioEncoder.js';
import { mulberry32 } from '../../tools/mulberry32.js';
import { LoadedModel } from '../../src/core/run/loadedModel.js';
import { encodeNpy } from '../../src/core/trace/npy.js';
import type { FloatTensor } from '../../src/core/run/backend.js';
import type { WebviewNotification } from '../../src/shared/protocol.js';
import { hostToWebviewProblem, webviewToHostProblem } from '../../src/shared/protocol.js';
import { getBackend } from '../../src/node/backends.js';
import { inspectLoaded } from '../../webview/runtime/inspectModel.js';
import { tryItChoice } from '../../webview/inputChoice.js';
import { NpyRequests } from '../../webview/npyRequests.js';
import { RunData } from '../../webview/data/runData.js';
import { tokenHoverText, tokenLabel } from '../../webview/data/tokenDisplay.js';
import { allViews } from '../../webview/views/allViews.js';
import type { Selection, ViewEnv } from '../../webview/views/viewTypes.js';
import type { Theme } from '../../webview/render/theme.js';
import { readFixture } from './fixturesHelpers.js';

function arrays(frames: number): Record<string, FloatTensor> {
  const rand = mulberry32(99);
  const t = (dims: number[]): FloatTensor => ({ dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1) });
  return { input_features: t([1, frames, AUDIO.features]), speaker: t([1, AUDIO.speaker]) };
}

const noFiles = (): Promise<Uint8Array> => Promise.reject(new Error('no files beside it'));

test('the inspector offers no text box to the audio encoder: one .npy per input instead', async () => {
  const audio = LoadedModel.fromBytes({ files: noFiles, modelBytes: audioEncoder(), name: 'audio_encoder.onnx' },
    { files: [{ key: 'model', rel: 'audio_encoder.onnx', bytes: audioEncoder() }], fetchMs: 0 });
  const choice = tryItChoice(inspectLoaded(audio, 'audio_encoder.onnx'));
  assert.equal(choice.mode, 'arrays');
  assert.ok(choice.mode === 'arrays');
  assert.deepEqual(choice.toGive.map((i) => [i.name, i.type, i.shape]), [
    ['input_features', 'float', ['batch_size', 'frames', 40]], ['speaker', 'float', ['batch_size', 8]],
  ]);
  assert.deepEqual(choice.namedDims.map((d) => d.name), ['batch_size', 'frames']);
  assert.equal(choice.note, undefined);

  for (const file of ['hf_decoder_with_past.onnx', 'bert_postln_opset17.onnx', 'gru_2layer_opset14.onnx']) {
    const bytes = readFixture(file);
    const m = LoadedModel.fromBytes({ files: noFiles, modelBytes: bytes, name: file }, { files: [{ key: 'model', rel: file, bytes }], fetchMs: 0 });
    assert.equal(tryItChoice(inspectLoaded(m, file)).mode, 'text', file);
  }
  // A decoder step alone (ids beside encoder states): arrays for all of it, with a note saying why.
  const step = readFixture('encdec_decoder.onnx');
  const d = LoadedModel.fromBytes({ files: noFiles, modelBytes: step, name: 'dec' }, { files: [{ key: 'model', rel: 'dec.onnx', bytes: step }], fetchMs: 0 });
  const dc = tryItChoice(inspectLoaded(d, 'dec'));
  assert.ok(dc.mode === 'arrays' && dc.note && /manifest/.test(dc.note));
});

test('pickNpy: the request and its answer pass the protocol guards; dismissed, picked, damaged, failed', async () => {
  const sent: Extract<WebviewNotification, { type: 'pickNpy' }>[] = [];
  const npy = new NpyRequests((m) => sent.push(m));
  const dismissed = npy.pick('speaker');
  assert.equal(webviewToHostProblem(sent[0]), undefined);
  const none = { type: 'npyPicked', inReplyTo: sent[0]!.id } as const;
  assert.equal(hostToWebviewProblem(none), undefined);
  assert.ok(npy.settle(none));
  assert.equal(await dismissed, undefined);
  assert.equal(npy.settle(none), false, 'an answer nobody waits for is dropped');

  const picked = npy.pick('input_features');
  const bytes = encodeNpy({ dims: [3, 40], data: new Float32Array(120).fill(0.5) });
  const data = bytes.slice().buffer as ArrayBuffer;
  const answer = { type: 'npyPicked', inReplyTo: sent[1]!.id, fileName: 'feats.npy', data } as const;
  assert.equal(hostToWebviewProblem(answer), undefined);
  assert.match(hostToWebviewProblem({ ...answer, data: bytes }) ?? '', /data is not an ArrayBuffer/);
  npy.settle(answer);
  const got = await picked;
  assert.deepEqual([got?.fileName, got?.tensor.dims, got?.tensor.data[7]], ['feats.npy', [3, 40], 0.5]);

  const damaged = npy.pick('speaker');
  npy.settle({ type: 'npyPicked', inReplyTo: sent[2]!.id, fileName: 'x.npy', data: new ArrayBuffer(4) });
  await assert.rejects(damaged, /x\.npy is not a readable \.npy file/);
  const failed = npy.pick('speaker');
  npy.settle({ type: 'npyPicked', inReplyTo: sent[3]!.id, error: { code: 'bad-input', message: 'big.npy is 900 MiB' } });
  await assert.rejects(failed, /big\.npy is 900 MiB/);
});

function fakeTheme(): Theme {
  const seq = new Uint8ClampedArray(256 * 4).fill(128);
  return {
    bg: '#1e1e1e', fg: '#cccccc', muted: '#888888', border: '#444444', accent: '#3794ff', pin: '#ffcc00',
    fonts: { ui: 'sans-serif', mono: 'monospace' }, seq, div: seq, headColor: () => '#3794ff', dark: true,
  };
}

test('every view copes with a run on arrays: positions t0, t1, ... with empty source spans', async () => {
  const frames = 12;
  const model = await LoadedModel.load({ files: noFiles, modelBytes: audioEncoder(), name: 'audio_encoder.onnx' });
  try {
    const r = await model.run({ backend: await getBackend('native'), text: '', inputs: arrays(frames) });
    const run = RunData.of(r, 'audio', undefined);
    assert.equal(run.tokens.length, frames);
    assert.deepEqual(run.tokens.slice(0, 3).map((t) => tokenLabel(t)), ['t0', 't1', 't2']);
    assert.equal(tokenHoverText(run.tokens[4]), '"t4" · position 4 along the input');
    const sel: Selection = { stream: 'encoder', layer: 0, head: 'mean', hiddenHeads: [], units: [], threshold: 0.5, step: 0, pinned: 3 };
    const drawn: string[] = [];
    for (const view of allViews({})) {
      const env: ViewEnv = {
        theme: fakeTheme(), sel, setSel: (p) => Object.assign(sel, p), open: () => undefined, runs: [run], width: 900, height: 700, redraw: () => undefined,
      };
      const why = view.unavailable(env);
      if (why !== undefined) {
        assert.ok(why.length > 0, `${view.id}: says why`);
        continue;
      }
      const scene = view.scene(env);
      assert.ok(scene.prims.length > 0, `${view.id}: draws something`);
      const texts = scene.prims.flatMap((p) => (p.k === 'text' ? [p.s] : []));
      assert.ok(!texts.some((s) => /⟨t\d+⟩/.test(s)), `${view.id}: positions are not drawn as special tokens`);
      drawn.push(view.id);
    }
    for (const id of ['heatmap', 'headview', 'modelview', 'hidden', 'recurrent', 'predictions']) assert.ok(drawn.includes(id), `${id} view drawn: ${drawn.join(', ')}`);
  } finally {
    await model.dispose();
  }
});
