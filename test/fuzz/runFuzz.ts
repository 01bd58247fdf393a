/**
 * The fuzz runner. Cases (seed, index) are spread over three lanes that run side by side:
 *   inprocess  a worker thread calling the core (inspect, instrument, tokenize, manifest, .npy);
 *   trace      a child process running traceModel on onnxruntime-web's WASM backend;
 *   cli        one `seqlens` process per case (the current src/cli.ts, bundled like dist/cli.mjs).
 * Every case has a time bound; a case that overruns is reported as a timeout and its worker or
 * process is killed and replaced, never left running. The report counts outcomes per target, names
 * the slowest cases and lists every failure with its reproducer.
 *
 *   npm run fuzz -- --n 10000                 the long run (seed 1); --minutes M stops starting cases after M minutes
 *   npm run fuzz -- --seed 7 --case 1234      one case again, with its recipe and stack
 *   npm run fuzz -- --case 1234 --save out/   ... and its files written to out/case-1234/
 */
import { Worker } from 'node:worker_threads';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Corpus, ROOT } from './corpus.js';
import { TARGETS, laneOf, makeCase, reproducer, targetOf, type FuzzCase, type Lane, type Target } from './cases.js';
import { OUTCOMES, PASSING, isOneSentence, type CaseOutcome, type CaseRequest, type Outcome } from './outcome.js';
import { writeCaseFiles } from './targets.js';

export interface FuzzOptions {
  seed: number;
  /** Number of cases, indices first .. first + n - 1. */
  n: number;
  first?: number;
  /** Run exactly these case indices instead. */
  cases?: number[];
  only?: readonly Target[];
  /** Per-case time bound for each lane, ms. */
  timeouts?: Partial<Record<Lane, number>>;
  cli?: 'bundle' | 'dist' | 'source';
  /** Write the files of every failing case here (case-<index>/). */
  saveDir?: string;
  /** Wall-clock budget: no case starts after it (the report says how many ran). */
  maxMinutes?: number;
  log?: (line: string) => void;
}

export interface TargetStats {
  cases: number;
  totalMs: number;
  outcomes: Record<Outcome, number>;
}

export interface FuzzReport {
  seed: number;
  /** Cases run, and cases asked for (fewer ran when the wall-clock budget ended the run). */
  cases: number;
  requested: number;
  wallMs: number;
  cli: string;
  machine: string;
  outcomes: Record<Outcome, number>;
  byTarget: Record<string, TargetStats>;
  /** SeqLensError codes seen (CLI errors count as 'cli'). */
  codes: Record<string, number>;
  slowest: CaseOutcome[];
  failures: CaseOutcome[];
  longestMessage?: { index: number; target: Target; length: number; message: string };
}

/**
 * Wall-clock bounds, generous so that a loaded machine does not fail the tier (the heaviest honest case,
 * `seqlens trace` of the seq2seq Transformer, takes 5 s of CPU and ran 120 s at a load average of 30):
 * a hang runs past any of them.
 */
export const DEFAULT_TIMEOUTS: Record<Lane, number> = { inprocess: 60_000, trace: 180_000, cli: 300_000 };

const TRACE_RESTART_RSS_MB = 3000;
const TRACE_RESTART_EVERY = 300;

const emptyOutcomes = (): Record<Outcome, number> => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;

/** A worker thread or child process that runs cases one at a time and can be killed and replaced. */
class CaseHost {
  private endpoint?: {
    send: (m: CaseRequest) => void;
    kill: () => void;
  };
  private starting?: Promise<void>;
  private pending?: (m: CaseOutcome | { outcome: 'crash'; message: string }) => void;
  private stderrTail = '';
  private served = 0;
  private generation = 0;
  /** Scratch folders of the hosts started so far, removed by dispose(). */
  private readonly scratch: string[] = [];

  constructor(private readonly lane: 'inprocess' | 'trace') {}

