/**
 * Where the instrumented run's extra time goes, per node: onnxruntime-node's profiler (enableProfiling)
 * on the plain model, the instrumented model asked for its own outputs only, and the instrumented model
 * asked for every probe. Prints, per variant, the wall time of run() in JS, the executor's time, and the
 * kernel time of the model's own nodes and of the added ones (names under `seqlens`), by op type; with
 * --nodes, every node. Nodes inside the cell scan's Loop body are listed apart: the Loop's own time
 * already includes them. The profiler adds a little time to every node, so compare shares, not totals,
 * with bench/instrumentOverhead.ts.
 *
 *   node --import tsx bench/profileProbes.ts media/models/lstm/model.onnx [--reps 200] [--tokens 128] [--nopool] [--nodes]
 */
import { readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '../src/core/onnx/decode.js';
import { instrument } from '../src/core/instrument.js';
import { parseManifest, isSeq2SeqIO } from '../src/core/manifest.js';
import { graphInputs, singleFeeds } from '../src/core/run/feeds.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string', default: '200' },
    tokens: { type: 'string', default: '128' },
    nopool: { type: 'boolean' },
    nodes: { type: 'boolean' },
  },
});
const file = positionals[0];
if (!file) throw new Error('usage: bench/profileProbes.ts MODEL.onnx (a one-file zoo model, beside its manifest.json)');
const bytes = new Uint8Array(readFileSync(file));
const manifest = parseManifest(JSON.parse(readFileSync(join(dirname(file), 'manifest.json'), 'utf8')));
if (isSeq2SeqIO(manifest.io)) throw new Error('one-file models only');
const model = decodeModel(bytes);
const n = Math.min(Number(values.tokens), manifest.maxLength);
const feeds = singleFeeds(graphInputs(model), { ids: manifest.io.ids, mask: manifest.io.mask }, Array.from({ length: n }, (_, i) => i % 20));
const own = model.graph?.output.map((o) => o.name) ?? [];
const { bytes: inst, plan } = instrument(bytes, model, { pooledAttention: !values.nopool });
const probes = [...new Set([...own, ...plan.probes.map((p) => p.name)])];

interface Ev { cat: string; name: string; dur: number; args?: { op_name?: string } }
type Kind = 'orig' | 'added' | 'in loop';
/** Added nodes are named under `seqlens` (fused ones keep the name as a prefix); the scan's body under `/scan_N/`. */
const kindOf = (node: string): Kind => (/\/scan_\d+\//.test(node) ? 'in loop' : node.includes('seqlens') ? 'added' : 'orig');
const ms = (us: number): string => (us / 1000).toFixed(3);

async function profile(label: string, b: Uint8Array, fetches: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'seqlens-prof-'));
  const s = await ort.InferenceSession.create(b, {
    graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: join(dir, 'p'),
  });
  const t = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
  const warmup = 20;
  const reps = Number(values.reps);
  for (let i = 0; i < warmup; i++) await s.run(t, fetches);
  const wall: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await s.run(t, fetches);
    wall.push(performance.now() - t0);
  }
  s.endProfiling();
  await s.release();
  const evs = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')) as Ev[];
  rmSync(dir, { recursive: true });
  const runs = evs.filter((e) => e.name === 'model_run');
  const timed = runs.slice(warmup);
  const exec = evs.filter((e) => e.name === 'SequentialExecutor::Execute').slice(warmup);
  // Kernel times averaged over every run the profile holds (warm-up included: per-node shares, not totals).
  const kernels = evs.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'))
    .map((e) => ({ node: e.name.replace(/_kernel_time$/, ''), op: e.args?.op_name ?? '?', us: e.dur / runs.length }));
  const sum = (k: Kind): number => kernels.filter((e) => kindOf(e.node) === k).reduce((a, e) => a + e.us, 0);
  const group = (key: (e: { node: string; op: string }) => string): [string, number][] => {
    const m = new Map<string, number>();
    for (const e of kernels) m.set(key(e), (m.get(key(e)) ?? 0) + e.us);
    return [...m].sort((a, c) => c[1] - a[1]);
  };
  const med = (xs: number[]): number => [...xs].sort((a, c) => a - c)[xs.length >> 1];
  console.log(`${label}: run() min ${Math.min(...wall).toFixed(3)} med ${med(wall).toFixed(3)} ms; model_run med ${ms(med(timed.map((e) => e.dur)))} ms; ` +
    `executor med ${ms(med(exec.map((e) => e.dur)))} ms; kernels: model's own ${ms(sum('orig'))} ms, added ${ms(sum('added'))} ms` +
    (sum('in loop') ? ` (of which inside the Loop ${ms(sum('in loop'))} ms)` : ''));
  console.log(`   ${group((e) => `${kindOf(e.node)} ${e.op}`).slice(0, 14).map(([k, v]) => `${k} ${ms(v)}`).join(', ')}`);
  if (values.nodes) for (const [k, v] of group((e) => `${e.op} ${e.node}`)) console.log(`     ${ms(v)} ${k}`);
}

console.log(`${file}, ${n} tokens, ${plan.probes.length} probes; kernel times in ms per run`);
await profile('plain', bytes, own);
await profile('instrumented, own outputs', inst, own);
await profile('instrumented, all probes', inst, probes);
