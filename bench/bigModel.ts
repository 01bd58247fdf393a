/**
 * Big models (issue #10), measured on the 0.5B-shaped decoder of bench/makeBigDecoder.ts (2.5 GB of fp32
 * weights in 170 files beside model.onnx, Qwen3's tokenizer.json) with the real native backend (NativeHost,
 * its worker thread running onnxruntime-node), printed as one table:
 *
 * - a cold native trace at 128 and at 512 tokens of README.md: the parts the trace reports (fetch, decode,
 *   plan, instrument, sessionCreate, tokenize, run, extract), the worker → host transfer of the result, and
 *   the host's wall clock from request to result;
 * - the peak resident memory of the whole process (host and worker thread share it): the largest of
 *   process.memoryUsage().rss sampled every 50 ms, and /proc/self/status VmHWM, as a multiple of the model's
 *   files (goal: ≤ 2.5× at 512 tokens);
 * - cancel while the session is created and while onnxruntime runs: abort → the promise settling, and the
 *   resident memory at the abort, 2 s after, and once the worker is shut down;
 * - native against onnxruntime-web's WASM build on the zoo Transformer at 128 tokens: the run alone, median
 *   of 10 warm runs each, interleaved.
 *
 * Each cold trace and each cancel runs in a fresh Node process of its own (this script with --child), so
 * that its peak memory and its "cold" are its own; the parent prints the table.
 * Run: npm run bench:big     (node --import tsx bench/bigModel.ts [MODEL_DIR] [--only cold|cancel|wasm])
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeHost, type NativeModelSpec } from '../src/node/nativeHost.js';
import { getBackend } from '../src/node/backends.js';
import { LoadedModel } from '../src/core/run/loadedModel.js';
import { parseManifest } from '../src/core/manifest.js';
import { bigDecoderDir, makeBigDecoder } from './makeBigDecoder.js';
import { fmt, median } from './benchSupport.js';

const WORKER = resolve('src/node/nativeWorkerTsx.mjs');
const SELF = fileURLToPath(import.meta.url);
const TEXT = readFileSync('README.md', 'utf8');
const MB = 1e6;
const PARTS = ['fetch', 'decode', 'plan', 'instrument', 'sessionCreate', 'tokenizer', 'tokenize', 'run', 'extract'] as const;

/** Resident memory of the whole process, sampled every 50 ms; VmHWM (the kernel's peak) beside it. */
class MemorySampler {
  peak = 0;
  private timer?: NodeJS.Timeout;

  start(): void {
    // Resets VmHWM to the current RSS (Linux ≥ 4.0), so the kernel's peak is this measurement's.
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      // Not Linux, or not allowed: VmHWM then counts from the process start.
    }
    this.peak = process.memoryUsage().rss;
    this.timer = setInterval(() => this.sample(), 50);
  }

  sample(): number {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  stop(): { sampled: number; hwm: number } {
    clearInterval(this.timer);
    this.sample();
    return { sampled: this.peak, hwm: vmHwm() };
  }
}

