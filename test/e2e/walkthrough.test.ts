/**
 * End to end, the walkthrough "Sequence Lens: from RNNs to Transformers" in code-server (packaged .vsix,
 * the sample workspace): the Welcome page lists it, it opens, and each of its seven steps' buttons is
 * clicked in the walkthrough page itself; after each, the panel must show a run of the step's model on the
 * step's sample text in the step's view (the bracket-depth ranking for the LSTM step, the held-out accuracy
 * curve in Compare for the bottleneck step, a measurement under way in Sequential vs parallel), and the
 * last step must open a workspace .onnx in the inspector. Screenshots of every step in the dark theme and
 * again in the light one go to test-results/e2e-walkthrough/.
 *
 *   node --import tsx --test test/e2e/walkthrough.test.ts
 *
 * Skips (with the reason) when code-server or Chromium is not installed: bash scripts/setup-code-server.sh.
 */
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { ROOT, missingPrerequisite, prepareScratch } from './codeServer.js';
import { sleep, until, type Workbench } from './workbench.js';
import { closeWorkbench, openWorkbench, stepWith, type OpenedWorkbench } from './suiteSupport.js';
import { stepRange, WALKTHROUGH_RUN_STEPS, type WalkthroughRunStepId } from '../../src/shared/walkthroughSteps.js';

