/** What the host's model tree says about real models: the bundled zoo and the sample workspace's files. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspectOnnxBytes } from '../../src/models/onnxFacts.js';

const read = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../${p}`, import.meta.url)));

describe('host inspection of model bytes', () => {
  it('names the zoo Transformer and its attention (layers × heads)', () => {
    const r = inspectOnnxBytes(read('media/models/transformer/model.onnx'), 'model.onnx');
    assert.equal(r.error, undefined);
    assert.equal(r.architecture, 'transformer-decoder');
    assert.ok(r.probes.some((p) => /^attention \(decoder self\): \d+ layers? × \d+ heads$/.test(p)), r.probes.join('; '));
    assert.ok(r.facts.some((f) => /^input ids: int64 \[/.test(f)), r.facts.join('; '));
  });

  it('finds the gates of the zoo LSTM', () => {
    const r = inspectOnnxBytes(read('media/models/lstm/model.onnx'), 'model.onnx');
    assert.equal(r.architecture, 'lstm');
    assert.ok(r.probes.some((p) => p.startsWith('gates: 1 layer')), r.probes.join('; '));
  });

  it('inspects the sample workspace model that has no tokenizer (a GRU encoder)', () => {
    const r = inspectOnnxBytes(read('sample-workspace/models/no-tokenizer/gru-encoder.onnx'), 'gru-encoder.onnx');
    assert.equal(r.architecture, 'gru');
  });

  it('turns the corrupt sample file into a message instead of an exception', () => {
    const r = inspectOnnxBytes(read('sample-workspace/models/corrupt.onnx'), 'corrupt.onnx');
    assert.match(r.error ?? '', /corrupt\.onnx is not an ONNX model/);
    assert.deepEqual(r.probes, []);
  });

  it('reports a truncated model as truncated', () => {
    const bytes = read('media/models/lstm/model.onnx');
    const r = inspectOnnxBytes(bytes.subarray(0, Math.floor(bytes.length / 2)), 'half.onnx');
    assert.match(r.error ?? '', /half\.onnx/);
  });
});
