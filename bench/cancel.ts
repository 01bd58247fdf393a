/**
 * Cancel, measured: on a 12-layer, 12-head decoder with a real 151k-entry byte-level BPE tokenizer
 * (bench/makeBenchDecoder.ts; Qwen3's tokenizer.json) at 2,048 tokens, the panel's Cancel button is clicked
 * while the page creates the session and parses the tokenizer (a cold first run), while onnxruntime runs,
 * and while a deferred attention layer is fetched. Printed per phase: click → the cancelled answer, click →
 * the next frame the page draws (the panel is usable again; goal ≤ 200 ms), and whether anything of the
 * cancelled work was drawn later (goal: nothing).
 * Run: node --import tsx bench/cancel.ts     (prints a table; nothing is asserted)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Page } from 'playwright-core';
import { makeBenchDecoder } from './makeBenchDecoder.js';
import { startHarness, type Harness } from '../test/webview/harnessServer.js';
import { launch, PageDriver } from '../test/webview/pageDriver.js';
import { buildWebviewBundle, TEST_BUNDLE } from '../test/webview/buildBundle.js';
import type { ModelRef } from '../src/shared/protocol.js';

const DIR = join(process.env.SEQLENS_BENCH_CACHE ?? '.cache/bench', 'cancel-12x12');
const LIB = readFileSync('node_modules/typescript/lib/lib.es5.d.ts', 'utf8');

function benchModel(origin: string): ModelRef {
  if (!existsSync(join(DIR, 'model.onnx'))) {
    const r = makeBenchDecoder(DIR, { layers: 12, heads: 12, dModel: 96, maxPositions: 2048 });
    console.log(`made ${r.model}: ${(r.modelBytes / 2 ** 20).toFixed(1)} MB, ${r.layers} layers × ${r.heads} heads`);
  }
  writeFileSync(join(DIR, 'manifest.json'), JSON.stringify({
    name: 'bench-12x12', architecture: 'transformer-decoder', task: 'lm', files: { model: 'model.onnx' },
    tokenizer: { type: 'hf', file: 'tokenizer.json' }, maxLength: 2048, io: { ids: 'input_ids', logits: 'logits' },
  }));
  const base = `${origin}/${relative(process.cwd(), DIR)}`;
  return {
    id: 'bench:12x12', label: 'bench-12x12', architecture: 'transformer-decoder', source: 'workspace',
    fileUris: { model: `${base}/model.onnx` }, manifestUri: `${base}/manifest.json`,
    tokenizerUris: { 'tokenizer.json': `${base}/tokenizer.json` }, sizeBytes: 0,
  };
}

/** Waits for a progress notification whose message matches `re`, then `delayMs` more. */
async function whenProgress(page: Page, re: RegExp, delayMs: number): Promise<string> {
  const h = await page.waitForFunction((src) => {
    const msgs = (window as unknown as { __hostMessages: { type: string; message?: string }[] }).__hostMessages;
    const r = new RegExp(src);
    return msgs.filter((m) => m.type === 'progress' && r.test(m.message ?? '')).pop()?.message;
  }, re.source, { timeout: 600_000, polling: 10 });
  const message = (await h.jsonValue()) as string;
  if (delayMs) await page.waitForTimeout(delayMs);
  return message;
}

interface Row { phase: string; during: string; answerMs: number; frameMs: number; lateDraw: boolean }

/**
 * Clicks the panel's Cancel button. Timed in the page from the click event: until the cancelled answer
 * is posted to the host (or, for a layer fetch, the status line says so), and until the page draws its next
 * frame after the click (the panel is usable again).
 */
async function clickCancel(d: PageDriver, id: number | undefined): Promise<{ answerMs: number; frameMs: number }> {
  await d.page.evaluate(() => {
    const w = window as unknown as { __cancel: { clickAt?: number; frameAt?: number; answerAt?: number }; __hostMessages: { type: string; inReplyTo?: number }[] };
    w.__cancel = {};
    const btn = document.querySelector('vscode-button.app-cancel')!;
    // The event's own time stamp: when the input arrived, so a busy page's delay in handling it counts.
    btn.addEventListener('click', (e) => {
      w.__cancel.clickAt = e.timeStamp;
      requestAnimationFrame(() => { w.__cancel.frameAt = performance.now(); });
    }, { capture: true, once: true });
    const push = w.__hostMessages.push.bind(w.__hostMessages);
    w.__hostMessages.push = (...m) => {
      if (m.some((x) => x.type === 'error') && w.__cancel.answerAt === undefined) w.__cancel.answerAt = performance.now();
      return push(...m);
    };
    const status = document.querySelector('.app-status')!;
    new MutationObserver(() => {
      if (/cancelled/i.test(status.textContent ?? '') && w.__cancel.answerAt === undefined) w.__cancel.answerAt = performance.now();
    }).observe(status, { childList: true, characterData: true, subtree: true });
  });
  await d.page.locator('vscode-button.app-cancel').click({ timeout: 60_000, force: true });
  if (id !== undefined) await d.answer(id);
  const t = await (await d.page.waitForFunction(() => {
    const c = (window as unknown as { __cancel: { clickAt?: number; frameAt?: number; answerAt?: number } }).__cancel;
    return c.clickAt !== undefined && c.frameAt !== undefined && c.answerAt !== undefined && c;
  }, undefined, { polling: 5, timeout: 120_000 })).jsonValue() as { clickAt: number; frameAt: number; answerAt: number };
  return { answerMs: t.answerAt - t.clickAt, frameMs: t.frameAt - t.clickAt };
}

