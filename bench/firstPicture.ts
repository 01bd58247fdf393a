/**
 * A new panel's first picture of a native run (Auto's first run in a new window): the real webview bundle in
 * headless Chromium gets a trace made by the native worker as soon as it starts, and the time from page start
 * to its reply is taken with onnxruntime-web's warm-up as shipped (after the first answer, or 1.5 s) and with
 * no warm-up at all, interleaved. The ratio is what the warm-up still costs that picture. When it ran at page
 * start, an earlier form of this script (timed from before the navigation) gave 2.05–2.15 s against
 * 0.84–1.21 s without; as shipped now: 1.13× (1,268 against 1,122 ms, median of 5).
 * Run: node --import tsx bench/firstPicture.ts [--reps N]
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startHarness } from '../test/webview/harnessServer.js';
import { launch, postTyped, type HostMessage } from '../test/webview/pageDriver.js';
import { NativeHost } from '../src/node/nativeHost.js';
import { fmt, median } from './benchSupport.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' } } });
const reps = Number(values.reps);
const TEXT = 'The lighthouse keeper counted the ships every evening.';

const host = new NativeHost({ workerPath: resolve('src/node/nativeWorkerTsx.mjs') });
const dir = resolve('media/models/transformer');
const run = await host.trace({ model: { id: 'zoo:transformer', label: 'transformer', manifestPath: join(dir, 'manifest.json'), files: { model: join(dir, 'model.onnx') }, tokenizerFiles: {} }, text: TEXT });
await host.dispose();

const showTrace = { type: 'showTrace', id: 5, runs: [run], labels: ['transformer'], badge: 'NATIVE', why: 'bench' };

const h = await startHarness();
const browser = await launch('wasm');
const times: Record<'shipped' | 'off', number[]> = { shipped: [], off: [] };
for (let i = 0; i < reps; i++) {
  for (const mode of ['shipped', 'off'] as const) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${h.origin}/${mode === 'off' ? '?warmup=off' : ''}`);
    await page.waitForFunction(() => !!window.__seqlens);
    await page.evaluate((m) => window.postMessage(m, '*'), { type: 'init', mode: 'panel', backend: 'auto', maxTokens: 4096, trusted: true });
    await postTyped(page, showTrace);
    await page.waitForFunction(() => (window as unknown as { __hostMessages: HostMessage[] }).__hostMessages.some((m) => m.inReplyTo === 5));
    // Page time: from navigation start to now, the reply having just been posted.
    times[mode].push(await page.evaluate(() => performance.now()));
    await page.close();
  }
}
await browser.close();
await h.close();
const shipped = median(times.shipped), off = median(times.off);
console.log(`first picture of a native trace in a new page (zoo Transformer, ${run.trace.tokens.length} tokens), page start → reply, median of ${reps}, interleaved:`);
console.log(`  warm-up as shipped ${fmt(shipped, 0)} ms (${times.shipped.map((t) => fmt(t, 0)).join(', ')}); no warm-up ${fmt(off, 0)} ms (${times.off.map((t) => fmt(t, 0)).join(', ')}); ratio ${fmt(shipped / off)}×`);
