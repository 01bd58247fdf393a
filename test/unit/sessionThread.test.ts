/**
 * onnxruntime-node's sessions on their own thread (src/node/sessionThread.ts), as the native worker uses them:
 * a zoo model's outputs through the thread equal the in-process session's, the model's bytes move to the thread
 * instead of being copied, a released session says so in one line, and a thread that dies fails what was pending
 * in one line and tells its owner once.
 * Run: node --import tsx --test test/unit/sessionThread.test.ts
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SessionThread } from '../../src/node/sessionThread.js';
import { getBackend } from '../../src/node/backends.js';
import { instrument } from '../../src/core/instrument.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { graphInputs, singleFeeds } from '../../src/core/run/feeds.js';
import { parseManifest, isSeq2SeqIO } from '../../src/core/manifest.js';
import { SeqLensError } from '../../src/core/errors.js';

const WORKER = resolve('src/node/nativeWorkerTsx.mjs');
const SCRATCH = resolve('test-results/session-thread');

let hasNative = true;
try {
  await import('onnxruntime-node');
} catch {
  hasNative = false;
}

/** The zoo Transformer instrumented, with feeds for 40 tokens and every output name. */
function transformerCase(): { bytes: Uint8Array; feeds: ReturnType<typeof singleFeeds>; fetches: string[] } {
  const dir = resolve('media/models/transformer');
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  if (isSeq2SeqIO(manifest.io)) throw new Error('one-file model expected');
  const original = new Uint8Array(readFileSync(join(dir, manifest.files.model ?? 'model.onnx')));
  const model = decodeModel(original);
  const { bytes, plan } = instrument(original, model);
  const feeds = singleFeeds(graphInputs(model), { ids: manifest.io.ids, mask: manifest.io.mask }, Array.from({ length: 40 }, (_, i) => (i * 7) % 50));
  const fetches = [...new Set([...(model.graph?.output.map((o) => o.name) ?? []), ...plan.probes.map((p) => p.name)])];
  return { bytes, feeds, fetches };
}

describe('session thread', { skip: !hasNative && 'onnxruntime-node is not installed' }, () => {
  const threads: SessionThread[] = [];
  after(async () => {
    for (const t of threads) await t.dispose();
  });

  test('runs give the in-process session\'s outputs, and the model bytes move to the thread', async () => {
    const stops: string[] = [];
    const thread = new SessionThread(WORKER, (why) => stops.push(why));
    threads.push(thread);
    const info = await thread.info();
    assert.match(info.version, /^\d+\.\d+/);
    assert.equal(info.provider, 'cpu');

    const { bytes, feeds, fetches } = transformerCase();
    const local = await (await getBackend('native')).createSession(bytes.slice());
    const expected = await local.run(feeds, fetches);
    await local.dispose();

    const length = bytes.byteLength;
    const s = await thread.createSession(bytes);
    assert.equal(bytes.byteLength, 0, `the ${length}-byte model was copied to the thread, not moved`);
    const got = await s.run(feeds, fetches);
    assert.deepEqual(Object.keys(got).sort(), [...fetches].sort());
    for (const name of fetches) {
      assert.deepEqual(got[name].dims, expected[name].dims, name);
      assert.deepEqual(got[name].data, expected[name].data, `${name} differs from the in-process session's`);
    }
    await s.dispose();
    await assert.rejects(s.run(feeds, fetches), (e: unknown) => e instanceof SeqLensError && /released/.test(e.message) && !e.message.includes('\n'));
    assert.deepEqual(stops, []);
  });

  test('a run cancelled before it starts is not sent', async () => {
    const thread = new SessionThread(WORKER, () => undefined);
    threads.push(thread);
    const { bytes, feeds, fetches } = transformerCase();
    const s = await thread.createSession(bytes);
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(s.run(feeds, fetches, abort.signal), (e: unknown) => e instanceof SeqLensError && e.code === 'cancelled');
    // The session still works.
    assert.ok((await s.run(feeds, fetches))[fetches[0]].data.length > 0);
  });

  test('a thread that dies fails what is pending in one line and tells its owner once', async () => {
    mkdirSync(SCRATCH, { recursive: true });
    const dying = join(SCRATCH, 'dies.mjs');
    writeFileSync(dying, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\n");
    const stops: string[] = [];
    const thread = new SessionThread(dying, (why) => stops.push(why));
    threads.push(thread);
    await assert.rejects(thread.createSession(new Uint8Array([8, 7])), (e: unknown) =>
      e instanceof SeqLensError && e.code === 'runtime' && /session thread stopped \(it exited with code 3\)/.test(e.message) && !e.message.includes('\n'));
    await assert.rejects(thread.info(), /session thread stopped/);
    assert.deepEqual(stops, ['it exited with code 3']);
  });

  test('an unreadable model fails in one line and the thread goes on', async () => {
    const thread = new SessionThread(WORKER, () => undefined);
    threads.push(thread);
    await assert.rejects(thread.createSession(new TextEncoder().encode('not an onnx model at all')), (e: unknown) =>
      e instanceof SeqLensError && e.code === 'runtime' && /load the model/.test(e.message) && !e.message.includes('\n'));
    const { bytes } = transformerCase();
    const s = await thread.createSession(bytes);
    assert.ok(s.inputNames.length > 0);
  });
});
