/**
 * The real webview bundle (dist/webview.js) in headless Chromium with zoo models: once on WASM and once
 * on WebGPU (SwiftShader). The numbers behind the views must equal core's traceModel on
 * onnxruntime-node (what `seqlens trace --dump` writes) within 1e-4; every view is screenshotted at a
 * normal and a long input into test-results/webview/; exports, inspect and cancel are checked.
 * Run: node --import tsx --test test/webview/webview.test.ts   (builds dist/webview.js first)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { traceModel } from '../../src/core/run/traceModel.js';
import { parseManifest } from '../../src/core/manifest.js';
import { getBackend } from '../../src/node/backends.js';
import type { Trace } from '../../src/core/trace/traceTypes.js';
import { startHarness, type Harness } from './harnessServer.js';
import { launch, PageDriver, CHROMIUM, type PlainTrace } from './pageDriver.js';
import { zooRef } from './zooRefs.js';
import { webviewToHostProblem } from '../../src/shared/protocol.js';
import { pcaTrajectory } from '../../src/core/trace/pca.js';
import { hiddenMatrix } from '../../src/core/trace/hiddenStates.js';
import { buildWebviewBundle, TEST_BUNDLE } from './buildBundle.js';
import { ORT_WASM } from '../../scripts/ortWasm.mjs';

const OUT = 'test-results/webview';
const TOL = 1e-4;
const TEXT = 'interface Foo {\n  bar(): number;\n}';
// Held-out text (never trained on): a lib file the zoo's generator keeps out of training.
// The licence header is a block of asterisks: start at the first declaration.
const LIB = readFileSync('node_modules/typescript/lib/lib.es2016.array.include.d.ts', 'utf8');
const LONG_SOURCE = LIB.slice(LIB.indexOf('interface'));
const DATE = 'Tuesday, the 3rd of March 1998';

async function reference(name: string, text: string): Promise<Trace> {
  const dir = `media/models/${name}`;
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  return traceModel({ backend: await getBackend('native'), files: async (rel) => new Uint8Array(await readFile(join(dir, rel))), manifest, text });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * |a-b| / max(1, |b|): absolute for values up to 1 (attention weights, gates), relative beyond (a residual
 * stream of norm 90 carries float32 rounding of about 1e-5 per unit; WebGPU sums in another order).
 */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

/**
 * Every probe tensor and the logits of the page's trace equal the onnxruntime-node reference within 1e-4
 * on WASM. WebGPU evaluates sin/cos (the Transformer's sinusoidal positions) with WGSL's own precision:
 * the very first hidden state (embedding + positions, where the embedding lookup is exact) already
 * differs by ~2e-4, and the blocks amplify it (~1e-3 after block 0), so WebGPU runs of that model get `gpuTol` (5e-3).
 * The largest differences are printed as test diagnostics.
 */
function assertSameTrace(page: PlainTrace, ref: Trace, label: string, gpuTol = TOL): void {
  assert.deepEqual(page.tokens.map((t) => [t.id, t.start, t.end]), ref.tokens.map((t) => [t.id, t.start, t.end]), 'tokens');
  assert.deepEqual(page.generated, ref.generated?.map((g) => g.id), 'generated tokens');
  assert.equal(page.probes.length, ref.probes.length, 'probe count');
  let worstAtt = 0, worstOther = 0;
  for (const rp of ref.probes) {
    // Encoder and decoder files may use the same tensor names: match on the stream too.
    const pp = page.probes.find((p) => p.name === rp.probe.name && p.stream === rp.probe.stream);
    assert.ok(pp, `probe ${rp.probe.name} missing in the webview`);
    assert.deepEqual(pp.dims, rp.tensor.dims, `${rp.probe.name} dims`);
    const d = maxRelDiff(pp.data, rp.tensor.data);
    if (rp.probe.kind === 'attention') {
      worstAtt = Math.max(worstAtt, d);
      assert.ok(d <= gpuTol, `attention ${rp.probe.name} differs by ${d}`);
    } else {
      worstOther = Math.max(worstOther, d);
      assert.ok(d <= gpuTol, `${rp.probe.kind} ${rp.probe.name} differs by ${d}`);
    }
  }
  const dl = ref.logits ? maxRelDiff(page.logits!.data, ref.logits.data) : 0;
  assert.ok(dl <= gpuTol, `logits differ by ${dl}`);
  console.log(`# ${label} on ${page.backend}: max |diff| vs onnxruntime-node: attention ${worstAtt.toExponential(2)}, other probes ${worstOther.toExponential(2)} (relative above 1), logits ${dl.toExponential(2)}`);
}

