/**
 * The inspector's picture of a model (webview/inspectorPicture.ts over core/graphBlocks.ts) in the real webview
 * bundle in headless Chromium: the blocks drawn (how many boxes, the "× N" label of a run of blocks built alike),
 * expanding a block with the keyboard (Tab, Enter) to list its nodes, and a node output picked in the picture
 * probed in the next run, its values equal to core's run on onnxruntime-node. Screenshots of the zoo
 * Transformer, the zoo LSTM, an encoder-decoder and a 24-block decoder go to test-results/webview/picture-*.png.
 * Run: node --import tsx --test test/webview/inspectorPicture.test.ts   (builds its own bundle first)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { ModelRef } from '../../src/shared/protocol.js';
import { parseManifest } from '../../src/core/manifest.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { probedMatrix } from '../../src/core/trace/probedTensor.js';
import { getBackend } from '../../src/node/backends.js';
import { makeBenchDecoder } from '../../bench/makeBenchDecoder.js';
import { startHarness, type Harness } from './harnessServer.js';
import { launch, PageDriver, CHROMIUM } from './pageDriver.js';
import { zooRef } from './zooRefs.js';
import { buildWebviewBundle } from './buildBundle.js';

const OUT = 'test-results/webview';
const BUNDLE = 'test-results/webview-bundle-picture/webview.js';
const DECODER24 = '.cache/picture-decoder24';

/** A ModelRef for a lone .onnx the harness serves (no manifest, no tokenizer: the inspector needs neither). */
function looseRef(origin: string, path: string): ModelRef {
  return { id: `workspace:${path}`, label: path.split('/').pop()!, architecture: 'unknown', source: 'workspace', fileUris: { model: `${origin}/${path}` }, tokenizerUris: {}, sizeBytes: statSync(path).size };
}

async function inspect(d: PageDriver, model: ModelRef, id: number): Promise<void> {
  await d.post({ type: 'init', mode: 'inspector', backend: 'wasm', maxTokens: 4096, trusted: true });
  await d.post({ type: 'inspect', id, model });
  const answer = await d.answer(id);
  assert.equal(answer.type, 'inspectResult', JSON.stringify(answer));
  await d.page.locator('.pic').first().waitFor();
}

/** The block boxes drawn: title, "× N" label (or ''), and the marks' words. */
async function blocks(d: PageDriver): Promise<{ title: string; repeat: string; marks: string[] }[]> {
  return d.page.locator('.pic-part.pic-role-block').evaluateAll((parts) => parts.map((p) => ({
    title: p.querySelector('.pic-title')?.textContent ?? '',
    repeat: p.querySelector('.pic-repeat')?.textContent ?? '',
    marks: [...p.querySelectorAll('.pic-mark')].map((m) => m.textContent ?? ''),
  })));
}

async function shot(d: PageDriver, name: string): Promise<void> {
  await d.page.waitForTimeout(50);
  await d.page.locator('.inspector').screenshot({ path: `${OUT}/picture-${name}.png` });
}