function vmHwm(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function bigSpec(dir: string): NativeModelSpec {
  return {
    id: `bench:${dir}`, label: 'decoder-0.5b', files: { model: join(dir, 'model.onnx') },
    tokenizerFiles: { 'tokenizer.json': join(dir, 'tokenizer.json') },
  };
}

interface ColdResult {
  tokens: number;
  timings: Record<string, number>;
  hostMs: number;
  baseline: number;
  peak: number;
  hwm: number;
  after: number;
  warnings: string[];
  probes: number;
  attention: number;
  deferred: number;
}

/** A cold trace in this (fresh) process: a new host, its first request. */
async function cold(dir: string, tokens: number): Promise<ColdResult> {
  const host = new NativeHost({ workerPath: WORKER });
  const mem = new MemorySampler();
  const baseline = process.memoryUsage().rss;
  mem.start();
  const t0 = performance.now();
  const run = await host.trace({ model: bigSpec(dir), text: TEXT, maxTokens: tokens });
  const hostMs = performance.now() - t0;
  await sleep(200);
  const { sampled, hwm } = mem.stop();
  const after = process.memoryUsage().rss;
  await host.dispose();
  return {
    tokens: run.trace.tokens.length, timings: run.trace.timings, hostMs, baseline, peak: sampled, hwm, after,
    warnings: run.trace.warnings, probes: run.trace.probes.length, attention: run.attention.length, deferred: run.trace.deferred?.length ?? 0,
  };
}

interface CancelResult {
  during: string;
  progress: string;
  settleMs: number;
  code: string;
  before: number;
  atAbort: number;
  after2s: number;
  peak: number;
  afterDispose: number;
  nextRunMs?: number;
}

/**
 * Cancel while the session is created (a cold request, aborted 2 s after "Creating the native session"), or
 * while onnxruntime runs (the session made by a first run; a 512-token run aborted 300 ms after "Running").
 */
async function cancel(dir: string, during: 'session' | 'run'): Promise<CancelResult> {
  const host = new NativeHost({ workerPath: WORKER });
  const spec = bigSpec(dir);
  const before = process.memoryUsage().rss;
  if (during === 'run') await host.trace({ model: spec, text: TEXT, maxTokens: 128 });
  const mem = new MemorySampler();
  mem.start();
  const abort = new AbortController();
  const re = during === 'session' ? /^Creating the/ : /^Running/;
  const delay = during === 'session' ? 2000 : 300;
  let seen = '';
  let abortedAt = 0;
  const p = host.trace({ model: spec, text: TEXT, maxTokens: 512 }, {
    signal: abort.signal,
    onProgress: (m) => {
      if (seen || !re.test(m)) return;
      seen = m;
      setTimeout(() => { abortedAt = performance.now(); abort.abort(); }, delay);
    },
  });
  let code: string;
  try {
    await p;
    code = 'completed';
  } catch (e) {
    code = (e as { code?: string }).code ?? 'error';
  }
  const settleMs = performance.now() - abortedAt;
  const atAbort = mem.sample();
  await sleep(2000);
  const after2s = mem.sample();
  // The next run on the same host (the cancelled work finishes in the background first).
  const t1 = performance.now();
  await host.trace({ model: spec, text: TEXT, maxTokens: 128 });
  const nextRunMs = performance.now() - t1;
  const { sampled } = mem.stop();
  await host.dispose();
  await sleep(2000);
  return {
    during, progress: seen, settleMs, code, before, atAbort, after2s, peak: sampled,
    afterDispose: process.memoryUsage().rss, nextRunMs,
  };
}

/** The zoo Transformer at 128 tokens: onnxruntime-node and onnxruntime-web's WASM, the run alone, warm, interleaved. */
async function wasmVsNative(reps = 10): Promise<Record<string, { runs: number[]; tokens: number }>> {
  const dir = resolve('media/models/transformer');
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  const backends = {
    native: await getBackend('native'),
    'native, 1 thread': await getBackend('native', { threads: 1 }),
    wasm: await getBackend('wasm'),
  };
  const out: Record<string, { runs: number[]; tokens: number }> = {};
  const models = new Map<string, LoadedModel>();
  for (const name of Object.keys(backends)) {
    models.set(name, await LoadedModel.load({ files: async (rel) => new Uint8Array(readFileSync(join(dir, rel))), manifest, name: 'transformer' }));
    out[name] = { runs: [], tokens: 0 };
  }
  for (let i = -1; i < reps; i++) {
    for (const [name, b] of Object.entries(backends)) {
      const t = await models.get(name)!.trace({ backend: b, text: TEXT, maxTokens: 128 });
      if (i < 0) continue; // warm-up (session creation)
      out[name].runs.push(t.timings.run);
      out[name].tokens = t.tokens.length;
    }
  }
  for (const m of models.values()) await m.dispose();
  return out;
}

/** Runs this script with --child in a fresh Node process; its last stdout line is the JSON result. */
function child<T>(args: string[]): T {
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

const mb = (b: number): string => `${fmt(b / MB, 0)} MB`;
const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '—' : v >= 1000 ? `${fmt(v / 1000, 1)} s` : `${fmt(v, 0)} ms`);

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    const [what, dir, arg] = argv.slice(1);
    const r = what === 'cold' ? await cold(dir, Number(arg)) : await cancel(dir, arg as 'session' | 'run');
    process.stdout.write(`\n${JSON.stringify(r)}\n`);
    // onnxruntime's threads would keep a worker-less process alive a moment; nothing is left to wait for.
    process.exit(0);
  }
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const dir = resolve(argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--only') ?? bigDecoderDir());
  const made = await makeBigDecoder(dir);
  console.log(`model: ${made.model}: ${made.layers} layers, d_model ${made.dModel}, ${made.heads}/${made.kvHeads} heads, FFN ${made.ffn}, ` +
    `vocabulary ${made.vocab}, ${fmt(made.parameters / 1e6, 0)} M parameters; graph ${mb(made.modelBytes)} + ${made.externalFiles} weight files ` +
    `${mb(made.externalBytes)} = ${mb(made.totalBytes)} (${made.written ? `${made.written} files written` : 'kept'}, ${ms(made.ms)})`);
  const size = made.totalBytes;
  const x = (b: number): string => `${fmt(b / size, 2)}×`;

  if (!only || only === 'cold') {
    const runs = [128, 512].map((n) => child<ColdResult>(['cold', dir, String(n)]));
    console.log(`\n## Cold native trace (fresh process and worker each; README.md cut to N tokens)\n`);
    console.log(`| | ${runs.map((r) => `${r.tokens} tokens`).join(' | ')} |`);
    console.log(`|---|${runs.map(() => '---:').join('|')}|`);
    for (const k of [...PARTS, 'total']) {
      if (runs.every((r) => r.timings[k] === undefined)) continue;
      console.log(`| ${k} | ${runs.map((r) => ms(r.timings[k])).join(' | ')} |`);
    }
    console.log(`| worker → host transfer | ${runs.map((r) => ms(r.timings.transfer)).join(' | ')} |`);
    console.log(`| host: request → result | ${runs.map((r) => ms(r.hostMs)).join(' | ')} |`);
    console.log(`| probes / attention layers sent / deferred | ${runs.map((r) => `${r.probes} / ${r.attention} / ${r.deferred}`).join(' | ')} |`);
    console.log(`| RSS before (Node + tsx + host) | ${runs.map((r) => mb(r.baseline)).join(' | ')} |`);
    console.log(`| peak RSS, sampled every 50 ms | ${runs.map((r) => `${mb(r.peak)} (${x(r.peak)})`).join(' | ')} |`);
    console.log(`| peak RSS, VmHWM | ${runs.map((r) => `${mb(r.hwm)} (${x(r.hwm)})`).join(' | ')} |`);
    console.log(`| RSS after (model and session kept by the worker) | ${runs.map((r) => mb(r.after)).join(' | ')} |`);
    console.log(`\nmodel files ${mb(size)}; goal: peak ≤ 2.5× at 512 tokens`);
    for (const r of runs) for (const w of r.warnings) console.log(`warning (${r.tokens} tokens): ${w}`);
  }

  if (!only || only === 'cancel') {
    const rows = (['session', 'run'] as const).map((d) => child<CancelResult>(['cancel', dir, d]));
    console.log(`\n## Cancel (512 tokens; fresh process each)\n`);
    console.log('| cancelled during | abort → promise settles | answer | RSS before | at abort | 2 s later | peak | next 128-token run | after dispose |');
    console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.during === 'session' ? 'session creation (2 s in)' : 'onnxruntime run (300 ms in)'}: "${r.progress}" | ${fmt(r.settleMs, 1)} ms | ${r.code} | ` +
        `${mb(r.before)} | ${mb(r.atAbort)} | ${mb(r.after2s)} | ${mb(r.peak)} (${x(r.peak)}) | ${ms(r.nextRunMs)} | ${mb(r.afterDispose)} |`);
    }
  }

  if (!only || only === 'wasm') {
    const r = await wasmVsNative();
    const wasm = median(r.wasm.runs);
    console.log(`\n## Zoo Transformer, the run alone at ${r.wasm.tokens} tokens (median of ${r.wasm.runs.length} warm runs, interleaved, in process)\n`);
    console.log('| backend | run | WASM ÷ this |');
    console.log('|---|---:|---:|');
    for (const [name, v] of Object.entries(r)) console.log(`| ${name} | ${fmt(median(v.runs), 2)} ms | ${fmt(wasm / median(v.runs), 2)}× |`);
  }
}

if (!existsSync('README.md')) throw new Error('run from the repository root');
void main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
