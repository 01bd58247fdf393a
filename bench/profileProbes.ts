/**
 * Where the instrumented run's extra time goes, per node: onnxruntime-node's profiler (enableProfiling)
 * on the plain model, the instrumented model asked for its own outputs only, and the instrumented model
 * asked for every probe. Prints, per variant, the wall time of run() in JS, the executor's time, and the
 * kernel time of the original nodes and of the added ones (by op type).
 *
 *   node --import tsx bench/profileProbes.ts media/models/lstm/model.onnx [--reps 200] [--tokens 128]
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

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
  reps: { type: 'string', default: '200' }, tokens: { type: 'string', default: '128' }, nopool: { type: 'boolean' }, nodes: { type: 'boolean' },
} });
const file = positionals[0];
const bytes = new Uint8Array(readFileSync(file));
const manifest = parseManifest(JSON.parse(readFileSync(join(dirname(file), 'manifest.json'), 'utf8')));
if (isSeq2SeqIO(manifest.io)) throw new Error('one-file models only');
const model = decodeModel(bytes);
const n = Math.min(Number(values.tokens), manifest.maxLength);
const feeds = singleFeeds(graphInputs(model), { ids: manifest.io.ids, mask: manifest.io.mask }, Array.from({ length: n }, (_, i) => i % 20));
const own = model.graph!.output.map((o) => o.name);
const { bytes: inst, plan } = instrument(bytes, model, { pooledAttention: !values.nopool });
const probes = [...new Set([...own, ...plan.probes.map((p) => p.name)])];
const origNodes = new Set(model.graph!.node.map((nd, i) => nd.name || `#${i}`));

interface Ev { cat: string; name: string; dur: number; args?: { op_name?: string } }
async function profile(label: string, b: Uint8Array, fetches: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'seqlens-prof-'));
  const s = await ort.InferenceSession.create(b, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: join(dir, 'p') });
  const t = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
  const reps = Number(values.reps);
  for (let i = 0; i < 20; i++) await s.run(t, fetches);
  const wall: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); await s.run(t, fetches); wall.push(performance.now() - t0); }
  s.endProfiling();
  await s.release();
  const evs = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')) as Ev[];
  rmSync(dir, { recursive: true });
  const runs = evs.filter((e) => e.name === 'model_run').slice(20);
  const exec = evs.filter((e) => e.name === 'SequentialExecutor::Execute').slice(20);
  const kernels = evs.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const total = (pred: (e: Ev) => boolean): number => kernels.filter(pred).reduce((a, e) => a + e.dur, 0) / (runs.length + 20);
  const by = new Map<string, number>();
  for (const e of kernels) {
    const node = e.name.replace(/_kernel_time$/, '');
    const key = `${origNodes.has(node) ? 'orig' : 'added'} ${e.args?.op_name ?? '?'}`;
    by.set(key, (by.get(key) ?? 0) + e.dur / (runs.length + 20));
  }
  const med = (xs: number[]): number => [...xs].sort((a, c) => a - c)[xs.length >> 1];
  console.log(`${label}: run() min ${Math.min(...wall).toFixed(3)} med ${med(wall).toFixed(3)} ms; model_run med ${(med(runs.map((e) => e.dur)) / 1000).toFixed(3)} ms; ` +
    `executor med ${(med(exec.map((e) => e.dur)) / 1000).toFixed(3)} ms; kernels orig ${(total((e) => origNodes.has(e.name.replace(/_kernel_time$/, ''))) / 1000).toFixed(3)} ms, ` +
    `added ${(total((e) => !origNodes.has(e.name.replace(/_kernel_time$/, ''))) / 1000).toFixed(3)} ms`);
  console.log('   ' + [...by].sort((a, c) => c[1] - a[1]).slice(0, 14).map(([k, v]) => `${k} ${(v / 1000).toFixed(3)}`).join(', '));
  if (values.nodes) {
    const per = new Map<string, number>();
    for (const e of kernels) per.set(`${e.args?.op_name ?? '?'} ${e.name.replace(/_kernel_time$/, '')}`, (per.get(`${e.args?.op_name ?? '?'} ${e.name.replace(/_kernel_time$/, '')}`) ?? 0) + e.dur / (runs.length + 20));
    for (const [k, v] of [...per].sort((a, c) => c[1] - a[1])) console.log(`     ${(v / 1000).toFixed(4)} ${k}`);
  }
}
console.log(`${file}, ${n} tokens, ${plan.probes.length} probes`);
await profile('plain', bytes, own);
await profile('instrumented, own outputs', inst, own);
await profile('instrumented, all probes', inst, probes);
