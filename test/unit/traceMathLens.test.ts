/**
 * The logit lens end to end on real graphs: run the model with onnxruntime-node through traceModel,
 * resolve the output projection the probe plan found, and apply it to the last hidden state of the lens
 * stream: that must reproduce the model's own logits (pre-LN GPT-2-style with its final LayerNorm,
 * post-LN BERT-style without, and the zoo's character Transformer).
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { inspectModel } from '../../src/core/inspect.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { hiddenMatrix } from '../../src/core/trace/hiddenStates.js';
import { resolveOutputProjection } from '../../src/core/trace/outputProjection.js';
import { logitLens, logitsMatrix } from '../../src/core/trace/predictions.js';
import type { Trace } from '../../src/core/trace/traceTypes.js';
import type { LogitLens } from '../../src/core/types.js';
import { getBackend } from '../../src/node/backends.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GRAPHS = join(ROOT, 'test', 'fixtures', 'graphs');
const TEXT = 'interface Foo { bar(): number; }';

let nativeError = '';
try {
  await import('onnxruntime-node');
} catch (e) {
  nativeError = `onnxruntime-node is not loadable: ${(e as Error).message.split('\n')[0]}`;
}

/** Checks lens(last hidden of the lens stream) == the model's logits, at every position. */
function assertLensReproducesLogits(trace: Trace, bytes: Uint8Array, lens: LogitLens): void {
  const proj = resolveOutputProjection(decodeModel(bytes), lens);
  const hidden = trace.probes
    .filter((p) => p.probe.kind === 'hidden' && (lens.stream === undefined || p.probe.stream === lens.stream))
    .sort((a, b) => a.probe.layer - b.probe.layer);
  assert.ok(hidden.length >= 2, 'hidden states per layer');
  assert.ok(trace.logits, 'the trace has logits');
  const logits = logitsMatrix(trace.logits);
  const vocab = logits.cols;
  const last = hiddenMatrix(hidden[hidden.length - 1]!);
  assert.equal(last.rows, logits.rows);
  const lensed = logitLens([last], proj, { k: vocab })[0]!;
  let worst = 0;
  for (let t = 0; t < last.rows; t++) {
    for (const x of lensed[t]!) worst = Math.max(worst, Math.abs(x.logit - logits.data[t * vocab + x.id]!));
  }
  assert.ok(worst < 1e-3, `lens vs logits max |Δ| = ${worst}`);
  // Every layer gets predictions (the lens on earlier layers is what the view shows).
  const all = logitLens(hidden.map((h) => hiddenMatrix(h)), proj, { k: 3 });
  assert.equal(all.length, hidden.length);
  for (const layer of all) assert.equal(layer.length, last.rows);
}

for (const file of ['gpt2_preln_opset17.onnx', 'gpt2_preln_opset13.onnx', 'bert_postln_opset17.onnx']) {
  const path = join(GRAPHS, file);
  test(`logit lens reproduces the logits of ${file}`, { skip: nativeError || (existsSync(path) ? false : `${file} missing`) }, async () => {
    const bytes = new Uint8Array(readFileSync(path));
    const lens = inspectModel(bytes, file).plan.logitLens;
    assert.ok(lens, 'the plan finds the output projection');
    // A 64-entry character vocabulary stands in for the fixture's own (its ids are what matter).
    const chars = [...new Set(TEXT)];
    const vocab = new TextEncoder().encode(JSON.stringify(chars));
    const trace = await traceModel({
      backend: await getBackend('native'),
      files: (p) => (p === 'vocab.json' ? Promise.resolve(vocab) : Promise.reject(new Error(`no ${p}`))),
      modelBytes: bytes,
      modelName: file,
      tokenizer: { type: 'char', vocab: 'vocab.json' },
      text: TEXT,
    });
    assertLensReproducesLogits(trace, bytes, lens);
  });
}

const zooTransformer = join(ROOT, 'media', 'models', 'transformer');
test('logit lens reproduces the logits of the zoo character Transformer', { skip: nativeError || (existsSync(join(zooTransformer, 'manifest.json')) ? false : 'zoo transformer not built') }, async () => {
  const { loadModel } = await import('../../src/node/modelLoader.js');
  const m = await loadModel(zooTransformer);
  const bytes = await m.files('model.onnx');
  const lens = inspectModel(bytes, 'model.onnx').plan.logitLens;
  assert.ok(lens?.finalNorm, 'a pre-LN decoder: the lens includes the final LayerNorm');
  const trace = await traceModel({ backend: await getBackend('native'), files: m.files, manifest: m.manifest, modelName: m.name, text: TEXT });
  assertLensReproducesLogits(trace, bytes, lens);
});
