/**
 * Instrumented versus plain run: same model, same input, same process, interleaved (plain, instrumented,
 * plain, ...) so machine load hits both alike; prints each one's time and their ratio (goal ≤ 1.05×).
 * The plain run fetches the model's own outputs; the instrumented run fetches those plus every probe, and
 * both go through the same InferenceBackend adapter the CLI uses (outputs converted to float32).
 *
 *   npx tsx bench/instrumentOverhead.ts [--backend native|wasm] [--reps N] [--rounds N] [--only NAME]
 *       [--threads N (default 1; 0 = onnxruntime's default)] [--clock wall|cpu] [--parts] [--save DIR] [--against DIR]
 * Every zoo model in media/models, plus the 6-layer 384-wide 12-head model at 128 tokens from
 * bench/make_models.py (generated on first use under .cache/bench/; skipped without python3-torch).
 *
 * On a shared machine one median moves with whatever else runs, so each case is measured in `rounds`
 * separate interleaved rounds and the best (lowest) round median is printed, with the ratio of the 10th
 * percentiles over all rounds beside it: the two agree when the machine was quiet for a while.
 * `--clock cpu` times each run by the process's CPU time instead of the wall clock: with one intra-op
 * thread onnxruntime-node computes on the calling thread, so time the process spent descheduled (a
 * machine with more runnable processes than cores) drops out; cache and memory contention remain.
 * `--save DIR` writes each case's instrumented model; `--against DIR` runs such a saved model as a fourth
 * and fifth variant, so an instrumentation change is measured before/after in the same interleaved run.
 * `--parts` adds variants with one part of the instrumentation changed (see PARTS): what each part costs.
 */
import { readFileSync, readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { decodeModel } from '../src/core/onnx/decode.js';
import { instrument, type InstrumentOptions } from '../src/core/instrument.js';
import { parseManifest, isSeq2SeqIO, type ModelManifest } from '../src/core/manifest.js';
import type { HostTensor, InferenceBackend, SessionHandle } from '../src/core/run/backend.js';
import { graphInputs, feedFor, singleFeeds, zerosFor } from '../src/core/run/feeds.js';
import { findSequenceInputs } from '../src/core/run/sequenceInputs.js';
import { getBackend, isBackendName } from '../src/node/backends.js';
import { benchModelPath, median, fmt } from './benchSupport.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    reps: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    save: { type: 'string' },
    against: { type: 'string' },
    clock: { type: 'string', default: 'wall' },
    parts: { type: 'boolean' },
    warmup: { type: 'string', default: '10' },
    // One intra-op thread: on a shared machine, onnxruntime's spinning worker threads make medians swing.
    threads: { type: 'string', default: '1' },
  },
});
if (!isBackendName(values.backend ?? '')) throw new Error('--backend native|wasm');
if (values.clock !== 'wall' && values.clock !== 'cpu') throw new Error('--clock wall|cpu');

