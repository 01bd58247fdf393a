/**
 * Big models (issue #10): "the same model's model view and head view at 512 tokens stay responsive (longest
 * task on the page ≤ 200 ms)". The 0.5B-shaped decoder of bench/makeBigDecoder.ts (24 layers × 14 heads) is
 * traced over README.md cut to 512 tokens by the real native backend (NativeHost, its worker thread running
 * onnxruntime-node) with its default attention budget (256 MB: some layers are deferred), and the trace is sent
 * to the real webview bundle in headless Chromium as the extension sends it (showTrace, backend set to native).
 * Every fetchLayers the page asks while views are shown is answered in the background as the extension does
 * (host.fetchLayers → layersResult; cancelHostWork aborts it).
 *
 * A PerformanceObserver collects the page's long tasks (buffered) from before the trace is sent. For each step
 * (the heatmap, the head view, the model view; then a layer switch to a deferred layer in the heatmap and in
 * the head view, and the model view again) it prints: the render time show() returns, the time from show()
 * to settled() (loads of deferred layers included), a second render once settled, the longest task and the
 * number of tasks over 50 ms from the step's start to the next step's, and a few hovers (each its own task).
 *
 * Messages reach the page as binary: every Float32Array is written to a file that the harness server serves,
 * the page fetches them and posts the message to itself with the buffers transferred (VS Code hands typed
 * arrays to the page as binary too; base64 through Playwright would put seconds of decoding on the page's
 * UI thread that belong to no view). Nothing is asserted.
 * `--why` records a Chromium trace of the first show of the head view and of the model view and prints the main
 * thread's events of 10 ms or more (what a long task was: script, GC, layout, paint).
 * Run: npm run bench:big-views     (node --import tsx bench/bigViews.ts [MODEL_DIR] [--why])
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { NativeHost, type NativeModelSpec } from '../src/node/nativeHost.js';
import { hostToWebviewProblem, type WireRun } from '../src/shared/protocol.js';
import { startHarness } from '../test/webview/harnessServer.js';
import { launch, PageDriver } from '../test/webview/pageDriver.js';
import { buildWebviewBundle } from '../test/webview/buildBundle.js';
import { bigDecoderDir, makeBigDecoder } from './makeBigDecoder.js';
import { fmt, median } from './benchSupport.js';

const WORKER = resolve('src/node/nativeWorkerTsx.mjs');
const TEXT = readFileSync('README.md', 'utf8');
const TOKENS = 512;
const GOAL_MS = 200;
/** A bundle of its own (buildWebviewBundle empties its folder), so a test run beside this one keeps its own. */
const BUNDLE = 'test-results/bench-big-views/webview.js';
const BLOBS = 'test-results/bench-big-views/blobs';
const BADGE = 'NATIVE (onnxruntime-node, CPU)';

interface LongTask { start: number; ms: number }
/** Page clock: the bench's delivery began (blob fetches) and its postMessage returned (the page's handling starts then). */
interface Delivery { from: number; posted: number }
interface BenchWindow {
  __benchDeliver(skeleton: unknown): Promise<void>;
  __benchLong: LongTask[];
  __benchDeliveries: Delivery[];
  __hostMessages: { type: string; id?: number; runKey?: string; names?: string[]; what?: string }[];
}

/** The page's side of the binary delivery: fetches each blob, rebuilds the message, posts it with the buffers moved. */
const DELIVER = `window.__benchDeliveries = [];
window.__benchDeliver = async (skeleton) => {
  const from = performance.now();
  const urls = [];
  const collect = (v) => {
    if (Array.isArray(v)) { for (const x of v) collect(x); return; }
    if (v === null || typeof v !== 'object') return;
    if (typeof v.__blob === 'string') { urls.push(v.__blob); return; }
    for (const x of Object.values(v)) collect(x);
  };
  collect(skeleton);
  const bufs = new Map(await Promise.all(urls.map(async (u) => [u, await (await fetch(u)).arrayBuffer()])));
  const transfer = [];
  const build = (v) => {
    if (Array.isArray(v)) return v.map(build);
    if (v === null || typeof v !== 'object') return v;
    if (typeof v.__blob === 'string') { const b = bufs.get(v.__blob); transfer.push(b); return new Float32Array(b); }
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = build(x);
    return o;
  };
  const msg = build(skeleton);
  window.postMessage(msg, '*', transfer);
  window.__benchDeliveries.push({ from, posted: performance.now() });
}; undefined`;