function probe(ref: Trace, kind: string, layer: number, stream?: string) {
  const p = ref.probes.find((q) => q.probe.kind === kind && q.probe.layer === layer && (!stream || q.probe.stream === stream));
  assert.ok(p, `reference has no ${kind} L${layer} ${stream ?? ''}`);
  return p;
}

/** attention[batch 0, head h, q, k] of a [1, H, Q, K] probe, or the mean over heads. */
function refAttention(ref: Trace, layer: number, head: number | 'mean', stream = 'decoder'): number[] {
  const p = probe(ref, 'attention', layer, stream);
  const [, H, Q, K] = p.tensor.dims;
  const heads = head === 'mean' ? Array.from({ length: H }, (_, i) => i) : [head];
  const out = new Array<number>(Q * K).fill(0);
  for (const h of heads) for (let i = 0; i < Q * K; i++) out[i] += p.tensor.data[h * Q * K + i] / heads.length;
  return out;
}

/** L2 norm per token of each [1, T, U] hidden probe, layers in order. */
function refNorms(ref: Trace): number[] {
  const out: number[] = [];
  for (const p of ref.probes.filter((q) => q.probe.kind === 'hidden').sort((a, b) => a.probe.layer - b.probe.layer)) {
    const U = p.tensor.dims[p.tensor.dims.length - 1], T = p.tensor.data.length / U;
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let u = 0; u < U; u++) s += p.tensor.data[t * U + u] ** 2;
      out.push(Math.sqrt(s));
    }
  }
  return out;
}

let harness: Harness;
const have = (m: string): boolean => existsSync(`media/models/${m}/manifest.json`);
// Skips are for developer machines without Chromium; under CI a missing browser is a failure.
if (process.env.CI && !existsSync(CHROMIUM)) throw new Error(`webview tests need Chromium at ${CHROMIUM} (apt-get install chromium)`);

before(async () => {
  mkdirSync(OUT, { recursive: true });
  await buildWebviewBundle();
});
before(async () => { harness = await startHarness(undefined, TEST_BUNDLE); });
after(async () => { await harness?.close(); });