const OUT = join(ROOT, 'test-results', 'e2e-walkthrough');
const skip = missingPrerequisite();
if (skip) console.log(`# SKIP e2e: ${skip}`);

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  contributes: { walkthroughs: { id: string; title: string; steps: { id: string; title: string; description: string }[] }[] };
};
const WALKTHROUGH = manifest.contributes.walkthroughs[0];
/** The label of a step's button: the command link's text in its description. */
const buttonLabel = (description: string): string => /\[([^\]]+)\]\(command:/.exec(description)?.[1] ?? '';

/** What the panel's page shows: the runs' inputs and models, the view in front, and that view's state. */
interface PanelState { inputs: string[]; models: string[]; view: string; unavailable?: string; controls: string[]; curves: number; error?: string }

async function panelState(frame: Frame): Promise<PanelState | undefined> {
  return frame.evaluate(() => {
    type V = { id: string; unavailable(env: unknown): string | undefined; controls(env: unknown): { id: string }[]; numbers(env: unknown): { json?: unknown } };
    type Hook = { app: { views: V[]; active: number; runs: { trace: { input: string; model: string } }[]; env(v: V): unknown }; error(): string | undefined };
    const h = (window as unknown as { __seqlens?: Hook }).__seqlens;
    if (!h || !h.app.runs.length) return undefined;
    const v = h.app.views[h.app.active];
    const env = h.app.env(v);
    const traces = h.app.runs.map((r) => r.trace);
    const why = v.unavailable(env);
    const json = !why && v.id === 'compare' ? v.numbers(env).json : undefined;
    return {
      inputs: traces.map((t) => t.input), models: traces.map((t) => t.model), view: v.id, unavailable: why,
      controls: why ? [] : v.controls(env).map((c) => c.id),
      curves: Array.isArray(json) ? json.filter((r) => Array.isArray((r as { accuracyByLength?: unknown }).accuracyByLength)).length : 0,
      error: h.error(),
    };
  });
}

describe('the walkthrough in code-server (packaged .vsix)', { skip, timeout: 20 * 60_000 }, () => {
  let opened: OpenedWorkbench | undefined;
  let wb: Workbench;
  let scratch: string;

  const step = stepWith(() => ({ wb, scratch }));

  /** Screenshots of the workbench as it is, in the dark theme and then in the light one. */
  async function bothThemes(name: string): Promise<void> {
    await wb.screenshot(`${name}-dark`);
    await wb.command('Preferences: Color Theme');
    await wb.pick('Light Modern');
    await sleep(1500);
    await wb.screenshot(`${name}-light`);
    await wb.command('Preferences: Color Theme');
    await wb.pick('Dark Modern');
    await sleep(800);
  }

  /** Brings the walkthrough page (its tab: "Walkthrough: Sequence Lens…") to the front and clicks step `id`'s button in it. */
  async function clickStep(id: string): Promise<void> {
    const s = WALKTHROUGH.steps.find((x) => x.id === id);
    assert.ok(s, `step ${id} in package.json`);
    const tab = wb.page.locator('.tab', { hasText: 'Walkthrough: Sequence Lens' }).first();
    if (await tab.isVisible().catch(() => false)) await tab.click();
    else await wb.command('Sequence Lens: Open Walkthrough: From RNNs to Transformers');
    const title = wb.page.locator('.getting-started-step', { hasText: s.title }).first();
    // The tab can come back on the Welcome overview (the walkthrough's steps hidden, still in the DOM): open
    // the walkthrough itself again then.
    // A hidden slide's buttons stay in the DOM, laid out but disabled: a disabled title that is not the open
    // step means the walkthrough is not what the tab shows.
    const hidden = async (): Promise<boolean> => !(await title.isVisible().catch(() => false))
      || ((await title.isDisabled()) && (await title.getAttribute('aria-expanded')) !== 'true');
    if (await hidden()) {
      await wb.command('Sequence Lens: Open Walkthrough: From RNNs to Transformers');
      await until(`step ${id} shown in the walkthrough`, async () => !(await hidden()), 30_000, 250);
    }
    // The open step's title is a disabled button: click only a closed one.
    if ((await title.getAttribute('aria-expanded')) !== 'true') await title.click();
    const button = wb.page.locator('.getting-started-step.expanded .monaco-button', { hasText: buttonLabel(s.description) }).first();
    await button.waitFor({ timeout: 15_000 });
    // In a narrow column the page's scroll shadow can lie over the button: then press it from the keyboard.
    if (!(await button.click({ timeout: 5000 }).then(() => true, () => false))) {
      await button.focus();
      await wb.page.keyboard.press('Enter');
    }
  }

  /** Waits until the panel shows step `id`'s run in its view; returns what it shows. */
  async function waitStep(id: WalkthroughRunStepId, extra?: (s: PanelState) => boolean): Promise<PanelState> {
    const st = WALKTHROUGH_RUN_STEPS[id];
    const text = readFileSync(join(ROOT, 'media/walkthrough/samples', st.sample), 'utf8');
    const r = stepRange(text, st)!;
    const want = text.slice(r.start, r.end);
    const runs = 'compareWith' in st ? 2 : 1;
    const frame = await wb.webviewFrame('panel', 90_000, 'panel');
    return until(`step ${id}: a run on its text in the ${st.view} view`, async () => {
      const s = await panelState(frame);
      if (s?.error) throw new Error(`the panel's run failed: ${s.error}`);
      if (!s || s.inputs.length !== runs || s.inputs.some((x) => x !== want) || s.view !== st.view || s.unavailable) return false;
      return (!extra || extra(s)) && s;
    }, 180_000, 250);
  }

  before(async () => {
    ({ scratch } = prepareScratch(OUT, 'seqlens-walkthrough-'));
    const folder = join(scratch, 'sample-workspace');
    // The Welcome page at startup: it lists the walkthroughs.
    opened = await openWorkbench({ folder, scratch, outDir: OUT, settings: { 'workbench.startupEditor': 'welcomePage', 'workbench.colorTheme': 'Default Dark Modern' } });
    wb = opened.wb;
  });

  after(() => closeWorkbench(opened, scratch, OUT));

  step('the Welcome page lists the walkthrough, and it opens', async () => {
    await wb.page.locator('.statusbar-item', { hasText: 'char-transformer' }).first().waitFor({ timeout: 60_000 });
    const listed = wb.page.locator('.getting-started-category', { hasText: WALKTHROUGH.title }).first();
    const onWelcome = await listed.waitFor({ timeout: 30_000 }).then(() => true, () => false);
    await wb.screenshot('welcome-page');
    assert.ok(onWelcome, `the Welcome page lists "${WALKTHROUGH.title}"`);
    await listed.click();
    await wb.page.locator('.getting-started-step', { hasText: WALKTHROUGH.steps[0].title }).first().waitFor({ timeout: 30_000 });
    await bothThemes('walkthrough');
  });

  step('1. RNN: the button runs the zoo RNN and shows its hidden states', async () => {
    await clickStep('rnn');
    const s = await waitStep('rnn');
    assert.deepEqual(s.models, ['char-rnn']);
    await wb.resizePanel(460);
    await sleep(800);
    await bothThemes('step1-rnn');
  });

  step('2. LSTM: the button ranks the LSTM units by bracket depth', async () => {
    await clickStep('gates');
    // Back to span is offered only while a hypothesis ranks the units.
    const s = await waitStep('gates', (x) => x.controls.includes('unitSpanMode'));
    assert.deepEqual(s.models, ['char-lstm']);
    await bothThemes('step2-lstm-bracket-depth');
  });

  step('3. bottleneck: both date models on one long date, with the accuracy curve', async () => {
    await clickStep('bottleneck');
    const s = await waitStep('bottleneck', (x) => x.curves === 2);
    assert.deepEqual(s.models, ['dates-gru', 'dates-gru-attention']);
    await sleep(500);
    await bothThemes('step3-bottleneck');
  });

  step('4. alignment: the attention model in the encoder-decoder view', async () => {
    await clickStep('alignment');
    const s = await waitStep('alignment');
    assert.deepEqual(s.models, ['dates-gru-attention']);
    await bothThemes('step4-alignment');
  });

  step('5. Transformer: the head view', async () => {
    await clickStep('transformer');
    const s = await waitStep('transformer');
    assert.deepEqual(s.models, ['char-transformer']);
    await bothThemes('step5-transformer');
  });

  step('6. sequential vs parallel: the view opens and starts measuring', async () => {
    await clickStep('parallel');
    // Measuring: the Measure button has become Cancel.
    await waitStep('parallel', (x) => x.controls.includes('story-cancel'));
    await sleep(4000);
    await bothThemes('step6-sequential-parallel');
    // Stop the sweep (minutes on two cores): the next step needs the CPU.
    const frame = await wb.webviewFrame('panel', 30_000, 'panel');
    await frame.evaluate(() => {
      type V = { id: string; controls(env: unknown): { id: string; kind: string; run?: () => void }[] };
      const app = (window as unknown as { __seqlens: { app: { views: V[]; env(v: V): unknown } } }).__seqlens.app;
      const v = app.views.find((x) => x.id === 'sequentialParallel')!;
      v.controls(app.env(v)).find((c) => c.id === 'story-cancel')?.run?.();
    });
  });

  step('7. your own model: the workspace .onnx opens in the inspector', async () => {
    await clickStep('inspect');
    const frame = await wb.webviewFrame('inspector', 60_000);
    await until('the GRU encoder in the inspector', async () => {
      const t = await frame.evaluate(() => Array.from(document.querySelectorAll('h1, h2, h3')).map((h) => h.textContent ?? '').join(' | '));
      return /gru-encoder\s*[—-]\s*gru\b/i.test(t);
    }, 60_000);
    await sleep(500);
    await bothThemes('step7-inspector');
  });

  step('every step is marked done in the walkthrough', async () => {
    const tab = wb.page.locator('.tab', { hasText: 'Walkthrough: Sequence Lens' }).first();
    if (await tab.isVisible().catch(() => false)) await tab.click();
    else await wb.command('Sequence Lens: Open Walkthrough: From RNNs to Transformers');
    // A step done shows the registered icon 'getting-started-step-checked' (its codicon class is its id).
    const done = wb.page.locator('.getting-started-step .codicon-getting-started-step-checked');
    const n = await until('the steps checked off', async () => (await done.count()) >= WALKTHROUGH.steps.length && (await done.count()), 20_000).catch(() => done.count());
    await wb.screenshot('walkthrough-done');
    assert.equal(n, WALKTHROUGH.steps.length, 'every step completed');
  });
});
