/**
 * The host's channel to a webview, driven in plain Node through a fake webview port: replies settle
 * the request they name (typed by `Replies`), and timeouts, cancels, late and malformed messages,
 * reloads and dispose all end a request without leaving anyone waiting or throwing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PanelError, WebviewChannel, type CancelSignal, type ExportFile, type TokensRescored, type WebviewPort } from '../../src/panels/webviewChannel.js';
import {
  hostToWebviewProblem, isHostToWebview, isWebviewToHost, webviewToHostProblem,
  type ExportViewReply, type HostToWebview, type InspectReply, type ModelRef, type RunReply, type TokenSummary,
} from '../../src/shared/protocol.js';
import type { Disposable } from '../../src/panels/emitter.js';

/** The page end of a webview: records what the host posts, delivers what the test "sends from the page". */
class FakeWebview implements WebviewPort {
  readonly posted: HostToWebview[] = [];
  delivered = true;
  private readonly listeners = new Set<(m: unknown) => unknown>();

  postMessage(message: HostToWebview): Promise<boolean> {
    this.posted.push(message);
    return Promise.resolve(this.delivered);
  }

  onDidReceiveMessage(listener: (m: unknown) => unknown): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** A message from the page. */
  send(m: unknown): void {
    for (const l of [...this.listeners]) l(m);
  }
}

class FakeLog {
  readonly lines: { level: 'info' | 'warn' | 'error'; message: string }[] = [];
  info(message: string): void { this.lines.push({ level: 'info', message }); }
  warn(message: string): void { this.lines.push({ level: 'warn', message }); }
  error(message: string): void { this.lines.push({ level: 'error', message }); }
  matching(re: RegExp): { level: string; message: string }[] { return this.lines.filter((l) => re.test(l.message)); }
}

class FakeToken implements CancelSignal {
  isCancellationRequested = false;
  private readonly listeners = new Set<() => unknown>();
  onCancellationRequested(l: () => unknown): Disposable {
    this.listeners.add(l);
    return { dispose: () => void this.listeners.delete(l) };
  }
  cancel(): void {
    this.isCancellationRequested = true;
    for (const l of [...this.listeners]) l();
  }
  get listenerCount(): number { return this.listeners.size; }
}

const model: ModelRef = {
  id: 'zoo:lstm', label: 'lstm', architecture: 'lstm', source: 'zoo',
  fileUris: { model: 'https://file/lstm.onnx' }, tokenizerUris: {}, sizeBytes: 1234,
};
const tokens: TokenSummary[] = [
  { start: 0, end: 3, text: 'let', score: 0.5, attends: [{ index: 0, weight: 1 }], predictions: [{ text: ' ', p: 0.9 }] },
  { start: 4, end: 5, text: 'x', score: 1, attends: [], predictions: [] },
];
const runReply = (inReplyTo: number): RunReply => ({ type: 'runResult', inReplyTo, backend: 'wasm', timings: { run: 4.5 }, tokens, decorationMode: 'attention' });
const file = (fileName: string, bytes: number[]) => ({ fileName, mime: 'application/octet-stream', data: new Uint8Array(bytes) });

function setup(): { port: FakeWebview; log: FakeLog; ch: WebviewChannel } {
  const port = new FakeWebview();
  const log = new FakeLog();
  return { port, log, ch: new WebviewChannel(port, log, 'panel') };
}

/** Lets the channel's postMessage().then(...) run. */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<PanelError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PanelError, `a PanelError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected a rejection with code '${code}'`);
}

