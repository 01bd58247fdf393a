/**
 * Makes the walkthrough's step pictures, media/walkthrough/<step>-dark.png and -light.png, from the real
 * views: the webview bundle in headless Chromium (the harness of test/webview/), each step's sample text
 * and zoo model(s) as the walkthrough runs them (src/shared/walkthroughSteps.ts), the step's view shown
 * with the same `showView` message the host sends, then a screenshot in the harness's dark theme and
 * again in its light one (`body.vscode-light`). PNGs above 150 KB are re-encoded with 256 colours
 * (tools/png8.ts).
 *
 *   node --import tsx tools/walkthroughMedia.ts            # every step
 *   node --import tsx tools/walkthroughMedia.ts gates      # some steps
 *
 * Needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium). Step 'parallel': a sweep timed here, on a
 * shared two-core machine, is mostly scheduling noise, so the view is fed the committed careful run,
 * docs/sequential-parallel/wasm-cpu.csv (15 runs per point, CPU clock; see docs/sequential-parallel.md),
 * through its own Measure button, in place of timing the models again.
 */
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ModelRef } from '../src/shared/protocol.js';
import { isWalkthroughStepId, stepRange, WALKTHROUGH_RUN_STEPS, WALKTHROUGH_STEP_IDS, type WalkthroughStepId } from '../src/shared/walkthroughSteps.js';
import { startHarness } from '../test/webview/harnessServer.js';
import { launch, PageDriver } from '../test/webview/pageDriver.js';
import { zooRef } from '../test/webview/zooRefs.js';
import { decodePng, encodePng8 } from './png8.js';
import { ORT_WASM } from '../scripts/ortWasm.mjs';

const OUT = 'media/walkthrough';
const BUNDLE = 'test-results/walkthrough-bundle/webview.js';
const WIDTH = 960, HEIGHT = 620, MAX_BYTES = 150 * 1024;
const STORY_CSV = 'docs/sequential-parallel/wasm-cpu.csv';

/** The rows of a `seqlens bench-story` CSV, as the view's rows (its cells hold no commas or quotes). */
function storyRows(path: string): Record<string, string | number>[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((line) => {
    const c = Object.fromEntries(line.split(',').map((v, i) => [cols[i], v]));
    return {
      model: c.model, kind: c.kind, tokens: Number(c.tokens), msTotal: Number(c.ms_total), msPerToken: Number(c.ms_per_token),
      attentionBytes: Number(c.attention_bytes), architecture: c.architecture, backend: c.backend, repeats: Number(c.repeats),
    };
  });
}

/** The webview bundle as test/webview/buildBundle.ts builds it, in a folder of its own (a running webview test keeps its). */
async function buildBundle(): Promise<void> {
  rmSync(dirname(BUNDLE), { recursive: true, force: true });
  const common = { bundle: true, minify: false, target: 'es2022', logLevel: 'warning', platform: 'browser', format: 'esm' } as const;
  await esbuild.build({ ...common, entryPoints: ['webview/main.ts'], outfile: BUNDLE, loader: { '.css': 'text' } });
  await esbuild.build({ ...common, entryPoints: ['webview/runtime/ortEntry.ts'], outfile: join(dirname(BUNDLE), 'webview-ort.js') });
  await esbuild.build({ ...common, entryPoints: ['webview/workers/pcaWorker.ts'], outfile: join(dirname(BUNDLE), 'webview-pca.js') });
  if (!existsSync(`media/ort/${ORT_WASM}.gz`)) throw new Error('media/ort/ has no onnxruntime-web wasm: run `npm run build` first');
}

async function theme(page: Page, t: 'dark' | 'light'): Promise<void> {
  // The app re-reads the theme when <body>'s class changes, as it does when VS Code switches themes.
  await page.evaluate((light) => document.body.classList.toggle('vscode-light', light), t === 'light');
  await page.waitForTimeout(250);
}

async function shoot(page: Page, file: string): Promise<void> {
  await page.evaluate(() => window.__seqlens!.settled());
  await page.waitForTimeout(100);
  const box = await page.locator('#app').boundingBox();
  if (!box) throw new Error('no #app box');
  await page.screenshot({ path: file, clip: { x: 0, y: 0, width: WIDTH, height: Math.min(HEIGHT, Math.ceil(box.y + box.height) + 8) } });
  if (statSync(file).size > MAX_BYTES) writeFileSync(file, encodePng8(decodePng(readFileSync(file))));
  console.log(`${file}: ${(statSync(file).size / 1024).toFixed(0)} KB`);
}

