/**
 * End to end, as a user: code-server with the packaged .vsix, Debian's Chromium driven by
 * Playwright, the sample workspace. Screenshots of every step go to test-results/e2e/, and the
 * time from right-click to a rendered heatmap (cold and warm) to test-results/e2e/timings.json.
 * Timings are printed (`# timing ...` lines), never asserted: the zoo Transformer's cold and warm
 * right-click with their parts (timingReport.ts), the same for a cold run of a user-size decoder (80 MB,
 * Qwen3's byte-level BPE tokenizer.json, made by bench/makeBenchDecoder.ts at test time), and the time
 * code-server takes to show a trivial webview (the built-in Markdown preview of a one-line file), as the
 * first webview of a fresh window and again in the warm window, with cold ÷ trivial.
 *
 *   node --import tsx --test test/e2e/extension.test.ts
 *
 * Skips (with the reason) when code-server or Chromium is not installed: bash scripts/setup-code-server.sh.
 */
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, copyFileSync, existsSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Frame } from 'playwright-core';
import { ROOT, missingPrerequisite, prepareScratch } from './codeServer.js';
import { Workbench, sleep, until } from './workbench.js';
import { frameWithText, reportClick } from './timingReport.js';
import { makeBenchDecoder, type BenchDecoder } from '../../bench/makeBenchDecoder.js';
import { closeWorkbench, extensionLogFile, openWorkbench, pageFetchesFromNow, stepWith, type OpenedWorkbench } from './suiteSupport.js';

const OUT = join(ROOT, 'test-results', 'e2e');
const skip = missingPrerequisite();
if (skip) console.log(`# SKIP e2e: ${skip}`);

const STORY_1 = 'The lighthouse keeper counted the ships every evening.';
const STORY_2 = 'lit the lamp early and wrote the number of ships';
/** The heading of the one-line Markdown file whose preview is the trivial-webview baseline. */
const TRIVIAL = 'Trivial webview baseline';

/** In the panel's frame: has the run on `text` (of `model`, when given) finished, with the attention heatmap drawn? */
async function heatmapShown(frame: Frame, text: string, model?: string): Promise<string | false> {
  return frame.evaluate(([t, m]) => {
    type Hook = {
      trace(i?: number): { input?: string; model?: string; tokens?: unknown[] } | undefined;
      viewIds(): string[]; unavailable(id: string): string | undefined; show(id: string): number;
    };
    const h = (window as unknown as { __seqlens?: Hook }).__seqlens;
    const tr = h?.trace(0);
    if (!h || !tr || typeof tr.input !== 'string' || !tr.input.startsWith(t.slice(0, 24))) return false;
    if (m && tr.model !== m) return false;
    if (!h.viewIds().includes('heatmap')) return false;
    const why = h.unavailable('heatmap');
    if (why) return `heatmap unavailable: ${why}`;
    const canvas = Array.from(document.querySelectorAll('canvas')).find((c) => c.width > 0 && c.height > 0 && c.offsetParent !== null);
    return canvas ? `tokens:${tr.tokens?.length ?? 0}` : false;
  }, [text, model] as const);
}

/**
 * Whether the panel shows `runs` runs whose input starts like `text`. A run that failed in the panel
 * (its error is not a cancel by a newer run) ends the wait at once with the panel's message.
 */
async function runShown(frame: Frame, text: string, runs = 1): Promise<number | false> {
  const state = await frame.evaluate(([t, n]) => {
    type Hook = { trace(i?: number): { input?: string } | undefined; error(): string | undefined };
    const h = (window as unknown as { __seqlens?: Hook }).__seqlens;
    for (let i = 0; i < n; i += 1) {
      const tr = h?.trace(i);
      if (!tr || typeof tr.input !== 'string' || !tr.input.startsWith(t.slice(0, 24))) return { shown: false, error: h?.error() };
    }
    return { shown: true, error: undefined };
  }, [text, runs] as const);
  if (state.shown) return runs;
  if (state.error) throw new RunFailed(state.error);
  return false;
}

class RunFailed extends Error {}

/** Waits for runShown; a run that failed in the panel fails the wait at once. */
async function waitRun(frame: Frame, what: string, text: string, runs = 1, timeoutMs = 120_000): Promise<void> {
  const outcome = await until(what, async () => {
    try {
      return (await runShown(frame, text, runs)) && 'shown';
    } catch (e) {
      if (e instanceof RunFailed) return e;
      throw e;
    }
  }, timeoutMs, 100);
  if (outcome instanceof RunFailed) throw new Error(`${what} failed in the panel: ${outcome.message}`);
}

