/**
 * "Sequential against parallel" on the real zoo models: a small sweep (16 and 64 tokens, one timed run)
 * on onnxruntime-node and a smaller one on onnxruntime-web's WASM, checked for shape rather than speed
 * (the machine is shared and noisy: no timed assertions). The attention bytes are checked against the
 * model's own graph: every Softmax output is exposed and the Transformer run at T tokens, and the sizes
 * onnxruntime hands back (layers × heads × T × T float32) must equal what the measurement reports. The
 * view draws the measured rows, answers hover and keyboard, and exports the same CSV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { onnx } from '../../src/core/onnx/decode.js';
import { measureStory } from '../../src/core/bench/sequentialParallel.js';
import { parallelWins, storyCsv, storyLengths, STORY_CSV_COLUMNS, type StoryResult, type StoryRow } from '../../src/core/bench/storyRows.js';
import { getBackend } from '../../src/node/backends.js';
import { formatStory, storyZooModels } from '../../src/node/storyReport.js';
import { SequentialParallelView } from '../../webview/views/sequentialParallel.js';
import type { Theme } from '../../webview/render/theme.js';
import type { Selection, ViewEnv } from '../../webview/views/viewTypes.js';

const ZOO = resolve(import.meta.dirname, '..', '..', 'media', 'models');
const have = ['rnn', 'lstm', 'gru', 'transformer'].every((n) => existsSync(join(ZOO, n, 'model.onnx')));
const LENGTHS = [16, 64];

/**
 * Attention bytes at T tokens from the graph itself: every Softmax output becomes a graph output, the
 * model runs on T ids, and the 4-D [batch, heads, T, T] results are summed as float32 bytes. Recurrent
 * models have no such Softmax and come out at 0.
 */
async function graphAttentionBytes(model: string, tokens: number): Promise<number> {
  const proto = onnx.ModelProto.decode(readFileSync(join(ZOO, model, 'model.onnx')));
  const graph = proto.graph;
  assert.ok(graph?.node && graph.output, `${model} has a graph`);
  const softmax = graph.node.filter((n) => n.opType === 'Softmax').map((n) => String(n.output?.[0]));
  if (!softmax.length) return 0;
  for (const name of softmax) graph.output.push(onnx.ValueInfoProto.create({ name }));
  const session = await ortNode.InferenceSession.create(onnx.ModelProto.encode(proto).finish());
  try {
    const ids = new ortNode.Tensor('int64', BigInt64Array.from({ length: tokens }, (_, i) => BigInt(1 + (i % 40))), [1, tokens]);
    const out = await session.run({ [session.inputNames[0]]: ids }, softmax);
    let bytes = 0;
    for (const name of softmax) {
      const dims = out[name].dims;
      // Attention weights: [batch 1, heads, query T, key T].
      assert.equal(dims.length, 4, `${model} ${name} is a 4-D attention tensor`);
      assert.deepEqual([dims[0], dims[2], dims[3]], [1, tokens, tokens], `${model} ${name}: T × T per head`);
      bytes += dims[1] * tokens * tokens * 4;
    }
    return bytes;
  } finally {
    await session.release();
  }
}

/** Reads the CSV the code under test wrote with a plain split (the numbers have no commas or quotes). */
function parseCsv(csv: string): Record<string, string>[] {
  const [head, ...lines] = csv.trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    assert.equal(cells.length, cols.length, `row "${l}" has one cell per column`);
    return Object.fromEntries(cols.map((c, i) => [c, cells[i]]));
  });
}

let native: StoryResult | undefined;

test('storyLengths: powers of two from 16, with the maximum itself', () => {
  assert.deepEqual(storyLengths(2048), [16, 32, 64, 128, 256, 512, 1024, 2048]);
  assert.deepEqual(storyLengths(100), [16, 32, 64, 100]);
  assert.deepEqual(storyLengths(8), [8]);
  assert.throws(() => storyLengths(0));
});