async function main(): Promise<void> {
  await buildWebviewBundle();
  const h: Harness = await startHarness(undefined, TEST_BUNDLE);
  const ref = benchModel(h.origin);
  let text = '';
  for (let i = 0; text.length < 14000; i++) text += LIB.slice(i * 4000, i * 4000 + 3000);
  const browser = await launch('wasm');
  const rows: Row[] = [];
  const shown = (d: PageDriver): Promise<string | undefined> => d.page.evaluate(() => (window.__seqlens!.trace() as { input?: string } | undefined)?.input);

  // 1. Cold first run: the session is created (in onnxruntime-web's worker) while the tokenizer is parsed.
  for (const [during, re, delay] of [
    ['session creation and tokenizer parse (cold)', /Creating the/, 300],
    ['session creation and tokenizer parse, 3 s in (cold)', /Creating the/, 3000],
  ] as const) {
    const d = await PageDriver.open(browser, h, 'wasm', 1400);
    await d.post({ type: 'run', id: 7, model: ref, text });
    const at = await whenProgress(d.page, re, delay);
    const c = await clickCancel(d, 7);
    await d.page.waitForTimeout(20_000);
    rows.push({ phase: 'first run', during: `${during}: "${at}"`, answerMs: c.answerMs, frameMs: c.frameMs, lateDraw: (await shown(d)) !== undefined });
    await d.page.close();
  }

  // 2. Warm model: cancel during onnxruntime's run, then during a deferred layer's fetch.
  const d = await PageDriver.open(browser, h, 'wasm', 1400);
  const first = await d.run(ref, text);
  if (first.type !== 'runResult') throw new Error(JSON.stringify(first).slice(0, 300));
  const tokens = (first as unknown as { tokens: unknown[] }).tokens.length;
  await d.page.evaluate(() => window.__seqlens!.settled());
  const other = text.slice(700) + text.slice(0, 700);
  await d.post({ type: 'run', id: 8, model: ref, text: other });
  const at = await whenProgress(d.page, /Running/, 150);
  const c = await clickCancel(d, 8);
  await d.page.waitForTimeout(5000);
  rows.push({ phase: 'warm run', during: `onnxruntime's run: "${at}"`, answerMs: c.answerMs, frameMs: c.frameMs, lateDraw: (await shown(d)) !== text });

  // A layer the first run deferred (over the byte budget): asked for by the heatmap, cancelled mid-fetch.
  await d.page.evaluate(() => { window.__seqlens!.app.setSel({ layer: 9, head: 0 }); window.__seqlens!.show('heatmap'); });
  await d.page.waitForFunction(() => /Loading the attention/.test(document.querySelector('.app-status')?.textContent ?? ''), undefined, { polling: 5, timeout: 60_000 });
  await d.page.waitForTimeout(100);
  const l = await clickCancel(d, undefined);
  await d.page.waitForTimeout(5000);
  const stopped = await d.page.evaluate(() => document.querySelector('.app-status')?.textContent ?? '');
  rows.push({ phase: 'layer fetch', during: 'a deferred attention layer (9)', answerMs: l.answerMs, frameMs: l.frameMs, lateDraw: !/cancelled/i.test(stopped) });
  const again = await d.run(ref, text.slice(0, 4000));
  await browser.close();
  await h.close();

  console.log(`cancel on bench-12x12 (12 layers × 12 heads, vocabulary 151,669, Qwen3 tokenizer.json) at ${tokens} tokens, WASM`);
  console.log('| phase | cancelled during | click → cancelled answer | click → next frame | drawn later |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.phase} | ${r.during} | ${r.answerMs.toFixed(0)} ms | ${r.frameMs.toFixed(0)} ms | ${r.lateDraw ? 'YES' : 'no'} |`);
  console.log(`the next run after the cancels: ${again.type}`);
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