/** Whether a promise has settled (without waiting for it). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const r = await Promise.race([p.then(() => 'done', () => 'done'), new Promise((res) => setImmediate(() => res(marker)))]);
  return r !== marker;
}

describe('WebviewChannel: requests and replies', () => {
  it('a reply settles the request it names, typed by the request, whatever the order', async () => {
    const { port, ch } = setup();
    const run = ch.request({ type: 'run', id: 11, model, text: 'let x' }, { timeoutMs: 5000 });
    const inspect = ch.request({ type: 'inspect', id: 12, model }, { timeoutMs: 5000 });
    const exp = ch.request({ type: 'exportView', id: 13 }, { timeoutMs: 5000 });
    await tick();
    assert.deepEqual(port.posted.map((m) => m.type), ['run', 'inspect', 'exportView']);
    assert.equal(ch.pendingCount, 3);

    port.send({ type: 'exportResult', inReplyTo: 13, view: 'heatmap', files: [file('a.png', [0x89, 0x50]), file('a.npy', [0x93])] } satisfies ExportViewReply);
    port.send({ type: 'inspectResult', inReplyTo: 12, architecture: 'lstm' } satisfies InspectReply);
    port.send(runReply(11));

    // The declared types are what request() returns: these lines would not compile with a union.
    const r: RunReply = await run;
    const i: InspectReply = await inspect;
    const e: ExportViewReply = await exp;
    assert.equal(r.inReplyTo, 11);
    assert.deepEqual(r.tokens, tokens);
    assert.equal(i.architecture, 'lstm');
    assert.deepEqual(e.files.map((f) => f.fileName), ['a.png', 'a.npy']);
    assert.ok(e.files[0].data instanceof Uint8Array);
    assert.equal(ch.pendingCount, 0);
  });

  it('an error reply rejects with its code and message', async () => {
    const { port, ch } = setup();
    const p = ch.request({ type: 'inspect', id: 20, model }, { timeoutMs: 5000 });
    port.send({ type: 'error', inReplyTo: 20, error: { code: 'bad-model', message: 'not an ONNX file' } });
    const e = await rejectsWith(p, 'bad-model');
    assert.equal(e.message, 'not an ONNX file');
  });

  it('a reply of another request kind rejects as a protocol error instead of passing for the right one', async () => {
    const { port, ch } = setup();
    const p = ch.request({ type: 'run', id: 21, model, text: 'x' }, { timeoutMs: 5000 });
    port.send({ type: 'inspectResult', inReplyTo: 21, architecture: 'lstm' });
    await rejectsWith(p, 'protocol');
  });

  it('a reply to a request nobody sent is dropped with a warning', async () => {
    const { port, log, ch } = setup();
    const p = ch.request({ type: 'run', id: 22, model, text: 'x' }, { timeoutMs: 5000 });
    port.send(runReply(999));
    assert.equal(log.matching(/request 999, which nothing waits for/).length, 1);
    assert.equal(await settled(p), false, 'the real request still waits');
    port.send(runReply(22));
    assert.equal((await p).inReplyTo, 22);
  });

  it('times out, tells the page to stop, and drops the late reply with a log line', async () => {
    const { port, log, ch } = setup();
    const p = ch.request({ type: 'run', id: 30, model, text: 'x' }, { timeoutMs: 20 });
    await rejectsWith(p, 'timeout');
    assert.deepEqual(port.posted.at(-1), { type: 'cancel', id: 30 });
    assert.equal(ch.pendingCount, 0);
    assert.doesNotThrow(() => port.send(runReply(30)));
    assert.equal(log.matching(/dropped the late 'runResult' reply to request 30 \(timed out\)/).length, 1);
  });

  it('cancel(id) rejects with code cancelled, posts cancel, and a late reply (or error) is dropped', async () => {
    const { port, log, ch } = setup();
    const progress: string[] = [];
    const p = ch.request({ type: 'run', id: 40, model, text: 'x' }, { timeoutMs: 5000, onProgress: (m) => progress.push(m) });
    const other = ch.request({ type: 'run', id: 41, model, text: 'y' }, { timeoutMs: 5000 });
    assert.equal(ch.cancel(40), true);
    await rejectsWith(p, 'cancelled');
    await tick();
    assert.deepEqual(port.posted.filter((m) => m.type === 'cancel'), [{ type: 'cancel', id: 40 }]);
    assert.equal(ch.cancel(40), false, 'a second cancel finds nothing to cancel');

    port.send({ type: 'progress', requestId: 40, message: 'still going' });
    port.send(runReply(40));
    port.send({ type: 'error', inReplyTo: 40, error: { code: 'cancelled', message: 'The run was cancelled.' } });
    assert.deepEqual(progress, [], 'progress of a cancelled request reaches nobody');
    assert.equal(log.matching(/late '(runResult|error)' reply to request 40 \(cancelled\)/).length, 2);
    assert.equal(await settled(other), false, 'the other request is untouched');
    port.send(runReply(41));
    assert.equal((await other).inReplyTo, 41);
  });

  it('a cancellation token cancels the request; its listener is released when the request settles', async () => {
    const { port, ch } = setup();
    const token = new FakeToken();
    const p = ch.request({ type: 'run', id: 50, model, text: 'x' }, { timeoutMs: 5000, token });
    assert.equal(token.listenerCount, 1);
    token.cancel();
    await rejectsWith(p, 'cancelled');
    await tick();
    assert.deepEqual(port.posted.at(-1), { type: 'cancel', id: 50 });

    const token2 = new FakeToken();
    const q = ch.request({ type: 'inspect', id: 51, model }, { timeoutMs: 5000, token: token2 });
    port.send({ type: 'inspectResult', inReplyTo: 51, architecture: 'gru' });
    await q;
    assert.equal(token2.listenerCount, 0);

    const already = new FakeToken();
    already.cancel();
    await rejectsWith(ch.request({ type: 'inspect', id: 52, model }, { timeoutMs: 5000, token: already }), 'cancelled');
  });

  it('malformed messages are dropped and logged, and do not settle the request they name', async () => {
    const { port, log, ch } = setup();
    const p = ch.request({ type: 'run', id: 60, model, text: 'x' }, { timeoutMs: 5000 });
    const bad: unknown[] = [
      null, 42, 'runResult', [], { no: 'type' }, { type: 'nonsense', inReplyTo: 60 },
      { ...runReply(60), inReplyTo: '60' },
      { ...runReply(60), tokens: [{ ...tokens[0], score: '0.5' }] },
      { ...runReply(60), tokens: [{ ...tokens[0], attends: [{ index: 'a', weight: 1 }] }] },
      { ...runReply(60), tokens: [{ ...tokens[0], predictions: [{ text: 1, p: 0.5 }] }] },
      { ...runReply(60), timings: { run: '4' } },
      { ...runReply(60), decorationMode: 'rainbow' },
      { type: 'error', inReplyTo: 60, error: { message: 'no code' } },
      { type: 'exportResult', inReplyTo: 60, view: 'heatmap', files: [{ fileName: 'a.png', mime: 'image/png', data: [1, 2, 3] }] },
      { type: 'exportFile', fileName: 'a.png', mime: 'image/png', data: new ArrayBuffer(3) },
      { type: 'progress', inReplyTo: 60, message: 'old shape' },
      { type: 'log', level: 'debug', message: 'x' },
    ];
    const rescored: TokensRescored[] = [];
    ch.onTokensRescored((r) => rescored.push(r));
    bad.push({ type: 'tokensRescored', runId: 60, tokens: [{ ...tokens[0], start: 0.5 }], decorationMode: 'attention' });
    for (const m of bad) assert.doesNotThrow(() => port.send(m));
    const dropped = log.matching(/dropped a malformed message/);
    assert.equal(dropped.length, bad.length, JSON.stringify(log.lines));
    assert.ok(dropped.every((l) => l.level === 'warn'));
    // The log line says what was wrong, down to the nested field.
    assert.ok(log.matching(/'runResult'\.tokens\[0\]\.attends\[0\]\.index is not an integer/).length === 1, JSON.stringify(dropped));
    assert.ok(log.matching(/'exportResult'\.files\[0\]\.data is not a Uint8Array/).length === 1);
    assert.deepEqual(rescored, []);
    assert.equal(await settled(p), false, 'nothing malformed settled the request');
    port.send(runReply(60));
    assert.equal((await p).backend, 'wasm');
  });

  it('dispose rejects every pending request, stops listening, and refuses new requests', async () => {
    const { port, ch } = setup();
    const a = ch.request({ type: 'run', id: 70, model, text: 'x' }, { timeoutMs: 5000 });
    const b = ch.request({ type: 'exportView', id: 71 }, { timeoutMs: 5000 });
    assert.equal(port.listenerCount, 1);
    ch.dispose();
    await rejectsWith(a, 'panel-closed');
    await rejectsWith(b, 'panel-closed');
    assert.equal(ch.pendingCount, 0);
    assert.equal(port.listenerCount, 0);
    await rejectsWith(ch.request({ type: 'inspect', id: 72, model }, { timeoutMs: 5000 }), 'panel-closed');
    assert.doesNotThrow(() => ch.dispose());
  });

  it('reset (the page reloads) rejects pending requests with panel-reloaded and clears ready', async () => {
    const { port, ch } = setup();
    port.send({ type: 'ready' });
    assert.equal(ch.isReady, true);
    const p = ch.request({ type: 'run', id: 80, model, text: 'x' }, { timeoutMs: 5000 });
    ch.reset('reloaded to read a new folder');
    const e = await rejectsWith(p, 'panel-reloaded');
    assert.equal(e.message, 'reloaded to read a new folder');
    assert.equal(ch.isReady, false);
  });

  it('runtimeReady marks the page\'s onnxruntime-web loaded until the page loads again (Auto runs natively until then)', () => {
    const { port, ch, log } = setup();
    assert.equal(ch.isRuntimeWarm, false);
    port.send({ type: 'runtimeReady', ms: 2375.4 });
    assert.equal(ch.isRuntimeWarm, false, 'a runtime of a page that never said ready is not counted');
    port.send({ type: 'ready' });
    port.send({ type: 'runtimeReady', ms: 2375.4 });
    assert.equal(ch.isRuntimeWarm, true);
    assert.equal(log.matching(/onnxruntime-web loaded in the page in 2375 ms/).length, 2);
    port.send({ type: 'ready' });
    assert.equal(ch.isRuntimeWarm, false, 'a reloaded page starts onnxruntime-web anew');
    port.send({ type: 'runtimeReady', ms: 10 });
    ch.reset('reloaded to read a new folder');
    assert.equal(ch.isRuntimeWarm, false);
    port.send({ type: 'runtimeReady' });
    assert.equal(log.matching(/dropped a malformed message: 'runtimeReady'\.ms/).length, 1);
  });

  it('a request the webview did not receive (hidden) rejects at once, not at the timeout', async () => {
    const { port, ch } = setup();
    port.delivered = false;
    await rejectsWith(ch.request({ type: 'run', id: 90, model, text: 'x' }, { timeoutMs: 60_000 }), 'not-delivered');
    assert.equal(ch.pendingCount, 0);
  });

  it('refuses a second request with an id that is still waiting', async () => {
    const { ch } = setup();
    const p = ch.request({ type: 'run', id: 95, model, text: 'x' }, { timeoutMs: 5000 });
    await rejectsWith(ch.request({ type: 'inspect', id: 95, model }, { timeoutMs: 5000 }), 'protocol');
    assert.equal(await settled(p), false);
    ch.dispose();
    await rejectsWith(p, 'panel-closed');
  });
});

describe('WebviewChannel: notifications', () => {
  it('progress reaches the callback of the request it names, and only that one', async () => {
    const { port, ch } = setup();
    const seen: [string, string, number | undefined][] = [];
    const a = ch.request({ type: 'run', id: 100, model, text: 'x' }, { timeoutMs: 5000, onProgress: (m, f) => seen.push(['a', m, f]) });
    const b = ch.request({ type: 'run', id: 101, model, text: 'y' }, { timeoutMs: 5000, onProgress: (m, f) => seen.push(['b', m, f]) });
    port.send({ type: 'progress', requestId: 101, message: 'Loading the model', fraction: 0.25 });
    port.send({ type: 'progress', requestId: 100, message: 'Running' });
    port.send({ type: 'progress', requestId: 555, message: 'nobody' });
    assert.deepEqual(seen, [['b', 'Loading the model', 0.25], ['a', 'Running', undefined]]);
    assert.equal(await settled(a), false, 'progress is not a reply');
    port.send(runReply(100));
    port.send(runReply(101));
    await Promise.all([a, b]);
    port.send({ type: 'progress', requestId: 100, message: 'after the end' });
    assert.equal(seen.length, 2);
  });

  it('tokensRescored is an event of its own, never taken for a reply', async () => {
    const { port, log, ch } = setup();
    const got: TokensRescored[] = [];
    ch.onTokensRescored((r) => got.push(r));
    const p = ch.request({ type: 'run', id: 110, model, text: 'x' }, { timeoutMs: 5000 });
    port.send(runReply(110));
    await p;
    const rescored = { type: 'tokensRescored', runId: 110, tokens: [{ ...tokens[0], score: 0.1 }], decorationMode: 'hiddenNorm' } as const;
    port.send(rescored);
    assert.deepEqual(got, [rescored]);
    assert.equal(log.matching(/dropped/).length, 0, 'a rescore is not a late reply');
  });

  it('an exportFile from the view\'s own button is an event; ready fires onReady and waitReady', async () => {
    const { port, ch } = setup();
    const files: ExportFile[] = [];
    ch.onUnsolicitedExport((f) => files.push(f));
    const ready = ch.waitReady(5000);
    port.send({ type: 'ready' });
    await ready;
    port.send({ type: 'exportFile', ...file('heatmap.png', [0x89, 0x50, 0x4e, 0x47]) });
    assert.equal(files.length, 1);
    assert.deepEqual(Array.from(files[0].data), [0x89, 0x50, 0x4e, 0x47]);
    await rejectsWith(new WebviewChannel(new FakeWebview(), new FakeLog(), 'slow').waitReady(10), 'timeout');
  });

  it('a page closed while it loads (a reload for a new model folder) fails waitReady at once, not at its timeout', async () => {
    const { ch } = setup();
    ch.reset('reloading');
    // An hour's timeout: only the close can end this wait (before the fix it waited out its timeout).
    const waiting = ch.waitReady(3_600_000);
    setTimeout(() => ch.dispose(), 20);
    const e = await rejectsWith(waiting, 'panel-closed');
    assert.match(e.message, /^The Sequence Lens panel was closed while it worked; run again to reopen it\.$/);
    await rejectsWith(ch.waitReady(3_600_000), 'panel-closed');
  });

  it('a listener that throws is logged; the others still hear the event', () => {
    const { port, log, ch } = setup();
    let heard = 0;
    ch.onTokensRescored(() => { throw new Error('boom'); });
    ch.onTokensRescored(() => { heard++; });
    port.send({ type: 'tokensRescored', runId: 1, tokens, decorationMode: 'attention' });
    assert.equal(heard, 1);
    assert.equal(log.matching(/listener failed: boom/).length, 1);
  });

  it('page log lines reach the host log at their level', () => {
    const { port, log } = setup();
    port.send({ type: 'log', level: 'error', message: 'webgpu lost' });
    port.send({ type: 'log', level: 'info', message: 'loaded layer 3' });
    assert.deepEqual(log.lines, [{ level: 'error', message: '[panel] webgpu lost' }, { level: 'info', message: '[panel] loaded layer 3' }]);
  });
});

describe('protocol guards', () => {
  it('accept every well-formed message of both directions', () => {
    const good: unknown[] = [
      { type: 'ready' }, runReply(1), { type: 'inspectResult', inReplyTo: 2, architecture: 'transformer-decoder' },
      { type: 'exportResult', inReplyTo: 3, view: 'heatmap', files: [] },
      { type: 'error', inReplyTo: 4, error: { code: 'x', message: 'y' } },
      { type: 'progress', requestId: 5, message: 'm', fraction: 0.5 },
      { type: 'tokensRescored', runId: 6, tokens, decorationMode: 'gate' },
      { type: 'exportFile', ...file('a.npy', [1]) }, { type: 'log', level: 'warn', message: 'w' },
      // A NaN score (a degenerate matrix) is still a number the host can show.
      { ...runReply(7), tokens: [{ ...tokens[0], score: Number.NaN }] },
    ];
    for (const m of good) assert.equal(webviewToHostProblem(m), undefined, JSON.stringify(m));
    const host: unknown[] = [
      { type: 'init', mode: 'panel', backend: 'auto', maxTokens: 512, trusted: true },
      { type: 'init', mode: 'inspector', backend: 'wasm', maxTokens: 512, trusted: false, wasmBase: 'x/', decorationMode: 'hiddenNorm' },
      { type: 'run', id: 1, model, text: 'x', compareWith: { ...model, manifestUri: 'https://m.json' }, documentUri: 'file:///a' },
      { type: 'run', id: 1, model, text: 'x', compareWith: undefined },
      { type: 'inspect', id: 2, model }, { type: 'exportView', id: 3 }, { type: 'cancel', id: 3 },
      { type: 'setBackend', backend: 'webgpu' }, { type: 'setDecorationMode', mode: 'gate' },
    ];
    for (const m of host) assert.equal(hostToWebviewProblem(m), undefined, JSON.stringify(m));
  });

  it('reject nested fields of the wrong kind, naming the field', () => {
    assert.equal(isHostToWebview({ type: 'run', id: 1, model: { ...model, fileUris: { model: 7 } }, text: 'x' }), false);
    assert.match(hostToWebviewProblem({ type: 'run', id: 1, model: { ...model, architecture: 'mamba' }, text: 'x' }) ?? '', /'run'\.model\.architecture/);
    assert.match(hostToWebviewProblem({ type: 'init', mode: 'panel', backend: 'cuda', maxTokens: 1, trusted: true }) ?? '', /backend/);
    assert.match(hostToWebviewProblem({ type: 'run', id: 1, model, text: 'x', compareWith: { id: 'z' } }) ?? '', /compareWith\.label/);
    assert.equal(isWebviewToHost({ type: 'exportResult', inReplyTo: 1, view: 'v', files: [{ fileName: 'a', mime: 'b', data: new Uint16Array(2) }] }), false);
    assert.match(webviewToHostProblem({ ...runReply(1), tokens: [{ ...tokens[0], predictions: [{ text: 'a' }] }] }) ?? '', /tokens\[0\]\.predictions\[0\]\.p is not a number/);
    assert.match(webviewToHostProblem({ type: 'hello' }) ?? '', /unknown type 'hello'/);
    // A type that only exists on Object.prototype is unknown too, not a crash.
    assert.match(webviewToHostProblem({ type: 'toString' }) ?? '', /unknown type/);
  });
});
