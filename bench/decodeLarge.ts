/**
 * Decode and inspect of a large model (≥ 300 MB): time and peak memory against the file size
 * (goals: under 2 s, peak RSS under 1.5× the file). Each measurement runs in a fresh Node process so
 * peak RSS (getrusage maxrss) belongs to that step alone; an empty process is measured as the floor.
 *
 *   npx tsx bench/decodeLarge.ts [MODEL.onnx] [--reps N]
 * Without MODEL it uses the 350 MB model from bench/make_models.py (generated under .cache/bench/).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { benchModelPath, median, fmt } from './benchSupport.js';

type Mode = 'empty' | 'read' | 'decode' | 'inspect' | 'cli' | 'plan';

interface ChildResult { mode: Mode; ms: number; readMs: number; maxRssMB: number; note: string }

async function child(mode: Mode, path: string): Promise<void> {
  const t0 = performance.now();
  let note = '';
  let readMs = 0;
  if (mode === 'cli') {
    // What `seqlens inspect MODEL` does after start-up: find the model, read it, inspect, format.
    const { loadModel } = await import('../src/node/modelLoader.js');
    const { inspectLoaded, formatInspect } = await import('../src/node/inspectReport.js');
    const r = await inspectLoaded(await loadModel(path));
    readMs = r.timings.readMs;
    note = `${formatInspect(r).split('\n').length} lines of output`;
  } else if (mode !== 'empty') {
    const buf = readFileSync(path);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    readMs = performance.now() - t0;
    if (mode === 'decode') {
      const { decodeModel } = await import('../src/core/onnx/decode.js');
      const m = decodeModel(bytes, path);
      note = `${m.graph?.node.length ?? 0} nodes, ${m.graph?.initializer.length ?? 0} initializers`;
    } else if (mode === 'inspect') {
      const { inspectModel } = await import('../src/core/inspect.js');
      const r = inspectModel(bytes, path);
      note = `${r.architecture.architecture}, ${r.plan.probes.length} probes, ${r.summary.parameterCount} params`;
    } else if (mode === 'plan') {
      const { decodeModel } = await import('../src/core/onnx/decode.js');
      const { instrument } = await import('../src/core/instrument.js');
      const r = instrument(bytes, decodeModel(bytes, path));
      note = `instrumented ${(r.bytes.length / 1e6).toFixed(1)} MB, ${r.plan.probes.length} probes`;
    }
  }
  const ms = performance.now() - t0;
  const result: ChildResult = { mode, ms, readMs, maxRssMB: process.resourceUsage().maxRSS / 1024, note };
  process.stdout.write(JSON.stringify(result) + '\n');
}

function runChild(mode: Mode, path: string): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', mode, path], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChildResult;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { child: { type: 'string' }, reps: { type: 'string', default: '3' } },
});

if (values.child) {
  await child(values.child as Mode, positionals[0]);
} else {
  const path = positionals[0] ?? benchModelPath('transformer-6x384-v100k.onnx', 'large');
  const sizeMB = statSync(path).size / 1e6;
  const reps = Number(values.reps);
  console.log(`decode + inspect of ${path} (${fmt(sizeMB, 1)} MB), fresh process per step, median of ${reps}`);
  const modes: Mode[] = ['empty', 'read', 'decode', 'inspect', 'cli', 'plan'];
  const results = new Map<Mode, ChildResult[]>();
  // Interleave the modes so load on the machine is spread over all of them.
  for (let r = 0; r < reps; r++) for (const m of modes) results.set(m, [...(results.get(m) ?? []), runChild(m, path)]);
  const floor = median((results.get('empty') ?? []).map((x) => x.maxRssMB));
  for (const m of modes) {
    const rs = results.get(m) ?? [];
    const ms = median(rs.map((x) => x.ms));
    const afterRead = median(rs.map((x) => x.ms - x.readMs));
    const rss = median(rs.map((x) => x.maxRssMB));
    console.log(`  ${m.padEnd(8)} total ${fmt(ms, 0).padStart(6)} ms (after read ${fmt(afterRead, 0).padStart(5)} ms), ` +
      `peak RSS ${fmt(rss, 0).padStart(5)} MB = ${fmt(rss / sizeMB, 2)}× file` +
      `${m === 'empty' ? '' : ` (${fmt((rss - floor) / sizeMB, 2)}× above the empty process)`}${rs[0]?.note ? `; ${rs[0].note}` : ''}`);
  }
}