for (const backend of ['wasm', 'webgpu'] as const) {
  describe(`webview on ${backend}`, { skip: !existsSync(CHROMIUM) && 'no Chromium' }, () => {
    let browser: Browser;
    before(async () => { browser = await launch(backend); });
    after(async () => { await browser?.close(); });

    test('transformer: every number behind the views equals onnxruntime-node', { skip: !have('transformer') }, async () => {
      const d = await PageDriver.open(browser, harness, backend);
      const res = await d.run(zooRef(harness.origin, 'transformer'), TEXT);
      assert.equal(res.type, 'runResult', JSON.stringify(res));
      assert.equal(res.backend, backend, 'the backend asked for is the one used');
      const ref = await reference('transformer', TEXT);
      const tol = backend === 'webgpu' ? 5e-3 : TOL;
      assertSameTrace(await d.trace(), ref, 'transformer', tol);
      // Heatmap: head 1 of layer 1, then the mean of heads of layer 0.
      await d.page.evaluate(() => window.__seqlens!.app.setSel({ layer: 1, head: 1 }));
      assert.ok(maxDiff((await d.values('heatmap'))!.matrix as number[], refAttention(ref, 1, 1)) <= tol, 'heatmap L1 H1');
      await d.page.evaluate(() => window.__seqlens!.app.setSel({ layer: 0, head: 'mean' }));
      assert.ok(maxDiff((await d.values('heatmap'))!.matrix as number[], refAttention(ref, 0, 'mean')) <= tol, 'heatmap L0 mean');
      const head2 = (await d.values('headview'))!.head2 as number[];
      assert.ok(maxDiff(head2, refAttention(ref, 0, 2)) <= tol, 'head view L0 H2');
      assert.ok(maxRelDiff((await d.values('hidden'))!.norms as number[], refNorms(ref)) <= tol, 'hidden-state norms');
      // The PCA plane, computed in the page's worker, against core's PCA over the reference hidden states.
      await d.show('hidden');
      await d.page.evaluate(() => window.__seqlens!.settled());
      const hv = (await d.values('hidden'))!;
      const refPca = pcaTrajectory(ref.probes.filter((q) => q.probe.kind === 'hidden').sort((a, b) => a.probe.layer - b.probe.layer).map((q) => hiddenMatrix(q)), { maxIterations: 12 });
      const dExplained = maxDiff(hv.pcaExplained as number[], refPca.explained);
      const dPoints = maxRelDiff(hv.pcaPoints as number[], refPca.points.flatMap((p) => Array.from(p)));
      console.log(`# PCA on ${backend} vs core on the reference: explained ${dExplained.toExponential(2)}, points ${dPoints.toExponential(2)}`);
      assert.ok(dExplained <= tol, `PCA explained variance ${JSON.stringify(hv.pcaExplained)} vs ${JSON.stringify(refPca.explained)}`);
      assert.ok(dPoints <= 10 * tol, 'PCA points');
      // Top-1 prediction per position: the reference logits' argmax.
      const V = ref.logits!.dims[ref.logits!.dims.length - 1];
      const top = (await d.values('predictions'))!.topIds as number[];
      for (let t = 0; t < ref.tokens.length; t++) {
        const row = ref.logits!.data.subarray(t * V, (t + 1) * V);
        let best = 0;
        for (let i = 1; i < V; i++) if (row[i] > row[best]) best = i;
        assert.equal(top[t * 5], best, `top-1 at ${t}`);
      }
      // Logit lens (the plan's final LayerNorm + unembedding over each layer's hidden state): its last layer
      // is the model's own output, so its top-1 per position must be the reference argmax too.
      const pred = (await d.values('predictions'))!;
      const lensLayers = pred.lensLayers as number[], lensTop1 = pred.lensTop1 as number[];
      assert.ok(lensLayers.length >= 2, `logit lens over ${lensLayers.length} layers`);
      assert.equal(lensTop1.length, lensLayers.length * ref.tokens.length);
      const lastLayer = lensTop1.slice((lensLayers.length - 1) * ref.tokens.length);
      for (let t = 0; t < ref.tokens.length; t++) assert.equal(lastLayer[t], top[t * 5], `lens last layer top-1 at ${t}`);
      assert.ok((await d.values('positional'))?.shape, 'sinusoidal positional encoding found');
      for (const v of await d.page.evaluate(() => window.__seqlens!.viewIds())) await d.screenshot(v, `${OUT}/${backend}-transformer-normal-${v}.png`);
      assert.deepEqual(d.errors, []);
      await d.page.close();
    });

    test('lstm: gates, cell and hidden state equal onnxruntime-node', { skip: !have('lstm') }, async () => {
      const d = await PageDriver.open(browser, harness, backend);
      const res = await d.run(zooRef(harness.origin, 'lstm'), TEXT);
      assert.equal(res.type, 'runResult', JSON.stringify(res));
      // The cell read-out uses Relu on WebGPU (its LSTM kernel has no Affine activation): no fall-back to WASM.
      assert.equal(res.backend, backend, 'the LSTM with its gate and cell probes runs on the backend asked for');
      const ref = await reference('lstm', TEXT);
      assertSameTrace(await d.trace(), ref, 'lstm');
      const rec = (await d.values('recurrent'))!;
      assert.deepEqual((await d.values('predictions'))!.lensLayers, [], 'no logit lens for a recurrent model');
      const gate = (g: string) => ref.probes.find((p) => p.probe.kind === 'gate' && p.probe.gate === g)!.tensor.data;
      assert.ok(maxDiff(rec['input gate i'] as number[], gate('input')) <= TOL, 'input gate');
      assert.ok(maxDiff(rec['forget gate f'] as number[], gate('forget')) <= TOL, 'forget gate');
      assert.ok(maxDiff(rec['cell state c'] as number[], ref.probes.find((p) => p.probe.kind === 'cell')!.tensor.data) <= TOL, 'cell');
      assert.ok(maxDiff(rec['hidden state h'] as number[], probe(ref, 'hidden', 0).tensor.data) <= TOL, 'hidden');
      assert.match(String(await d.page.evaluate(() => window.__seqlens!.unavailable('heatmap'))), /no attention/);
      for (const v of ['hidden', 'recurrent', 'predictions']) await d.screenshot(v, `${OUT}/${backend}-lstm-normal-${v}.png`);
      assert.deepEqual(d.errors, []);
      await d.page.close();
    });

    test('seq2seq with attention: alignment and greedy output equal onnxruntime-node; bottleneck model beside it', { skip: !have('dates-gru-attention') || !have('dates-gru') }, async () => {
      const d = await PageDriver.open(browser, harness, backend);
      const res = await d.run(zooRef(harness.origin, 'dates-gru'), DATE, zooRef(harness.origin, 'dates-gru-attention'));
      assert.equal(res.type, 'runResult', JSON.stringify(res));
      const [refPlain, refAtt] = [await reference('dates-gru', DATE), await reference('dates-gru-attention', DATE)];
      assertSameTrace(await d.trace(0), refPlain, 'dates-gru');
      assertSameTrace(await d.trace(1), refAtt, 'dates-gru-attention');
      await d.page.evaluate(() => window.__seqlens!.app.setSel({ step: 100 }));
      const v = (await d.values('encdec'))!;
      assert.ok(maxDiff(v.alignment1 as number[], probe(refAtt, 'attention', 0, 'cross').tensor.data) <= TOL, 'cross-attention alignment');
      assert.deepEqual(v.generated1, refAtt.generated!.map((g) => g.id));
      assert.ok((v.context0 as number[]).length > 0, 'context vector of the no-attention model');
      await d.screenshot('encdec', `${OUT}/${backend}-dates-normal-encdec.png`);
      assert.deepEqual(d.errors, []);
      await d.page.close();
    });
  });
}

