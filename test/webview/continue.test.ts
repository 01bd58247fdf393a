/**
 * "Continue" on the real webview bundle in headless Chromium (WASM): the button is in the header for the
 * zoo's decoder-only Transformer, generates greedily (the same ids as core on onnxruntime-node), the views
 * then show prompt + generated tokens, and the step bar (◀ ▶, a slider, arrow keys) pins the generated token
 * whose attention row the attention views highlight. No button for the LSTM or an encoder-decoder model.
 * Run: node --import tsx --test test/webview/continue.test.ts
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { LoadedModel } from '../../src/core/run/loadedModel.js';
import { loadModel } from '../../src/node/modelLoader.js';
import { getBackend } from '../../src/node/backends.js';
import { startHarness, type Harness } from './harnessServer.js';
import { launch, PageDriver, CHROMIUM } from './pageDriver.js';
import { zooRef } from './zooRefs.js';
import { buildWebviewBundle } from './buildBundle.js';

const BUNDLE = 'test-results/webview-continue/bundle/webview.js';
const OUT = 'test-results/webview-continue';
/** The panel after Continue (CONTINUE_SHOT puts it elsewhere). */
const SHOT = process.env.CONTINUE_SHOT ?? `${OUT}/continue-panel.png`;
const PROMPT = 'interface Foo {\n  bar(): ';
const N = 12;

interface Shown { tokens: { id: number; generated?: boolean }[]; continuation?: { from: number; steps: number; cachedSteps: number; stop: string; text: string }; input: string }