/** Long tasks from the start (buffered), with their start times, so each can be put in the step it began in. */
const OBSERVE = `window.__benchLong = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__benchLong.push({ start: e.startTime, ms: e.duration }); })
  .observe({ type: 'longtask', buffered: true });
PerformanceObserver.supportedEntryTypes.includes('longtask')`;

interface TraceEvent { name: string; ph: string; ts: number; dur?: number; tid: number; pid: number; args?: { name?: string; data?: Record<string, unknown> } }

/** The renderer main thread's events of at least 10 ms in a Chromium trace, outermost first, nested ones indented. */
function explain(buf: Buffer, step: string): string[] {
  const events = (JSON.parse(buf.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) return [`- ${step}: no renderer main thread in the trace`];
  const big = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && (e.dur ?? 0) >= 10_000).sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const t0 = big[0]?.ts ?? 0;
  const open: TraceEvent[] = [];
  const out = [`- ${step}:`];
  for (const e of big) {
    while (open.length && open[open.length - 1].ts + (open[open.length - 1].dur ?? 0) <= e.ts) open.pop();
    const data = e.args?.data;
    const where = data ? ['functionName', 'url', 'type'].map((k) => data[k]).filter((v) => typeof v === 'string' && v).join(' ') : '';
    out.push(`  ${'  '.repeat(open.length)}+${fmt((e.ts - t0) / 1000, 0)} ms ${e.name}${where ? ` (${where.slice(0, 80)})` : ''}: ${fmt((e.dur ?? 0) / 1000, 0)} ms`);
    open.push(e);
  }
  return out;
}