describe('Sequence Lens in code-server (packaged .vsix)', { skip, timeout: 25 * 60_000 }, () => {
  let opened: OpenedWorkbench | undefined;
  let wb: Workbench;
  let scratch: string;
  let folder: string;
  let bench: BenchDecoder | undefined;
  const timings: Record<string, number | string | string[]> = {};

  /**
   * Waits until Select Model lists `name` (the registry rescans after a file watcher event), leaving the
   * quick pick open. The list is filtered by the name: it is virtual, so a row below its fold is not in the DOM.
   * code-server's file watcher has dropped an event on a loaded machine (CI): after 30 s the step does what a
   * user would, Sequence Lens: Refresh Models, and says so.
   */
  const modelListed = async (name: string, timeoutMs: number): Promise<void> => {
    const start = Date.now();
    let refreshed = false;
    await until(`${name} in Select Model`, async () => {
      if (!refreshed && Date.now() - start > 30_000) {
        refreshed = true;
        console.log(`# ${name} not listed 30 s after its files were written: no watcher event reached the registry; refreshing by hand`);
        await wb.command('Sequence Lens: Refresh Models');
      }
      await wb.command('Sequence Lens: Select Model');
      await wb.quickPickRows('Sequence Lens: Select Model');
      await wb.page.locator('.quick-input-widget input').fill(name);
      await sleep(300);
      if ((await wb.page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).some((r) => r.includes(name))) return true;
      await wb.page.keyboard.press('Escape');
      return false;
    }, timeoutMs, 1000);
  };

  /** A test step that leaves a screenshot of the workbench, and what the panel and host saw, when it fails. */
  const step = stepWith(() => ({ wb, scratch }));

  before(async () => {
    ({ scratch, folder } = prepareScratch(OUT, 'seqlens-e2e-'));
    // The user-size decoder, made now (seeded, about 3 s) outside the workspace: its step copies it in.
    bench = makeBenchDecoder(join(scratch, 'bench-decoder'), { fileName: 'bench-decoder.onnx' });
    console.log(`# bench decoder: ${(bench.modelBytes / 1e6).toFixed(1)} MB (${bench.layers} layers, d_model ${bench.dModel}, ` +
      `${bench.heads} heads, vocabulary ${bench.vocab}), tokenizer.json ${(bench.tokenizerBytes / 1e6).toFixed(1)} MB, made in ${Math.round(bench.ms)} ms`);
    // The native worker reads this file before each run: 'exit' makes it stop mid-run (the kill step below).
    process.env.SEQLENS_NATIVE_FAULT_FILE = join(scratch, 'native-fault');
    opened = await openWorkbench({ folder, scratch, outDir: OUT, settings: { 'editor.hover.delay': 200 } });
    wb = opened.wb;
    timings.vsixBytes = statSync(opened.vsix).size;
  });

  after(async () => {
    writeFileSync(join(OUT, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    console.log(`# e2e timings: ${JSON.stringify(timings)}`);
    await closeWorkbench(opened, scratch, OUT);
  });

  step('activates: the status bar names the default model', async () => {
    const item = wb.page.locator('.statusbar-item', { hasText: 'char-transformer' }).first();
    await item.waitFor({ timeout: 60_000 });
    await wb.screenshot('workbench');
  });

  step('right-click > Run Model on Selection shows the attention heatmap and colours the text (cold)', async () => {
    await wb.openFile('notes/story.txt');
    await wb.selectInEditor(1, 1, STORY_1.length);
    await wb.screenshot('selection');
    const t0 = await wb.contextMenu('Run Model on Selection');
    const frame = await wb.webviewFrame('panel', 60_000);
    const shown = await until('the heatmap of the first run', () => heatmapShown(frame, STORY_1), 180_000, 50);
    const shownAt = Date.now();
    timings.coldRightClickToHeatmapMs = shownAt - t0;
    timings.coldMenuEntryToHeatmapMs = shownAt - wb.lastMenuChosenAt;
    timings.coldParts = await reportClick('zoo Transformer, cold (first webview of the window)', {
      frame, t0, menuAt: wb.lastMenuChosenAt, shownAt, logFile: extensionLogFile(scratch), modelLabel: 'char-transformer',
    });
    await wb.resizePanel(520);
    assert.ok(!shown.startsWith('heatmap unavailable'), shown);
    assert.equal(shown, `tokens:${STORY_1.length}`, 'one character token per selected character');
    // Auto sends a new window's first run native while the page's onnxruntime-web loads; the page loads the model behind it.
    timings.coldBackend = await frame.evaluate(() => (window as unknown as { __seqlens: { trace(): { backend?: string } | undefined } }).__seqlens.trace()?.backend ?? 'unknown');
    const warm = await frame.evaluate(() => (window as unknown as { __seqlens: { warmUp(): Promise<unknown> } }).__seqlens.warmUp());
    console.log(`# timing   the page's onnxruntime-web warm-up, finished after the run was shown: ${JSON.stringify(warm)}`);
    timings.backend = await frame.evaluate(() => (window as unknown as { __seqlens: { backend(): string | undefined } }).__seqlens.backend() ?? 'unknown');
    // Inference runs in onnxruntime-web's worker (a blob: worker under the webview's CSP), off the UI thread.
    const inWorker = await frame.evaluate(() => (window as unknown as { __seqlens: { inWorker(): boolean } }).__seqlens.inWorker());
    timings.inferenceInWorker = String(inWorker);
    assert.equal(inWorker, true, 'onnxruntime-web runs in its worker inside the VS Code webview');
    const ranges = await until('decorations in the editor', async () => (await wb.decoratedRanges()) || false, 30_000);
    assert.ok(ranges > 0);
    await wb.screenshot('heatmap-and-decorations');

    // Hover a coloured character (Monaco shows no hover over a live selection: collapse it first).
    const p = await wb.selectionPoint();
    await wb.page.mouse.click(p.x + 50, p.y);
    const hover = wb.page.locator('.monaco-hover', { hasText: 'Sequence Lens' }).first();
    await until('the token hover', async () => {
      await wb.page.mouse.move(p.x + 52, p.y + 1);
      await sleep(200);
      await wb.page.mouse.move(p.x + 54, p.y + 2);
      return hover.waitFor({ timeout: 2000 }).then(() => true, () => false);
    }, 20_000, 500);
    assert.match(await hover.innerText(), /char-transformer · token \d+\/54/);
    await wb.screenshot('token-hover');
  });

  step('runs again on other text (warm)', async () => {
    await wb.page.mouse.move(5, 5);
    await wb.selectInEditor(2, 1, STORY_2.length);
    const t0 = await wb.contextMenu('Run Model on Selection');
    const frame = await wb.webviewFrame('panel');
    const shown = await until('the heatmap of the second run', () => heatmapShown(frame, STORY_2), 120_000, 50);
    const shownAt = Date.now();
    timings.warmRightClickToHeatmapMs = shownAt - t0;
    timings.warmParts = await reportClick('zoo Transformer, warm', {
      frame, t0, menuAt: wb.lastMenuChosenAt, shownAt, logFile: extensionLogFile(scratch), modelLabel: 'char-transformer',
    });
    assert.equal(shown, `tokens:${STORY_2.length}`);
    await until('decorations of the second run', async () => (await wb.decoratedRanges()) || false, 30_000);
    await wb.screenshot('warm-run');
  });

  step('the panel comes back after being hidden', async () => {
    await wb.command('View: Hide Panel');
    await wb.page.locator('.part.panel').first().waitFor({ state: 'hidden', timeout: 10_000 });
    await wb.command('Sequence Lens: Open Panel');
    const frame = await wb.webviewFrame('panel', 60_000);
    const shown = await until('the restored heatmap', () => heatmapShown(frame, STORY_2), 120_000, 100);
    assert.equal(shown, `tokens:${STORY_2.length}`);
    await wb.screenshot('panel-restored');
    await wb.openFile('notes/story.txt');
  });

  step('a run asked for while the panel is hidden wins over restoring the last one', async () => {
    await wb.command('View: Hide Panel');
    await wb.page.locator('.part.panel').first().waitFor({ state: 'hidden', timeout: 10_000 });
    await wb.selectInEditor(1, 1, STORY_1.length);
    await wb.contextMenu('Run Model on Selection');
    const frame = await wb.webviewFrame('panel', 60_000);
    await waitRun(frame, 'the run on the first line', STORY_1);
    await sleep(1500);
    const input = await frame.evaluate(() => (window as unknown as { __seqlens: { trace(): { input?: string } | undefined } }).__seqlens.trace()?.input);
    assert.ok(input?.startsWith(STORY_1.slice(0, 24)), `the panel still shows the requested run, not the restored one (shows "${input?.slice(0, 30)}")`);
    await until('decorations of the run', async () => (await wb.decoratedRanges()) || false, 30_000);
  });

  step('the visualizer opens beside the editor with the last run, runs there, and moves back to the panel', async () => {
    // Whatever happens here, the steps after this one expect the visualizer in the panel.
    let back = false;
    try {
      await wb.command('Sequence Lens: Open Visualizer Beside the Editor');
      const beside = await wb.webviewFrame('panel', 60_000, 'editor');
      // The last run comes along to the new place.
      await until('the last run beside the editor', () => heatmapShown(beside, STORY_1), 120_000, 100);
      await wb.screenshot('visualizer-beside-the-editor');
      // Runs now go there.
      await wb.openFile('notes/story.txt');
      // From the palette (the right-click is the steps above): the editor is narrow now and scrolled sideways.
      await wb.selectInEditor(2, 1, 24);
      await wb.command('Sequence Lens: Run Model on Selection');
      const again = await wb.webviewFrame('panel', 60_000, 'editor');
      assert.equal(await until('the run beside the editor', () => heatmapShown(again, STORY_2), 120_000, 100), 'tokens:24');
      await wb.screenshot('visualizer-beside-the-editor-run');
      // And back: the editor tab closes, the panel shows the same run.
      await wb.command('Sequence Lens: Move Visualizer to the Panel');
      const panel = await wb.webviewFrame('panel', 60_000, 'panel');
      await until('the run back in the panel', () => heatmapShown(panel, STORY_2), 120_000, 100);
      back = true;
      await until('no visualizer left in the editor area', async () => !(await wb.webviewFrame('panel', 1000, 'editor').catch(() => undefined)), 30_000);
      await wb.openFile('notes/story.txt');
    } finally {
      if (!back) await wb.command('Sequence Lens: Move Visualizer to the Panel').catch(() => undefined);
    }
  });

  step('exports the current view into a folder', async () => {
    await wb.clearNotifications();
    await wb.command('Sequence Lens: Export Current View');
    // code-server's own folder dialog (a quick input): accept the workspace folder it proposes.
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 60_000 });
    await wb.screenshot('export-dialog');
    await wb.page.locator('.quick-input-widget .monaco-button', { hasText: 'Export Here' }).first().click()
      .catch(() => wb.page.keyboard.press('Enter'));
    const msg = await wb.waitNotification(/exported \d+ files/);
    const n = Number(/exported (\d+) files/.exec(msg)?.[1]);
    assert.ok(n >= 2, msg);
    timings.exportedFiles = n;
    await wb.openFile('notes/story.txt');
  });

  step('clears the colours when the text changes', async () => {
    assert.ok((await wb.decoratedRanges()) > 0);
    await wb.page.keyboard.press('Control+End');
    await wb.page.keyboard.type('x');
    await until('decorations to clear', async () => (await wb.decoratedRanges()) === 0, 10_000);
    await wb.page.keyboard.press('Control+Z');
    await wb.screenshot('decorations-cleared');
  });

  step('opening a .onnx from the explorer shows the inspector with its architecture', async () => {
    await wb.openFromExplorer('models/no-tokenizer/gru-encoder.onnx');
    const frame = await wb.webviewFrame('inspector', 60_000);
    // The heading names the model and its detected architecture ("gru-encoder — gru").
    const heading = await until('the architecture in the inspector', async () => {
      const t = await frame.evaluate(() => Array.from(document.querySelectorAll('h1, h2, h3')).map((h) => h.textContent ?? '').join(' | '));
      return /gru-encoder\s*[—-]\s*gru\b/i.test(t) ? t : false;
    }, 60_000);
    assert.match(heading, /gru/i);
    await sleep(500);
    await wb.screenshot('inspector-gru');
  });

  step('a corrupt .onnx gives a clear message and nothing breaks', async () => {
    await wb.clearNotifications();
    await wb.openFromExplorer('models/corrupt.onnx');
    const msg = await wb.waitNotification(/not an ONNX model/i);
    assert.match(msg, /corrupt\.onnx/);
    await sleep(500);
    await wb.screenshot('corrupt-onnx');
  });

  step('an empty selection gives a clear message', async () => {
    await wb.clearNotifications();
    await wb.openFile('notes/story.txt');
    await wb.selectInEditor(3, 1, 0);
    await wb.command('Sequence Lens: Run Model on Selection');
    await wb.waitNotification(/selection is empty/i);
    await wb.screenshot('empty-selection');
  });

  step('a model without a tokenizer says what to add', async () => {
    await wb.clearNotifications();
    await wb.command('Sequence Lens: Select Model');
    await wb.pick('gru-encoder');
    // Choosing it already warns; clear that so the run's own message is what is checked.
    await wb.waitNotification(/gru-encoder is selected but cannot run yet/);
    await wb.clearNotifications();
    await wb.openFile('notes/story.txt');
    await wb.selectInEditor(1, 1, STORY_1.length);
    await wb.command('Sequence Lens: Run Model on Selection');
    const msg = await wb.waitNotification(/^Sequence Lens: No tokenizer found for gru-encoder\.onnx/);
    assert.match(msg, /tokenizer\.json/);
    await wb.screenshot('no-tokenizer');
  });

  step('switches model with the quick pick and runs again', async () => {
    await wb.clearNotifications();
    await wb.command('Sequence Lens: Select Model');
    const rows = await wb.quickPickRows('Sequence Lens: Select Model');
    assert.ok(rows.some((r) => /char-lstm/.test(r) && /lstm/.test(r) && /zoo/.test(r)), `quick pick rows: ${rows.join(' | ')}`);
    assert.ok(rows.some((r) => /\bKB|MB\b/.test(r)), 'sizes are shown');
    await wb.screenshot('select-model-quick-pick');
    await wb.pick('char-lstm');
    await wb.page.locator('.statusbar-item', { hasText: 'char-lstm' }).first().waitFor({ timeout: 10_000 });
    await wb.openFile('src/debounce.ts');
    await wb.selectInEditor(11, 3, 'let timer: ReturnType<typeof setTimeout> | undefined;'.length);
    const t0 = await wb.contextMenu('Run Model on Selection');
    const frame = await wb.webviewFrame('panel');
    await waitRun(frame, 'the LSTM run', 'let timer: ReturnType<typeof setTimeout>');
    timings.lstmRightClickToRenderedMs = Date.now() - t0;
    await until('decorations of the LSTM run', async () => (await wb.decoratedRanges()) || false, 30_000);
    await wb.screenshot('lstm-run');
  });

  step('compares two models on the selection', async () => {
    await wb.selectInEditor(10, 1, 'export function debounce'.length);
    await wb.command('Sequence Lens: Compare Two Models on Selection');
    await wb.pick('char-transformer');
    await wb.pick('char-lstm');
    const frame = await wb.webviewFrame('panel');
    await waitRun(frame, 'both runs of the comparison', 'export function debounce', 2);
    const models = await frame.evaluate(() => {
      const h = (window as unknown as { __seqlens: { trace(i?: number): { model?: string } | undefined } }).__seqlens;
      return [h.trace(0)?.model, h.trace(1)?.model];
    });
    assert.deepEqual(models, ['char-transformer', 'char-lstm']);
    await frame.getByText('Compare', { exact: true }).first().click().catch(() => undefined);
    await sleep(500);
    await wb.screenshot('compare');
  });

  step('runs a date through the seq2seq model with attention', async () => {
    await wb.command('Sequence Lens: Select Model');
    await wb.pick('dates-gru-attention');
    await wb.page.locator('.statusbar-item', { hasText: 'dates-gru-attention' }).first().waitFor({ timeout: 10_000 });
    await wb.openFile('notes/dates.txt');
    const date = 'Tuesday, the 3rd of March 1998';
    await wb.selectInEditor(1, 1, date.length);
    await wb.contextMenu('Run Model on Selection');
    const frame = await wb.webviewFrame('panel');
    await waitRun(frame, 'the seq2seq run', date);
    const generated = await frame.evaluate(() => {
      const h = (window as unknown as { __seqlens: { trace(i?: number): { generated?: { text: string }[] } | undefined } }).__seqlens;
      return (h.trace(0)?.generated ?? []).map((t) => t.text).join('');
    });
    timings.seq2seqOutput = generated;
    assert.ok(generated.length > 0, 'the decoder generated tokens');
    await frame.getByText('Encoder-decoder', { exact: true }).first().click().catch(() => undefined);
    await sleep(500);
    await wb.screenshot('seq2seq-dates');
  });

  /**
   * The baseline for the cold run: how long code-server takes to show a trivial webview. The built-in
   * Markdown preview of a one-line file is a real webview (VS Code's webview host page, its service worker,
   * one small script, a message with the rendered HTML) with nothing of the extension's own. It is measured
   * from the palette click to its text in the webview's frame, as the first webview of a fresh window (a new
   * browser context: no service worker yet, as for the cold right-click, which is this window's first
   * webview) and again in this window (service worker already running, as for a warm open).
   */
  const trivialPreview = async (w: Workbench, label: string): Promise<number> => {
    const webviewsBefore = await w.page.locator('iframe.webview').count();
    await w.openFile('notes/trivial.md');
    // The Markdown extension activates on the file's language: wait until it answers (its document symbol
    // shows in the breadcrumbs), so the measured click opens a webview rather than starting an extension.
    const active = await until('the Markdown extension (heading in the breadcrumbs)', async () =>
      w.page.locator('.breadcrumbs-control .monaco-breadcrumb-item', { hasText: TRIVIAL }).first().isVisible(), 60_000, 250)
      .then(() => 'active', () => 'not seen active');
    await sleep(500);
    await w.command('Markdown: Open Preview');
    const t0 = w.lastCommandAt;
    await until('the Markdown preview', () => frameWithText(w.page, TRIVIAL), 60_000, 50);
    const took = Date.now() - t0;
    console.log(`# timing trivial webview (Markdown preview), ${label}: command → text shown ${took} ms ` +
      `(${webviewsBefore} webview(s) in the window before it; Markdown extension ${active} before the click)`);
    return took;
  };

  step('a trivial webview (Markdown preview) and the panel\'s first picture, each the first webview of a fresh window', async () => {
    writeFileSync(join(folder, 'notes', 'trivial.md'), `# ${TRIVIAL}\n\nOne line of text.\n`);
    assert.ok(opened);
    const { browser, server } = opened;
    /** A new window (its own browser context, so its own webview storage) on the workspace, loaded and activated. */
    const freshWindow = async (context: BrowserContext): Promise<Workbench> => {
      const w = new Workbench(await context.newPage(), join(OUT, 'fresh-window'));
      await w.page.goto(`${server.url}?folder=${encodeURIComponent(folder)}`, { timeout: 180_000, waitUntil: 'domcontentloaded' });
      await w.waitLoaded();
      await w.page.locator('.statusbar-item', { hasText: 'char-' }).first().waitFor({ timeout: 60_000 }).catch(() => undefined);
      return w;
    };
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const fresh = await freshWindow(context);
      // As long as the main window had between its load and the cold right-click (activation, status bar).
      await sleep(2000);
      timings.trivialWebviewFreshWindowMs = await trivialPreview(fresh, 'first webview of a fresh window');
      await fresh.screenshot('markdown-preview');
    } finally {
      await context.close();
    }
    // The same for the panel: the first webview of a server's first window takes seconds whatever it shows (the
    // Markdown preview 3.5-4.2 s there, bench/firstWebview.ts), which the cold right-click above pays and this
    // preview does not. So the panel's first picture is also timed as the first webview of a fresh window, from
    // the palette as the preview is (a new window has its own extension host: its native worker starts cold).
    const panelContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const fresh = await freshWindow(panelContext);
      // The steps before chose another model for the workspace. (A chosen model is loaded natively ahead when
      // text is selected; the page's start, not the native run, is what this waits on: see the cold step's log.)
      await fresh.command('Sequence Lens: Select Model');
      await fresh.pick('char-transformer');
      await fresh.page.locator('.statusbar-item', { hasText: 'char-transformer' }).first().waitFor({ timeout: 60_000 });
      await fresh.openFile('notes/story.txt');
      await fresh.selectInEditor(1, 1, STORY_1.length);
      await sleep(2000);
      await fresh.command('Sequence Lens: Run Model on Selection');
      const t0 = fresh.lastCommandAt;
      const frame = await fresh.webviewFrame('panel', 60_000);
      await until('the heatmap in a fresh window', () => heatmapShown(frame, STORY_1), 120_000, 50);
      timings.coldFreshWindowMs = Date.now() - t0;
      await fresh.screenshot('panel-first-picture');
    } finally {
      await panelContext.close();
    }
    const cold = Number(timings.coldRightClickToHeatmapMs);
    const trivial = Number(timings.trivialWebviewFreshWindowMs);
    if (cold > 0 && trivial > 0) {
      timings.coldOverTrivial = Number((cold / trivial).toFixed(2));
      const fromEntry = Number(timings.coldMenuEntryToHeatmapMs);
      console.log(`# timing zoo Transformer cold ÷ trivial webview (both first in their window): ${cold} / ${trivial} ms = ${timings.coldOverTrivial}× ` +
        `from the right-click; ${fromEntry} / ${trivial} ms = ${(fromEntry / trivial).toFixed(2)}× from the menu entry (as the trivial one is from its palette entry)`);
    }
    const fresh = Number(timings.coldFreshWindowMs);
    if (fresh > 0 && trivial > 0) {
      timings.coldFreshWindowOverTrivial = Number((fresh / trivial).toFixed(2));
      console.log(`# timing zoo Transformer's first picture as the first webview of a fresh window (palette command → heatmap) ÷ the trivial one there: ` +
        `${fresh} / ${trivial} ms = ${timings.coldFreshWindowOverTrivial}×`);
    }
  });

  step('a trivial webview (Markdown preview) in this window, for scale', async () => {
    timings.trivialWebviewWarmWindowMs = await trivialPreview(wb, 'in the warm window');
    await wb.screenshot('markdown-preview');
    await wb.command('View: Close Editor');
  });

  step('a user-size decoder (80 MB, a 151k byte-level BPE tokenizer) runs cold from a right-click', async () => {
    assert.ok(bench, 'the bench decoder was made');
    // A user's model folder appears in the workspace: the tokenizer first, so the model is complete when seen.
    const dir = join(folder, 'models', 'bench-decoder');
    mkdirSync(dir, { recursive: true });
    copyFileSync(bench.tokenizer, join(dir, 'tokenizer.json'));
    copyFileSync(bench.model, join(dir, 'bench-decoder.onnx'));
    await wb.clearNotifications();
    await modelListed('bench-decoder', 60_000);
    await wb.pick('bench-decoder');
    await wb.page.locator('.statusbar-item', { hasText: 'bench-decoder' }).first().waitFor({ timeout: 10_000 });
    // A file of its own: the steps before may have left story.txt edited when they failed.
    writeFileSync(join(folder, 'notes', 'bench.txt'), `${STORY_1}\n`);
    await wb.openFile('notes/bench.txt');
    await wb.selectInEditor(1, 1, STORY_1.length);
    const t0 = await wb.contextMenu('Run Model on Selection');
    // The panel reloads to read a folder outside its resource roots: find its frame again on each look.
    const outcome = await until('the heatmap of the bench decoder', async () => {
      const f = await wb.webviewFrame('panel', 5000).catch(() => undefined);
      if (!f) return false;
      const s = await heatmapShown(f, STORY_1, 'bench-decoder').catch(() => false as const);
      if (s) return { frame: f, shown: s };
      const error = await f.evaluate(() => (window as unknown as { __seqlens?: { error(): string | undefined } }).__seqlens?.error())
        .catch(() => undefined);
      return error ? new RunFailed(error) : false;
    }, 300_000, 50);
    if (outcome instanceof RunFailed) {
      // Say what the page fetched and when before failing: where the load stopped.
      const f = await wb.webviewFrame('panel', 5000).catch(() => undefined);
      if (f) await reportClick('bench decoder, FAILED', { frame: f, t0, menuAt: wb.lastMenuChosenAt, shownAt: Date.now(), logFile: extensionLogFile(scratch) });
      throw new Error(`the bench decoder's run failed in the panel: ${outcome.message}`);
    }
    const { frame, shown } = outcome;
    const shownAt = Date.now();
    timings.benchDecoderColdRightClickToHeatmapMs = shownAt - t0;
    timings.benchDecoderParts = await reportClick(`bench decoder (${(bench.modelBytes / 1e6).toFixed(1)} MB, vocabulary ${bench.vocab}), cold`, {
      frame, t0, menuAt: wb.lastMenuChosenAt, shownAt, logFile: extensionLogFile(scratch), modelLabel: 'bench-decoder',
    });
    const trivial = Number(timings.trivialWebviewFreshWindowMs);
    if (trivial > 0) console.log(`# timing bench decoder cold ÷ trivial webview: ${((shownAt - t0) / trivial).toFixed(2)}×`);
    assert.ok(!shown.startsWith('heatmap unavailable'), shown);
    assert.match(shown, /^tokens:[1-9]/);
    await wb.screenshot('bench-decoder');
  });

  /** Notifications that report a failure or a cancel (what a replaced run must not show). */
  const failureNotes = async (): Promise<string[]> => (await wb.notifications()).filter((n) => /cancel|fail|error|could not/i.test(n));

  step('two right-clicks in quick succession: the newer run wins, the older one says nothing', async () => {
    // A model of the user's, new to the panel: its first run (page reload for its folder, fetch, session) is slow.
    const dir = join(folder, 'models', 'doomed-gru');
    mkdirSync(dir, { recursive: true });
    for (const f of ['model.onnx', 'vocab.json']) copyFileSync(join(ROOT, 'media', 'models', 'gru', f), join(dir, f));
    const manifest = JSON.parse(readFileSync(join(ROOT, 'media', 'models', 'gru', 'manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, name: 'doomed-gru' }));
    await modelListed('doomed-gru', 180_000);
    await wb.pick('doomed-gru');
    await wb.page.locator('.statusbar-item', { hasText: 'doomed-gru' }).first().waitFor({ timeout: 10_000 });
    await wb.clearNotifications();
    writeFileSync(join(folder, 'notes', 'bench.txt'), `${STORY_1}\n`);
    await wb.openFile('notes/bench.txt');
    await wb.selectInEditor(1, 1, STORY_1.length);
    await wb.contextMenu('Run Model on Selection');
    // At once, another selection and another run.
    const second = STORY_1.slice(4, 40);
    await wb.selectInEditor(1, 5, second.length);
    await wb.command('Sequence Lens: Run Model on Selection');
    const frame = await until('the panel', async () => wb.webviewFrame('panel', 5000).catch(() => undefined), 120_000);
    await until('the second run shown', async () => {
      const f = await wb.webviewFrame('panel', 5000).catch(() => frame);
      return (await runShown(f, second).catch(() => false)) || false;
    }, 180_000, 100);
    await sleep(3000);
    const f = await wb.webviewFrame('panel', 5000);
    const input = await f.evaluate(() => (window as unknown as { __seqlens: { trace(): { input?: string } | undefined } }).__seqlens.trace()?.input);
    assert.equal(input, second, 'the newer run stays shown');
    assert.deepEqual(await failureNotes(), [], 'the replaced run shows no message');
    await until('decorations of the newer run', async () => (await wb.decoratedRanges()) || false, 30_000);
    await wb.screenshot('two-quick-runs');
  });

  step('a model deleted between runs says so in one sentence, and the next run works', async () => {
    rmSync(join(folder, 'models', 'doomed-gru'), { recursive: true, force: true });
    await wb.clearNotifications();
    await wb.openFile('notes/bench.txt');
    await wb.selectInEditor(1, 1, STORY_1.length);
    await wb.command('Sequence Lens: Run Model on Selection');
    const msg = await wb.waitNotification(/no longer exists/);
    assert.match(msg, /doomed-gru/);
    assert.doesNotMatch(msg, /\n|\bat \S+:\d+/);
    await wb.screenshot('deleted-model');
    await wb.clearNotifications();
    await wb.command('Sequence Lens: Run Model on Selection');
    const frame = await wb.webviewFrame('panel', 60_000);
    await until('the next run, on the default model', async () => {
      const f = await wb.webviewFrame('panel', 5000).catch(() => frame);
      return (await heatmapShown(f, STORY_1, 'char-transformer').catch(() => false)) || false;
    }, 180_000, 100);
  });

  /** The workspace's settings (.vscode/settings.json, which the workbench watches), with `extra` merged in. */
  const setSettings = (extra: Record<string, unknown>): void => {
    const dir = join(folder, '.vscode');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'settings.json');
    const now = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> : {};
    writeFileSync(file, JSON.stringify({ ...now, ...extra }, null, 2));
  };

  step('the visualizer closed in the middle of a run says so, and the next run works', async () => {
    let back = false;
    try {
      await wb.clearNotifications();
      // The 80 MB model in a new page beside the editor: its first run fetches it (tens of seconds), so it is
      // still running when the page is closed. In the page, not natively (Auto sends this 80 MB model to the
      // native backend in a remote window, where the run is in the host and the page is only drawn at its end).
      setSettings({ 'sequenceLens.backend': 'wasm' });
      await wb.command('Sequence Lens: Select Model');
      await wb.pick('bench-decoder');
      await wb.openFile('notes/bench.txt');
      await wb.selectInEditor(1, 1, STORY_1.length);
      await wb.command('Sequence Lens: Open Visualizer Beside the Editor');
      await wb.webviewFrame('panel', 60_000, 'editor');
      // The selection in bench.txt is still the last text editor's: run on it from the palette.
      await wb.command('Sequence Lens: Run Model on Selection');
      await sleep(300);
      await wb.screenshot('visualizer-beside-running');
      // A middle click closes an editor tab, as the user's click on its ×.
      await wb.page.locator('.tab', { hasText: 'Sequence Lens' }).first().click({ button: 'middle' });
      const msg = await wb.waitNotification(/closed while it worked/);
      assert.doesNotMatch(msg, /\bat \S+:\d+/);
      await wb.screenshot('visualizer-closed-mid-run');
      await wb.clearNotifications();
      await wb.openFile('notes/bench.txt');
      await wb.selectInEditor(1, 1, STORY_1.length);
      await wb.command('Sequence Lens: Run Model on Selection');
      const beside = await wb.webviewFrame('panel', 60_000, 'editor');
      await until('the next run beside the editor', async () => (await heatmapShown(beside, STORY_1, 'bench-decoder').catch(() => false)) || false, 240_000, 100);
      // Back to Auto before the move: the panel restores this run, natively then (no 80 MB fetch in the page).
      setSettings({ 'sequenceLens.backend': 'auto' });
      await sleep(1000);
      await wb.command('Sequence Lens: Move Visualizer to the Panel');
      back = true;
    } finally {
      setSettings({ 'sequenceLens.backend': 'auto' });
      if (!back) await wb.command('Sequence Lens: Move Visualizer to the Panel').catch(() => undefined);
      // The steps after this one use the zoo Transformer.
      await wb.command('Sequence Lens: Select Model').then(() => wb.pick('char-transformer')).catch(() => undefined);
    }
  });

  step('on the native backend the heatmap is drawn and the page fetches no model bytes', async () => {
    setSettings({ 'sequenceLens.backend': 'native' });
    const frame = await wb.webviewFrame('panel', 60_000);
    await until('the badge says NATIVE', async () => /native/i.test(await frame.evaluate(() => document.querySelector('.backend-badge')?.textContent ?? '')) || false, 90_000, 250);
    // A page run still fetching when the setting changed (the restore after the move to the panel) may finish
    // its fetch after this point: only fetches that start after it belong to the native run.
    const since = await pageFetchesFromNow(frame);
    await wb.openFile('notes/story.txt');
    await wb.selectInEditor(1, 1, STORY_1.length);
    const t0 = await wb.contextMenu('Run Model on Selection');
    const f = await wb.webviewFrame('panel', 60_000);
    // The page already shows a run on this text (on WASM): wait for the native one.
    const shown = await until('the native heatmap', async () => {
      const native = await f.evaluate(() => /native/.test((window as unknown as { __seqlens: { trace(): { backend?: string } | undefined } }).__seqlens.trace()?.backend ?? '')).catch(() => false);
      return native && ((await heatmapShown(f, STORY_1).catch(() => false)) || false);
    }, 180_000, 100);
    timings.nativeRightClickToHeatmapMs = Date.now() - t0;
    const model = await f.evaluate(() => (window as unknown as { __seqlens: { trace(): { model?: string } | undefined } }).__seqlens.trace()?.model);
    console.log(`# timing native backend, ${model} (first native run: worker start, session, run, transfer): right-click → heatmap ${Date.now() - t0} ms`);
    assert.match(String(shown), /^tokens:[1-9]/);
    const page = await f.evaluate(() => ({
      badge: document.querySelector('.backend-badge')?.textContent ?? '',
      backend: (window as unknown as { __seqlens: { trace(): { backend?: string } | undefined } }).__seqlens.trace()?.backend,
      fetched: performance.getEntriesByType('resource').map((e) => ({ name: e.name, start: performance.timeOrigin + e.startTime })),
    }));
    assert.match(page.badge, /NATIVE/);
    assert.match(String(page.backend), /native/);
    const isModel = (u: string): boolean => /\.onnx(_data)?(\?|$)|\/media\/models\//.test(u);
    const late = page.fetched.filter((e) => isModel(e.name) && e.start < since).map((e) => e.name);
    if (late.length) console.log(`# native step: fetches begun before the native run and ended during it: ${late.join(', ')}`);
    const modelBytes = page.fetched.filter((e) => isModel(e.name) && e.start >= since).map((e) => e.name);
    assert.deepEqual(modelBytes, [], 'the page fetched no model file on native');
    await wb.screenshot('native-run');
  });

  step('the native worker stopping mid-run is said in the panel, and the next run works', async () => {
    await wb.clearNotifications();
    writeFileSync(String(process.env.SEQLENS_NATIVE_FAULT_FILE), 'exit');
    await wb.selectInEditor(2, 1, STORY_2.length);
    await wb.command('Sequence Lens: Run Model on Selection');
    const msg = await wb.waitNotification(/native backend stopped/i, 120_000);
    assert.match(msg, /next run starts it again/);
    await wb.screenshot('native-worker-stopped');
    await wb.clearNotifications();
    await wb.command('Sequence Lens: Run Model on Selection');
    const f = await wb.webviewFrame('panel', 60_000);
    await until('the run after the worker stopped', async () => (await heatmapShown(f, STORY_2).catch(() => false)) || false, 180_000, 100);
  });

  // The last step: once onnxruntime-node is known missing, this window's runs all go to the page.
  step('without onnxruntime-node a native run is made in the page and says why', async () => {
    const fault = String(process.env.SEQLENS_NATIVE_FAULT_FILE);
    // A fresh worker is needed (the one running has onnxruntime-node loaded): stop it, then make its successor fail to load it.
    await wb.clearNotifications();
    writeFileSync(fault, 'exit');
    await wb.selectInEditor(1, 1, STORY_1.length);
    await wb.command('Sequence Lens: Run Model on Selection');
    await wb.waitNotification(/native backend stopped/i, 120_000);
    await wb.clearNotifications();
    writeFileSync(fault, 'unavailable');
    await wb.command('Sequence Lens: Run Model on Selection');
    const msg = await wb.waitNotification(/native backend is not available/i, 120_000);
    assert.match(msg, /onnxruntime-node for [\w-]+ is not installed/);
    const f = await wb.webviewFrame('panel', 60_000);
    await until('the page\'s own run', async () => {
      const backend = await f.evaluate(() => (window as unknown as { __seqlens: { trace(): { backend?: string } | undefined } }).__seqlens.trace()?.backend ?? '').catch(() => '');
      return /wasm|webgpu/.test(backend) && ((await heatmapShown(f, STORY_1).catch(() => false)) || false);
    }, 180_000, 100);
    assert.ok(!existsSync(fault), 'the fresh worker read the fault');
    assert.deepEqual((await wb.notifications()).filter((n) => /fail|error/i.test(n)), [], 'no failure is reported');
    await wb.screenshot('native-unavailable');
    setSettings({ 'sequenceLens.backend': 'auto' });
  });
});
