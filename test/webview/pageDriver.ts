/**
 * Drives the real webview bundle in headless Chromium through the harness page: sends host messages,
 * waits for answers, reads window.__seqlens, takes screenshots. Shared by the tests and the benchmark.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { webviewToHostProblem, type ModelRef } from '../../src/shared/protocol.js';
import { CHROMIUM_ARGS, WEBGPU_ARGS, type Harness } from './harnessServer.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch(backend: 'wasm' | 'webgpu'): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: backend === 'webgpu' ? WEBGPU_ARGS : CHROMIUM_ARGS });
}

export interface HostMessage { type: string; inReplyTo?: number; [k: string]: unknown }

/** Float32Arrays as base64 for the trip through Playwright; the page turns them back (UNPACK) before posting. */
function pack(v: unknown): unknown {
  if (v instanceof Float32Array) return { __f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(pack);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pack(x)]));
  return v;
}

/** The page's side of pack(). */
const UNPACK = `(function unpack(v) {
  if (Array.isArray(v)) return v.map(unpack);
  if (v === null || typeof v !== 'object') return v;
  if (typeof v.__f32 === 'string') {
    const bin = atob(v.__f32);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }
  const o = {};
  for (const [k, x] of Object.entries(v)) o[k] = unpack(x);
  return o;
})`;

/**
 * Posts a host message to the page as VS Code delivers it: its Float32Arrays arrive as Float32Arrays (structured
 * clone), not as what Playwright's JSON would make of them. A string expression: a function handed to evaluate()
 * would carry tsx's __name helper into the page.
 */
export async function postTyped(page: Page, msg: unknown): Promise<void> {
  await page.evaluate(`window.postMessage(${UNPACK}(${JSON.stringify(pack(msg))}), '*')`);
}

export class PageDriver {
  readonly errors: string[] = [];
  private nextId = 1;

  private constructor(readonly page: Page) {
    page.on('pageerror', (e) => this.errors.push(e.message));
  }

  /**
   * `warmUp: false` opens the page without onnxruntime-web's warm-up (the first run loads it);
   * `beforeLoad` runs on the new page before it loads (e.g. to route requests).
   */
  static async open(browser: Browser, h: Harness, backend: 'wasm' | 'webgpu' | 'auto', width = 1100,
    opts: { warmUp?: boolean; beforeLoad?: (page: Page) => Promise<unknown> } = {}): Promise<PageDriver> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const d = new PageDriver(page);
    await opts.beforeLoad?.(page);
    await page.goto(`${h.origin}/${opts.warmUp === false ? '?warmup=off' : ''}`);
    await page.waitForFunction(() => !!window.__seqlens);
    await d.post({ type: 'init', mode: 'panel', backend, maxTokens: 4096, trusted: true });
    return d;
  }

  async post(msg: unknown): Promise<void> {
    await this.page.evaluate((m) => window.postMessage(m, '*'), msg);
  }

  /** Sends a run and waits for its reply (runResult or error). */
  async run(model: ModelRef, text: string, compareWith?: ModelRef): Promise<HostMessage> {
    const id = this.nextId++;
    await this.post({ type: 'run', id, model, text, compareWith });
    return this.answer(id);
  }

  /** Asks for the shown view's export and waits for the reply (its files as {fileName, mime, size, head}, see harness.html). */
  async exportView(): Promise<HostMessage> {
    const id = this.nextId++;
    await this.post({ type: 'exportView', id });
    return this.answer(id);
  }

  /**
   * Waits for the reply to request `id` (only replies carry inReplyTo). A reply the host's guard would
   * drop fails here, so the page is held to the protocol the host checks.
   */
  async answer(id: number, timeout = 120_000): Promise<HostMessage> {
    const handle = await this.page.waitForFunction((id) => {
      const msgs = (window as unknown as { __hostMessages: { type: string; inReplyTo?: number }[] }).__hostMessages;
      return msgs.find((m) => m.inReplyTo === id);
    }, id, { timeout });
    const reply = (await handle.jsonValue()) as HostMessage;
    // A live handle keeps the page's reply object alive (the soak benchmark measured it as a leak).
    await handle.dispose();
    // An export reply's files were summarised by the harness (no bytes): the rest is checked as sent.
    const problem = reply.type === 'exportResult' ? undefined : webviewToHostProblem(reply);
    if (problem) throw new Error(`the page's reply to ${id} would be dropped by the host: ${problem}`);
    return reply;
  }

  async hostMessages(): Promise<HostMessage[]> {
    return this.page.evaluate(() => (window as unknown as { __hostMessages: HostMessage[] }).__hostMessages);
  }

  /** The page's trace with every tensor as a plain array (for comparison in Node). */
  async trace(i = 0): Promise<PlainTrace> {
    return this.page.evaluate((i) => {
      const t = window.__seqlens!.trace(i) as { tokens: { id: number; text: string; start: number; end: number }[]; generated?: { id: number }[]; probes: { probe: { name: string; kind: string; layer: number; stream?: string; gate?: string; axes: string[] }; tensor: { dims: number[]; data: Float32Array }; stepAxis?: boolean }[]; logits?: { dims: number[]; data: Float32Array }; backend: string };
      return {
        backend: t.backend,
        tokens: t.tokens,
        generated: t.generated?.map((g) => g.id),
        probes: t.probes.map((p) => ({ name: p.probe.name, kind: p.probe.kind, layer: p.probe.layer, stream: p.probe.stream, gate: p.probe.gate, axes: p.probe.axes, dims: p.tensor.dims, data: Array.from(p.tensor.data), stepAxis: !!p.stepAxis })),
        logits: t.logits ? { dims: t.logits.dims, data: Array.from(t.logits.data) } : undefined,
      };
    }, i);
  }

  async values(view: string): Promise<Record<string, number[] | number> | undefined> {
    return this.page.evaluate((v) => window.__seqlens!.values(v), view);
  }

  async show(view: string): Promise<number> {
    return this.page.evaluate((v) => window.__seqlens!.show(v), view);
  }

  async screenshot(view: string, path: string): Promise<void> {
    await this.show(view);
    // Work a view does off the UI thread (the PCA plane) or fetches (a long input's layers) first.
    await this.page.evaluate(() => window.__seqlens!.settled());
    await this.page.waitForTimeout(60);
    await this.page.locator('#app').screenshot({ path });
  }
}

export interface PlainProbe { name: string; kind: string; layer: number; stream?: string; gate?: string; axes: string[]; dims: number[]; data: number[]; stepAxis: boolean }
export interface PlainTrace { backend: string; tokens: { id: number; text: string; start: number; end: number }[]; generated?: number[]; probes: PlainProbe[]; logits?: { dims: number[]; data: number[] } }