/** Both themes of the page as it is now. */
async function shootBoth(page: Page, id: WalkthroughStepId): Promise<void> {
  for (const t of ['dark', 'light'] as const) {
    await theme(page, t);
    await shoot(page, `${OUT}/${id}-${t}.png`);
  }
  await theme(page, 'dark');
}

/** Waits until the Sequential vs parallel view's sweep is over (its Measure button is back). */
async function measured(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const app = window.__seqlens!.app;
    const v = app.views.find((x) => x.id === 'sequentialParallel')!;
    return v.controls(app.env(v)).some((c) => c.id === 'story-measure');
  }, undefined, { timeout: 600_000, polling: 1000 });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const w of wanted) if (!isWalkthroughStepId(w)) throw new Error(`no walkthrough step ${w}; steps: ${WALKTHROUGH_STEP_IDS.join(', ')}`);
  const steps = wanted.length ? wanted as WalkthroughStepId[] : [...WALKTHROUGH_STEP_IDS];
  mkdirSync(OUT, { recursive: true });
  await buildBundle();
  const harness = await startHarness(undefined, BUNDLE);
  const browser = await launch('wasm');
  try {
    const d = await PageDriver.open(browser, harness, 'wasm', WIDTH);
    await d.page.setViewportSize({ width: WIDTH, height: HEIGHT });
    const ref = (id: string): ModelRef => zooRef(harness.origin, id.replace(/^zoo:/, ''));
    for (const id of steps) {
      if (id === 'inspect') continue;
      const step = WALKTHROUGH_RUN_STEPS[id];
      const text = readFileSync(`${OUT}/samples/${step.sample}`, 'utf8');
      const r = stepRange(text, step);
      if (!r) throw new Error(`${step.sample} lacks the span of step ${id}`);
      const compare: string | undefined = 'compareWith' in step ? step.compareWith : undefined;
      const reply = await d.run(ref(step.model), text.slice(r.start, r.end), compare ? ref(compare) : undefined);
      if (reply.type !== 'runResult') throw new Error(`step ${id}: ${JSON.stringify(reply)}`);
      if (id === 'parallel') {
        // Measure answers with the committed run's rows (see the note at the top), as a sweep would, row by row.
        await d.page.evaluate((rows) => {
          type Req = { onRow(r: unknown): void };
          const v = window.__seqlens!.app.views.find((x) => x.id === 'sequentialParallel') as unknown as { measure: (req: Req) => Promise<unknown> };
          v.measure = async (req) => {
            for (const r of rows) {
              await new Promise((done) => setTimeout(done, 20));
              req.onRow(r);
            }
            return { backend: 'wasm', models: [], rows, notes: [] };
          };
        }, storyRows(STORY_CSV));
      }
      await d.post({ type: 'showView', view: step.view, ...('press' in step ? { press: step.press } : {}) });
      if (id === 'parallel') await measured(d.page);
      // The Compare view's curve arrives with the models' heldout.json, fetched after the run.
      await d.page.waitForTimeout(id === 'bottleneck' ? 1000 : 200);
      await d.page.evaluate((v) => window.__seqlens!.show(v), step.view);
      await shootBoth(d.page, id);
    }
    if (d.errors.length) throw new Error(`page errors: ${d.errors.join('; ')}`);
    await d.page.close();

    if (steps.includes('inspect')) {
      // The inspector on a workspace model: the sample workspace's GRU encoder (no tokenizer beside it).
      const p = await PageDriver.open(browser, harness, 'wasm', WIDTH);
      await p.page.setViewportSize({ width: WIDTH, height: HEIGHT });
      const file = 'sample-workspace/models/no-tokenizer/gru-encoder.onnx';
      const model: ModelRef = {
        id: `workspace:${file}`, label: 'gru-encoder', architecture: 'gru', source: 'workspace',
        fileUris: { model: `${harness.origin}/${file}` }, tokenizerUris: {}, sizeBytes: statSync(file).size,
      };
      await p.post({ type: 'inspect', id: 1, model });
      const reply = await p.answer(1);
      if (reply.type !== 'inspectResult') throw new Error(`inspect: ${JSON.stringify(reply)}`);
      await shootBoth(p.page, 'inspect');
      await p.page.close();
    }
  } finally {
    await browser.close();
    await harness.close();
  }
}

await main();
