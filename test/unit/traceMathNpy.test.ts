/** The .npy format: files NumPy wrote are read back, and files we write are read by NumPy itself. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeNpy, encodeNpy } from '../../src/core/trace/npy.js';
import { maxAbsDiff, npy } from './traceMathFixtures.js';

const PYTHON = '/usr/bin/python3';
const numpyMissing = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status !== 0;

test('encodeNpy: NumPy format 1.0 header, 64-byte aligned, little-endian float32 data', () => {
  const bytes = encodeNpy({ dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6.5) });
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const headerLength = bytes[8]! | (bytes[9]! << 8);
  assert.equal((10 + headerLength) % 64, 0);
  const header = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + headerLength));
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
  assert.equal(bytes.length, 10 + headerLength + 24);
  assert.equal(new DataView(bytes.buffer).getFloat32(10 + headerLength + 20, true), 6.5);
  assert.throws(() => encodeNpy({ dims: [2, 2], data: new Float32Array(3) }), /hold 4 values/);
});

test('decodeNpy reads what NumPy wrote: float64, big-endian float32, float16, int64, 0-d and 1-d', () => {
  const f8 = npy('numpy', 'np_f8.npy');
  assert.deepEqual(f8.dims, [3, 4, 5]);
  assert.ok(maxAbsDiff(npy('numpy', 'np_f4_big_endian.npy').data, f8.data) < 1e-6);
  assert.ok(maxAbsDiff(npy('numpy', 'np_f2.npy').data, f8.data) < 4e-3);
  assert.deepEqual([...npy('numpy', 'np_i8.npy').data], [-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
  assert.deepEqual(npy('numpy', 'np_scalar.npy'), { dims: [], data: Float32Array.of(2.5) });
  const v = npy('numpy', 'np_vector.npy');
  assert.deepEqual(v.dims, [7]);
  assert.ok(Math.abs(v.data[3]! - 0.5) < 1e-7);
  assert.throws(() => decodeNpy(Uint8Array.of(1, 2, 3)), /magic/);
});

test('encodeNpy round trip: our file decodes to the same tensor, 0-d and 1-d shapes included', () => {
  for (const t of [
    { dims: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 1e3) },
    { dims: [5], data: Float32Array.of(-Infinity, 0, -0, 1e-45, 3.4e38) },
    { dims: [], data: Float32Array.of(7) },
    { dims: [0, 3], data: new Float32Array(0) },
  ]) {
    const back = decodeNpy(encodeNpy(t));
    assert.deepEqual(back.dims, t.dims);
    assert.deepEqual([...back.data], [...t.data]);
  }
});

test('NumPy reads our files exactly: shape, dtype, order and every value', { skip: numpyMissing ? '/usr/bin/python3 with numpy is not installed' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqlens-npy-'));
  try {
    const cases = {
      a: { dims: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => (i - 12) / 7) },
      b: { dims: [5], data: Float32Array.of(-Infinity, 0, 1e-45, 3.4e38, NaN) },
      c: { dims: [], data: Float32Array.of(7) },
      d: { dims: [1, 1, 130], data: Float32Array.from({ length: 130 }, (_, i) => i * 0.25) },
    };
    for (const [name, t] of Object.entries(cases)) writeFileSync(join(dir, `${name}.npy`), encodeNpy(t));
    const script = `
import json, sys, numpy as np
out = {}
for n in "abcd":
    a = np.load(sys.argv[1] + "/" + n + ".npy")
    out[n] = {"dtype": str(a.dtype), "shape": list(a.shape), "c": bool(a.flags["C_CONTIGUOUS"]),
              "values": [None if np.isnan(x) else (str(x) if np.isinf(x) else float(x)) for x in a.reshape(-1)]}
print(json.dumps(out))`;
    const r = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Record<string, { dtype: string; shape: number[]; c: boolean; values: (number | string | null)[] }>;
    for (const [name, t] of Object.entries(cases)) {
      const g = got[name]!;
      assert.equal(g.dtype, 'float32');
      assert.deepEqual(g.shape, t.dims);
      assert.ok(g.c);
      assert.deepEqual(
        g.values,
        [...t.data].map((x) => (Number.isNaN(x) ? null : Number.isFinite(x) ? x : x > 0 ? 'inf' : '-inf')),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