// openingMs 0: the tests check the shape of the results, not the speed, so they skip the engine warm-up.
test('native sweep at 16 and 64 tokens: CSV columns, ascending lengths, positive times, attention bytes from the graph', { skip: !have && 'zoo missing' }, async () => {
  const models = await storyZooModels();
  assert.deepEqual(models.map((m) => m.name), ['rnn', 'lstm', 'gru', 'transformer']);
  const seen: StoryRow[] = [];
  const result = await measureStory({
    backend: await getBackend('native', { threads: 1 }), models, lengths: LENGTHS, repeats: 1, openingMs: 0,
    memory: () => process.memoryUsage().rss, onRow: (r) => seen.push(r),
  });
  native = result;
  assert.equal(result.rows.length, 4 * LENGTHS.length);
  assert.deepEqual(seen, result.rows, 'every row was handed out as it was measured');
  assert.deepEqual(result.models.map((m) => m.kind), ['sequential', 'sequential', 'sequential', 'parallel']);

  const csv = parseCsv(storyCsv(result.rows));
  assert.deepEqual(Object.keys(csv[0]).slice(0, 6), ['model', 'kind', 'tokens', 'ms_total', 'ms_per_token', 'attention_bytes']);
  assert.deepEqual(Object.keys(csv[0]), [...STORY_CSV_COLUMNS]);
  for (const name of ['rnn', 'lstm', 'gru', 'transformer']) {
    const rows = csv.filter((r) => r.model === name);
    const tokens = rows.map((r) => Number(r.tokens));
    assert.deepEqual(tokens, LENGTHS, `${name}: one row per length, ascending`);
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i] > tokens[i - 1]);
    for (const r of rows) {
      const T = Number(r.tokens), total = Number(r.ms_total), per = Number(r.ms_per_token);
      assert.ok(total > 0 && per > 0, `${name} at ${T}: positive times`);
      // Per-token time is the total over T (to the CSV's rounding), not a separate measurement.
      assert.ok(Math.abs(per * T - total) <= 0.01 * total + 0.002, `${name} at ${T}: ${per} × ${T} ≈ ${total}`);
      assert.equal(Number(r.attention_bytes), await graphAttentionBytes(name, T), `${name} at ${T}: attention bytes from the graph`);
      assert.ok(Number(r.memory_growth_bytes) >= 0, `${name} at ${T}: memory growth measured`);
      assert.equal(r.backend, 'native');
      assert.equal(r.kind, name === 'transformer' ? 'parallel' : 'sequential');
    }
  }
  // The Transformer's attention quadruples when the length doubles twice over… sixteen times over 16 → 64.
  const attn = result.rows.filter((r) => r.model === 'transformer').map((r) => r.attentionBytes);
  assert.equal(attn[1] / attn[0], 16);
  // The zoo Transformer computes its positions in the graph: no limit there; its manifest caps the panel at 256.
  const tf = result.models.find((m) => m.name === 'transformer')!;
  assert.equal(tf.graphLimit, undefined);
  assert.equal(tf.manifestMaxLength, 256);
  assert.equal(parallelWins(result.rows).length, LENGTHS.length);
  const table = formatStory(result);
  assert.match(table, /^tokens\s+rnn ms\/tok\s+lstm ms\/tok\s+gru ms\/tok\s+transformer ms\/tok/);
  assert.match(table, /\n16 /);
  assert.match(table, /\n64 /);
});

test('wasm sweep at 16 tokens runs the same four models through the same backend abstraction', { skip: !have && 'zoo missing' }, async () => {
  const result = await measureStory({ backend: await getBackend('wasm'), models: await storyZooModels(), lengths: [16], repeats: 1, openingMs: 0 });
  assert.deepEqual(result.rows.map((r) => [r.model, r.tokens, r.backend]), [
    ['rnn', 16, 'wasm'], ['lstm', 16, 'wasm'], ['gru', 16, 'wasm'], ['transformer', 16, 'wasm'],
  ]);
  for (const r of result.rows) assert.ok(r.msTotal > 0);
  // No memory probe given: no column value invented.
  assert.ok(result.rows.every((r) => r.memoryGrowthBytes === undefined));
  assert.match(storyCsv(result.rows).split('\n')[1], /,$/);
});