/** Now, in milliseconds of the chosen clock (wall, or the process's CPU time). */
function clockNow(): number {
  if (values.clock === 'wall') return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Case {
  label: string;
  bytes: Uint8Array;
  feeds: Record<string, HostTensor>;
  /** Outputs the plain model is asked for. */
  outputs: string[];
  /** The file's part in an encoder-decoder model, planned as the app plans it (instrument()'s `role`). */
  role?: 'encoder' | 'decoder';
  tokens: number;
}

/** 128 characters of the kind of text the zoo was trained on. */
const SAMPLE = 'interface ReadonlyArray<T> {\n    readonly length: number;\n    toString(): string;\n' +
  '    indexOf(searchElement: T, fromIndex?: number): number;\n    join(separator?: string): string;\n}\n';

function charIds(manifestDir: string, vocabRel: string, text: string, n: number): number[] {
  const vocab = JSON.parse(readFileSync(join(manifestDir, vocabRel), 'utf8')) as string[];
  const ids = [...text].map((c) => Math.max(0, vocab.indexOf(c)));
  while (ids.length < n) ids.push(...ids);
  return ids.slice(0, n);
}

async function zooCases(backend: InferenceBackend): Promise<Case[]> {
  const root = 'media/models';
  if (!existsSync(root)) return [];
  const cases: Case[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    if (!existsSync(join(dir, 'manifest.json'))) continue;
    const manifest: ModelManifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const tok = manifest.tokenizer;
    if (!isSeq2SeqIO(manifest.io)) {
      const bytes = new Uint8Array(readFileSync(join(dir, manifest.files.model)));
      const inputs = graphInputs(decodeModel(bytes));
      const n = Math.min(128, manifest.maxLength);
      const ids = tok.type === 'char' ? charIds(dir, tok.vocab, SAMPLE, n) : Array.from({ length: n }, (_, i) => i % 100);
      cases.push({
        label: `${name} (${manifest.architecture}, ${n} tokens)`, bytes, tokens: n,
        feeds: singleFeeds(inputs, { ids: manifest.io.ids, mask: manifest.io.mask }, ids),
        outputs: [manifest.io.logits ?? decodeModel(bytes).graph?.output[0].name ?? 'logits'],
      });
      continue;
    }
    // Encoder-decoder: the encoder over a source, and one decoder step fed the encoder's real output.
    const io = manifest.io;
    const src = '12 March 2019';
    const ids = tok.type === 'char' ? charIds(dir, tok.vocab, src, [...src].length) : [1, 2, 3];
    const encBytes = new Uint8Array(readFileSync(join(dir, manifest.files.encoder)));
    const decBytes = new Uint8Array(readFileSync(join(dir, manifest.files.decoder)));
    const encInputs = graphInputs(decodeModel(encBytes));
    const decInputs = graphInputs(decodeModel(decBytes));
    const encFeeds: Record<string, HostTensor> = { [io.encoder.ids]: feedFor(encInputs, io.encoder.ids, [1, ids.length], ids) };
    if (io.encoder.mask) encFeeds[io.encoder.mask] = feedFor(encInputs, io.encoder.mask, [1, ids.length], ids.map(() => 1));
    const encOutputs = [io.encoder.outputs, ...(io.encoder.state ? [io.encoder.state] : [])];
    cases.push({ label: `${name} encoder (${ids.length} tokens)`, bytes: encBytes, feeds: encFeeds, outputs: encOutputs, tokens: ids.length, role: 'encoder' });
    const plainEnc = await backend.createSession(encBytes);
    const encOut = await plainEnc.run(encFeeds, encOutputs);
    await plainEnc.dispose();
    const decFeeds: Record<string, HostTensor> = {};
    const prefix = io.decoder.tokensMode === 'prefix' ? [io.bos, 3, 4, 5] : [io.bos];
    decFeeds[io.decoder.tokens] = feedFor(decInputs, io.decoder.tokens, [1, prefix.length], prefix);
    const enc = encOut[io.encoder.outputs];
    if (io.decoder.encoderOut) decFeeds[io.decoder.encoderOut] = { type: 'float32', dims: enc.dims, data: enc.data };
    if (io.decoder.stateIn) {
      const s = io.encoder.state ? encOut[io.encoder.state] : undefined;
      decFeeds[io.decoder.stateIn] = s ? { type: 'float32', dims: s.dims, data: s.data } : zerosFor(decInputs, io.decoder.stateIn);
    }
    if (io.decoder.srcMask) decFeeds[io.decoder.srcMask] = feedFor(decInputs, io.decoder.srcMask, [1, ids.length], ids.map(() => 1));
    const decOutputs = [io.decoder.logits, ...(io.decoder.stateOut ? [io.decoder.stateOut] : []), ...(io.decoder.attention ? [io.decoder.attention] : [])];
    cases.push({ label: `${name} decoder step (${io.decoder.tokensMode})`, bytes: decBytes, feeds: decFeeds, outputs: decOutputs, tokens: prefix.length, role: 'decoder' });
  }
  return cases;
}

function bigCase(): Case {
  const path = benchModelPath('transformer-6x384.onnx', 'overhead');
  const bytes = new Uint8Array(readFileSync(path));
  const inputs = graphInputs(decodeModel(bytes));
  const io = findSequenceInputs(inputs, path);
  const ids = Array.from({ length: 128 }, (_, i) => (i * 7919) % 16000);
  return {
    label: `transformer-6x384 (6 layers, 384 wide, 12 heads, ${(bytes.length / 1e6).toFixed(0)} MB, 128 tokens)`,
    bytes, feeds: singleFeeds(inputs, io, ids), outputs: ['logits'], tokens: 128,
  };
}

/** q-quantile of a sample (0 = min). */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))];
}

/** A file name for a case's saved instrumented model. */
const fileOf = (label: string): string => `${label.split(' (')[0].replace(/[^\w.-]+/g, '_')}.onnx`;

/**
 * `--parts`: the instrumentation with one part changed, each timed beside the rest, so the cost of a part
 * is the difference of two ratios (time variants of the graph: onnxruntime's own profiler distorts nodes
 * inside a Loop, bench/profileProbes.ts). Variants that change nothing for a model are left out.
 */
const PARTS: { label: string; opts: InstrumentOptions }[] = [
  { label: 'hidden states only (no gates, no cell)', opts: { recurrent: { gates: false } } },
  { label: 'LSTM cell by the auxiliary LSTM node', opts: { recurrent: { cellVia: 'affine' } } },
  { label: 'no pooled attention overviews', opts: { pooledAttention: false } },
];

/** One timed variant: a session and what a run fetches. */
interface Arm { label: string; run: () => Promise<unknown> }

