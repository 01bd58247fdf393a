/**
 * Draws `seqlens bench-story` CSVs with the panel's own "Sequential vs parallel" view, as SVG (the picture
 * in docs/sequential-parallel.md): the same Scene the webview paints, with the light theme's colours.
 *
 *   node --import tsx bench/storyChart.ts OUT.svg FILE.csv [--width 980]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { StoryKind, StoryResult, StoryRow } from '../src/core/bench/storyRows.js';
import type { Architecture } from '../src/core/types.js';
import { SequentialParallelView } from '../webview/views/sequentialParallel.js';
import { toSvg } from '../webview/render/scene.js';
import type { Theme } from '../webview/render/theme.js';
import type { Selection, ViewEnv } from '../webview/views/viewTypes.js';

/** The CSV bench-story writes, back to rows (its cells hold no commas or quotes). */
function readRows(path: string): StoryRow[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((line) => {
    const c = Object.fromEntries(line.split(',').map((v, i) => [cols[i], v]));
    return {
      model: c.model, kind: c.kind as StoryKind, tokens: Number(c.tokens), msTotal: Number(c.ms_total),
      msPerToken: Number(c.ms_per_token), attentionBytes: Number(c.attention_bytes),
      architecture: c.architecture as Architecture, backend: c.backend, repeats: Number(c.repeats),
      ...(c.memory_growth_bytes ? { memoryGrowthBytes: Number(c.memory_growth_bytes) } : {}),
    };
  });
}

/** VS Code's Light+ colours (what theme.ts reads from a light editor). */
function lightTheme(): Theme {
  const chart = ['#1a85ff', '#d18616', '#388a34', '#e51400', '#652d90'];
  return {
    bg: '#ffffff', fg: '#1e1e1e', muted: '#6b6b6b', border: '#d4d4d4', accent: chart[0], pin: chart[1],
    fonts: { ui: 'system-ui, sans-serif', mono: 'monospace' }, seq: new Uint8ClampedArray(1024), div: new Uint8ClampedArray(1024),
    headColor: (i) => chart[i % chart.length], dark: false,
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { width: { type: 'string', default: '980' } } });
  const [out, csv] = positionals;
  if (!out || !csv) throw new Error('usage: node --import tsx bench/storyChart.ts OUT.svg FILE.csv [--width N]');
  const rows = readRows(csv);
  const result: StoryResult = { backend: rows[0]?.backend ?? '', models: [], rows, notes: [] };
  const view = new SequentialParallelView(async (req) => {
    for (const r of rows) req.onRow(r);
    return result;
  });
  const env: ViewEnv = {
    theme: lightTheme(), sel: {} as Selection, setSel: () => undefined, open: () => undefined, runs: [],
    width: Number(values.width), height: 460, redraw: () => undefined,
  };
  await view.start(env);
  writeFileSync(out, toSvg(view.scene(env)) + '\n');
  process.stdout.write(`wrote ${out}\n`);
}

void main();