test('a cancelled sweep stops with a cancelled error and releases its sessions', { skip: !have && 'zoo missing' }, async () => {
  const abort = new AbortController();
  let disposed = 0;
  const inner = await getBackend('native', { threads: 1 });
  const backend = {
    name: 'native',
    async createSession(bytes: Uint8Array) {
      const s = await inner.createSession(bytes);
      return { ...s, inputNames: s.inputNames, outputNames: s.outputNames, run: s.run.bind(s), dispose: async () => { disposed++; await s.dispose(); } };
    },
  };
  await assert.rejects(measureStory({
    backend, models: await storyZooModels(), lengths: [16, 32], repeats: 1, openingMs: 0, signal: abort.signal,
    onRow: () => abort.abort(),
  }), /cancelled/);
  assert.equal(disposed, 4);
});

function fakeTheme(): Theme {
  const colors = ['#1a85ff', '#d18616', '#89d185', '#e51400', '#b380ff'];
  return {
    bg: '#ffffff', fg: '#1e1e1e', muted: '#777777', border: '#cccccc', accent: '#1a85ff', pin: '#d18616',
    fonts: { ui: 'sans-serif', mono: 'monospace' }, seq: new Uint8ClampedArray(1024), div: new Uint8ClampedArray(1024),
    headColor: (i) => colors[i % colors.length], dark: false,
  };
}

test('the view: Measure fills the chart from the rows, hover and arrows name a point, CSV export equals the CLI\'s', { skip: !have && 'zoo missing' }, async () => {
  const result = native ?? await measureStory({ backend: await getBackend('native', { threads: 1 }), models: await storyZooModels(), lengths: LENGTHS, repeats: 1 });
  let redraws = 0;
  const view = new SequentialParallelView(async (req) => {
    assert.equal(req.maxTokens, 2048);
    for (const r of result.rows) req.onRow(r);
    return result;
  });
  const env: ViewEnv = {
    theme: fakeTheme(), sel: {} as Selection, setSel: () => undefined, open: () => undefined, runs: [],
    width: 900, height: 500, redraw: () => { redraws++; },
  };
  assert.equal(view.unavailable(), undefined, 'shown without a run of the panel');
  const before = view.scene(env);
  assert.ok(before.prims.some((p) => p.k === 'text' && /Press Measure/.test(p.s)));
  const measure = view.controls(env).find((c) => c.id === 'story-measure');
  assert.ok(measure && measure.kind === 'button');
  await view.start(env);
  assert.ok(redraws >= result.rows.length, 'redrawn as rows arrive');
  const scene = view.scene(env);
  // Four time curves, the Transformer's attention curve and, where the sweep read the process's memory
  // (the native sweep above did), the measured memory beside it.
  const measured = result.rows.some((r) => r.memoryGrowthBytes !== undefined);
  assert.equal(scene.prims.filter((p) => p.k === 'path').length, measured ? 6 : 5);
  assert.equal(scene.prims.some((p) => p.k === 'text' && /measured: process memory/.test(p.s)), measured);
  assert.ok(scene.prims.some((p) => p.k === 'text' && /grows with T²/.test(p.s)));
  // A plotted point (the legend's swatches sit above the charts, at the top of the picture).
  const dot = scene.prims.find((p) => p.k === 'circle' && p.y > 70);
  assert.ok(dot && dot.k === 'circle');
  assert.match(view.hover(env, dot.x, dot.y)?.text ?? '', /tokens/);
  assert.ok(view.key(env, { key: 'ArrowRight' } as KeyboardEvent));
  assert.match(view.cursorInfo()?.text ?? '', /^rnn · 16 tokens/);
  assert.ok(view.key(env, { key: 'ArrowUp' } as KeyboardEvent));
  assert.match(view.cursorInfo()?.text ?? '', /^transformer · 16 tokens/);
  assert.equal(view.numbers().csv, storyCsv(result.rows));
});
