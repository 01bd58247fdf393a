/**
 * Shared by the probe/instrument tests: fixture paths, running a model and its instrumented copy
 * with onnxruntime-node, and the checks every attention probe must pass on real outputs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Probe } from '../../src/core/types.js';
import { onnx } from '../../src/core/onnx/onnxProto.js';

export const GRAPHS = join(import.meta.dirname, '..', 'fixtures', 'graphs');
export const ZOO = join(import.meta.dirname, '..', '..', 'media', 'models');

export interface FixtureInfo {
  architecture: string;
  layers: number;
  heads: number;
  hidden: number;
  vocab?: number;
  streams: Partial<Record<'encoder' | 'decoder' | 'cross', number>>;
  norm?: 'pre' | 'post';
  opset?: number;
  inputs?: Record<string, string>;
  logits?: string;
  role?: 'encoder' | 'decoder';
  pair?: string;
  exportError?: string;
  /** Key/value cache inputs ([batch, heads, past, head_dim]) of decoder exports with a cache. */
  pastInputs?: string[];
  /** Names of the residual-stream tensors (layer 0 = embeddings), where the builder knows them. */
  hiddenTensors?: string[];
}

export function fixtureInfo(): Record<string, FixtureInfo> {
  return JSON.parse(readFileSync(join(GRAPHS, 'fixtures.json'), 'utf8')) as Record<string, FixtureInfo>;
}

export function readFixture(name: string): Uint8Array {
  // A fresh Uint8Array (not a Node Buffer), as the webview would hold it.
  return new Uint8Array(readFileSync(join(GRAPHS, name)));
}

export function fixtureExists(name: string): boolean {
  return existsSync(join(GRAPHS, name));
}

export type Feeds = Record<string, ort.Tensor>;

export function ids(name: string, values: number[]): Feeds {
  return { [name]: new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]) };
}

export async function run(bytes: Uint8Array, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Same values, bit for bit. */
export function assertSameTensor(a: ort.Tensor, b: ort.Tensor, what: string): void {
  assert.deepEqual(a.dims, b.dims, `${what}: dims`);
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  assert.equal(x.length, y.length);
  const bx = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const by = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) assert.fail(`${what}: element ${i} differs: ${x[i]} vs ${y[i]}`);
}

function softmaxLast(data: Float32Array, k: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < data.length / k; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, data[r * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += (out[r * k + j] = Math.exp(data[r * k + j] - m));
    for (let j = 0; j < k; j++) out[r * k + j] /= s;
  }
  return out;
}

export interface AttentionCheck {
  causal?: boolean;
  /** Cached positions before the first query (query i may see keys up to offset + i). */
  offset?: number;
  /** Key positions that are padding (must get weight 0). */
  paddedKeys?: number[];
  queries?: number;
  keys?: number;
}

/** Rows sum to 1 (1e-5); causal rows have zeros above the diagonal; padded keys get zero. Returns [b,h,q,k]. */
export function checkAttention(t: ort.Tensor, probe: Probe, c: AttentionCheck = {}): number[] {
  const dims = t.dims.map(Number);
  assert.equal(dims.length, probe.axes.length, `${probe.name}: rank matches axes ${probe.axes.join(',')}`);
  const k = dims[dims.length - 1];
  const q = dims[dims.length - 2];
  if (probe.axes.includes('head') && probe.heads !== undefined) {
    assert.equal(dims[probe.axes.indexOf('head')], probe.heads, `${probe.name}: head axis = heads`);
  }
  if (c.queries !== undefined) assert.equal(q, c.queries, `${probe.name}: query length`);
  if (c.keys !== undefined) assert.equal(k, c.keys, `${probe.name}: key length`);
  const raw = t.data as Float32Array;
  const w = probe.postprocess === 'softmax-last-axis' ? softmaxLast(raw, k) : raw;
  for (let r = 0; r < w.length / k; r++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const v = w[r * k + j];
      assert.ok(v >= 0 && v <= 1 + 1e-6, `${probe.name}: weight in [0,1]`);
      s += v;
    }
    assert.ok(Math.abs(s - 1) <= 1e-5, `${probe.name}: row ${r} sums to ${s}`);
    const qi = r % q;
    if (c.causal) assert.ok(w[r * k + (c.offset ?? 0) + qi] > 0, `${probe.name}: a query sees its own position`);
    if (c.causal) for (let j = (c.offset ?? 0) + qi + 1; j < k; j++) assert.equal(w[r * k + j], 0, `${probe.name}: causal zero at q${qi} k${j}`);
    for (const j of c.paddedKeys ?? []) assert.equal(w[r * k + j], 0, `${probe.name}: padded key ${j} gets zero`);
  }
  return dims;
}

export { ort };

/** The largest absolute difference of two equally long arrays (their lengths asserted equal). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

/** The plain model with some of its own tensors made graph outputs (decoded and re-encoded, not instrumented). */
export function withOutputs(bytes: Uint8Array, names: string[]): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  for (const name of names) m.graph?.output?.push(onnx.ValueInfoProto.create({ name }));
  return onnx.ModelProto.encode(m).finish();
}
