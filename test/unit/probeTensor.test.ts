/**
 * Probing any tensor by name: `seqlens trace MODEL --probe NAME` dumps the tensor a node computes, equal to
 * onnxruntime-node run on the plain model with that tensor made a graph output here, by hand (not through
 * core's instrumentation); names the graph does not compute are refused in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { decodeNpy } from '../../src/core/trace/npy.js';
import { probedAxes, probedMatrix } from '../../src/core/trace/probedTensor.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'seqlens-probe-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function seqlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Dumped { tokens: { id: number }[]; probes: { name: string; kind: string; axes: string[]; shape: number[]; file: string }[] }

/** The plain model with `tensor` added as a graph output, run on these ids by onnxruntime-node directly. */
async function reference(modelPath: string, tensor: string, ids: number[]): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const model = onnx.ModelProto.decode(readFileSync(modelPath));
  (model.graph as onnx.GraphProto).output.push(onnx.ValueInfoProto.create({ name: tensor }));
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  const feeds: Record<string, ort.Tensor> = {};
  feeds[session.inputNames[0]] = new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
  const out = await session.run(feeds, [tensor]);
  const t = out[tensor];
  await session.release();
  return { dims: t.dims, data: t.data as Float32Array };
}

for (const [zoo, tensor] of [['transformer', '/blocks.1/ff/ff.0/Add_output_0'], ['transformer', '/blocks.0/attn/Transpose_3_output_0'], ['lstm', '/rnn/Squeeze_output_0']] as const) {
  test(`seqlens trace ${zoo} --probe ${tensor}: the dump equals onnxruntime-node on the plain model`, async () => {
    const dir = join(tmp, `${zoo}-${tensor.replace(/\W+/g, '_')}`);
    const r = seqlens('trace', zoo, '--text', 'function f(x) { return x; }', '--probe', tensor, '--dump', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`probed tensors[^]*${tensor.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\[`));
    const json = JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8')) as Dumped;
    const p = json.probes.find((x) => x.kind === 'tensor');
    assert.ok(p, 'a tensor probe in trace.json');
    assert.equal(p.name, tensor);
    const dumped = decodeNpy(new Uint8Array(readFileSync(join(dir, p.file))));
    const ref = await reference(join(ROOT, 'media', 'models', zoo, 'model.onnx'), tensor, json.tokens.map((t) => t.id));
    assert.deepEqual(dumped.dims, [...ref.dims]);
    assert.deepEqual(p.axes, probedAxes(ref.dims, json.tokens.length));
    assert.ok(p.axes.includes('seq'), p.axes.join(','));
    let worst = 0;
    for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(dumped.data[i] - ref.data[i]));
    assert.ok(worst < 1e-4, `max difference ${worst}`);
  });
}

test('--probe refuses names the graph does not compute, in one line, before running', () => {
  for (const [name, why] of [['no_such_tensor', /no tensor named "no_such_tensor"/], ['ids', /is a graph input/], ['head.weight', /is a weight|no tensor named/]] as const) {
    const r = seqlens('trace', 'lstm', '--text', 'x', '--probe', name);
    assert.equal(r.code, 1);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a probed tensor per token: the sequence axis found by its length, everything else flattened into units', () => {
  assert.deepEqual(probedAxes([1, 7, 4, 20], 7), ['batch', 'seq', 'unit', 'unit']);
  assert.deepEqual(probedAxes([7, 1, 160], 7), ['seq', 'unit', 'unit']);
  assert.deepEqual(probedAxes([1, 32], 7), ['unit', 'unit']);
  // [1, heads=2, seq=3, d=2]: a token's units are (head, d) in order.
  const data = Float32Array.from({ length: 12 }, (_, i) => i);
  const m = probedMatrix({ probe: { name: 't', kind: 'tensor', layer: 0, axes: probedAxes([1, 2, 3, 2], 3), source: { op: 'X', node: 'x' } }, tensor: { dims: [1, 2, 3, 2], data } });
  assert.equal(m.rows, 3);
  assert.equal(m.cols, 4);
  assert.deepEqual(Array.from(m.data.subarray(0, 4)), [0, 1, 6, 7]);
  assert.ok(Math.abs(m.norms[0] - Math.hypot(0, 1, 6, 7)) < 1e-6);
});
