/**
 * How long code-server takes to show a webview, by where it is, against Sequence Lens's first picture (issue #9's
 * "cold ≤ 1.5× a trivial webview"). Starts code-server with the packaged .vsix (as the E2E does) and times, from
 * the palette command:
 *   1. the server's first window: its first webview (the Markdown preview, or with `--first panel` the Sequence
 *      Lens panel's first run), then the Markdown preview again;
 *   2. `--rounds` fresh windows each for the Markdown preview and for Run Model on Selection (zoo Transformer,
 *      the panel's first picture), alternating: each is the first webview of its window.
 * The E2E compares its cold right-click (the first webview of the server's first window) with the Markdown
 * preview as the first webview of a later window; (1) shows what the first window adds to any webview.
 * Run: node --import tsx bench/firstWebview.ts [--rounds N] [--first markdown|panel]   (prints; asserts nothing)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Frame, Page } from 'playwright-core';
import { prepareScratch } from '../test/e2e/codeServer.js';
import { Workbench, sleep, until } from '../test/e2e/workbench.js';
import { frameWithText } from '../test/e2e/timingReport.js';
import { closeWorkbench, openWorkbench } from '../test/e2e/suiteSupport.js';
import { median } from './benchSupport.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, first: { type: 'string', default: 'markdown' } } });
const STORY = 'The lighthouse keeper counted the ships every evening.';
const TRIVIAL = 'Trivial webview baseline';
const OUT = 'test-results/bench-first-webview';

/** The frame whose page shows a trace of STORY with a drawn canvas (the panel's first picture). */
async function heatmap(page: Page): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    const ok = await f.evaluate((t) => {
      const h = (window as unknown as { __seqlens?: { trace(i?: number): { input?: string } | undefined } }).__seqlens;
      const tr = h?.trace(0);
      return !!tr && typeof tr.input === 'string' && tr.input.startsWith(t.slice(0, 24)) && Array.from(document.querySelectorAll('canvas')).some((c) => c.width > 0 && c.offsetParent !== null);
    }, STORY).catch(() => false);
    if (ok) return f;
  }
  return undefined;
}

/** Where a page's time went, in ms from the command: its document's start, and its marks / script fetches. */
type Parts = Record<string, number>;
const partsLog: { kind: string; total: number; parts: Parts }[] = [];

/** The frame's timeline from the command at `t0` (epoch ms): its start, `seqlens:` marks, and its .js fetches. */
async function timeline(f: Frame, t0: number): Promise<Parts> {
  const raw = await f.evaluate(() => ({
    origin: performance.timeOrigin,
    marks: performance.getEntriesByType('mark').map((m) => [m.name, m.startTime] as const),
    scripts: (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .filter((e) => /\.js(\?|$)/.test(e.name)).map((e) => [e.name.split(/[/?]/).filter(Boolean).find((x) => x.endsWith('.js')) ?? e.name, e.startTime, e.responseEnd] as const),
  }));
  const parts: Parts = { 'page start': raw.origin - t0 };
  for (const [name, at] of raw.marks) if (name.startsWith('seqlens:')) parts[name.slice(8)] = raw.origin + at - t0;
  for (const [name, start, end] of raw.scripts) { parts[`${name} fetch start`] = raw.origin + start - t0; parts[`${name} fetched`] = raw.origin + end - t0; }
  return parts;
}

/** Markdown preview of trivial.md: command → its text shown (ms). */
async function markdown(w: Workbench): Promise<number> {
  await w.openFile('notes/trivial.md');
  await sleep(2000);
  await w.command('Markdown: Open Preview');
  const t0 = w.lastCommandAt;
  const f = await until('the Markdown preview', () => frameWithText(w.page, TRIVIAL), 60_000, 50);
  const total = Date.now() - t0;
  partsLog.push({ kind: 'markdown', total, parts: await timeline(f, t0) });
  return total;
}

/** Run Model on Selection on the zoo Transformer from the palette: command → heatmap (ms). */
async function panel(w: Workbench): Promise<number> {
  await w.openFile('notes/story.txt');
  await w.selectInEditor(1, 1, STORY.length);
  await sleep(2000);
  await w.command('Sequence Lens: Run Model on Selection');
  const t0 = w.lastCommandAt;
  const f = await until('the heatmap', () => heatmap(w.page), 60_000, 50);
  const total = Date.now() - t0;
  partsLog.push({ kind: 'panel', total, parts: await timeline(f, t0) });
  return total;
}

const { scratch, folder } = prepareScratch(OUT, 'seqlens-first-webview-');
writeFileSync(join(folder, 'notes', 'trivial.md'), `# ${TRIVIAL}\n\nOne line of text.\n`);
const opened = await openWorkbench({ folder, scratch, outDir: OUT });
const rows: string[] = [];
try {
  const w = opened.wb;
  await w.page.locator('.statusbar-item', { hasText: 'char-' }).first().waitFor({ timeout: 60_000 });
  const firstIsPanel = values.first === 'panel';
  const first = firstIsPanel ? await panel(w) : await markdown(w);
  rows.push(`server's first window, its first webview: ${firstIsPanel ? 'Sequence Lens panel, first picture' : 'Markdown preview'} ${first} ms`);
  await w.command('View: Close Editor');
  rows.push(`server's first window, the Markdown preview after that: ${await markdown(w)} ms`);
  const times: Record<'markdown' | 'panel', number[]> = { markdown: [], panel: [] };
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const kind of ['markdown', 'panel'] as const) {
      const context = await opened.browser.newContext({ viewport: { width: 1440, height: 900 } });
      try {
        const fresh = new Workbench(await context.newPage(), OUT);
        await fresh.page.goto(`${opened.server.url}?folder=${encodeURIComponent(folder)}`, { timeout: 180_000, waitUntil: 'domcontentloaded' });
        await fresh.waitLoaded();
        await fresh.page.locator('.statusbar-item', { hasText: 'char-' }).first().waitFor({ timeout: 60_000 });
        times[kind].push(kind === 'markdown' ? await markdown(fresh) : await panel(fresh));
      } finally {
        await context.close();
      }
    }
  }
  rows.push(`fresh windows, first webview of each: Markdown preview ${JSON.stringify(times.markdown)} ms, Sequence Lens first picture ${JSON.stringify(times.panel)} ms`);
  rows.push(`ratio Sequence Lens ÷ Markdown (medians, fresh windows): ${(median(times.panel) / median(times.markdown)).toFixed(2)}x`);
  rows.push('each page\'s timeline, ms from the command (fresh windows, in order):');
  for (const { kind, total, parts } of partsLog.slice(2)) {
    rows.push(`  ${kind} ${total}: ${Object.entries(parts).sort((a, b) => a[1] - b[1]).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`);
  }
} finally {
  console.log(rows.join('\n'));
  await closeWorkbench(opened, scratch, OUT);
}
