/**
 * What the panel page does when things go wrong (#11), on the real webview bundle in headless Chromium:
 * hostile or wrong-shaped messages, two runs in quick succession, a model deleted or rewritten between
 * runs, the backend changed mid-run, a model too big for the WebAssembly heap, a 5 MB text, binary text,
 * and a cancel while the session is still being created. Each ends in a one-line message or the newer run
 * winning, and the next run works. Also: the page asks for nothing outside its own origin (no network).
 * Run: node --import tsx --test test/webview/faults.test.ts
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { onnx } from '../../src/core/onnx/onnxProto.js';
import { int64Tensor, makeNode } from '../../src/core/onnx/graphDelta.js';
import { mulberry32 } from '../../tools/mulberry32.js';
import { startHarness, type Harness } from './harnessServer.js';
import { launch, PageDriver, CHROMIUM, type HostMessage } from './pageDriver.js';
import { zooRef } from './zooRefs.js';
import { buildWebviewBundle, TEST_BUNDLE } from './buildBundle.js';

const SCRATCH = 'test-results/webview-faults';
const STORY = 'The lighthouse keeper counted the ships every evening.';
const CODE = 'function debounce(fn, ms) {\n  let timer;\n  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };\n}';

/** A zoo model's folder copied under the harness root, so the test may delete or rewrite its files. */
function copyModel(name: string, as: string): string {
  const dir = join(SCRATCH, as);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['manifest.json', 'model.onnx', 'vocab.json']) copyFileSync(join('media/models', name, f), join(dir, f));
  return dir;
}

/**
 * A character model whose run asks for far more memory than a WebAssembly heap has: the sum of the ids,
 * expanded to 60,000 × 60,000 floats (14.4 GB), then reduced. It depends on the input, so onnxruntime
 * cannot fold it away when the session is made: the failure comes in the run, as a real model's would.
 */
function writeOomModel(): string {
  const dir = join(SCRATCH, 'oom');
  mkdirSync(dir, { recursive: true });
  const vi = (name: string, elemType: number, dims: (string | number)[]): onnx.IValueInfoProto => ({
    name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const bytes = onnx.ModelProto.encode({
    irVersion: 8, producerName: 'sequence-lens test/webview/faults.test.ts', opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'oom',
      node: [
        makeNode('Cast', ['ids'], ['ids_f'], 'cast', { to: onnx.TensorProto.DataType.FLOAT }),
        makeNode('ReduceSum', ['ids_f'], ['total'], 'sum', { keepdims: 1 }),
        makeNode('Expand', ['total', 'huge'], ['big'], 'expand'),
        makeNode('ReduceMax', ['big'], ['logits'], 'max', { axes: [1], keepdims: 1 }),
      ],
      initializer: [int64Tensor('huge', [1, 60000, 60000])],
      input: [vi('ids', onnx.TensorProto.DataType.INT64, ['batch', 'sequence'])],
      output: [vi('logits', onnx.TensorProto.DataType.FLOAT, [1, 1, 60000])],
    },
  }).finish();
  writeFileSync(join(dir, 'model.onnx'), bytes);
  copyFileSync('media/models/transformer/vocab.json', join(dir, 'vocab.json'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
    name: 'oom-model', architecture: 'transformer-decoder', task: 'char-lm', files: { model: 'model.onnx' },
    tokenizer: { type: 'char', vocab: 'vocab.json', unk: 0 }, maxLength: 1024, io: { ids: 'ids', logits: 'logits' },
  }));
  return dir;
}

function errorOf(reply: HostMessage): { code: string; message: string } {
  assert.equal(reply.type, 'error', `expected an error reply, got ${JSON.stringify(reply).slice(0, 300)}`);
  return reply.error as { code: string; message: string };
}

