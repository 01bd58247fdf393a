/**
 * A new panel's first picture of a native run (a right-click in a new window, issue #9): the webview bundle in
 * headless Chromium, with a stand-in for the host that answers the page's `ready` with `init` and a trace made
 * by the native worker, `--rtt` ms later (the trip through VS Code), interleaved over two variants. Per page
 * (the page's marks, webview/pageMarks.ts):
 *   start → reply    navigation start to the page's reply to the trace (its picture drawn)
 *   script → ready   the bundle's first module running to its `ready` message
 *   script → trace   to the trace's handling: the page's set-up, or the host's answer if that comes later
 *   trace → drawn    the trace received to the heatmap drawn
 *   trace → frame    the trace received to the end of the frame that shows the picture (what the user sees:
 *                    the canvas's raster, and a second draw if the view's box changed under the first)
 *   script → frame   the page's whole share of a right-click, from its script's start
 * Variants: by default the working tree's bundle with the shipped warm-up of onnxruntime-web (after the first
 * answer, or 1.5 s) against none (what the warm-up costs that picture: 1.13× in an earlier form of this script).
 * With `--before DIR` (a folder holding an older webview.js, e.g. built from an earlier commit's sources), that
 * bundle against the working tree's, both with the warm-up. Bundles are minified, as `--production` ships them.
 * A bundle older than the page's marks reads NaN but for start → reply.
 * Run: node --import tsx bench/firstPicture.ts [--reps N] [--rtt MS] [--before DIR]
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { startHarness, type Harness } from '../test/webview/harnessServer.js';
import { launch } from '../test/webview/pageDriver.js';
import { NativeHost } from '../src/node/nativeHost.js';
import { fmt, median } from './benchSupport.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' }, before: { type: 'string' }, rtt: { type: 'string', default: '50' } } });
const reps = Number(values.reps);
const rtt = Number(values.rtt);
const TEXT = 'The lighthouse keeper counted the ships every evening.';
/** Bundles the harness serves must lie inside the repository (it maps /dist/webview… into their folder). */
const OUT = 'test-results/first-picture';

const host = new NativeHost({ workerPath: resolve('src/node/nativeWorkerTsx.mjs') });
const dir = resolve('media/models/transformer');
const run = await host.trace({ model: { id: 'zoo:transformer', label: 'transformer', manifestPath: join(dir, 'manifest.json'), files: { model: join(dir, 'model.onnx') }, tokenizerFiles: {} }, text: TEXT });
await host.dispose();

const showTrace = { type: 'showTrace', id: 5, runs: [run], labels: ['transformer'], badge: 'NATIVE', why: 'bench' };

/** Beside webview.js in a bundle's folder: onnxruntime-web (the warm-up imports it) and the PCA worker. */
const SIDE_FILES: [string, string][] = [['webview/runtime/ortEntry.ts', 'webview-ort.js'], ['webview/workers/pcaWorker.ts', 'webview-pca.js']];

/** The working tree's webview bundles as esbuild.mjs --production makes them (minified: what a user's page loads). */
async function buildAfter(): Promise<string> {
  const dir = join(OUT, 'after');
  rmSync(dir, { recursive: true, force: true });
  for (const [entry, file] of [['webview/main.ts', 'webview.js'], ...SIDE_FILES]) {
    await esbuild.build({
      bundle: true, minify: true, target: 'es2022', logLevel: 'warning', entryPoints: [entry], outfile: join(dir, file),
      platform: 'browser', format: 'esm', loader: { '.css': 'text' },
    });
  }
  return join(dir, 'webview.js');
}

interface Variant { name: string; harness: Harness; query: string }
const variants: Variant[] = [];
if (values.before) {
  rmSync(join(OUT, 'before'), { recursive: true, force: true });
  mkdirSync(join(OUT, 'before'), { recursive: true });
  cpSync(resolve(values.before), join(OUT, 'before'), { recursive: true });
  const after = await buildAfter();
  // A folder with webview.js alone gets this tree's onnxruntime-web and PCA worker (the warm-up needs the former).
  for (const [, file] of SIDE_FILES) {
    if (!existsSync(join(OUT, 'before', file))) cpSync(join(OUT, 'after', file), join(OUT, 'before', file));
  }
  variants.push({ name: 'before', harness: await startHarness(resolve('.'), join(OUT, 'before', 'webview.js')), query: '' });
  variants.push({ name: 'after', harness: await startHarness(resolve('.'), after), query: '' });
} else {
  const h = await startHarness(resolve('.'), await buildAfter());
  variants.push({ name: 'warm-up as shipped', harness: h, query: '' }, { name: 'no warm-up', harness: h, query: '?warmup=off' });
}