let blobSeq = 0;
/** Writes every Float32Array of `msg` to a file under BLOBS; returns the message with {__blob: url} in their place and the bytes written. */
function toSkeleton(msg: unknown, origin: string): { skeleton: unknown; bytes: number; files: string[] } {
  let bytes = 0;
  const files: string[] = [];
  const walk = (v: unknown): unknown => {
    if (v instanceof Float32Array) {
      const file = join(BLOBS, `${blobSeq++}.bin`);
      writeFileSync(file, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      files.push(file);
      bytes += v.byteLength;
      return { __blob: `${origin}/${relative(process.cwd(), resolve(file)).split('\\').join('/')}` };
    }
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return { skeleton: walk(msg), bytes, files };
}

interface Step {
  name: string;
  /** Page clock at the step's start. */
  t0: number;
  render?: number;
  settled?: number;
  again?: number;
  hovers: number[];
  note?: string;
  /** fetchLayers answered during the step. */
  fetched: string[];
}

interface FetchLog { names: string[]; nativeMs: number; deliverMs: number; bytes: number; outcome: string }

async function main(argv: string[]): Promise<void> {
  const dir = resolve(argv.find((a) => !a.startsWith('--')) ?? bigDecoderDir());
  const made = await makeBigDecoder(dir);
  console.log(`model: ${made.model}: ${made.layers} layers × ${made.heads} heads (${made.kvHeads} key/value), d_model ${made.dModel}, ` +
    `${fmt(made.parameters / 1e6, 0)} M parameters, ${fmt(made.totalBytes / 1e6, 0)} MB (${made.written ? `${made.written} files written` : 'kept'})`);
  const spec: NativeModelSpec = {
    id: `bench:${dir}`, label: 'decoder-0.5b', files: { model: join(dir, 'model.onnx') },
    tokenizerFiles: { 'tokenizer.json': join(dir, 'tokenizer.json') },
  };

  const host = new NativeHost({ workerPath: WORKER });
  await buildWebviewBundle(BUNDLE);
  mkdirSync(BLOBS, { recursive: true });
  const h = await startHarness(undefined, BUNDLE);
  const browser = await launch('wasm');
  let stopPolling = false;
  let poller: Promise<void> | undefined;
  try {
    const t0 = performance.now();
    const run: WireRun = await host.trace({ model: spec, text: TEXT, maxTokens: TOKENS });
    const traceMs = performance.now() - t0;
    const deferred = run.trace.deferred?.map((p) => p.layer) ?? [];
    const attBytes = run.attention.reduce((n, p) => n + p.tensor.data.byteLength, 0);
    console.log(`native trace: ${run.trace.tokens.length} tokens in ${fmt(traceMs / 1000, 1)} s; attention sent ${run.attention.length} layers ` +
      `(${fmt(attBytes / 2 ** 20, 0)} MiB of a ${fmt(run.budget / 2 ** 20, 0)} MiB budget), deferred ${deferred.length}: [${deferred.join(', ')}]; ` +
      `pooled overviews ${run.trace.pooled?.length ?? 0}; logits ${run.trace.logits ? `[${run.trace.logits.dims.join(', ')}]` : 'none'}`);

    const d = await PageDriver.open(browser, h, 'wasm', 1100);
    await d.post({ type: 'setBackend', backend: 'native' });
    const longtaskSupported = (await d.page.evaluate(OBSERVE)) as boolean;
    await d.page.evaluate(DELIVER);

    const deliver = async (msg: unknown): Promise<{ ms: number; bytes: number }> => {
      const problem = hostToWebviewProblem(msg);
      if (problem) throw new Error(`the page's guard would drop this message: ${problem}`);
      const s = performance.now();
      const { skeleton, bytes, files } = toSkeleton(msg, h.origin);
      await d.page.evaluate((sk) => (window as unknown as BenchWindow).__benchDeliver(sk), skeleton);
      for (const f of files) rmSync(f, { force: true });
      return { ms: performance.now() - s, bytes };
    };

    // The host's side, in the background: every fetchLayers answered by host.fetchLayers → layersResult.
    const fetches: FetchLog[] = [];
    const aborts = new Map<number, AbortController>();
    const answering: Promise<void>[] = [];
    const answer = async (id: number, runKey: string, names: string[]): Promise<void> => {
      const abort = new AbortController();
      aborts.set(id, abort);
      const s = performance.now();
      try {
        const probes = await host.fetchLayers(runKey, names, { signal: abort.signal });
        const nativeMs = performance.now() - s;
        const sent = await deliver({ type: 'layersResult', inReplyTo: id, probes });
        fetches.push({ names, nativeMs, deliverMs: sent.ms, bytes: sent.bytes, outcome: 'layersResult' });
      } catch (e) {
        const code = (e as { code?: string }).code ?? 'runtime';
        const message = e instanceof Error ? e.message : String(e);
        fetches.push({ names, nativeMs: performance.now() - s, deliverMs: 0, bytes: 0, outcome: `hostError ${code}` });
        await deliver({ type: 'hostError', inReplyTo: id, error: { code, message } });
      } finally {
        aborts.delete(id);
      }
    };
    let seen = 0;
    poller = (async () => {
      while (!stopPolling) {
        const got = await d.page.evaluate((from) => {
          const all = (window as unknown as BenchWindow).__hostMessages;
          return { n: all.length, asks: all.slice(from).filter((m) => m.type === 'fetchLayers' || m.type === 'cancelHostWork') };
        }, seen);
        seen = got.n;
        for (const m of got.asks) {
          if (m.type === 'fetchLayers') answering.push(answer(m.id ?? -1, m.runKey ?? '', m.names ?? []).catch((e: unknown) => { console.error('answering a fetchLayers failed:', e); }));
          else if (m.what === 'fetch') aborts.get(m.id ?? -1)?.abort();
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })().catch((e: unknown) => {
      if (!stopPolling) console.error('the fetchLayers loop stopped:', e);
    });

    const now = (): Promise<number> => d.page.evaluate(() => performance.now());
    const steps: Step[] = [];
    const why = new Set(argv.includes('--why') ? ['headview', 'modelview'] : []);
    const traced = new Set<string>();
    const whyLines: string[] = [];
    const settle = (): Promise<void> => d.page.evaluate(() => window.__seqlens!.settled());

    // The trace as the extension sends it; the page answers with the tokens' summaries.
    const first: Step = { name: 'showTrace (page draws its first view)', t0: await now(), hovers: [], fetched: [] };
    steps.push(first);
    const sent = await deliver({ type: 'showTrace', id: 1, runs: [run], labels: ['decoder-0.5b'], badge: BADGE, why: 'bench: sequenceLens.backend is "native".' });
    const reply = await d.answer(1, 300_000);
    if (reply.type !== 'runResult') throw new Error(JSON.stringify(reply).slice(0, 500));
    first.settled = (await now()) - first.t0;
    await settle();
    first.note = `showTrace ${fmt(sent.bytes / 2 ** 20, 0)} MiB of tensors, delivered in ${fmt(sent.ms, 0)} ms; runResult ${fmt(first.settled, 0)} ms after the step began`;
    await d.page.waitForTimeout(500);

    const hoverPoints: Record<string, [number, number][]> = {
      heatmap: [[300, 300], [500, 450], [700, 600], [400, 800], [850, 850]],
      headview: [[100, 60], [100, 200], [100, 400], [100, 600], [100, 800]],
      modelview: [[70, 60], [200, 150], [420, 330], [700, 500], [1000, 700]],
    };
    /** One step: optionally a selection change, show(id), settled(), a quiet moment, a second render, hovers. */
    const step = async (name: string, id: string, sel?: { layer: number; head?: number }): Promise<Step> => {
      const s: Step = { name, t0: await now(), hovers: [], fetched: [] };
      steps.push(s);
      const fetchedBefore = fetches.length;
      const tracing = why.has(id) && !traced.has(id);
      if (tracing) {
        traced.add(id);
        await browser.startTracing(d.page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink', 'toplevel'] });
      }
      const r = await d.page.evaluate(async ({ id, sel }) => {
        const hook = window.__seqlens!;
        const a = performance.now();
        if (sel) hook.app.setSel(sel);
        const render = hook.show(id);
        await hook.settled();
        return { render, settled: performance.now() - a, unavailable: hook.unavailable(id) };
      }, { id, sel });
      s.render = r.render;
      s.settled = r.settled;
      if (r.unavailable) s.note = `unavailable after settled: ${r.unavailable}`;
      await d.page.waitForTimeout(300);
      s.again = await d.show(id);
      await d.page.waitForTimeout(200);
      for (const [x, y] of hoverPoints[id] ?? []) {
        s.hovers.push(await d.page.evaluate(({ id, x, y }) => window.__seqlens!.hover(id, x, y), { id, x, y }));
        await d.page.waitForTimeout(30);
      }
      await d.page.waitForTimeout(300);
      s.fetched = fetches.slice(fetchedBefore).flatMap((f) => f.names);
      if (tracing) whyLines.push(...explain(await browser.stopTracing(), name));
      return s;
    };

    await step('heatmap (layer 0)', 'heatmap');
    await step('head view (layer 0)', 'headview');
    await step('model view (24 layers × 14 heads)', 'modelview');
    await step('model view again', 'modelview');
    const d1 = deferred[0], d2 = deferred[deferred.length - 1];
    if (d1 !== undefined) await step(`heatmap → layer ${d1} (deferred)`, 'heatmap', { layer: d1, head: 3 });
    if (d2 !== undefined) await step(`head view → layer ${d2} (deferred)`, 'headview', { layer: d2 });
    await step('model view after the fetches', 'modelview');
    await step('head view → layer 1', 'headview', { layer: 1 });

    stopPolling = true;
    await poller;
    await Promise.allSettled(answering);
    await d.page.waitForTimeout(500);
    const end = await now();
    const allTasks = await d.page.evaluate(() => (window as unknown as BenchWindow).__benchLong);
    const deliveries = await d.page.evaluate(() => (window as unknown as BenchWindow).__benchDeliveries);
    // A task that began while the bench's own delivery fetched its blobs is the bench's, not the page's.
    const isDelivery = (t: LongTask): boolean => deliveries.some((x) => t.start >= x.from && t.start < x.posted);
    const tasks = allTasks.filter((t) => !isDelivery(t));
    const deliveryTasks = allTasks.filter(isDelivery);
    const heap = await d.page.evaluate(() => ((performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0) / 2 ** 20);

    const inStep = (i: number): LongTask[] => {
      const a = steps[i].t0, b = i + 1 < steps.length ? steps[i + 1].t0 : end;
      return tasks.filter((t) => t.start >= a && t.start < b);
    };
    const cell = (v: number | undefined): string => (v === undefined ? '—' : `${fmt(v, v < 10 ? 1 : 0)} ms`);
    console.log(`\n## Views at ${run.trace.tokens.length} tokens, native trace, headless Chromium (1100 × 900)${longtaskSupported ? '' : ' — longtask entries NOT supported here'}\n`);
    console.log('| step | render (show) | show → settled | render again | longest task | tasks > 50 ms | hover median / max | longest ≤ 200 ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---|');
    for (const [i, s] of steps.entries()) {
      const ts = inStep(i);
      const longest = ts.reduce((m, t) => Math.max(m, t.ms), 0);
      console.log(`| ${s.name} | ${cell(s.render)} | ${cell(s.settled)} | ${cell(s.again)} | ${ts.length ? cell(longest) : 'none'} | ${ts.length} | ` +
        `${s.hovers.length ? `${fmt(median(s.hovers), 2)} / ${fmt(Math.max(...s.hovers), 2)} ms` : '—'} | ${longest <= GOAL_MS ? 'yes' : '**no**'} |`);
    }
    for (const s of steps) {
      if (s.note) console.log(`- ${s.name}: ${s.note}`);
      if (s.fetched.length) console.log(`- ${s.name}: fetched ${s.fetched.join(', ')} from the host`);
    }
    console.log(`- the bench's own delivery (page fetching the message's blobs, left out above): ${deliveryTasks.length} long tasks, longest ${fmt(deliveryTasks.reduce((m, t) => Math.max(m, t.ms), 0), 0)} ms`);
    for (const [i, s] of steps.entries()) {
      const ts = inStep(i).filter((t) => t.ms > 50);
      if (ts.length) console.log(`- long tasks in "${s.name}" (ms after the step began: duration): ${ts.map((t) => `+${fmt(t.start - s.t0, 0)}: ${fmt(t.ms, 0)}`).join(', ')}`);
    }
    console.log(`\nfetchLayers answered (native fetch / delivery to the page):`);
    for (const f of fetches) console.log(`- ${f.names.join(', ')}: ${fmt(f.nativeMs / 1000, 1)} s / ${fmt(f.deliverMs, 0)} ms, ${fmt(f.bytes / 2 ** 20, 0)} MiB → ${f.outcome}`);
    if (!fetches.length) console.log('- none');
    if (whyLines.length) console.log(`\nChromium trace of the first show of each view (--why): main-thread events ≥ 10 ms\n${whyLines.join('\n')}`);
    const views = steps.slice(1);
    const worst = views.flatMap((_, j) => inStep(j + 1)).reduce((m, t) => Math.max(m, t.ms), 0);
    console.log(`\nlongest task while views were shown: ${fmt(worst, 0)} ms (goal ≤ ${GOAL_MS} ms: ${worst <= GOAL_MS ? 'met' : 'NOT met'}); ` +
      `page errors: ${d.errors.length ? d.errors.join('; ') : 'none'}; JS heap ${fmt(heap, 0)} MiB`);
  } finally {
    stopPolling = true;
    await poller;
    await browser.close();
    await h.close();
    await host.dispose();
    rmSync(BLOBS, { recursive: true, force: true });
  }
}

if (!existsSync('README.md')) throw new Error('run from the repository root');
void main(process.argv.slice(2)).then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