function assertOneLine(message: string): void {
  assert.ok(message.length > 0 && message.length <= 400 && !/[\n\r]/.test(message), `one line: ${JSON.stringify(message)}`);
  assert.doesNotMatch(message, /\bat \S+:\d+:\d+|\[object /, 'no stack trace or [object …] in the message');
}

describe('the panel page under faults', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`, timeout: 600_000 }, () => {
  let h: Harness;
  let browser: Browser;
  let d: PageDriver;
  const requests: string[] = [];
  let nextId = 1000;

  /** Posts a run without waiting for it (its reply is read with d.answer). */
  const post = async (ref: ReturnType<typeof zooRef>, text: string): Promise<number> => {
    const id = nextId++;
    await d.post({ type: 'run', id, model: ref, text });
    return id;
  };
  const shownInput = (): Promise<string | undefined> => d.page.evaluate(() => (window.__seqlens!.trace() as { input?: string } | undefined)?.input);

  before(async () => {
    await buildWebviewBundle();
    mkdirSync(SCRATCH, { recursive: true });
    h = await startHarness(undefined, TEST_BUNDLE);
    browser = await launch('wasm');
    d = await PageDriver.open(browser, h, 'wasm', 1100, {
      beforeLoad: async (page) => page.on('request', (r) => requests.push(r.url())),
    });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('the page asks for nothing outside its own origin, and drops a malformed message with a log line', async () => {
    const r = await d.run(zooRef(h.origin, 'transformer'), STORY);
    assert.equal(r.type, 'runResult');
    assert.equal((await d.run(zooRef(h.origin, 'lstm'), CODE)).type, 'runResult');
    const outside = requests.filter((u) => !u.startsWith(`${h.origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(outside, [], 'every request stays on the page\'s origin');
    assert.ok(requests.some((u) => u.endsWith('/media/models/lstm/model.onnx')), 'the model came from its own URI');

    const before = (await d.hostMessages()).length;
    await d.post({ type: 'run', id: 'not-a-number', model: {}, text: 5 });
    await d.post({ type: 'selfDestruct' });
    await d.post('a string');
    await d.page.waitForTimeout(200);
    const logs = (await d.hostMessages()).slice(before).filter((m) => m.type === 'log' && m.level === 'warn' && /dropped a malformed message/.test(String(m.message)));
    assert.equal(logs.length, 3, 'each malformed message is logged as dropped');
    assert.equal(await shownInput(), CODE, 'nothing of them reached the views');
  });

  test('two runs in quick succession: the newer wins, the older is answered "cancelled" and never drawn', async () => {
    const first = await post(zooRef(h.origin, 'gru'), CODE.repeat(6));
    const second = await post(zooRef(h.origin, 'transformer'), STORY);
    const [a, b] = [await d.answer(first), await d.answer(second)];
    assert.equal(errorOf(a).code, 'cancelled');
    assert.equal(b.type, 'runResult');
    await d.page.waitForTimeout(1500);
    assert.equal(await shownInput(), STORY, 'the newer run stays shown');
    assert.equal((await d.hostMessages()).filter((m) => m.inReplyTo === first).length, 1, 'one answer to the older run, no late result');
  });

  test('a model deleted between runs says so in one line; the next run works', async () => {
    const dir = copyModel('lstm', 'doomed');
    const ref = { ...zooRef(h.origin, 'lstm', dir), id: 'workspace:doomed', version: 'v1' };
    assert.equal((await d.run(ref, CODE)).type, 'runResult');
    rmSync(join(dir, 'model.onnx'));
    const err = errorOf(await d.run({ ...ref, version: 'v2' }, CODE));
    assert.equal(err.code, 'model-missing');
    assert.match(err.message, /model\.onnx was not found/);
    assertOneLine(err.message);
    assert.equal(await shownInput(), CODE, 'the last good run stays shown');
    assert.equal((await d.run(zooRef(h.origin, 'transformer'), STORY)).type, 'runResult');
  });

  test('a model rewritten in place runs from its new bytes', async () => {
    const dir = copyModel('lstm', 'swapped');
    const ref = { ...zooRef(h.origin, 'lstm', dir), id: 'workspace:swapped', version: 'v1' };
    assert.equal((await d.run(ref, CODE)).type, 'runResult');
    const ops = async (): Promise<string[]> => [...new Set((await d.trace()).probes.map((p) => p.gate ?? p.kind))].sort();
    const before = await ops();
    assert.ok(before.includes('cell'), `an LSTM has a cell state: ${before.join(', ')}`);
    copyFileSync('media/models/gru/model.onnx', join(dir, 'model.onnx'));
    assert.equal((await d.run({ ...ref, version: 'v2' }, CODE)).type, 'runResult');
    const after = await ops();
    assert.ok(!after.includes('cell'), `the GRU written over it has no cell state: ${after.join(', ')}`);
  });

  test('the backend changed in the middle of a run: the run ends, and the next run works on the new choice', async () => {
    const id = await post(zooRef(h.origin, 'lstm'), CODE.repeat(4));
    await d.post({ type: 'setBackend', backend: 'auto' });
    const r = await d.answer(id);
    assert.ok(r.type === 'runResult' || errorOf(r).code === 'cancelled', JSON.stringify(r).slice(0, 200));
    const next = await d.run(zooRef(h.origin, 'transformer'), STORY);
    assert.equal(next.type, 'runResult');
    assert.equal(next.backend, 'wasm', 'auto picks WASM in a browser without a GPU');
    await d.post({ type: 'setBackend', backend: 'wasm' });
  });

  test('a model too big for the WebAssembly heap fails in one line; the next run works', async () => {
    const dir = writeOomModel();
    const err = errorOf(await d.run({ ...zooRef(h.origin, 'oom', dir), id: 'workspace:oom' }, STORY));
    assert.equal(err.code, 'runtime', err.message);
    assertOneLine(err.message);
    console.log(`# out of memory: ${err.message}`);
    const next = await d.run(zooRef(h.origin, 'transformer'), STORY);
    assert.equal(next.type, 'runResult', 'the heap is usable after the failure');
  });

  test('a 5 MB text is cut to the token limit with a warning; binary "text" runs or fails in one line', async () => {
    const big = 'const x = [1, 2, 3];\n'.repeat(Math.ceil(5e6 / 21)).slice(0, 5e6);
    const r = await d.run(zooRef(h.origin, 'transformer'), big);
    assert.equal(r.type, 'runResult');
    const warnings = await d.page.evaluate(() => (window.__seqlens!.trace() as { warnings: string[] }).warnings);
    assert.ok(warnings.some((w) => /token|truncat|first/i.test(w)), `a warning says the text was cut: ${warnings.join(' | ')}`);
    const rnd = mulberry32(11);
    // What a binary file gives as text: NULs, control characters, lone surrogates, U+FFFD.
    const binary = Array.from({ length: 3000 }, () => String.fromCharCode(Math.floor(rnd() * 65536))).join('') + '\u0000\uD800\uFFFD';
    for (const name of ['transformer', 'lstm', 'dates-gru-attention']) {
      const b = await d.run(zooRef(h.origin, name), binary);
      if (b.type !== 'runResult') assertOneLine(errorOf(b).message);
    }
    assert.equal((await d.run(zooRef(h.origin, 'lstm'), CODE)).type, 'runResult');
  });

  test('a browser without WebAssembly JSPI (Safari, a VS Code before Electron 37) is told what it needs, in one line', async () => {
    const old = await PageDriver.open(browser, h, 'wasm', 1100, {
      beforeLoad: (page) => page.addInitScript(() => { delete (WebAssembly as { Suspending?: unknown }).Suspending; }),
    });
    try {
      const err = errorOf(await old.run(zooRef(h.origin, 'transformer'), STORY));
      assert.equal(err.code, 'runtime');
      assert.match(err.message, /lacks WebAssembly JSPI/);
      assert.match(err.message, /sequenceLens\.backend to "native"/, 'it names the way out');
      assertOneLine(err.message);
      // The warm-up met the same wall, and said so once in the log; nothing was fetched for onnxruntime-web.
      const warm = await old.page.evaluate(() => window.__seqlens!.warmUp());
      assert.match(String((warm as { error?: string } | undefined)?.error), /JSPI/);
      const fetched = await old.page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /ort-wasm|webview-ort/.test(n)));
      assert.deepEqual(fetched, [], 'no onnxruntime-web file is fetched where it cannot run');
    } finally {
      await old.page.close();
    }
  });

  test('a cancel while the session is being made is answered at once, and no late result is drawn', async () => {
    // A fresh page: the first run of a model creates its session.
    const fresh = await PageDriver.open(browser, h, 'wasm');
    try {
      // Not 1: the driver numbers its own runs from 1.
      const id = 999;
      await fresh.post({ type: 'run', id, model: zooRef(h.origin, 'dates-transformer'), text: 'March 3rd, 1998' });
      await fresh.page.waitForFunction(() => (window as unknown as { __hostMessages: { type: string }[] }).__hostMessages.some((m) => m.type === 'progress'));
      const t0 = performance.now();
      await fresh.post({ type: 'cancel', id });
      const reply = await fresh.answer(id);
      const ms = performance.now() - t0;
      assert.equal(errorOf(reply).code, 'cancelled');
      console.log(`# cancel during session creation answered in ${ms.toFixed(0)} ms`);
      await fresh.page.waitForTimeout(3000);
      assert.equal(await fresh.page.evaluate(() => window.__seqlens!.trace()), undefined, 'nothing was drawn');
      const next = await fresh.run(zooRef(h.origin, 'transformer'), STORY);
      assert.equal(next.type, 'runResult', JSON.stringify(next).slice(0, 300));
    } finally {
      await fresh.page.close();
    }
  });
});
