/**
 * What every code-server suite does the same way: open the workbench on a scratch workspace and close it,
 * find the extension's log in the code-server profile, and run a step that, when it fails, leaves a
 * screenshot and prints what the panel and the host saw (CI keeps only the console).
 */
import { it } from 'node:test';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Frame } from 'playwright-core';
import { CHROMIUM, packageVsix, startCodeServer, type CodeServer } from './codeServer.js';
import { Workbench } from './workbench.js';

/** The extension's log file in the code-server profile (the newest session's), if there is one yet. */
export function extensionLogFile(scratch: string | undefined): string | undefined {
  const logs = join(scratch ?? '', 'profile', 'user-data', 'logs');
  if (!scratch || !existsSync(logs)) return undefined;
  const files = readdirSync(logs).sort().map((session) => join(logs, session, 'exthost1', 'sequence-lens.sequence-lens', 'Sequence Lens.log'));
  return files.reverse().find((f) => existsSync(f));
}

export function extensionLog(scratch: string | undefined): string[] {
  const f = extensionLogFile(scratch);
  return f ? readFileSync(f, 'utf8').trimEnd().split('\n') : [];
}

/**
 * A suite's `step(name, fn)`: an `it` that, on failure, screenshots the workbench as FAILED-<name> and prints
 * the panel's status line, the notifications and the last 25 lines of the extension's log. The workbench and
 * scratch folder are read when the step runs (they are made in the suite's `before`).
 */
export function stepWith(ctx: () => { wb?: Workbench; scratch?: string }): (name: string, fn: () => Promise<void>) => void {
  return (name, fn) => {
    it(name, async () => {
      try {
        await fn();
      } catch (e) {
        const { wb, scratch } = ctx();
        await wb?.screenshot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`).catch(() => undefined);
        const panel = await wb?.panelStatus().catch(() => undefined);
        console.log(`# FAILED step "${name}": panel status: ${panel ?? '(no panel)'}; notifications: ${JSON.stringify(await wb?.notifications().catch(() => []))}`);
        for (const line of extensionLog(scratch).slice(-25)) console.log(`#   log: ${line}`);
        throw e;
      }
    });
  };
}

export interface OpenedWorkbench {
  server: CodeServer;
  browser: Browser;
  wb: Workbench;
  /** The packaged extension the server installed. */
  vsix: string;
}

/** A quiet, roomy workbench: no welcome page, no chat side bar, no AI prompts, no tips. */
const QUIET = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'workbench.tips.enabled': false,
};

/**
 * Packages (or reuses) the .vsix, starts code-server on `folder` with `settings` over the quiet defaults,
 * and opens the workbench in Debian's Chromium (1440×900); screenshots go to `outDir`.
 */
export async function openWorkbench(opts: {
  folder: string; scratch: string; outDir: string; settings?: Record<string, unknown>; trust?: boolean;
}): Promise<OpenedWorkbench> {
  const vsix = await packageVsix();
  const server = await startCodeServer({
    vsix, folder: opts.folder, profile: join(opts.scratch, 'profile'), trust: opts.trust, settings: { ...QUIET, ...opts.settings },
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const wb = new Workbench(page, opts.outDir);
  await page.goto(`${server.url}?folder=${encodeURIComponent(opts.folder)}`, { timeout: 180_000, waitUntil: 'domcontentloaded' });
  await wb.waitLoaded();
  return { server, browser, wb, vsix };
}

/** Keeps the extension's log beside the screenshots, closes Chromium and code-server, removes the scratch folder. */
export async function closeWorkbench(opened: Partial<OpenedWorkbench> | undefined, scratch: string | undefined, outDir: string): Promise<void> {
  const log = extensionLogFile(scratch);
  if (log) copyFileSync(log, join(outDir, 'sequence-lens.log'));
  await opened?.browser?.close();
  await opened?.server?.stop();
  if (scratch && !process.env.SEQLENS_KEEP_E2E) rmSync(scratch, { recursive: true, force: true });
}

/**
 * Where a step checks that the page fetches no model file: waits until a model the page loads behind an
 * earlier Auto run (which fetches its files) is loaded, clears the page's resource timings, and returns the
 * time from which fetches count (ms since the epoch, so a page that reloads meanwhile is still judged).
 */
export async function pageFetchesFromNow(frame: Frame): Promise<number> {
  await frame.evaluate(() => (window as unknown as { __seqlens: { app: { priming?: Promise<void> } } }).__seqlens.app.priming);
  return frame.evaluate(() => {
    performance.clearResourceTimings();
    return performance.timeOrigin + performance.now();
  });
}