describe('Continue a text (decoder-only models)', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`, timeout: 300_000 }, () => {
  let h: Harness;
  let browser: Browser;
  let d: PageDriver;
  const shown = (): Promise<Shown | undefined> => d.page.evaluate(() => window.__seqlens!.trace() as Shown | undefined);
  const sel = (): Promise<{ step: number; pinned?: number }> => d.page.evaluate(() => ({ step: window.__seqlens!.app.sel.step, pinned: window.__seqlens!.app.sel.pinned }));
  const groupShown = (): Promise<boolean> => d.page.locator('.continue-group').isVisible();

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildWebviewBundle(BUNDLE);
    h = await startHarness(undefined, BUNDLE);
    browser = await launch('wasm');
    d = await PageDriver.open(browser, h, 'wasm', 1100);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('the zoo Transformer: Continue generates, the views show every position, the step control moves the highlighted row', async () => {
    assert.equal((await d.run(zooRef(h.origin, 'transformer'), PROMPT)).type, 'runResult');
    await d.page.evaluate(() => window.__seqlens!.settled());
    assert.ok(await groupShown(), 'the Continue controls are in the header');
    assert.ok(!(await d.page.locator('.continue-steps').isVisible()), 'no step bar before a continuation');
    const promptTokens = (await shown())!.tokens.length;

    await d.page.locator('.continue-count').evaluate((e, v) => { (e as HTMLElement & { value: string }).value = v; }, String(N));
    await d.page.locator('.continue-run').click();
    await d.page.waitForFunction(() => !!(window.__seqlens!.trace() as { continuation?: unknown } | undefined)?.continuation, undefined, { timeout: 60_000 });
    await d.page.evaluate(() => window.__seqlens!.settled());
    const t = (await shown())!;
    const c = t.continuation!;
    assert.deepEqual([c.from, c.steps, c.cachedSteps, c.stop], [promptTokens, N, 0, 'limit']);
    assert.equal(t.tokens.length, promptTokens + N);
    assert.deepEqual(t.tokens.map((x) => !!x.generated), t.tokens.map((_, i) => i >= promptTokens));
    assert.equal(t.input, PROMPT + c.text);

    // The same greedy ids as core on onnxruntime-node.
    const loaded = await loadModel('transformer');
    const model = await LoadedModel.load({ files: loaded.files, manifest: loaded.manifest, name: loaded.name });
    try {
      const ref = await model.trace({ backend: await getBackend('native'), text: PROMPT, continueTokens: N });
      assert.deepEqual(t.tokens.map((x) => x.id), ref.tokens.map((x) => x.id), 'page and onnxruntime-node generate the same ids');
    } finally {
      await model.dispose();
    }

    const status = (await d.page.locator('.app-status').textContent()) ?? '';
    assert.match(status, new RegExp(`continued ${N} tokens \\(0 with the KV cache\\)`));
    assert.ok(await d.page.locator('.continue-steps').isVisible(), 'the step bar is shown');
    assert.deepEqual(await sel(), { step: N - 1, pinned: promptTokens + N - 1 }, 'opens on the last generated token, pinned');

    await d.show('heatmap');
    const heatmap = d.page.locator('section.view[data-view="heatmap"] canvas.view-canvas');
    const before = await heatmap.screenshot();
    await d.page.locator('.continue-steps [data-control="prev"] vscode-button').click();
    assert.deepEqual(await sel(), { step: N - 2, pinned: promptTokens + N - 2 }, '◀ moves to the previous generated token');
    await d.page.waitForTimeout(100);
    assert.ok(!before.equals(await heatmap.screenshot()), 'the heatmap highlights another row');

    const slider = d.page.locator('.continue-steps input[type="range"]');
    await slider.focus();
    await d.page.keyboard.press('ArrowLeft');
    await d.page.keyboard.press('ArrowLeft');
    assert.deepEqual(await sel(), { step: N - 4, pinned: promptTokens + N - 4 }, 'arrow keys move the slider');
    assert.ok(await d.page.evaluate(() => document.activeElement instanceof HTMLInputElement && document.activeElement.type === 'range'), 'the slider keeps the focus');
    assert.match((await slider.getAttribute('aria-valuetext')) ?? '', new RegExp(`^${N - 3} / ${N} ".*" at position ${promptTokens + N - 4}$`));
    await d.page.locator('.continue-steps [data-control="next"] vscode-button').click();
    assert.deepEqual(await sel(), { step: N - 3, pinned: promptTokens + N - 3 }, '▶ moves to the next one');

    const ids = await d.page.evaluate(() => window.__seqlens!.viewIds());
    for (const v of ids.filter((x) => ['heatmap', 'headview', 'predictions'].includes(x))) await d.screenshot(v, `${OUT}/continue-${v}.png`);
    await d.screenshot('heatmap', `${OUT}/continue-heatmap.png`);
    mkdirSync(SHOT.replace(/\/[^/]*$/, ''), { recursive: true });
    await d.page.locator('#app').screenshot({ path: SHOT });
    assert.deepEqual(d.errors, []);
  });

  test('a cancel while generating keeps the shown run', async () => {
    const before = (await shown())!;
    await d.page.locator('.continue-count').evaluate((e) => { (e as HTMLElement & { value: string }).value = '200'; });
    await d.page.locator('.continue-run').click();
    await d.page.waitForFunction(() => /Continuing: \d+ of/.test(document.querySelector('.app-status')?.textContent ?? ''));
    await d.page.locator('.app-cancel').click();
    await d.page.evaluate(() => window.__seqlens!.idle());
    assert.match((await d.page.locator('.app-status').textContent()) ?? '', /cancelled/);
    assert.equal((await shown())!.input, before.input, 'the cancelled continuation is not drawn');
  });

  test('no Continue for the LSTM nor for an encoder-decoder model', async () => {
    assert.equal((await d.run(zooRef(h.origin, 'lstm'), PROMPT)).type, 'runResult');
    assert.ok(!(await groupShown()), 'LSTM: no Continue');
    assert.ok(!(await d.page.locator('.continue-steps').isVisible()), 'LSTM: no step bar');
    assert.equal((await d.run(zooRef(h.origin, 'dates-transformer'), '12 March 2021')).type, 'runResult');
    assert.ok(!(await groupShown()), 'seq2seq: no Continue');
    // The encoder-decoder view steps with the same controls (◀, the slider, ▶).
    await d.show('encdec');
    assert.equal(await d.page.locator('section.view[data-view="encdec"] [data-control="step"] input[type="range"]').count(), 1);
  });
});