  private start(): Promise<void> {
    this.starting ??= new Promise<void>((resolveReady, rejectReady) => {
      const entry = fileURLToPath(new URL('./caseWorker.ts', import.meta.url));
      // A killed host's late 'exit' must not touch its replacement.
      const generation = ++this.generation;
      const current = (): boolean => generation === this.generation;
      let ready = false;
      const onMessage = (m: unknown): void => {
        if (!current()) return;
        if (m === 'ready') {
          ready = true;
          resolveReady();
          return;
        }
        const p = this.pending;
        this.pending = undefined;
        p?.(m as CaseOutcome);
      };
      const onExit = (why: string): void => {
        if (!current()) return;
        this.generation++;
        this.endpoint = undefined;
        this.starting = undefined;
        if (!ready) rejectReady(new Error(`fuzz ${this.lane} host did not start: ${why} ${this.stderrTail}`));
        const p = this.pending;
        this.pending = undefined;
        p?.({ outcome: 'crash', message: `${why}${this.stderrTail ? `; stderr: ${this.stderrTail.trim().slice(-600)}` : ''}` });
      };
      this.stderrTail = '';
      this.served = 0;
      const scratch = mkdtempSync(join(tmpdir(), `seqlens-fuzz-${this.lane}-`));
      this.scratch.push(scratch);
      if (this.lane === 'inprocess') {
        // tsx must be registered inside the thread before the .ts entry is imported.
        const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })`;
        const w = new Worker(boot, { eval: true, workerData: { lane: 'inprocess', scratch }, resourceLimits: { maxOldGenerationSizeMb: 1536 }, stderr: true });
        w.stderr.on('data', (d: Buffer) => { if (current()) this.stderrTail = (this.stderrTail + d.toString()).slice(-2000); });
        w.on('message', onMessage);
        w.on('error', (e) => onExit(`worker error: ${e.message}`));
        w.on('exit', (code) => onExit(`worker exited with code ${code}`));
        this.endpoint = { send: (m) => w.postMessage(m), kill: () => void w.terminate() };
      } else {
        const child: ChildProcess = fork(entry, [scratch], {
          execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        });
        child.stderr?.on('data', (d: Buffer) => { if (current()) this.stderrTail = (this.stderrTail + d.toString()).slice(-2000); });
        child.on('message', onMessage);
        child.on('exit', (code, signal) => onExit(`trace process exited (${signal ?? `code ${code}`})`));
        this.endpoint = { send: (m) => child.send(m), kill: () => child.kill('SIGKILL') };
      }
    });
    return this.starting;
  }

  async run(req: CaseRequest, timeoutMs: number): Promise<CaseOutcome | { outcome: 'timeout' | 'crash'; message: string; ms: number }> {
    await this.start();
    const endpoint = this.endpoint;
    if (!endpoint) return { outcome: 'crash', message: `${this.lane} host exited before the case started`, ms: 0 };
    const t0 = performance.now();
    const result = await new Promise<CaseOutcome | { outcome: 'timeout' | 'crash'; message: string }>((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        resolve({ outcome: 'timeout', message: `no result after ${timeoutMs} ms; the ${this.lane} host was killed` });
        this.close();
      }, timeoutMs);
      this.pending = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      endpoint.send(req);
    });
    this.served++;
    if ('rssMb' in result && this.lane === 'trace' && ((result.rssMb ?? 0) > TRACE_RESTART_RSS_MB || this.served >= TRACE_RESTART_EVERY)) {
      // WebAssembly memory never shrinks: start a fresh process rather than carry one case's peak into the next.
      this.close();
    }
    return 'index' in result ? result : { ...result, ms: performance.now() - t0 };
  }

  close(): void {
    const e = this.endpoint;
    this.generation++;
    this.endpoint = undefined;
    this.starting = undefined;
    this.pending = undefined;
    e?.kill();
  }

  /** Ends the host and removes every scratch folder it used. */
  dispose(): void {
    this.close();
    for (const dir of this.scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The `seqlens` the CLI lane runs. 'bundle' (default): src/cli.ts bundled here with the options
 * esbuild.mjs uses for dist/cli.mjs, so the cases run the current source at the shipped start-up cost
 * without depending on `npm run build`; 'dist': dist/cli.mjs as built; 'source': src/cli.ts through tsx.
 */
export async function cliCommand(mode: 'bundle' | 'dist' | 'source' = 'bundle'): Promise<{ argv: string[]; label: string }> {
  if (mode === 'dist') return { argv: [join(ROOT, 'dist', 'cli.mjs')], label: 'dist/cli.mjs' };
  if (mode === 'source') return { argv: ['--import', 'tsx', join(ROOT, 'src', 'cli.ts')], label: 'src/cli.ts via tsx' };
  // Inside node_modules so that onnxruntime (external, as in dist/) resolves from the repository.
  const outfile = join(ROOT, 'node_modules', '.cache', 'seqlens-fuzz', 'cli.mjs');
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'cli.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'es2022',
    external: ['onnxruntime-node', 'onnxruntime-web'], logLevel: 'error',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return { argv: [outfile], label: 'src/cli.ts bundled like dist/cli.mjs' };
}

/** One `seqlens` process for the case; its exit status and stderr say how it ended. */
async function runCli(c: FuzzCase, cli: string[], dir: string, timeoutMs: number): Promise<CaseOutcome> {
  writeCaseFiles(c, dir);
  const args = c.target === 'cli-inspect'
    ? ['inspect', join(dir, c.entry), '--json']
    : ['trace', join(dir, c.entry), '--backend', 'wasm', '--text-file', join(dir, 'fuzz-text.txt'), '--max-tokens', '48', '--json'];
  const base = { index: c.index, target: c.target, origin: c.origin, steps: c.steps };
  const t0 = performance.now();
  const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }>((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => { if (stdout.length < 1 << 24) stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < 1 << 20) stderr += d.toString(); });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  const ms = performance.now() - t0;
  if (r.timedOut) return { ...base, ms, outcome: 'timeout', message: `seqlens ran past ${timeoutMs} ms and was killed` };
  if (r.signal) return { ...base, ms, outcome: 'crash', message: `seqlens died of ${r.signal}: ${r.stderr.slice(-600)}` };
  if (r.code === 0) {
    try {
      JSON.parse(r.stdout);
      return { ...base, ms, outcome: 'ok' };
    } catch {
      return { ...base, ms, outcome: 'other-error', code: 'Invariant', message: `exit 0 but stdout is not JSON: ${r.stdout.slice(0, 300)}` };
    }
  }
  const lines = r.stderr.trim().split('\n');
  if (r.code === 1 && lines.length === 1 && lines[0]!.startsWith('seqlens: ')) {
    const message = lines[0]!.slice('seqlens: '.length);
    if (message.startsWith('unexpected error')) return { ...base, ms, outcome: 'other-error', code: 'cli', message };
    return { ...base, ms, outcome: isOneSentence(message) ? 'seqlens-error' : 'bad-message', code: 'cli', message };
  }
  const uncaught = lines.some((l) => /^\s+at /.test(l));
  return {
    ...base, ms, outcome: r.code === 1 && !uncaught ? 'bad-message' : r.code === 1 || r.code === 2 ? 'other-error' : 'crash',
    code: `exit ${r.code}`, message: r.stderr.trim().slice(0, 2000),
  };
}

export function machineDescription(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.log ?? (() => undefined);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const first = opts.first ?? 0;
  const indices = opts.cases ?? Array.from({ length: opts.n }, (_, i) => first + i);
  const queues: Record<Lane, number[]> = { inprocess: [], trace: [], cli: [] };
  for (const i of indices) {
    const t = targetOf(opts.seed, i);
    if (opts.only && !opts.only.includes(t)) continue;
    queues[laneOf(t)].push(i);
  }
  const total = queues.inprocess.length + queues.trace.length + queues.cli.length;
  const corpus = new Corpus();
  const cli = queues.cli.length ? await cliCommand(opts.cli) : { argv: [], label: 'not used' };
  const scratch = mkdtempSync(join(tmpdir(), 'seqlens-fuzz-cli-'));
  const results: CaseOutcome[] = [];
  const t0 = performance.now();
  const deadline = opts.maxMinutes === undefined ? Infinity : t0 + opts.maxMinutes * 60_000;
  let lastLog = t0;
  const record = (r: CaseOutcome): void => {
    results.push(r);
    if (!PASSING.has(r.outcome)) {
      log(`FAIL ${r.outcome} case ${r.index} (${r.target}, ${r.origin}): ${r.message ?? ''}`.slice(0, 400));
      if (opts.saveDir) writeCaseFiles(makeCase(opts.seed, r.index, corpus), join(opts.saveDir, `case-${r.index}`));
    }
    const now = performance.now();
    if (now - lastLog > 30_000) {
      lastLog = now;
      log(`${results.length}/${total} cases, ${((now - t0) / 1000).toFixed(0)} s`);
    }
  };
  /** A timeout or crash knows only the index: the case is rebuilt here to say what it was. */
  const describe = (index: number, r: { outcome: 'timeout' | 'crash'; message: string; ms: number }): CaseOutcome => {
    const c = makeCase(opts.seed, index, corpus);
    return { index, target: c.target, origin: c.origin, steps: c.steps, outcome: r.outcome, message: r.message, ms: r.ms };
  };
  const hostLane = async (lane: 'inprocess' | 'trace'): Promise<void> => {
    if (!queues[lane].length) return;
    const host = new CaseHost(lane);
    try {
      for (const index of queues[lane]) {
        if (performance.now() > deadline) break;
        const r = await host.run({ seed: opts.seed, index }, timeouts[lane]);
        record('index' in r ? r : describe(index, r));
      }
    } finally {
      host.dispose();
    }
  };
  const cliLane = async (): Promise<void> => {
    for (const index of queues.cli) {
      if (performance.now() > deadline) break;
      const c = makeCase(opts.seed, index, corpus);
      record(await runCli(c, cli.argv, join(scratch, 'case'), timeouts.cli));
    }
  };
  try {
    await Promise.all([hostLane('inprocess'), hostLane('trace'), cliLane()]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  results.sort((a, b) => a.index - b.index);
  return summarize(opts.seed, total, results, performance.now() - t0, cli.label);
}

function summarize(seed: number, requested: number, results: CaseOutcome[], wallMs: number, cli: string): FuzzReport {
  const outcomes = emptyOutcomes();
  const byTarget: Record<string, TargetStats> = {};
  const codes: Record<string, number> = {};
  let longest: FuzzReport['longestMessage'];
  for (const r of results) {
    outcomes[r.outcome]++;
    const t = (byTarget[r.target] ??= { cases: 0, totalMs: 0, outcomes: emptyOutcomes() });
    t.cases++;
    t.totalMs += r.ms;
    t.outcomes[r.outcome]++;
    if (r.outcome === 'seqlens-error' && r.code) codes[r.code] = (codes[r.code] ?? 0) + 1;
    if (r.outcome === 'seqlens-error' && r.message && r.message.length > (longest?.length ?? 0)) {
      longest = { index: r.index, target: r.target, length: r.message.length, message: r.message };
    }
  }
  const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 5);
  return {
    seed, cases: results.length, requested, wallMs, cli, machine: machineDescription(), outcomes, byTarget, codes, slowest,
    failures: results.filter((r) => !PASSING.has(r.outcome)), longestMessage: longest,
  };
}

export function describeCase(r: Pick<CaseOutcome, 'index' | 'target' | 'origin' | 'steps'>, seed: number): string {
  return `case ${r.index} [${r.target}] from ${r.origin}: ${r.steps.join(' | ')}\n    reproduce: ${reproducer({ seed, index: r.index })}`;
}

export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  const ran = r.cases < r.requested ? `${r.cases} of ${r.requested} cases (the time budget ended the run)` : `${r.cases} cases`;
  lines.push(`seqlens fuzz: seed ${r.seed}, ${ran} in ${(r.wallMs / 1000).toFixed(1)} s (${r.machine}; CLI: ${r.cli})`);
  const cols = OUTCOMES.filter((o) => r.outcomes[o] > 0 || PASSING.has(o));
  lines.push(`  ${'target'.padEnd(12)}${'cases'.padStart(7)}${cols.map((o) => o.padStart(15)).join('')}${'mean ms'.padStart(10)}`);
  for (const t of TARGETS) {
    const s = r.byTarget[t];
    if (!s) continue;
    lines.push(`  ${t.padEnd(12)}${String(s.cases).padStart(7)}${cols.map((o) => String(s.outcomes[o]).padStart(15)).join('')}${(s.totalMs / s.cases).toFixed(1).padStart(10)}`);
  }
  lines.push(`  ${'all'.padEnd(12)}${String(r.cases).padStart(7)}${cols.map((o) => String(r.outcomes[o]).padStart(15)).join('')}`);
  lines.push(`  SeqLensError codes: ${Object.entries(r.codes).sort((a, b) => b[1] - a[1]).map(([c, k]) => `${c} ${k}`).join(', ') || 'none'}`);
  const s = r.slowest[0];
  if (s) lines.push(`  slowest: ${s.ms.toFixed(0)} ms, ${describeCase(s, r.seed)}`);
  if (r.longestMessage) lines.push(`  longest error message: ${r.longestMessage.length} characters (case ${r.longestMessage.index}): ${r.longestMessage.message}`);
  if (r.failures.length) {
    lines.push(`  ${r.failures.length} FAILURE(S):`);
    for (const f of r.failures.slice(0, 30)) {
      lines.push(`  - ${f.outcome}${f.code ? ` (${f.code})` : ''}: ${(f.message ?? '').split('\n')[0]!.slice(0, 300)}`);
      lines.push(`    ${describeCase(f, r.seed)}`);
      if (f.stack) lines.push(f.stack.split('\n').map((l) => `      ${l}`).join('\n'));
    }
  } else {
    lines.push('  no failures: every case ended in ok or a one-sentence SeqLensError.');
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      first: { type: 'string', default: '0' },
      case: { type: 'string', multiple: true },
      only: { type: 'string' },
      save: { type: 'string' },
      json: { type: 'string' },
      minutes: { type: 'string' },
      cli: { type: 'string', default: 'bundle' },
    },
  });
  const seed = Number(values.seed);
  const only = values.only?.split(',').map((s) => s.trim()) as Target[] | undefined;
  for (const t of only ?? []) if (!(TARGETS as readonly string[]).includes(t)) throw new Error(`--only: unknown target ${t} (${TARGETS.join(', ')})`);
  const cases = values.case?.map(Number);
  if (cases?.length === 1) {
    const c = makeCase(seed, cases[0]!, new Corpus());
    process.stdout.write(`${describeCase(c, seed)}\n    files: ${Object.entries(c.files).map(([k, v]) => `${k} (${v.length} bytes)`).join(', ')}\n`);
    if (values.save) {
      writeCaseFiles(c, join(values.save, `case-${c.index}`));
      process.stdout.write(`    written to ${join(values.save, `case-${c.index}`)}\n`);
    }
  }
  const report = await runFuzz({
    seed, n: Number(values.n), first: Number(values.first), cases, only, saveDir: values.save,
    maxMinutes: values.minutes === undefined ? undefined : Number(values.minutes),
    cli: values.cli as 'bundle' | 'dist' | 'source', log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.failures.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 2;
  });
}
