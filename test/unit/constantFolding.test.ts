/**
 * Leaving onnxruntime's constant folding out where it would only copy big weights transposed
 * (core/onnx/constantFolding.ts): which graphs qualify (graphs written here op by op, and the zoo), that
 * LoadedModel asks its backend for it on such a graph only, and that a session made so gives the same logits
 * as one with folding, on onnxruntime-node and on onnxruntime-web's wasm: a small bench decoder (bench/makeBenchDecoder.ts,
 * Qwen3's real 151,669-id vocabulary, so its tied output projection is a 9.7 MB weight read through a Transpose).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBenchDecoder } from '../../bench/makeBenchDecoder.js';
import { decodeModel, onnx } from '../../src/core/onnx/decode.js';
import { floatTensor, int64Tensor, makeNode } from '../../src/core/onnx/graphDelta.js';
import { foldingOnlyCopiesWeights, TRANSPOSED_WEIGHTS_MIN_BYTES } from '../../src/core/onnx/constantFolding.js';
import { LoadedModel } from '../../src/core/run/loadedModel.js';
import type { InferenceBackend, SessionOptionsExtra } from '../../src/core/run/backend.js';
import { getBackend } from '../../src/node/backends.js';
import { loadModel } from '../../src/node/modelLoader.js';

const DT = onnx.TensorProto.DataType;

/** A graph `x [1, n, D] → MatMul(x, <B>) → y` with `nodes` computing B from the weight `w [V, D]`. */
function graph(nodes: onnx.INodeProto[], opts: { rows?: number; extraInits?: onnx.ITensorProto[]; weightIsInput?: boolean } = {}): ReturnType<typeof decodeModel>['graph'] {
  const D = 8;
  const V = opts.rows ?? Math.ceil(TRANSPOSED_WEIGHTS_MIN_BYTES / (4 * D)) + 1;
  const w = floatTensor('w', new Float32Array(V * D).fill(0.5), [V, D]);
  const io = (name: string): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: DT.FLOAT } } });
  const bytes = onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g', node: nodes, initializer: [w, ...(opts.extraInits ?? [])],
      input: [io('x'), ...(opts.weightIsInput ? [io('w')] : [])], output: [io('y')],
    },
  }).finish();
  return decodeModel(bytes).graph;
}

const tiedHead = makeNode('Transpose', ['w'], ['wT'], '/lm_head/Transpose', { perm: [1, 0] });

test('a big weight transposed for a MatMul, and nothing else folded: folding is left out', () => {
  assert.equal(foldingOnlyCopiesWeights(graph([tiedHead, makeNode('MatMul', ['x', 'wT'], ['y'], '/lm_head/MatMul')])), true);
  // A Transpose with no perm reverses the axes: the same for a matrix.
  const noPerm = makeNode('Transpose', ['w'], ['wT'], '/t');
  assert.equal(foldingOnlyCopiesWeights(graph([noPerm, makeNode('MatMul', ['x', 'wT'], ['y'], '/mm')])), true);
  // The scalars an exporter computes (1/sqrt(d)) run per run at no cost.
  const scale = [floatTensor('d', [64], [])];
  assert.equal(foldingOnlyCopiesWeights(graph([
    tiedHead, makeNode('Sqrt', ['d'], ['sd'], '/Sqrt'), makeNode('MatMul', ['x', 'wT'], ['m'], '/mm'), makeNode('Div', ['m', 'sd'], ['y'], '/Div'),
  ], { extraInits: scale })), true);
});

test('folding is kept where it does more than copy a transposed weight for a MatMul', () => {
  const mm = makeNode('MatMul', ['x', 'wT'], ['y'], '/mm');
  // Too small for its cost to matter: the runtime's default.
  assert.equal(foldingOnlyCopiesWeights(graph([tiedHead, mm], { rows: 16 })), false);
  // The transposed weight is also read by a Gather: folding saves that Gather a transpose on every run.
  assert.equal(foldingOnlyCopiesWeights(graph([tiedHead, mm, makeNode('Gather', ['wT', 'x'], ['g'], '/g')])), false);
  // MatMul's first input (the fusion transposes B only).
  assert.equal(foldingOnlyCopiesWeights(graph([tiedHead, makeNode('MatMul', ['wT', 'x'], ['y'], '/mm')])), false);
  // A big weight cast to another type is a fold worth keeping (it would run on every run otherwise).
  assert.equal(foldingOnlyCopiesWeights(graph([makeNode('Cast', ['w'], ['wc'], '/Cast', { to: DT.FLOAT }), makeNode('MatMul', ['x', 'wc'], ['y'], '/mm')])), false);
  // A small fold that grows: ConstantOfShape from a constant shape.
  assert.equal(foldingOnlyCopiesWeights(graph([tiedHead, mm, makeNode('ConstantOfShape', ['shape'], ['z'], '/cos')], { extraInits: [int64Tensor('shape', [4096, 4096])] })), false);
  // A weight that is also a graph input can be fed: the runtime folds nothing over it, and neither does this.
  assert.equal(foldingOnlyCopiesWeights(graph([tiedHead, mm], { weightIsInput: true })), false);
});

test('no zoo model qualifies (all below the size where folding costs)', async () => {
  for (const name of ['transformer', 'lstm', 'gru', 'rnn']) {
    const m = await loadModel(name);
    const model = decodeModel(await m.files('model.onnx'));
    assert.equal(foldingOnlyCopiesWeights(model.graph), false, name);
  }
});

test('a bench decoder with a tied 9.7 MB output projection: the session leaves folding out and its logits are unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqlens-fold-'));
  try {
    const bench = makeBenchDecoder(dir, { layers: 1, dModel: 16, heads: 2, maxPositions: 64 });
    const bytes = new Uint8Array(readFileSync(bench.model));
    const model = decodeModel(bytes);
    assert.equal(foldingOnlyCopiesWeights(model.graph), true);
    const seen: (SessionOptionsExtra | undefined)[] = [];
    for (const name of ['native', 'wasm'] as const) {
      const inner = await getBackend(name);
      const recording: InferenceBackend = { name, createSession: (b, extra) => { seen.push(extra); return inner.createSession(b, extra); } };
      const files = async (rel: string): Promise<Uint8Array> => new Uint8Array(readFileSync(join(dir, rel)));
      const loaded = await LoadedModel.load({ files, modelFile: 'model.onnx', name: 'bench' });
      const text = 'Ünïcödé, 漢字 and 🙂\tend\r\n';
      const trace = await loaded.trace({ backend: recording, text });
      await loaded.dispose();
      assert.equal(seen.at(-1)?.skipConstantFolding, true, `${name}: LoadedModel asked to leave folding out`);
      const withSkip = trace.logits;
      const tokens = trace.tokens;
      // The model's own graph with folding (the runtime's default), run on the same ids.
      const plain = await inner.createSession(bytes.slice());
      const feed = { input_ids: { type: 'int64' as const, data: BigInt64Array.from(tokens, (t) => BigInt(t.id)), dims: [1, tokens.length] } };
      const out = await plain.run(feed, ['logits']);
      await plain.dispose();
      assert.ok(withSkip, 'the trace has logits');
      assert.deepEqual(withSkip.dims, out.logits.dims.slice(1), "the trace keeps the logits of its one batch row");
      let d = 0;
      for (let i = 0; i < out.logits.data.length; i++) d = Math.max(d, Math.abs(out.logits.data[i] - withSkip.data[i]));
      assert.ok(d < 1e-4, `${name}: logits differ by ${d}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