describe('inspector picture (WASM)', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, () => {
  let harness: Harness;
  let browser: Browser;
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    if (!existsSync(join(DECODER24, 'model.onnx'))) makeBenchDecoder(DECODER24, { layers: 24, dModel: 64, heads: 4 });
    await buildWebviewBundle(BUNDLE);
    harness = await startHarness(undefined, BUNDLE);
    browser = await launch('wasm');
  });
  after(async () => {
    await browser?.close();
    await harness?.close();
  });

  test('zoo Transformer: embedding, one box "blocks.0 … blocks.1 × 2", head; Tab + Enter lists the nodes', async () => {
    const d = await PageDriver.open(browser, harness, 'wasm', 900);
    await inspect(d, zooRef(harness.origin, 'transformer'), 101);
    const drawn = await blocks(d);
    assert.equal(drawn.length, 1, JSON.stringify(drawn));
    assert.equal(drawn[0].repeat, '× 2');
    assert.match(drawn[0].title, /blocks\.0 … blocks\.1/);
    assert.ok(drawn[0].marks.some((m) => /self-attention, 4 heads, causal · probe/.test(m)), drawn[0].marks.join(' | '));
    assert.deepEqual(await d.page.locator('.pic-part').evaluateAll((ps) => ps.map((p) => p.className.replace('pic-part pic-role-', ''))), ['embedding', 'block', 'head']);
    await shot(d, 'transformer');

    // Keyboard: focus the block box and press Enter: it expands and lists its nodes.
    const box = d.page.locator('.pic-role-block > .pic-box');
    assert.equal(await box.getAttribute('aria-expanded'), 'false');
    await d.page.locator('.pic-role-embedding > .pic-box').focus();
    await d.page.keyboard.press('Tab');
    assert.equal(await d.page.evaluate(() => document.activeElement?.closest('.pic-part')?.classList.contains('pic-role-block')), true, 'Tab reaches the block');
    await d.page.keyboard.press('Enter');
    assert.equal(await box.getAttribute('aria-expanded'), 'true');
    const rows = await d.page.locator('.pic-role-block .pic-nodes tr').count();
    assert.ok(rows > 20, `nodes listed: ${rows}`);
    // The run's second block lists its own nodes.
    await d.page.locator('.pic-role-block .pic-block', { hasText: 'blocks.1' }).click();
    assert.match(await d.page.locator('.pic-role-block .pic-nodes').innerText(), /\/blocks\.1\/attn\/Softmax/);
    await shot(d, 'transformer-expanded');
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('a node output picked in the picture is probed in the next run, equal to onnxruntime-node', async () => {
    const d = await PageDriver.open(browser, harness, 'wasm', 900);
    const ref = zooRef(harness.origin, 'transformer');
    await inspect(d, ref, 101);
    const tensor = '/blocks.1/ff/ff.0/Add_output_0';
    // Found by name in the search box, picked there.
    await d.page.locator('.pic-search').fill('ff.0/Add');
    await d.page.locator('.pic-hits .pic-tensor', { hasText: tensor }).click();
    assert.equal(await d.page.locator('.pic-picked .pic-tensor-on').count(), 1);
    const text = 'let x = 1;';
    const ans = await d.run(ref, text);
    assert.equal(ans.type, 'runResult', JSON.stringify(ans));
    await d.show('probed');
    const page = await d.values('probed');
    assert.ok(page, 'the probed-tensor view has values');

    const dir = 'media/models/transformer';
    const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
    const ref0 = await traceModel({ backend: await getBackend('native'), files: async (rel) => new Uint8Array(await readFile(join(dir, rel))), manifest, text, probeTensors: [tensor] });
    const pt = ref0.probes.find((p) => p.probe.kind === 'tensor' && p.probe.name === tensor)!;
    const m = probedMatrix(pt);
    assert.deepEqual(page.dims, pt.tensor.dims);
    const values = page.values as number[];
    assert.equal(values.length, m.data.length);
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - m.data[i]) / Math.max(1, Math.abs(m.data[i])));
    assert.ok(worst < 1e-4, `max difference ${worst}`);
    await d.screenshot('probed', `${OUT}/picture-probed-view.png`);
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('zoo LSTM: one recurrent block with its probes; encoder-decoder: two stacks × 2', async () => {
    const d = await PageDriver.open(browser, harness, 'wasm', 900);
    await inspect(d, zooRef(harness.origin, 'lstm'), 101);
    const lstm = await blocks(d);
    assert.equal(lstm.length, 1);
    assert.equal(lstm[0].repeat, '');
    assert.ok(lstm[0].marks.some((m) => /^LSTM, hidden 160, forward · probes ×6$/.test(m)), lstm[0].marks.join(' | '));
    await shot(d, 'lstm');

    await inspect(d, looseRef(harness.origin, 'test/fixtures/graphs/encdec_opset17.onnx'), 102);
    const ed = await blocks(d);
    assert.deepEqual(ed.map((b) => [b.title, b.repeat]), [['enc.0 … enc.1', '× 2'], ['dec.0 … dec.1', '× 2']]);
    assert.ok(ed[1].marks.some((m) => /^cross-attention, 4 heads/.test(m)), ed[1].marks.join(' | '));
    assert.ok(ed[0].marks.some((m) => /not causal/.test(m)), ed[0].marks.join(' | '));
    await shot(d, 'encdec');

    // com.microsoft Attention has no weights output: its weights are recomputed from its inputs (fusedRecompute.ts),
    // so its attention marks are read, none unread. (A fused op that is not recomputed: graphBlocks.test.ts.)
    await inspect(d, looseRef(harness.origin, 'test/fixtures/graphs/ms_attention.onnx'), 103);
    assert.ok(await d.page.locator('.pic-mark-attention').count() >= 1);
    assert.equal(await d.page.locator('.pic-mark-attention.pic-unread').count(), 0);
    await shot(d, 'ms-attention');
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('a 24-block decoder collapses into one box × 24, and any of its blocks lists its nodes', async () => {
    const d = await PageDriver.open(browser, harness, 'wasm', 900);
    await inspect(d, looseRef(harness.origin, `${DECODER24}/model.onnx`), 101);
    const drawn = await blocks(d);
    assert.equal(drawn.length, 1, JSON.stringify(drawn));
    assert.equal(drawn[0].repeat, '× 24');
    await shot(d, 'decoder24');
    await d.page.locator('.pic-role-block > .pic-box').click();
    assert.equal(await d.page.locator('.pic-role-block .pic-block').count(), 24);
    await d.page.locator('.pic-role-block .pic-block', { hasText: /^h\.23$/ }).click();
    assert.match(await d.page.locator('.pic-role-block .pic-nodes').innerText(), /\/h\.23\//);
    await shot(d, 'decoder24-expanded');
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });
});