async function measure(backend: InferenceBackend, c: Case, reps: number, warmup: number, rounds: number): Promise<void> {
  const decoded = decodeModel(c.bytes);
  const { bytes: instrumented, plan } = instrument(c.bytes, decoded, { role: c.role });
  const probeNames = plan.probes.map((p) => p.name);
  if (values.save) {
    mkdirSync(values.save, { recursive: true });
    writeFileSync(join(values.save, fileOf(c.label)), instrumented);
    writeFileSync(join(values.save, `${fileOf(c.label)}.probes.json`), JSON.stringify(probeNames));
  }
  const sessions: SessionHandle[] = [];
  const open = async (b: Uint8Array): Promise<SessionHandle> => {
    const s = await backend.createSession(b);
    sessions.push(s);
    return s;
  };
  const withProbes = (names: readonly string[]): string[] => [...new Set([...c.outputs, ...names])];
  const plain = await open(c.bytes);
  const inst = await open(instrumented);
  const arms: Arm[] = [
    { label: 'plain', run: () => plain.run(c.feeds, c.outputs) },
    { label: 'instrumented', run: () => inst.run(c.feeds, withProbes(probeNames)) },
    // The instrumented graph asked only for the model's own outputs: onnxruntime still runs the added nodes,
    // so this separates the cost of computing probes from the cost of handing them back.
    { label: 'graph only', run: () => inst.run(c.feeds, c.outputs) },
  ];
  const saved = values.against ? join(values.against, fileOf(c.label)) : '';
  if (saved && existsSync(saved)) {
    const before = await open(new Uint8Array(readFileSync(saved)));
    const names = JSON.parse(readFileSync(`${saved}.probes.json`, 'utf8')) as string[];
    arms.push({ label: 'against', run: () => before.run(c.feeds, withProbes(names)) }, { label: 'against graph only', run: () => before.run(c.feeds, c.outputs) });
  }
  for (const part of values.parts ? PARTS : []) {
    const v = instrument(c.bytes, decoded, { ...part.opts, role: c.role });
    if (v.bytes.length === instrumented.length && v.bytes.every((x, k) => x === instrumented[k])) continue;
    const s = await open(v.bytes);
    arms.push({ label: part.label, run: () => s.run(c.feeds, withProbes(v.plan.probes.map((p) => p.name))) });
  }
  const all: number[][] = arms.map(() => []);
  const best: number[] = arms.map(() => Infinity);
  const perRound = Math.max(1, Math.round(reps / rounds));
  for (let round = 0; round < rounds; round++) {
    const times: number[][] = arms.map(() => []);
    for (let r = 0; r < warmup + perRound; r++) {
      // Rotate the order so no variant always runs right after another on a warmer cache.
      for (let k = 0; k < arms.length; k++) {
        const which = (k + r) % arms.length;
        const t0 = clockNow();
        await arms[which].run();
        const dt = clockNow() - t0;
        if (r >= warmup) times[which].push(dt);
      }
    }
    arms.forEach((_, k) => {
      best[k] = Math.min(best[k], median(times[k]));
      all[k].push(...times[k]);
    });
  }
  for (const s of sessions) await s.dispose();
  const at = (label: string): number => arms.findIndex((a) => a.label === label);
  const ratio = (k: number): string => `${fmt(best[k] / best[0], 3)}× (p10 ${fmt(quantile(all[k], 0.1) / quantile(all[0], 0.1), 3)}×)`;
  console.log(`${c.label}\n  probes ${plan.probes.length} (${[...new Set(plan.probes.map((p) => p.kind))].join(', ')}), ` +
    `${rounds} × ${perRound} reps: plain ${fmt(best[0], 3)} ms, instrumented ${fmt(best[1], 3)} ms, ratio ${ratio(1)}, graph only ${ratio(2)}`);
  if (at('against') > 0) {
    console.log(`  --against ${values.against}: instrumented ${fmt(best[at('against')], 3)} ms, ratio ${ratio(at('against'))}, graph only ${ratio(at('against graph only'))}`);
  }
  for (const part of PARTS) if (at(part.label) > 0) console.log(`  ${part.label}: ${ratio(at(part.label))}`);
}

const backend = await getBackend(values.backend as 'native' | 'wasm', { threads: Number(values.threads) || undefined });
const wanted = (label: string): boolean => !values.only || label.includes(values.only);
const cases = (await zooCases(backend)).filter((c) => wanted(c.label));
if (wanted('transformer-6x384')) {
  // The generated model needs Debian's python3-torch; without it the zoo figures still stand on their own.
  try {
    cases.push(bigCase());
  } catch (e) {
    console.log(`transformer-6x384 skipped: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
}
console.log(`instrumented / plain run, backend ${backend.name} (${values.threads} thread(s)), ${values.clock} clock, interleaved, best of ${values.rounds} round medians ` +
  `and 10th percentiles (${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
for (const c of cases) {
  const reps = values.reps ? Number(values.reps) : c.bytes.length > 20e6 ? 60 : 300;
  await measure(backend, c, reps, Number(values.warmup), Math.max(1, Number(values.rounds)));
}
