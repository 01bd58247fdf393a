/**
 * Where 'auto' sends a run (#10): the webview for small models, native for big ones, for external data in a
 * remote window, and for a model the webview failed on, only when onnxruntime-node loads; 'native' falls
 * back to the webview with a clear line when it does not. modelWeight reads graphs, never weights.
 * Run: node --import tsx --test test/unit/autoBackend.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { chooseBackend, modelWeight, NATIVE_AUTO_MIN_BYTES, NATIVE_AUTO_REMOTE_MIN_BYTES } from '../../src/node/autoBackend.js';

const small = { bytes: 1e6, externalFiles: 0 };
const big = { bytes: NATIVE_AUTO_MIN_BYTES + 1, externalFiles: 170 };
const external = { bytes: 5e6, externalFiles: 1 };

test('modelWeight counts the external data a graph names', async () => {
  const onnx = 'test/fixtures/graphs/external_data.onnx';
  const w = await modelWeight([onnx]);
  assert.equal(w.externalFiles, 1);
  assert.equal(w.bytes, statSync(onnx).size + statSync('test/fixtures/graphs/external_data.bin').size);
  const zoo = await modelWeight(['media/models/transformer/model.onnx']);
  assert.deepEqual(zoo, { bytes: statSync('media/models/transformer/model.onnx').size, externalFiles: 0 });
});

test('auto: webview for small models, native past the threshold, for external data when remote, after a webview failure', () => {
  assert.deepEqual(chooseBackend({ setting: 'auto', weight: small }), { where: 'webview' });
  const b = chooseBackend({ setting: 'auto', weight: big });
  assert.equal(b.where, 'native');
  assert.match(b.where === 'native' ? b.why : '', /^Auto: the model's weights \(256 MB with 170 external data files\) exceed 256 MB/);
  assert.deepEqual(chooseBackend({ setting: 'auto', weight: external }), { where: 'webview' }, 'external data, local window: the webview reads it');
  assert.equal(chooseBackend({ setting: 'auto', weight: external, remoteName: 'ssh-remote' }).where, 'native');
  // Remote: past NATIVE_AUTO_REMOTE_MIN_BYTES the page's fetch costs more than the native run; the zoo stays in the page.
  const userSize = { bytes: 81.4e6, externalFiles: 0 };
  assert.ok(userSize.bytes > NATIVE_AUTO_REMOTE_MIN_BYTES && userSize.bytes < NATIVE_AUTO_MIN_BYTES);
  assert.deepEqual(chooseBackend({ setting: 'auto', weight: userSize }), { where: 'webview' }, 'local window: the page reads the file from disk');
  const remote = chooseBackend({ setting: 'auto', weight: userSize, remoteName: '127.0.0.1:33251' });
  assert.match(remote.where === 'native' ? remote.why : '', /^Auto: this window is remote \(127\.0\.0\.1:33251\) and the model weighs 78 MB/);
  assert.deepEqual(chooseBackend({ setting: 'auto', weight: small, remoteName: '127.0.0.1:33251' }), { where: 'webview' });
  assert.equal(chooseBackend({ setting: 'auto', weight: small, webviewFailed: 'out of memory' }).where, 'native');
  assert.deepEqual(chooseBackend({ setting: 'auto', weight: big, nativeUnavailable: 'not installed' }), { where: 'webview' });
  assert.deepEqual(chooseBackend({ setting: 'wasm', weight: big }), { where: 'webview' }, 'a forced webview backend stays');
});

test('auto: a page whose onnxruntime-web is still loading sends the run native, marked as only for that', () => {
  const cold = chooseBackend({ setting: 'auto', weight: small, pageCold: true });
  assert.equal(cold.where, 'native');
  assert.equal(cold.where === 'native' && cold.forCold, true);
  assert.match(cold.where === 'native' ? cold.why : '', /still loading/);
  // A reason of its own wins: the page would not take those models when warm either (no page model is sent).
  const bigCold = chooseBackend({ setting: 'auto', weight: big, pageCold: true });
  assert.equal(bigCold.where === 'native' && bigCold.forCold, undefined);
  const failedCold = chooseBackend({ setting: 'auto', weight: small, pageCold: true, webviewFailed: 'oom' });
  assert.equal(failedCold.where, 'native');
  assert.equal(failedCold.where === 'native' && failedCold.forCold, undefined);
  assert.deepEqual(chooseBackend({ setting: 'auto', weight: small, pageCold: true, nativeUnavailable: 'not installed' }), { where: 'webview' });
  assert.deepEqual(chooseBackend({ setting: 'wasm', weight: small, pageCold: true }), { where: 'webview' }, 'a page backend chosen by the user waits for the page');
  assert.deepEqual(chooseBackend({ setting: 'auto', weight: small, pageCold: false }), { where: 'webview' });
});

test('native: runs natively, or falls back to the webview saying why', () => {
  assert.equal(chooseBackend({ setting: 'native', weight: small }).where, 'native');
  const c = chooseBackend({ setting: 'native', weight: small, nativeUnavailable: 'onnxruntime-node for linux-x64 is not installed with Sequence Lens' });
  assert.deepEqual(c, { where: 'webview', warning: 'The native backend is not available (onnxruntime-node for linux-x64 is not installed with Sequence Lens); this run used the webview instead.' });
});
