/**
 * Weights outside the .onnx file (issue 8, section 1 last bullet), in the two layouts exporters write
 * (tools/fixtures/externalWeights.ts, on the hand-written audio encoder): one file per tensor (torch's
 * layout for big models) and one `.onnx_data` file. The inspector names them as "weights in N files,
 * X KB", never a list of every file; a run reads them and gives the plain model's numbers; a missing
 * file ends in one sentence naming it and what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { audioEncoder, AUDIO } from '../../tools/fixtures/audioEncoder.js';
import { oneFile, perTensor, type ExternalLayout } from '../../tools/fixtures/externalWeights.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { externalDataSummary, formatBytes } from '../../src/core/onnx/externalData.js';
import { inspectModel } from '../../src/core/inspect.js';
import { LoadedModel } from '../../src/core/run/loadedModel.js';
import { isSeqLensError } from '../../src/core/errors.js';
import { encodeNpy } from '../../src/core/trace/npy.js';
import type { FloatTensor } from '../../src/core/run/backend.js';
import { getBackend } from '../../src/node/backends.js';
import { mulberry32 } from '../../tools/mulberry32.js';

const ROOT = join(import.meta.dirname, '..', '..');

function inputs(): Record<string, FloatTensor> {
  const rand = mulberry32(7);
  const t = (dims: number[]): FloatTensor => ({ dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1) });
  return { input_features: t([1, 9, AUDIO.features]), speaker: t([1, AUDIO.speaker]) };
}

function totalBytes(layout: ExternalLayout): number {
  let n = 0;
  for (const d of layout.files.values()) n += d.length;
  return n;
}

/** `disk`: the layout written to this folder, which onnxruntime-node reads the weight files from itself (the source's `localPath`). */
async function traceWith(layout: ExternalLayout, drop?: string, disk?: string): Promise<Float32Array> {
  const files = async (rel: string): Promise<Uint8Array> => {
    if (disk) throw new Error(`read ${rel}: onnxruntime-node reads the weight files itself`);
    const f = rel === drop ? undefined : layout.files.get(rel);
    if (!f) throw new Error(`ENOENT: ${rel}`);
    return f;
  };
  if (disk) {
    writeFileSync(join(disk, 'audio_encoder.onnx'), layout.model);
    for (const [rel, data] of layout.files) if (rel !== drop) writeFileSync(join(disk, rel), data);
  }
  const localPath = disk ? async (rel: string): Promise<string | undefined> => (existsSync(join(disk, rel)) ? join(disk, rel) : undefined) : undefined;
  const model = await LoadedModel.load({ files, modelBytes: layout.model, modelFile: 'audio_encoder.onnx', name: 'audio_encoder.onnx', ...(localPath ? { localPath } : {}) });
  try {
    const trace = await model.trace({ backend: await getBackend('native'), text: '', inputs: inputs() });
    return trace.logits?.data ?? new Float32Array();
  } finally {
    await model.dispose();
  }
}

test('summary: one file per tensor reads "weights in N files, X KB"; one .onnx_data file is named', () => {
  const per = perTensor(audioEncoder());
  assert.ok(per.files.size >= 15, `${per.files.size} files`);
  const s = externalDataSummary(decodeModel(per.model));
  assert.ok(s);
  assert.equal(s.files.length, per.files.size);
  assert.equal(s.tensors, per.files.size);
  assert.equal(s.bytes, totalBytes(per));
  assert.equal(s.text, `weights in ${per.files.size} files, ${formatBytes(totalBytes(per))}`);
  const inspection = inspectModel(per.model, 'audio_encoder.onnx');
  assert.equal(inspection.summary.externalData?.text, s.text);
  const warning = inspection.warnings.find((w) => w.includes('outside'));
  assert.ok(warning);
  assert.ok(warning.includes(s.text));
  assert.ok(!warning.includes('w_in') && !warning.includes('gru_r'), `no list of files: ${warning}`);

  const one = oneFile(audioEncoder(), 'audio_encoder.onnx_data');
  const s1 = externalDataSummary(decodeModel(one.model));
  assert.equal(s1?.text, `weights in 1 file (audio_encoder.onnx_data), ${formatBytes(s1?.bytes ?? 0)}`);
  assert.equal(s1?.tensors, per.files.size);
  assert.equal(externalDataSummary(decodeModel(audioEncoder())), undefined);
  assert.deepEqual(['0 bytes', '999 bytes', '1.0 KB', '1.5 MB', '340 MB', '2.1 GB'],
    [0, 999, 1000, 1.5e6, 3.4e8, 2.1e9].map(formatBytes));
});

