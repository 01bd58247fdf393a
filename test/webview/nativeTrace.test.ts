/**
 * The panel page with the native backend (#10), on the real webview bundle in headless Chromium: the host
 * (here, this test, with the real onnxruntime-node worker through NativeHost) sends a trace made beside it
 * (showTrace, tensors as Float32Arrays); the page draws it, answers with the tokens' summaries, says
 * "NATIVE (onnxruntime-node, CPU)" on its badge, fetches its deferred attention layer by asking the host
 * (fetchLayers → layersResult), shows a failed fetch as one line, sends its Cancel of a native run to the
 * host, and never fetches the model's bytes.
 * Run: node --import tsx --test test/webview/nativeTrace.test.ts
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { startHarness, type Harness } from './harnessServer.js';
import { launch, PageDriver, CHROMIUM, postTyped, type HostMessage } from './pageDriver.js';
import { buildWebviewBundle, TEST_BUNDLE } from './buildBundle.js';
import { zooRef } from './zooRefs.js';
import { NativeHost, type NativeModelSpec } from '../../src/node/nativeHost.js';
import { getBackend } from '../../src/node/backends.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { parseManifest } from '../../src/core/manifest.js';
import { hostToWebviewProblem, type WireRun } from '../../src/shared/protocol.js';
import { nextTokenTopK, softmax } from '../../src/core/trace/predictions.js';
import { HfTokenizer } from '../../src/core/tokenize/hfTokenizer.js';
import { makeBenchDecoder } from '../../bench/makeBenchDecoder.js';

const TEXT = 'The lighthouse keeper counted the ships every evening.';
const BADGE = 'NATIVE (onnxruntime-node, CPU)';

let hasNative = true;
try {
  await import('onnxruntime-node');
} catch {
  hasNative = false;
}

function zooSpec(name: string): NativeModelSpec {
  const dir = resolve('media/models', name);
  return { id: `zoo:${name}`, label: name, manifestPath: join(dir, 'manifest.json'), files: { model: join(dir, 'model.onnx') }, tokenizerFiles: {} };
}

const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : !hasNative ? 'onnxruntime-node is not installed' : false;

describe('the panel page on the native backend', { skip, timeout: 300_000 }, () => {
  let h: Harness;
  let browser: Browser;
  let d: PageDriver;
  const host = new NativeHost({ workerPath: resolve('src/node/nativeWorkerTsx.mjs') });
  const requests: string[] = [];

  /** Posts a host message as VS Code delivers it: typed arrays arrive as typed arrays (structured clone). */
  const send = async (msg: unknown): Promise<void> => {
    assert.equal(hostToWebviewProblem(msg), undefined, 'the message passes the page\'s guard');
    await postTyped(d.page, msg);
  };

  const waitFor = async (pred: (m: HostMessage) => boolean, timeout = 30_000): Promise<HostMessage> => {
    const end = Date.now() + timeout;
    for (;;) {
      const found = (await d.hostMessages()).find(pred);
      if (found) return found;
      if (Date.now() > end) throw new Error('the page did not send the expected message');
      await d.page.waitForTimeout(50);
    }
  };

  before(async () => {
    await buildWebviewBundle();
    h = await startHarness(undefined, TEST_BUNDLE);
    browser = await launch('wasm');
    d = await PageDriver.open(browser, h, 'wasm', 1100, {
      beforeLoad: async (page) => page.on('request', (r) => requests.push(r.url())),
    });
    // The host's setting: sequenceLens.backend = "native".
    await d.post({ type: 'setBackend', backend: 'native' });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await host.dispose();
  });

  let run: WireRun;

  test('a native trace is drawn, answered with token summaries, and badged NATIVE', async () => {
    const badge = d.page.locator('.backend-badge');
    assert.equal(await badge.textContent(), 'NATIVE', 'the setting shows before any run');
    // 4 KB of attention: layer 1 (the one asked for first) comes with the trace, layer 0 is deferred.
    run = await host.trace({ model: zooSpec('transformer'), text: TEXT, attentionBudgetBytes: 4096, preferLayer: 1 });
    assert.deepEqual(run.attention.map((p) => p.probe.layer), [1]);
    assert.deepEqual(run.trace.deferred?.map((p) => p.layer), [0]);
    await send({ type: 'showTrace', id: 7, runs: [run], labels: ['transformer'], badge: BADGE, why: 'Setting sequenceLens.backend is "native".' });
    const reply = await d.answer(7);
    assert.equal(reply.type, 'runResult', JSON.stringify(reply).slice(0, 300));
    assert.equal(reply.backend, 'native');
    assert.equal((reply.tokens as unknown[]).length, TEXT.length);
    assert.equal(await badge.textContent(), BADGE);
    assert.match(await badge.getAttribute('title') ?? '', /native/);
    const values = await d.values('heatmap');
    assert.ok(values, 'the attention heatmap draws the native run');
    // Small logits travel whole: p(next token) is the whole row's softmax at the next token.
    const logits = run.trace.logits!, V = logits.dims[logits.dims.length - 1]!;
    const nextP = (await d.values('predictions'))!.nextP as number[];
    assert.equal(nextP.length, TEXT.length - 1);
    nextP.forEach((p, t) => {
      const want = softmax(logits.data.subarray(t * V, (t + 1) * V))[run.trace.tokens[t + 1]!.id]!;
      assert.ok(Math.abs(p - want) < 1e-6, `p(next) at ${t}: ${p} against ${want}`);
    });
    // Continue generates in the page: a run made natively (the page may not hold the model) does not offer it.
    assert.equal(await d.page.locator('.continue-group').isHidden(), true, 'no Continue on a native run');
  });

  test('the deferred layer is fetched by asking the host, and matches the in-process trace', async () => {
    // The heatmap shows layer 0 (the first), which the run deferred: the page asks the host for it.
    const ask = await waitFor((m) => m.type === 'fetchLayers');
    assert.equal(ask.runKey, run.runKey);
    assert.deepEqual(ask.names, run.trace.deferred!.map((p) => p.name));
    const probes = await host.fetchLayers(String(ask.runKey), ask.names as string[]);
    await send({ type: 'layersResult', inReplyTo: ask.id, probes });
    await d.page.evaluate(() => window.__seqlens!.settled());
    const shown = await d.trace();
    const layer0 = shown.probes.find((p) => p.kind === 'attention' && p.layer === 0);
    assert.ok(layer0, 'layer 0 is in the page\'s store now');
    const dir = resolve('media/models/transformer');
    const ref = await traceModel({
      backend: await getBackend('native'), manifest: parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))),
      text: TEXT, files: async (rel) => new Uint8Array(readFileSync(join(dir, rel))),
    });
    const want = ref.probes.find((p) => p.probe.kind === 'attention' && p.probe.layer === 0)!;
    let worst = 0;
    for (let i = 0; i < want.tensor.data.length; i++) worst = Math.max(worst, Math.abs(layer0.data[i] - want.tensor.data[i]));
    assert.ok(worst <= 1e-6, `layer 0 as drawn vs in-process: ${worst}`);
    assert.ok(await d.values('heatmap'));
  });

  test('a fetch the host fails is shown as one line; the model\'s bytes were never fetched by the page', async () => {
    const again = await host.trace({ model: zooSpec('transformer'), text: TEXT, attentionBudgetBytes: 4096, preferLayer: 1 });
    await send({ type: 'showTrace', id: 8, runs: [again], labels: ['transformer'], badge: BADGE, why: 'test' });
    assert.equal((await d.answer(8)).type, 'runResult');
    const ask = await waitFor((m) => m.type === 'fetchLayers' && m.runKey === again.runKey);
    await send({ type: 'hostError', inReplyTo: ask.id, error: { code: 'native-stopped', message: 'The native backend stopped (it was stopped); the next run starts it again.' } });
    await d.page.evaluate(() => window.__seqlens!.settled());
    const status = await d.page.locator('.app-status').textContent();
    assert.match(status ?? '', /^Could not load the attention of layer 0: The native backend stopped/);
    assert.ok(!/[\n\r]/.test(status ?? ''));
    assert.deepEqual(requests.filter((u) => u.includes('/media/models/')), [], 'no model file was requested by the page');
  });

  test('a big vocabulary travels as its top logits and the labels they name; the predictions are those of the whole logits', async () => {
    // The bench decoder's layout, small (one layer, d_model 64), with Qwen3's real tokenizer.json (151,669 ids): a dozen
    // tokens of logits are over 7 MB, so the worker sends each position's top 16, its log-sum-exp and the next token's
    // logit. Its output projection (39 MB) is past what the logit lens sends, so the vocabulary goes as the texts of those ids.
    const made = makeBenchDecoder(resolve('test-results/webview-native/big-vocab'), { layers: 1, dModel: 64, heads: 2, maxPositions: 64, fileName: 'model.onnx' });
    const text = 'Le café du port: 船 counted 12 ships 🙂';
    const big = await host.trace({ model: { id: 'workspace:big-vocab', label: 'big-vocab', files: { model: made.model }, tokenizerFiles: {} }, text });
    assert.equal(big.trace.logits, undefined, 'the whole logits stay with the worker');
    assert.ok(big.topLogits, 'their top entries travel');
    assert.equal(big.topLogits.vocab, 151669);
    assert.equal(big.topLogits.rows, big.trace.tokens.length);
    assert.equal(big.vocab, undefined, 'not the 151k strings');
    assert.ok(big.someVocab && big.someVocab.ids.length > 0 && big.someVocab.ids.length <= big.topLogits.rows * big.topLogits.k);
    const tok = HfTokenizer.fromJson(readFileSync(made.tokenizer));
    big.someVocab.ids.forEach((id, i) => assert.equal(big.someVocab!.texts[i], tok.idToToken(id), `the text of id ${id}`));

    // The same model and text in this process, whole logits: the page must show their top 5 and p(next token).
    const backend = await getBackend('native');
    const files = async (rel: string): Promise<Uint8Array> => new Uint8Array(readFileSync(join(resolve('test-results/webview-native/big-vocab'), rel)));
    const whole = await traceModel({ backend, files, modelBytes: new Uint8Array(readFileSync(made.model)), modelName: 'big-vocab', text });
    assert.ok(whole.logits);
    const expected = nextTokenTopK(whole.logits, 5);

    await send({ type: 'showTrace', id: 21, runs: [big], labels: ['big-vocab'], badge: BADGE, why: 'Auto: the model is big.' });
    const reply = await d.answer(21);
    assert.equal(reply.type, 'runResult', JSON.stringify(reply).slice(0, 300));
    const v = await d.values('predictions');
    assert.ok(v, 'the predictions view draws from the top logits');
    assert.deepEqual(v.topIds, expected.flatMap((r) => r.map((p) => p.id)));
    // p(the next input token) per position, from each row's next-token logit and log-sum-exp, against the whole row's softmax.
    const V = 151669, ids = big.trace.tokens.map((t) => t.id);
    const wantNext = ids.slice(1).map((id, t) => softmax(whole.logits!.data.subarray(t * V, (t + 1) * V))[id]!);
    assert.equal((v.nextP as number[]).length, wantNext.length);
    (v.nextP as number[]).forEach((p, t) => assert.ok(Math.abs(p - wantNext[t]!) < 1e-6, `p(next) at ${t}: ${p} against ${wantNext[t]}`));
    (v.topP as number[]).forEach((p, i) => assert.ok(Math.abs(p - expected.flat()[i]!.prob) < 1e-5, `p #${i}: ${p} against ${expected.flat()[i]!.prob}`));
    // The token summaries the editor shows name the predictions by their text, not by "#id".
    const first = (reply.tokens as { predictions: { text: string }[] }[])[0]!.predictions;
    assert.equal(first[0]!.text, tok.idToToken(expected[0]![0]!.id));
    // Exports carry what the page has: the top logits and their ids, not a tensor it never received.
    const names = await d.page.evaluate(() => window.__seqlens!.exportView('predictions'));
    assert.ok(names.some((n) => /logits-top16\.npy$/.test(n)) && names.some((n) => /logits-top16-ids\.npy$/.test(n)), names.join(', '));
  });

  test('a native run in progress shows its status; Cancel goes to the host', async () => {
    await send({ type: 'hostRun', id: 9, state: 'running', message: 'Creating the native session for transformer' });
    await d.page.waitForFunction(() => document.querySelector('.app-status')?.textContent === 'Creating the native session for transformer');
    await d.page.locator('.app-cancel').click();
    await waitFor((m) => m.type === 'cancelHostWork' && m.id === 9 && m.what === 'run');
    await send({ type: 'hostRun', id: 9, state: 'cancelled', message: 'The run was cancelled.' });
    await d.page.waitForFunction(() => document.querySelector('.app-status')?.textContent === 'The run was cancelled.');
    assert.equal(await d.page.locator('.app-cancel').isHidden(), true);
  });

  test('"Try it" on a native run asks the host to run it', async () => {
    await d.page.locator('.try-text').evaluate((el, t) => { (el as HTMLElement & { value: string }).value = t; }, 'const x = 1;');
    await d.page.locator('.try-run').click();
    const m = await waitFor((x) => x.type === 'tryOnHost');
    assert.equal(m.text, 'const x = 1;');
    assert.deepEqual(d.errors, []);
  });

  test('on Auto, a run the host sent to native after a page run offers no Continue (it would run in the page)', async () => {
    await d.post({ type: 'setBackend', backend: 'auto' });
    assert.equal((await d.run(zooRef(h.origin, 'transformer'), TEXT)).type, 'runResult');
    const group = d.page.locator('.continue-group');
    assert.equal(await group.isVisible(), true, 'a page run of the zoo Transformer offers Continue');
    const hostRun = await host.trace({ model: zooSpec('transformer'), text: TEXT });
    await send({ type: 'showTrace', id: 11, runs: [hostRun], labels: ['transformer'], badge: BADGE, why: 'Auto: the model is big.' });
    assert.equal((await d.answer(11)).type, 'runResult');
    assert.equal(await group.isHidden(), true, 'no Continue on the native run');
  });

  test('Auto on a cold page: a native run that names the page\'s model offers Continue, and the page loads the model behind it', async () => {
    // Made first: the page gets it as soon as it starts, as a new panel does from the host.
    const sent = await host.trace({ model: zooSpec('transformer'), text: TEXT });
    const pageModel = zooRef(h.origin, 'transformer');
    const msg = { type: 'showTrace', id: 12, runs: [sent], labels: ['transformer'], badge: BADGE, why: 'Auto: the panel\'s onnxruntime-web was still loading.', pageModel };
    assert.equal(hostToWebviewProblem(msg), undefined);
    const fresh = await PageDriver.open(browser, h, 'auto');
    try {
      // When the reply leaves the page (page time), to order it against onnxruntime-web's fetches.
      await fresh.page.evaluate(`(() => { const list = window.__hostMessages; const push = list.push.bind(list);
        list.push = (m) => { if (m && m.inReplyTo === 12) window.__repliedAt = performance.now(); return push(m); }; })()`);
      await postTyped(fresh.page, msg);
      assert.equal((await fresh.answer(12)).type, 'runResult');
      assert.equal(await fresh.page.locator('.continue-group').isVisible(), true, 'Continue is offered: the page can load this model');
      await fresh.page.evaluate(() => window.__seqlens!.app.priming);
      // onnxruntime-web was loaded after the first picture, not beside it (it slowed that picture by a second),
      // or (a slow machine) once its 1.5 s timer ran out, which starts no earlier than 1.5 s into the page.
      const order = await fresh.page.evaluate(`({ repliedAt: window.__repliedAt,
        ort: performance.getEntriesByType('resource').filter((e) => /webview-ort\\.js|ort-wasm/.test(e.name)).map((e) => e.startTime) })`) as { repliedAt: number; ort: number[] };
      assert.ok(order.ort.length > 0, 'onnxruntime-web was fetched (for the model loaded behind the run)');
      assert.ok(order.ort.every((t) => t >= Math.min(order.repliedAt, 1500)), `onnxruntime-web fetched after the reply: ${JSON.stringify(order)}`);
      assert.ok(await fresh.page.evaluate(() => window.__seqlens!.sessions()) >= 1, 'the page holds a session of the model');
      const logs = (await fresh.hostMessages()).filter((m) => m.type === 'log').map((m) => String(m.message));
      assert.ok(logs.some((l) => /transformer: loaded in the page behind the native run/.test(l)), logs.join('\n'));
      // The next run in the page finds everything loaded.
      const next = await fresh.run(pageModel, 'Ships came in at dusk.');
      assert.equal(next.type, 'runResult');
      const t = next.timings as Record<string, number>;
      assert.equal(t.fetch, 0, 'no file fetched again');
      assert.equal(t.sessionCreate, 0, 'no session created again');
      assert.deepEqual(fresh.errors, []);
    } finally {
      await fresh.page.close();
    }
  });
});

