/**
 * detectArchitecture on graphs made several ways (torch exports at opsets 13/14/17, graphs built
 * with the protobuf bindings, encoder-decoder pairs) and on the trained zoo, whose manifests state
 * what each model is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { detectArchitecture, detectArchitectureOfFiles } from '../../src/core/architecture.js';
import { fixtureInfo, readFixture, ZOO } from './fixturesHelpers.js';

const info = fixtureInfo();

for (const [file, i] of Object.entries(info)) {
  if (i.exportError) continue;
  test(`architecture of ${file} is ${i.architecture}`, () => {
    const model = decodeModel(readFixture(file), file);
    const a = detectArchitecture(model, undefined, i.role ? { role: i.role } : {});
    assert.equal(a.architecture, i.architecture, a.evidence.join('\n'));
    if (i.architecture === 'unknown') return;
    assert.equal(a.layers, i.layers);
    assert.equal(a.heads, i.heads);
    assert.equal(a.hiddenSize, i.hidden);
    assert.ok(a.evidence.length > 0 && a.nodes.length > 0);
  });
}

test('an encoder-decoder exported as two files is judged as a pair', () => {
  const a = detectArchitectureOfFiles({
    encoder: decodeModel(readFixture('encdec_encoder.onnx')),
    decoder: decodeModel(readFixture('encdec_decoder.onnx')),
  });
  assert.equal(a.architecture, 'transformer-encoder-decoder');
  assert.equal(a.layers, 2);
  assert.equal(a.heads, 4);
  assert.equal(a.hiddenSize, 32);
  assert.ok(a.evidence.some((e) => e.startsWith('encoder: ')) && a.evidence.some((e) => e.startsWith('decoder: ')));
});

test('the nn.TransformerEncoderLayer fast path is recorded as not exportable', () => {
  const fast = info['torch_encoder_layer_fastpath_opset17.onnx'];
  assert.match(fast.exportError ?? '', /_transformer_encoder_layer_fwd/);
});

interface Manifest { architecture: string; files: Record<string, string> }
const zooDirs = existsSync(ZOO) ? readdirSync(ZOO).filter((d) => existsSync(join(ZOO, d, 'manifest.json'))) : [];

for (const dir of zooDirs) {
  const manifest = JSON.parse(readFileSync(join(ZOO, dir, 'manifest.json'), 'utf8')) as Manifest;
  const paths = Object.fromEntries(Object.entries(manifest.files).map(([k, f]) => [k, join(ZOO, dir, f)]));
  const ready = Object.values(paths).every((p) => existsSync(p));
  test(`zoo ${dir}: detected as its manifest says (${manifest.architecture})`, { skip: !ready && 'model files not generated yet' }, () => {
    if (paths.encoder && paths.decoder) {
      const a = detectArchitectureOfFiles({
        encoder: decodeModel(readFileSync(paths.encoder)), decoder: decodeModel(readFileSync(paths.decoder)),
      });
      assert.equal(a.architecture, manifest.architecture, a.evidence.join('\n'));
    } else {
      const a = detectArchitecture(decodeModel(readFileSync(paths.model)));
      assert.equal(a.architecture, manifest.architecture, a.evidence.join('\n'));
      assert.ok(a.layers >= 1);
    }
  });
}