test('a run reads every weight file and gives the plain model\'s numbers; a missing file is one sentence', async () => {
  const plain = await traceWith({ model: audioEncoder(), files: new Map() });
  assert.ok(plain.length > 0);
  for (const layout of [perTensor(audioEncoder()), oneFile(audioEncoder(), 'audio_encoder.onnx_data')]) {
    assert.deepEqual(await traceWith(layout), plain);
  }
  const per = perTensor(audioEncoder());
  await assert.rejects(traceWith(per, 'gru_r'), (e: unknown) => {
    assert.ok(isSeqLensError(e) && e.code === 'external-data');
    const m = (e as Error).message;
    assert.match(m, /^audio_encoder\.onnx keeps its weights outside the \.onnx and one of its \d+ external data files, "gru_r", is missing beside it: put "gru_r" back in the folder of audio_encoder\.onnx/);
    assert.equal(m.split(/[.:] [A-Z]/).length, 1, `one sentence: ${m}`);
    return true;
  });
  const one = oneFile(audioEncoder(), 'audio_encoder.onnx_data');
  await assert.rejects(traceWith(one, 'audio_encoder.onnx_data'), /its external data file, "audio_encoder\.onnx_data", is missing beside it/);
});

test('from disk, onnxruntime-node reads the weight files itself: the same numbers; a missing file is the same sentence', async () => {
  const plain = await traceWith({ model: audioEncoder(), files: new Map() });
  for (const layout of [perTensor(audioEncoder()), oneFile(audioEncoder(), 'audio_encoder.onnx_data')]) {
    const dir = mkdtempSync(join(tmpdir(), 'seqlens-ext-'));
    try {
      assert.deepEqual(await traceWith(layout, undefined, dir), plain);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'seqlens-ext-'));
  try {
    await assert.rejects(traceWith(perTensor(audioEncoder()), 'gru_r', dir), (e: unknown) => {
      assert.ok(isSeqLensError(e) && e.code === 'external-data');
      assert.match((e as Error).message, /one of its \d+ external data files, "gru_r", is missing beside it: put "gru_r" back in the folder of audio_encoder\.onnx/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: inspect names the weight files in one line; trace without one of them is one line on stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqlens-ext-'));
  try {
    const per = perTensor(audioEncoder());
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'audio_encoder.onnx'), per.model);
    for (const [rel, data] of per.files) if (rel !== 'wq') writeFileSync(join(dir, rel), data);
    const given = inputs();
    writeFileSync(join(dir, 'feats.npy'), encodeNpy(given.input_features!));
    writeFileSync(join(dir, 'spk.npy'), encodeNpy(given.speaker!));
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
    const inspect = cli('inspect', join(dir, 'audio_encoder.onnx'));
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.match(inspect.stdout, new RegExp(`weights in ${per.files.size} files, [\\d.]+ KB`));
    assert.ok(!inspect.stdout.includes('gru_r'), 'no list of files');
    const r = cli('trace', join(dir, 'audio_encoder.onnx'), '--input', `input_features=${join(dir, 'feats.npy')}`, '--input', `speaker=${join(dir, 'spk.npy')}`);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^seqlens: .*"wq", is missing beside it: put "wq" back in the folder of audio_encoder\.onnx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