/** Float32Arrays as base64, for the trace's trip into the page's init script (FAKE_HOST turns them back). */
function pack(v: unknown): unknown {
  if (v instanceof Float32Array) return { __f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(pack);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pack(x)]));
  return v;
}

const INIT = { type: 'init', mode: 'panel', backend: 'auto', maxTokens: 4096, trusted: true };

/**
 * Set before the page's scripts run. The host as VS Code's is for a right-click whose native trace is ready:
 * it answers the page's `ready` with `init` and the trace, `rtt` ms later (the trip out and back through VS
 * Code); the trace's message, like any, is handled once the page's thread is free. It also records when the
 * reply came and the long animation frames (over 50 ms: the one that shows the first picture always is here),
 * to find the end of the frame that presents the picture.
 */
const fakeHost = (rtt: number): string => `(() => {
  const unpack = (v) => {
    if (Array.isArray(v)) return v.map(unpack);
    if (v === null || typeof v !== 'object') return v;
    if (typeof v.__f32 === 'string') return new Float32Array(Uint8Array.from(atob(v.__f32), (c) => c.charCodeAt(0)).buffer);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unpack(x)]));
  };
  const trace = unpack(${JSON.stringify(pack(showTrace))});
  window.__frames = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__frames.push({ start: e.startTime, render: e.renderStart, end: e.startTime + e.duration }); })
    .observe({ type: 'long-animation-frame', buffered: true });
  let real;
  Object.defineProperty(window, 'acquireVsCodeApi', {
    configurable: true,
    set(v) { real = v; },
    get() {
      return () => {
        const api = real();
        const post = api.postMessage.bind(api);
        api.postMessage = (m, t) => {
          post(m, t);
          if (m?.type === 'ready') setTimeout(() => { window.postMessage(${JSON.stringify(INIT)}, '*'); window.postMessage(trace, '*'); }, ${rtt});
          if (m?.inReplyTo === ${showTrace.id}) window.__replyAt = performance.now();
        };
        return api;
      };
    },
  });
})();`;

/**
 * The page's marks (NaN where a bundle sets none), and the end of the frame whose rendering began after the
 * picture was drawn. A string: a function handed to evaluate() would carry tsx's __name helper into the page.
 */
const MARKS_READ = `(async () => {
  const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
  const drawn = at('seqlens:trace-drawn');
  const frame = () => window.__frames.find((f) => f.render >= drawn && f.start <= drawn)?.end;
  for (let i = 0; i < 40 && frame() === undefined; i++) await new Promise((r) => setTimeout(r, 25));
  return { script: at('seqlens:script-start'), ready: at('seqlens:ready'), received: at('seqlens:trace-received'), drawn, frame: frame() ?? NaN, reply: window.__replyAt };
})()`;

interface Marks { script: number; ready: number; received: number; drawn: number; frame: number; reply: number }
const times = new Map<string, Marks[]>(variants.map((v) => [v.name, []]));
const browser = await launch('wasm');
for (let i = 0; i < reps; i++) {
  // ABBA: the second page of a pair ran faster here (a warmer browser), so each variant goes first half the time.
  for (const v of i % 2 ? [...variants].reverse() : variants) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.addInitScript(fakeHost(rtt));
    await page.goto(`${v.harness.origin}/${v.query}`);
    await page.waitForFunction(() => (window as unknown as { __replyAt?: number }).__replyAt !== undefined, undefined, { timeout: 60_000 });
    times.get(v.name)?.push((await page.evaluate(MARKS_READ)) as Marks);
    await page.close();
  }
}
await browser.close();
for (const v of variants) await v.harness.close().catch(() => undefined);

const row = (xs: number[]): string => `${fmt(median(xs), 0).padStart(5)} ms (${xs.map((x) => fmt(x, 0)).join(', ')})`;
console.log(`first picture of a native trace in a new page (zoo Transformer, ${run.trace.tokens.length} tokens), the host answering \`ready\` after ${rtt} ms, median of ${reps}, interleaved:`);
for (const [name, ts] of times) {
  console.log(`  ${name}`);
  console.log(`    start → reply    ${row(ts.map((t) => t.reply))}`);
  console.log(`    script → ready   ${row(ts.map((t) => t.ready - t.script))}`);
  console.log(`    script → trace   ${row(ts.map((t) => t.received - t.script))}`);
  console.log(`    trace → drawn    ${row(ts.map((t) => t.drawn - t.received))}`);
  console.log(`    trace → frame    ${row(ts.map((t) => t.frame - t.received))}`);
  console.log(`    script → frame   ${row(ts.map((t) => t.frame - t.script))}`);
}
const [a, b] = [...times.values()].map((ts) => median(ts.map((t) => t.frame - t.script)));
console.log(`  script → frame: ${variants[0].name} ÷ ${variants[1].name} = ${fmt(a / b)}×`);
