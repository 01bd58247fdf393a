/**
 * The webview's pure data modules in plain Node, on the real zoo models: positional-encoding discovery
 * (sinusoid in the Transformer, none in the LSTM) and axis-role slicing of real probe tensors.
 * Run: node --import tsx --test test/webview/dataModules.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findPositionalSource } from '../../src/core/trace/positionalSource.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { sliceMatrix } from '../../webview/data/tensorSlice.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { parseManifest } from '../../src/core/manifest.js';
import { getBackend } from '../../src/node/backends.js';

const have = (m: string): boolean => existsSync(`media/models/${m}/manifest.json`);

test('the zoo Transformer has a sinusoidal positional subgraph; the LSTM has none', { skip: !have('transformer') || !have('lstm') }, () => {
  const src = findPositionalSource(decodeModel(new Uint8Array(readFileSync('media/models/transformer/model.onnx'))));
  assert.equal(src?.kind, 'sinusoid');
  assert.equal(findPositionalSource(decodeModel(new Uint8Array(readFileSync('media/models/lstm/model.onnx')))), undefined);
});

test('sliceMatrix picks head/query/key by axis role on a real attention probe', { skip: !have('transformer') }, async () => {
  const dir = 'media/models/transformer';
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const trace = await traceModel({ backend: await getBackend('native'), files: async (rel) => new Uint8Array(await readFile(join(dir, rel))), manifest, text: 'let a = [1, 2];' });
  const p = trace.probes.find((q) => q.probe.kind === 'attention')!;
  const [, H, Q, K] = p.tensor.dims;
  const m = sliceMatrix(p, 'query', 'key', { head: H - 1, batch: 0 });
  assert.deepEqual([m.rows, m.cols], [Q, K]);
  for (let q = 0; q < Q; q++) for (let k = 0; k < K; k++) assert.equal(m.data[q * K + k], p.tensor.data[((H - 1) * Q + q) * K + k]);
  // Causal attention: each row sums to 1 and nothing attends to the future.
  for (let q = 0; q < Q; q++) {
    let s = 0;
    for (let k = 0; k < K; k++) { s += m.data[q * K + k]; if (k > q) assert.equal(m.data[q * K + k], 0); }
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
  const mean = sliceMatrix(p, 'query', 'key', { head: 'mean', batch: 0 });
  let expect = 0;
  for (let h = 0; h < H; h++) expect += p.tensor.data[(h * Q + 2) * K + 1] / H;
  assert.ok(Math.abs(mean.data[2 * K + 1] - expect) < 1e-7);
});
