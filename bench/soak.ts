/**
 * Soak: the panel (the real webview bundle in headless Chromium, WASM) runs 100 times in a row, alternating
 * the zoo's models and texts as a user's day would, and after run 10 and run 100 prints what it holds: the
 * page's JS heap after a forced GC, the renderer process's resident memory (it holds onnxruntime-web's worker
 * and its WebAssembly memory), the live onnxruntime sessions and the workers. Goal: growth ≤ 5 % from run 10
 * to run 100. Then a backend switch must release every session (checked, printed).
 * Run: node --import tsx bench/soak.ts [--runs N]     (prints a table; nothing is asserted)
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { CDPSession } from 'playwright-core';
import { startHarness } from '../test/webview/harnessServer.js';
import { launch, PageDriver } from '../test/webview/pageDriver.js';
import { zooRef } from '../test/webview/zooRefs.js';
import { buildWebviewBundle, TEST_BUNDLE } from '../test/webview/buildBundle.js';

const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 100;
const MODELS = ['transformer', 'lstm', 'gru', 'rnn', 'dates-gru-attention', 'dates-transformer'];
const LIB = readFileSync('node_modules/typescript/lib/lib.es2016.array.include.d.ts', 'utf8');
const SOURCE = LIB.slice(LIB.indexOf('interface'));
const DATES = ['Tuesday, the 3rd of March 1998', '12/31/1999', 'April 1, 2021', 'le 14 juillet 1789', '2001-09-11'];

/** Resident memory (MB) of Chromium's renderer processes: the page, its workers and their wasm heaps. */
function rendererRssMb(): number {
  let kb = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer')) continue;
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // The process ended while being read.
    }
  }
  return kb / 1024;
}

interface Sample { run: number; heapMb: number; rssMb: number; sessions: number; workers: number; ms: number }

async function sample(d: PageDriver, cdp: CDPSession, run: number, ms: number): Promise<Sample> {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  return {
    run, ms,
    heapMb: heap.usedSize / 2 ** 20,
    rssMb: rendererRssMb(),
    sessions: await d.page.evaluate(() => window.__seqlens!.sessions()),
    workers: d.page.workers().length,
  };
}

async function main(): Promise<void> {
  await buildWebviewBundle();
  const h = await startHarness(undefined, TEST_BUNDLE);
  const browser = await launch('wasm');
  const d = await PageDriver.open(browser, h, 'wasm');
  const cdp = await d.page.context().newCDPSession(d.page);
  const samples: Sample[] = [];
  const t0 = performance.now();
  let failures = 0;
  const views = await d.page.evaluate(() => window.__seqlens!.viewIds());
  for (let i = 1; i <= RUNS; i++) {
    const name = MODELS[i % MODELS.length];
    const text = name.startsWith('dates') ? DATES[i % DATES.length]
      : SOURCE.slice((i * 97) % 2000, (i * 97) % 2000 + 64 + (i % 4) * 96);
    const t = performance.now();
    const r = await d.run(zooRef(h.origin, name), text);
    if (r.type !== 'runResult') { failures++; console.log(`run ${i} (${name}): ${JSON.stringify(r).slice(0, 200)}`); }
    // Every few runs the user looks at another view (the views keep caches of their own).
    await d.show(views[i % views.length]).catch(() => 0);
    await d.page.evaluate(() => window.__seqlens!.settled());
    // The harness keeps every message the page sent (a test reads them): that record is not the panel's memory.
    await d.page.evaluate(() => { (window as unknown as { __hostMessages: unknown[] }).__hostMessages.length = 0; });
    if ([10, 25, 50, 75].includes(i) || i === RUNS) samples.push(await sample(d, cdp, i, performance.now() - t));
  }
  const wall = (performance.now() - t0) / 1000;
  const a = samples[0], b = samples[samples.length - 1];
  const pct = (x: number, y: number): string => `${(((y - x) / x) * 100).toFixed(1)} %`;
  console.log(`soak: ${RUNS} runs over ${MODELS.length} zoo models in ${wall.toFixed(0)} s, ${failures} failed`);
  console.log('| after run | JS heap (MB) | renderer RSS (MB) | live sessions | workers |');
  console.log('|---|---|---|---|---|');
  for (const s of samples) console.log(`| ${s.run} | ${s.heapMb.toFixed(1)} | ${s.rssMb.toFixed(0)} | ${s.sessions} | ${s.workers} |`);
  console.log(`growth run 10 → ${RUNS}: JS heap ${pct(a.heapMb, b.heapMb)}, renderer RSS ${pct(a.rssMb, b.rssMb)} (goal ≤ 5 %)`);

  await d.post({ type: 'setBackend', backend: 'auto' });
  await d.page.waitForTimeout(1000);
  const afterSwitch = await sample(d, cdp, RUNS, 0);
  console.log(`backend switch (wasm → auto): live sessions ${b.sessions} → ${afterSwitch.sessions}, workers ${afterSwitch.workers}, JS heap ${afterSwitch.heapMb.toFixed(1)} MB, renderer RSS ${afterSwitch.rssMb.toFixed(0)} MB`);
  await d.page.close();
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`page closed: renderer RSS ${rendererRssMb().toFixed(0)} MB`);
  await browser.close();
  await h.close();
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