describe('the panel\'s backend menu', { skip: !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : false, timeout: 120_000 }, () => {
  let h: Harness;
  let browser: Browser;
  let d: PageDriver;
  before(async () => {
    await buildWebviewBundle();
    h = await startHarness(undefined, TEST_BUNDLE);
    browser = await launch('wasm');
    d = await PageDriver.open(browser, h, 'wasm', 1100);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('shows the setting, offers Native, and a pick is sent to the host to write the setting', async () => {
    const menu = d.page.locator('.backend-select');
    await d.post({ type: 'setBackend', backend: 'wasm' });
    await d.page.waitForFunction(() => (document.querySelector('.backend-select') as HTMLElement & { value: string }).value === 'wasm');
    // As a user does it from the keyboard: open the menu, go down one (WASM → Native), take it.
    await menu.focus();
    await d.page.keyboard.press('Space');
    await d.page.keyboard.press('ArrowDown');
    await d.page.keyboard.press('Enter');
    const end = Date.now() + 10_000;
    let asked: HostMessage | undefined;
    while (!asked && Date.now() < end) {
      asked = (await d.hostMessages()).find((m) => m.type === 'chooseBackend');
      if (!asked) await d.page.waitForTimeout(50);
    }
    assert.ok(asked, 'the pick reached the host');
    assert.equal(asked.backend, 'native');
    assert.equal(await d.page.locator('.backend-badge').textContent(), 'NATIVE');
    const options = await menu.locator('vscode-option').allTextContents();
    assert.deepEqual(options.map((o) => o.trim()), ['Auto', 'WebGPU', 'WASM', 'Native (onnxruntime-node)']);
  });
});
