/**
 * What a right-click → heatmap consisted of, read after the fact from where each part is recorded, and printed
 * (never asserted): the workbench (menu), the extension's log (the host's command and "run done in"), the
 * webview page's own Performance timeline (page start, the bundles, onnxruntime-web's wasm, the model and
 * tokenizer fetches, each with its start and end measured from the click) and the run's timings as the panel
 * reports them (whatever keys the runner gives: tokenize, sessionCreate, run, ... ), plus the heatmap's render.
 */
import type { Frame, Page } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';

/** What the panel's page can say about the latest run. Times are in ms since the page's timeOrigin. */
export interface PanelParts {
  timeOrigin: number;
  domContentLoaded?: number;
  load?: number;
  resources: { file: string; start: number; end: number; bytes: number }[];
  runTimings: Record<string, number>;
  renderMs?: number;
  warmUp?: unknown;
  status: string;
  backend?: string;
  tokens?: number;
}

/** Reads the panel's Performance timeline and the run's timings (test hook and app, whatever of them exists). */
export async function panelParts(frame: Frame): Promise<PanelParts> {
  // tsx (esbuild, keepNames) wraps the named helpers below in `__name(fn, "name")`: give the page that helper.
  await frame.evaluate('globalThis.__name ??= (fn) => fn');
  return frame.evaluate(async () => {
    type Loose = Record<string, unknown> | undefined;
    const obj = (v: unknown): Loose => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined);
    const numbers = (v: unknown): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const [k, x] of Object.entries(obj(v) ?? {})) if (typeof x === 'number') out[k] = x;
      return out;
    };
    const hook = obj((window as unknown as { __seqlens?: unknown }).__seqlens);
    const call = (name: string, ...args: unknown[]): unknown => {
      const f = hook?.[name];
      return typeof f === 'function' ? (f as (...a: unknown[]) => unknown)(...args) : undefined;
    };
    const app = obj(hook?.app);
    const trace = obj(call('trace', 0));
    // The runner's timings for the run (its outcome), else the trace's own.
    const runTimings = { ...numbers(trace?.timings), ...numbers(obj(obj(app?.lastRun)?.outcome)?.timings) };
    const views = Array.isArray(app?.views) ? (app.views as { id?: unknown }[]) : [];
    const hosts = Array.isArray(app?.hosts) ? (app.hosts as unknown[]) : [];
    const hi = views.findIndex((v) => v.id === 'heatmap');
    const render = hi >= 0 ? obj(obj(hosts[hi])?.timings)?.render : undefined;
    let warmUp: unknown;
    try {
      warmUp = await Promise.race([Promise.resolve(call('warmUp')), new Promise((r) => setTimeout(() => r('(pending)'), 200))]);
    } catch (e) {
      warmUp = `failed: ${String(e)}`;
    }
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const fileOf = (url: string): string => {
      try {
        const u = new URL(url);
        const p = u.searchParams.get('path') ?? decodeURIComponent(u.pathname);
        return p.split('/').filter(Boolean).pop() ?? url;
      } catch {
        return url;
      }
    };
    const resources = (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .map((e) => ({ file: fileOf(e.name), start: e.startTime, end: e.responseEnd || e.startTime + e.duration, bytes: e.decodedBodySize }))
      .filter((r) => /\.(onnx|json|txt|wasm|mjs|js)$/i.test(r.file));
    // Where the shown run ran (a native run's trace says 'native'; the page's own runner is idle then).
    const backend = typeof trace?.backend === 'string' ? trace.backend : call('backend');
    return {
      timeOrigin: performance.timeOrigin,
      domContentLoaded: nav?.domContentLoadedEventEnd || undefined,
      load: nav?.loadEventEnd || undefined,
      resources,
      runTimings,
      renderMs: typeof render === 'number' ? render : undefined,
      warmUp,
      status: document.querySelector('.app-status')?.textContent ?? '',
      backend: typeof backend === 'string' ? backend : undefined,
      tokens: Array.isArray(trace?.tokens) ? trace.tokens.length : undefined,
    };
  });
}