describe('webview at long inputs, exports, inspect, cancel (WASM)', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, () => {
  let browser: Browser;
  before(async () => { browser = await launch('wasm'); });
  after(async () => { await browser?.close(); });

  test('long inputs: every view renders (screenshots)', { skip: !have('transformer') || !have('lstm') }, async () => {
    const d = await PageDriver.open(browser, harness, 'wasm');
    const res = await d.run(zooRef(harness.origin, 'transformer'), LONG_SOURCE, zooRef(harness.origin, 'lstm'));
    assert.equal(res.type, 'runResult', JSON.stringify(res));
    const ids = await d.page.evaluate(() => window.__seqlens!.viewIds());
    for (const v of ids) await d.screenshot(v, `${OUT}/wasm-transformer-long-${v}.png`);
    const lstm = await d.run(zooRef(harness.origin, 'lstm'), LONG_SOURCE.slice(0, 2000));
    assert.equal(lstm.type, 'runResult');
    for (const v of ['hidden', 'recurrent', 'predictions']) await d.screenshot(v, `${OUT}/wasm-lstm-long-${v}.png`);
    if (have('dates-transformer')) {
      assert.equal((await d.run(zooRef(harness.origin, 'dates-transformer'), DATE)).type, 'runResult');
      for (const v of ['heatmap', 'modelview', 'encdec']) await d.screenshot(v, `${OUT}/wasm-dates-transformer-${v}.png`);
    }
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('attention over the byte budget: one layer comes with the run, the others when a view shows them; same numbers', { skip: !have('transformer') }, async () => {
    const text = LONG_SOURCE.slice(0, 256); // the zoo Transformer takes at most 256 tokens
    const ref = await reference('transformer', text);
    const att = ref.probes.filter((p) => p.probe.kind === 'attention');
    const layerBytes = att[0].tensor.data.length * 4;
    const d = await PageDriver.open(browser, harness, 'wasm');
    // A budget of one layer: the zoo Transformer then loads layers as a 12-layer, 12-head model at 2,048 tokens does by default.
    await d.page.evaluate((b) => { window.__seqlens!.app.runner.attentionBudget = b; window.__seqlens!.app.setSel({ layer: 0, head: 'mean' }); }, layerBytes);
    assert.equal((await d.run(zooRef(harness.origin, 'transformer'), text)).type, 'runResult');
    await d.page.evaluate(() => window.__seqlens!.settled());
    const loadedLayers = async () => (await d.trace()).probes.filter((p) => p.kind === 'attention').map((p) => p.layer);
    assert.deepEqual(await loadedLayers(), [0], 'the run hands back only the layer shown');
    const deferred = await d.page.evaluate(() => window.__seqlens!.app.runs[0].deferred.map((p) => p.layer));
    assert.deepEqual(deferred, att.slice(1).map((p) => p.probe.layer));
    // The heatmap asks for layer 1: it is fetched, and layer 0 leaves memory (budget: one layer).
    await d.page.evaluate(() => window.__seqlens!.app.setSel({ layer: 1, head: 1 }));
    await d.page.evaluate(() => window.__seqlens!.settled());
    assert.ok(maxDiff((await d.values('heatmap'))!.matrix as number[], refAttention(ref, 1, 1)) <= TOL, 'heatmap L1 H1 after the load');
    assert.deepEqual(await loadedLayers(), [1], 'layer 0 was evicted');
    // The model view needs no fetch: every layer not in memory has its max-pooled overview (sent by the
    // run for layer 1 at first, pooled by the page for layer 0 when it was evicted).
    const loadsBefore = (await d.hostMessages()).filter((m) => /loaded the attention/.test((m as { message?: string }).message ?? '')).length;
    await d.show('modelview');
    await d.page.evaluate(() => window.__seqlens!.settled());
    assert.deepEqual((await d.values('modelview'))!.thumbnails, [att.reduce((n, p) => n + (p.probe.heads ?? 1), 0)]);
    const loadsAfter = (await d.hostMessages()).filter((m) => /loaded the attention/.test((m as { message?: string }).message ?? '')).length;
    assert.equal(loadsAfter, loadsBefore, 'the model view drew every layer from overviews, without another run');
    assert.doesNotMatch(await d.page.evaluate(() => document.querySelector('section.view[data-view="modelview"] canvas')?.getAttribute('aria-label') ?? ''), /loading/i);
    // Head view and rollout fetch what they still need, one layer per run.
    await d.screenshot('modelview', `${OUT}/wasm-transformer-budget-modelview.png`);
    await d.page.evaluate(() => window.__seqlens!.app.setSel({ layer: 1, head: 'rollout' }));
    await d.show('heatmap');
    await d.page.evaluate(() => window.__seqlens!.settled());
    const lazyRollout = (await d.values('heatmap'))!.matrix as number[];
    await d.page.evaluate(() => window.__seqlens!.app.setSel({ layer: 0, head: 2 }));
    await d.show('headview');
    await d.page.evaluate(() => window.__seqlens!.settled());
    assert.ok(maxDiff((await d.values('headview'))!.head2 as number[], refAttention(ref, 0, 2)) <= TOL, 'head view L0 H2 after the load');
    await d.screenshot('headview', `${OUT}/wasm-transformer-budget-headview.png`);
    // Cancel a fetch: the view says so (not "Loading…" forever); the next choice fetches again.
    await d.show('heatmap');
    const stopped = await d.page.evaluate(async () => {
      const app = window.__seqlens!.app;
      app.setSel({ layer: 1, head: 0 });
      app.cancel();
      await app.settled();
      return app.runs[0].loadStopped ?? '';
    });
    assert.match(stopped, /cancelled/);
    assert.deepEqual(await loadedLayers(), [0], 'nothing was loaded after the cancel');
    // Head 3 of layer 1 was never drawn (head 1 was, and its matrix is still kept): it needs the layer.
    await d.page.evaluate(() => window.__seqlens!.app.setSel({ head: 3 }));
    await d.page.evaluate(() => window.__seqlens!.settled());
    assert.deepEqual(await loadedLayers(), [1], 'a new choice fetched the layer');
    assert.ok(maxDiff((await d.values('heatmap'))!.matrix as number[], refAttention(ref, 1, 3)) <= TOL, 'heatmap L1 H3 after the retry');
    // The same rollout from a run that fetched everything.
    await d.page.evaluate(() => { window.__seqlens!.app.runner.attentionBudget = Number.MAX_SAFE_INTEGER; window.__seqlens!.app.setSel({ layer: 1, head: 'rollout' }); });
    assert.equal((await d.run(zooRef(harness.origin, 'transformer'), text)).type, 'runResult');
    assert.deepEqual(await loadedLayers(), att.map((p) => p.probe.layer));
    assert.ok(maxDiff((await d.values('heatmap'))!.matrix as number[], lazyRollout) <= 1e-6, 'rollout from layers loaded one at a time equals the one-run rollout');
    const logs = (await d.hostMessages()).filter((m) => m.type === 'log' && /loaded the attention of layer/.test((m as { message?: string }).message ?? ''));
    assert.ok(logs.length >= 2, `layers were loaded on demand (${logs.length} loads)`);
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('exports: the exportView reply carries PNG, SVG, CSV, JSON and .npy at once; the buttons send exportFile', { skip: !have('transformer') }, async () => {
    const d = await PageDriver.open(browser, harness, 'wasm');
    await d.run(zooRef(harness.origin, 'transformer'), TEXT);
    await d.show('heatmap');
    const reply = await d.exportView();
    assert.equal(reply.type, 'exportResult', JSON.stringify(reply));
    assert.equal(reply.view, 'heatmap');
    const files = reply.files as { fileName: string; mime: string; size: number; head: number[] }[];
    const exportFiles = () => d.page.evaluate(() => (window as unknown as { __exports: { fileName: string }[] }).__exports.map((e) => e.fileName));
    assert.deepEqual(await exportFiles(), [], 'an asked-for export sends its files in the reply only');
    const by = (ext: string) => files.find((f) => f.fileName.endsWith(ext))!;
    assert.deepEqual(by('.png').head.slice(0, 4), [0x89, 0x50, 0x4e, 0x47]);
    assert.equal(String.fromCharCode(...by('.svg').head.slice(0, 4)), '<svg');
    assert.equal(String.fromCharCode(...by('.npy').head.slice(1, 6)), 'NUMPY');
    assert.ok(by('.csv').size > 34 * 34);
    assert.equal(by('.json').mime, 'application/json');
    // The view's own export (its buttons' path) sends the same files, each as an exportFile of its own.
    const names = await d.page.evaluate(() => window.__seqlens!.exportView('heatmap'));
    assert.deepEqual(files.map((f) => f.fileName), names);
    assert.deepEqual(await exportFiles(), names);
    // The logit-lens grid as CSV: at the last layer, rank 1 per position is the model's own top-1 prediction.
    await d.page.evaluate(() => {
      const app = window.__seqlens!.app;
      const view = app.views.find((v) => v.id === 'predictions')!;
      const ctl = view.controls(app.env(view)).find((c) => c.id === 'csv');
      if (ctl?.kind === 'select') ctl.set('lens');
    });
    await d.show('predictions');
    const lensReply = await d.exportView();
    const lens = await d.page.evaluate((id) => {
      const sent = (window as unknown as { __exportReplies: { inReplyTo: number; files: { fileName: string; data: Uint8Array }[] }[] }).__exportReplies.find((r) => r.inReplyTo === id);
      const file = sent?.files.find((f) => f.fileName === 'logit-lens.csv');
      return { names: sent?.files.map((f) => f.fileName) ?? [], csv: file ? new TextDecoder().decode(file.data) : '' };
    }, lensReply.inReplyTo);
    assert.ok(lens.names.includes('logit-lens.csv'), lens.names.join(', '));
    const rows = lens.csv.trim().split('\n');
    assert.equal(rows[0], 'layer,position,rank,token,id,p,logit');
    const cells = rows.slice(1).map((r) => { const f = r.split(','); return { layer: Number(f[0]), pos: Number(f[1]), rank: Number(f[2]), id: Number(f.at(-3)) }; });
    const last = Math.max(...cells.map((c) => c.layer));
    const top = (await d.values('predictions'))!.topIds as number[];
    const tokens = (await d.trace()).tokens.length;
    const lastTop1 = cells.filter((c) => c.layer === last && c.rank === 1).sort((a, b) => a.pos - b.pos).map((c) => c.id);
    assert.equal(lastTop1.length, tokens);
    assert.deepEqual(lastTop1, Array.from({ length: tokens }, (_, t) => top[t * 5]), 'lens CSV, last layer: top-1 equals the prediction');
    await d.page.close();
  });

  test('a pin or decoration-mode change sends tokensRescored for the last run, never a second runResult', { skip: !have('transformer') }, async () => {
    const d = await PageDriver.open(browser, harness, 'wasm');
    const res = await d.run(zooRef(harness.origin, 'transformer'), TEXT);
    assert.equal(res.type, 'runResult', JSON.stringify(res));
    const id = res.inReplyTo!;
    const n = (res.tokens as unknown[]).length;
    await d.page.evaluate(() => window.__seqlens!.app.setSel({ pinned: 1 }));
    await d.post({ type: 'setDecorationMode', mode: 'hiddenNorm' });
    await d.page.waitForFunction(() => (window as unknown as { __hostMessages: { type: string }[] }).__hostMessages.filter((m) => m.type === 'tokensRescored').length >= 2);
    const msgs = await d.hostMessages();
    const rescored = msgs.filter((m) => m.type === 'tokensRescored');
    assert.equal(rescored.length, 2);
    for (const r of rescored) {
      assert.equal(webviewToHostProblem(r), undefined, 'the host accepts it');
      assert.equal(r.runId, id, 'it names the run it re-scores');
      assert.equal((r.tokens as unknown[]).length, n);
    }
    // Pinned on token 1 of a causal model: the attention it pays to later tokens is 0.
    const pinned = rescored[0].tokens as { score: number }[];
    assert.equal(rescored[0].decorationMode, 'attention');
    assert.ok(pinned[0].score > 0 || pinned[1].score > 0);
    assert.deepEqual(pinned.slice(2).map((t) => t.score), new Array(n - 2).fill(0));
    assert.equal(rescored[1].decorationMode, 'hiddenNorm');
    assert.equal(msgs.filter((m) => m.inReplyTo === id).length, 1, 'the run was answered once');
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('keyboard: in views without keys of their own the arrows move a pointer that shows the hover text, Enter clicks', { skip: !have('transformer') }, async () => {
    const d = await PageDriver.open(browser, harness, 'wasm');
    assert.equal((await d.run(zooRef(harness.origin, 'transformer'), TEXT)).type, 'runResult');
    for (const view of ['hidden', 'predictions', 'positional']) {
      await d.show(view);
      await d.page.evaluate(() => window.__seqlens!.settled());
      const canvas = d.page.locator(`section.view[data-view="${view}"] canvas.view-canvas`);
      const tip = d.page.locator(`section.view[data-view="${view}"] .view-tip`);
      await canvas.focus();
      const seen = new Set<string>();
      await d.page.keyboard.press('ArrowRight');
      // A redraw between two presses (a layer that arrives, a new box after the tab switch) keeps the tip.
      const before = await tip.innerText();
      await d.page.evaluate((v) => { const a = window.__seqlens!.app; a.hosts[a.views.findIndex((x) => x.id === v)].render(); }, view);
      assert.equal(await tip.innerText(), before, `${view}: a redraw keeps the keyboard pointer's tip`);
      for (let i = 0; i < 12; i++) {
        assert.ok(await tip.isVisible(), `${view}: the tip follows the keyboard pointer`);
        seen.add(await tip.innerText());
        await d.page.keyboard.press(i % 2 ? 'Shift+ArrowDown' : 'Shift+ArrowRight');
      }
      const hits = [...seen].filter((t) => !/nothing here/.test(t));
      assert.ok(hits.length >= 2, `${view}: the keyboard pointer reached what the mouse shows (${JSON.stringify([...seen].slice(0, 4))})`);
      await d.page.keyboard.press('Escape');
      assert.equal(await tip.isVisible(), false, `${view}: Escape hides the tip`);
    }
    await d.page.screenshot({ path: `${OUT}/wasm-keyboard-positional.png` });
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('inspect answers with the architecture; cancel answers with a cancelled error', { skip: !have('transformer') }, async () => {
    const d = await PageDriver.open(browser, harness, 'wasm');
    await d.post({ type: 'inspect', id: 50, model: zooRef(harness.origin, 'transformer') });
    const insp = await d.answer(50);
    assert.equal(insp.type, 'inspectResult');
    assert.equal(insp.architecture, 'transformer-decoder');
    await d.page.locator('#app').screenshot({ path: `${OUT}/wasm-inspector.png` });
    await d.page.evaluate((model) => {
      window.postMessage({ type: 'run', id: 60, model, text: 'let x = 1;' }, '*');
      window.postMessage({ type: 'cancel', id: 60 }, '*');
    }, zooRef(harness.origin, 'lstm'));
    const ans = await d.answer(60);
    assert.equal(ans.type, 'error');
    assert.equal((ans.error as { code: string }).code, 'cancelled');
    // Malformed messages are dropped with a log line, never trusted.
    await d.post({ type: 'run', id: 'x' });
    await d.page.waitForFunction(() => (window as unknown as { __hostMessages: { type: string; message?: string }[] }).__hostMessages.some((m) => m.type === 'log' && /malformed/.test(m.message ?? '')));
    await d.page.close();
  });
});

/** The backend badge's tooltip: why this backend, how many threads, where inference runs. */
const badgeTitle = async (d: PageDriver): Promise<string> => (await d.page.locator('.backend-badge').getAttribute('title')) ?? '';
const WASM_FILE = `/media/ort/${ORT_WASM}.gz`;

describe('backend choice and warm-up on a software WebGPU adapter (SwiftShader)', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, () => {
  let browser: Browser;
  before(async () => { browser = await launch('webgpu'); });
  after(async () => { await browser?.close(); });

  test('Auto runs on WASM and says why; WebGPU chosen explicitly still runs there; warm-up is not redone', { skip: !have('transformer') || !have('rnn') }, async () => {
    const wasmFetches = (): number => harness.requests.filter((p) => p === WASM_FILE).length;
    const before = wasmFetches();
    const d = await PageDriver.open(browser, harness, 'auto');
    // The page started onnxruntime-web before any run: its worker and wasm instance exist.
    const warm = await d.page.evaluate(() => window.__seqlens!.warmUp());
    assert.ok(warm && !warm.error, `warm-up: ${JSON.stringify(warm)}`);
    assert.equal(await d.page.evaluate(() => window.__seqlens!.inWorker()), true, 'onnxruntime-web\'s worker started by the warm-up');
    const res = await d.run(zooRef(harness.origin, 'transformer'), TEXT);
    assert.equal(res.type, 'runResult', JSON.stringify(res));
    assert.equal(res.backend, 'wasm', 'Auto does not run on a software adapter');
    const title = await badgeTitle(d);
    assert.match(title, /^WASM: the only WebGPU adapter is a software one \(SwiftShader\)/, title);
    assert.match(title, /1 thread: the page is not cross-origin isolated/);
    assert.match(title, /inference runs in a worker/);
    // The numbers are WASM's: within 1e-4 of onnxruntime-node.
    assertSameTrace(await d.trace(), await reference('transformer', TEXT), 'transformer (Auto)');
    // Explicit WebGPU on the same software adapter: the user asked, so it runs there.
    await d.page.evaluate(() => window.__seqlens!.app.setBackend('webgpu'));
    const gpu = await d.run(zooRef(harness.origin, 'rnn'), 'let x = 1;');
    assert.equal(gpu.type, 'runResult', JSON.stringify(gpu));
    assert.equal(gpu.backend, 'webgpu', 'explicit WebGPU runs on the software adapter');
    assert.match(await badgeTitle(d), /^WebGPU: chosen in the panel/);
    // Back to Auto: WASM again, and onnxruntime-web was loaded once for the page (one fetch of its wasm).
    await d.page.evaluate(() => window.__seqlens!.app.setBackend('auto'));
    const again = await d.run(zooRef(harness.origin, 'rnn'), 'let x = 1;');
    assert.equal(again.backend, 'wasm');
    assert.equal(wasmFetches() - before, 1, 'the wasm file was fetched once for the page, by the warm-up');
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });
});

describe('warm-up failure and threads (WASM)', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, () => {
  let browser: Browser;
  let isolated: Harness;
  before(async () => { browser = await launch('wasm'); isolated = await startHarness(undefined, TEST_BUNDLE, { crossOriginIsolated: true }); });
  after(async () => { await browser?.close(); await isolated?.close(); });

  test('a failed warm-up is logged and ignored: the first run loads onnxruntime-web itself', { skip: !have('transformer') }, async () => {
    let failed = 0;
    const d = await PageDriver.open(browser, harness, 'wasm', 1100, {
      // The warm-up's fetch of the wasm file fails once; the run's own fetch then succeeds.
      beforeLoad: (page) => page.route(`**${WASM_FILE}`, (route) => (failed++ === 0 ? route.fulfill({ status: 503, body: '' }) : route.continue())),
    });
    const warm = await d.page.evaluate(() => window.__seqlens!.warmUp());
    assert.match(warm?.error ?? '', /HTTP 503/);
    await d.page.waitForFunction(() => (window as unknown as { __hostMessages: { type: string; message?: string }[] }).__hostMessages.some((m) => m.type === 'log' && /warm-up failed/.test(m.message ?? '')));
    const res = await d.run(zooRef(harness.origin, 'transformer'), TEXT);
    assert.equal(res.type, 'runResult', JSON.stringify(res));
    assert.equal(failed, 2, 'the run fetched the wasm file again');
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('a cross-origin isolated page runs onnxruntime-web with threads, in its worker, with the same numbers', { skip: !have('transformer') }, async () => {
    const d = await PageDriver.open(browser, isolated, 'wasm');
    assert.equal(await d.page.evaluate(() => crossOriginIsolated), true, 'COOP + COEP make the harness page cross-origin isolated');
    const threads = await d.page.evaluate(() => Math.min(4, navigator.hardwareConcurrency));
    const res = await d.run(zooRef(isolated.origin, 'transformer'), TEXT);
    assert.equal(res.type, 'runResult', JSON.stringify(res));
    assertSameTrace(await d.trace(), await reference('transformer', TEXT), `transformer (${threads} threads)`);
    const title = await badgeTitle(d);
    assert.match(title, threads > 1 ? new RegExp(`^${threads} threads$`, 'm') : /1 thread: the machine reports one core/, title);
    assert.match(title, /inference runs in a worker/, 'threads and onnxruntime-web\'s worker together');
    // onnxruntime-web's worker plus (threads - 1) wasm threads of its own: it did not fall back to one thread.
    // They all start from the blob: copy of dist/webview-ort.js the page imported (ortWebBackend importFromBlob).
    assert.ok(d.page.workers().filter((w) => w.url().startsWith('blob:')).length >= threads, `workers: ${d.page.workers().map((w) => w.url()).join(', ')}`);
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });
});
