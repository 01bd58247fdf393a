/**
 * Instrumented versus plain run: same model, same input, same process, interleaved (plain, instrumented,
 * plain, ...) so machine load hits both alike; prints each one's time and their ratio (goal ≤ 1.05×).
 * The plain run fetches the model's own outputs; the instrumented run fetches those plus every probe, and
 * both go through the same InferenceBackend adapter the CLI uses (outputs converted to float32).
 *
 *   npx tsx bench/instrumentOverhead.ts [--backend native|wasm] [--reps N] [--rounds N] [--only NAME]
 *       [--threads N (default 1; 0 = onnxruntime's default)] [--save DIR] [--against DIR]
 * Every zoo model in media/models, plus the 6-layer 384-wide 12-head model at 128 tokens from
 * bench/make_models.py (generated on first use under .cache/bench/; skipped without python3-torch).
 *
 * On a shared machine one median moves with whatever else runs, so each case is measured in `rounds`
 * separate interleaved rounds and the best (lowest) round median is printed, with the ratio of the 10th
 * percentiles over all rounds beside it: the two agree when the machine was quiet for a while.
 * `--save DIR` writes each case's instrumented model; `--against DIR` runs such a saved model as a fourth
 * and fifth variant, so an instrumentation change is measured before/after in the same interleaved run.
 */
import { readFileSync, readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { decodeModel } from '../src/core/onnx/decode.js';
import { instrument } from '../src/core/instrument.js';
import { parseManifest, isSeq2SeqIO, type ModelManifest } from '../src/core/manifest.js';
import type { HostTensor, InferenceBackend, SessionHandle } from '../src/core/run/backend.js';
import { graphInputs, feedFor, singleFeeds, findSequenceInputs, zerosFor } from '../src/core/run/feeds.js';
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
    warmup: { type: 'string', default: '10' },
    // One intra-op thread: on a shared machine, onnxruntime's spinning worker threads make medians swing.
    threads: { type: 'string', default: '1' },
  },
});
if (!isBackendName(values.backend ?? '')) throw new Error('--backend native|wasm');

interface Case {
  label: string;
  bytes: Uint8Array;
  feeds: Record<string, HostTensor>;
  /** Outputs the plain model is asked for. */
  outputs: string[];
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
    cases.push({ label: `${name} encoder (${ids.length} tokens)`, bytes: encBytes, feeds: encFeeds, outputs: encOutputs, tokens: ids.length });
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
    cases.push({ label: `${name} decoder step (${io.decoder.tokensMode})`, bytes: decBytes, feeds: decFeeds, outputs: decOutputs, tokens: prefix.length });
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

type Variant = 'p' | 'i' | 'o' | 'bi' | 'bo';

/** q-quantile of a sample (0 = min). */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))];
}

/** A file name for a case's saved instrumented model. */
const fileOf = (label: string): string => `${label.split(' (')[0].replace(/[^\w.-]+/g, '_')}.onnx`;

async function measure(backend: InferenceBackend, c: Case, reps: number, warmup: number, rounds: number): Promise<void> {
  const { bytes: instrumented, plan } = instrument(c.bytes, decodeModel(c.bytes));
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
  const plain = await open(c.bytes);
  const inst = await open(instrumented);
  const fetchInst = [...new Set([...c.outputs, ...probeNames])];
  const runs: Partial<Record<Variant, () => Promise<unknown>>> = {
    p: () => plain.run(c.feeds, c.outputs),
    i: () => inst.run(c.feeds, fetchInst),
    // The instrumented graph asked only for the model's own outputs: onnxruntime still runs the added nodes,
    // so this separates the cost of computing probes from the cost of handing them back.
    o: () => inst.run(c.feeds, c.outputs),
  };
  const saved = values.against ? join(values.against, fileOf(c.label)) : '';
  if (saved && existsSync(saved)) {
    const before = await open(new Uint8Array(readFileSync(saved)));
    const names = JSON.parse(readFileSync(`${saved}.probes.json`, 'utf8')) as string[];
    const fetchBefore = [...new Set([...c.outputs, ...names])];
    runs.bi = () => before.run(c.feeds, fetchBefore);
    runs.bo = () => before.run(c.feeds, c.outputs);
  }
  const variants = Object.keys(runs) as Variant[];
  const all: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
  const best: Record<string, number> = Object.fromEntries(variants.map((v) => [v, Infinity]));
  const perRound = Math.max(1, Math.round(reps / rounds));
  for (let round = 0; round < rounds; round++) {
    const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
    for (let r = 0; r < warmup + perRound; r++) {
      // Rotate the order so no variant always runs right after another on a warmer cache.
      for (let k = 0; k < variants.length; k++) {
        const which = variants[(k + r) % variants.length];
        const t0 = performance.now();
        await (runs[which] as () => Promise<unknown>)();
        const dt = performance.now() - t0;
        if (r >= warmup) times[which].push(dt);
      }
    }
    for (const v of variants) {
      best[v] = Math.min(best[v], median(times[v]));
      all[v].push(...times[v]);
    }
  }
  for (const s of sessions) await s.dispose();
  const p10 = (v: Variant): number => quantile(all[v], 0.1);
  const line = (i: Variant, o: Variant): string =>
    `ratio ${fmt(best[i] / best.p, 3)}× (graph only ${fmt(best[o] / best.p, 3)}×), p10 ${fmt(p10(i) / p10('p'), 3)}× (${fmt(p10(o) / p10('p'), 3)}×)`;
  console.log(`${c.label}\n  probes ${plan.probes.length} (${[...new Set(plan.probes.map((p) => p.kind))].join(', ')}), ` +
    `${rounds} × ${perRound} reps: plain ${fmt(best.p, 3)} ms, instrumented ${fmt(best.i, 3)} ms, ${line('i', 'o')}`);
  if (runs.bi) console.log(`  --against ${values.against}: instrumented ${fmt(best.bi, 3)} ms, ${line('bi', 'bo')}`);
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
console.log(`instrumented / plain run, backend ${backend.name} (${values.threads} thread(s)), interleaved, best of ${values.rounds} round medians ` +
  `and 10th percentiles (${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
for (const c of cases) {
  const reps = values.reps ? Number(values.reps) : c.bytes.length > 20e6 ? 60 : 300;
  await measure(backend, c, reps, Number(values.warmup), Math.max(1, Number(values.rounds)));
}