/** Log lines of the extension (VS Code's "YYYY-MM-DD HH:MM:SS.mmm [level] message"), with their times. */
export function logLines(file: string | undefined): { at: number; message: string }[] {
  if (!file || !existsSync(file)) return [];
  const out: { at: number; message: string }[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \[\w+\] (.*)$/.exec(line);
    if (m) out.push({ at: new Date(`${m[1]}T${m[2]}`).getTime(), message: m[3] });
  }
  return out;
}

const ms = (v: number): string => `${Math.round(v)} ms`;
const num = (v: number): string => (Math.abs(v) < 10 ? v.toFixed(1) : String(Math.round(v)));

/**
 * Prints one click's parts: `t0` is the right-click (epoch ms), `menuAt` when the menu entry was chosen,
 * `shownAt` when the test saw the heatmap drawn. Returns the lines (also kept in timings.json).
 */
export async function reportClick(what: string, opts: {
  frame: Frame; t0: number; menuAt?: number; shownAt: number; logFile?: string; modelLabel?: string;
}): Promise<string[]> {
  const { frame, t0, shownAt } = opts;
  const lines = [`${what}: click → heatmap ${ms(shownAt - t0)}`];
  if (opts.menuAt) lines.push(`  click → menu entry chosen ${ms(opts.menuAt - t0)}`);
  // The host: when the command started (its "run:" line) and how long it waited for the panel's reply
  // (the log file may trail the page by a moment: give it up to 3 s).
  let started: { at: number; message: string } | undefined;
  let done: { at: number; message: string } | undefined;
  for (const deadline = Date.now() + 3000; ;) {
    const log = logLines(opts.logFile).filter((l) => l.at >= t0 - 1000);
    started = log.find((l) => l.message.startsWith('run: ') && (!opts.modelLabel || l.message.includes(opts.modelLabel)));
    done = log.find((l) => l.message.startsWith('run done in ') && l.at >= (started?.at ?? t0));
    if ((started && done) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (started) lines.push(`  click → host command logged ${ms(started.at - t0)}`);
  if (done) lines.push(`  host: ${done.message.replace(/; .*$/, '')} (logged at click + ${ms(done.at - t0)})`);
  try {
    const p = await panelParts(frame);
    const sinceClick = (t: number): number => p.timeOrigin + t - t0;
    if (p.timeOrigin > t0) {
      lines.push(`  click → webview page start ${ms(p.timeOrigin - t0)}` +
        (p.domContentLoaded ? `, DOMContentLoaded ${ms(sinceClick(p.domContentLoaded))}` : '') +
        (p.load ? `, load ${ms(sinceClick(p.load))}` : ''));
    }
    const fetched = p.resources.filter((r) => sinceClick(r.start) >= -50);
    if (fetched.length) {
      lines.push(`  fetched after the click (start → end from the click): ${fetched
        .map((r) => `${r.file} ${ms(sinceClick(r.start))} → ${ms(sinceClick(r.end))}${r.bytes ? ` (${(r.bytes / 1e6).toFixed(1)} MB)` : ''}`).join('; ')}`);
    }
    const keys = Object.entries(p.runTimings);
    if (keys.length) lines.push(`  run timings (panel, ms): ${keys.map(([k, v]) => `${k} ${num(v)}`).join(', ')}`);
    if (p.renderMs !== undefined) lines.push(`  heatmap render ${num(p.renderMs)} ms`);
    if (p.warmUp !== undefined) lines.push(`  onnxruntime-web warm-up: ${JSON.stringify(p.warmUp)}`);
    lines.push(`  backend ${p.backend ?? '?'}, ${p.tokens ?? '?'} tokens; status line: "${p.status.trim()}"`);
  } catch (e) {
    lines.push(`  (the panel's parts could not be read: ${e instanceof Error ? e.message : String(e)})`);
  }
  for (const l of lines) console.log(`# timing ${l}`);
  return lines;
}

/** The first frame of `page` other than the workbench whose text contains `marker` (a webview's inner page). */
export async function frameWithText(page: Page, marker: string): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    if (f === page.mainFrame()) continue;
    const has = await f.evaluate((m) => (document.body?.innerText ?? '').includes(m), marker).catch(() => false);
    if (has) return f;
  }
  return undefined;
}
