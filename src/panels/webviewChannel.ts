/**
 * Typed, validated messaging with one webview. Everything received is checked with the guards in
 * src/shared/protocol.ts and dropped (with a log line) when malformed. A request carries an `id`;
 * its reply (`inReplyTo`) settles the promise `request()` returned, typed by `Replies`. The promise
 * also settles on timeout, on cancel and when the webview goes away, so no caller waits forever; a
 * reply that comes after that is dropped with a log line. Notifications (progress, tokensRescored,
 * the view's own exports) are events, never replies.
 *
 * It depends on a minimal port (what vscode.Webview offers) and its own emitter, not on `vscode`,
 * so test/unit/webviewChannel.test.ts drives it in plain Node with a fake webview.
 */
import {
  REPLY_TYPE, isReply, webviewToHostProblem,
  type HostRequest, type HostToWebview, type Replies, type WebviewNotification, type WebviewReply, type WebviewToHost,
} from '../shared/protocol.js';
import { describeError } from '../host/describeError.js';
import { Emitter, type Disposable, type Event } from './emitter.js';

/** The part of vscode.Webview the channel uses. */
export interface WebviewPort {
  postMessage(message: HostToWebview): PromiseLike<boolean>;
  onDidReceiveMessage(listener: (message: unknown) => unknown): Disposable;
}

/** The part of the host's Log the channel uses. */
export interface ChannelLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The part of vscode.CancellationToken the channel uses. */
export interface CancelSignal {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): Disposable;
}

export type RunResult = Replies['run'];
export type TokensRescored = Extract<WebviewNotification, { type: 'tokensRescored' }>;
/** A file the view exported on its own (its export button). */
export type ExportFile = Extract<WebviewNotification, { type: 'exportFile' }>;
/** What the page asks of the host for native runs: deferred layers, a cancel, a "Try it" run. */
export type PageAsk = Extract<WebviewNotification, { type: 'fetchLayers' | 'cancelHostWork' | 'tryOnHost' | 'pickNpy' | 'chooseBackend' }>;

export interface RequestOptions {
  timeoutMs: number;
  /** Progress notifications about this request, while it waits. */
  onProgress?: (message: string, fraction?: number) => void;
  token?: CancelSignal;
}

/** A failure the user should read as is (the webview's own error, a timeout, the panel closing). */
export class PanelError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'PanelError';
  }
}

interface Pending {
  kind: keyof Replies;
  resolve(reply: Replies[keyof Replies]): void;
  reject(e: PanelError): void;
  onProgress?: (message: string, fraction?: number) => void;
  timer: ReturnType<typeof setTimeout>;
  cancelSub?: Disposable;
}

/** How many abandoned request ids are remembered, to tell a late reply from a stray one in the log. */
const ABANDONED_KEPT = 64;

let nextId = 1;
/** Ids are unique across all webviews so a stray answer can never settle another panel's request. */
export function newRequestId(): number {
  return nextId++;
}

export class WebviewChannel implements Disposable {
  private readonly pending = new Map<number, Pending>();
  /** Requests we stopped waiting for (id → why): their replies may still come and are dropped. */
  private readonly abandoned = new Map<number, string>();
  private readonly readyEmitter: Emitter<void>;
  private readonly rescoredEmitter: Emitter<TokensRescored>;
  private readonly exportEmitter: Emitter<ExportFile>;
  private readonly askEmitter: Emitter<PageAsk>;
  /** Fires on every 'ready' (first load and each reload after the view was hidden). */
  readonly onReady: Event<void>;
  /** The page re-scored the tokens of a finished run (its pin or the decoration mode changed). */
  readonly onTokensRescored: Event<TokensRescored>;
  /** An exportFile the webview sent on its own (its export button). */
  readonly onUnsolicitedExport: Event<ExportFile>;
  /** The page asks the host for something (native runs: deferred layers, cancel, "Try it"). */
  readonly onPageAsk: Event<PageAsk>;
  private readonly disposables: Disposable[];
  private ready = false;
  private runtimeWarm = false;
  private disposed = false;
  /** Who waits in waitReady(): failed at once when the page is closed. */
  private readonly readyWaiters = new Set<(e: PanelError) => void>();

  constructor(private readonly webview: WebviewPort, private readonly log: ChannelLog, private readonly name: string) {
    const onError = (e: unknown): void => this.log.error(`${name}: an event listener failed: ${describeError(e)}`);
    this.readyEmitter = new Emitter<void>(onError);
    this.rescoredEmitter = new Emitter<TokensRescored>(onError);
    this.exportEmitter = new Emitter<ExportFile>(onError);
    this.onReady = this.readyEmitter.event;
    this.onTokensRescored = this.rescoredEmitter.event;
    this.onUnsolicitedExport = this.exportEmitter.event;
    this.askEmitter = new Emitter<PageAsk>(onError);
    this.onPageAsk = this.askEmitter.event;
    this.disposables = [this.readyEmitter, this.rescoredEmitter, this.exportEmitter, this.askEmitter];
    this.disposables.push(webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Whether the page's onnxruntime-web has loaded (its warm-up ran): until then a run in the page waits seconds for it. */
  get isRuntimeWarm(): boolean {
    return this.ready && this.runtimeWarm;
  }

  /** Requests sent and not yet settled (tests, diagnostics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The page is about to (re)load: replies in flight will never come. */
  reset(reason: string): void {
    this.ready = false;
    this.runtimeWarm = false;
    this.failAll('panel-reloaded', reason);
  }

  /**
   * Resolves when the page says 'ready'. A page closed meanwhile (e.g. while it reloads for a new model
   * folder) fails the wait at once with the closed-while-working sentence, not after the timeout.
   */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.disposed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        sub.dispose();
        this.readyWaiters.delete(onClosed);
      };
      const onClosed = (e: PanelError): void => {
        done();
        reject(e);
      };
      const timer = setTimeout(() => {
        done();
        reject(new PanelError('timeout', `The Sequence Lens ${this.name} did not start within ${Math.round(timeoutMs / 1000)} s. See the "Sequence Lens" output for details.`));
      }, timeoutMs);
      const sub = this.onReady(() => {
        done();
        resolve();
      });
      this.readyWaiters.add(onClosed);
    });
  }

  private closedError(): PanelError {
    return new PanelError('panel-closed', `The Sequence Lens ${this.name} was closed while it worked; run again to reopen it.`);
  }

  /** Posts a message that wants no reply (init, setBackend, ...). Resolves whether it was delivered. */
  async post(message: HostToWebview): Promise<boolean> {
    const delivered = await this.webview.postMessage(message);
    if (!delivered) this.log.warn(`${this.name}: message '${message.type}' was not delivered (webview hidden or gone).`);
    return delivered;
  }

  /**
   * Sends a request and resolves with its reply, typed by `Replies` (`request({ type: 'run', ... })`
   * is a Promise<RunReply>). Rejects with a PanelError on an error reply, a reply of the wrong type,
   * timeout, cancel (the token or `cancel(id)`), a message that could not be delivered, reset or dispose.
   */
  request<K extends keyof Replies>(message: HostRequest & { type: K }, opts: RequestOptions): Promise<Replies[K]> {
    const id = message.id;
    if (this.disposed) return Promise.reject(new PanelError('panel-closed', `The Sequence Lens ${this.name} was closed.`));
    if (this.pending.has(id)) return Promise.reject(new PanelError('protocol', `Request ${id} is already waiting for its reply.`));
    if (opts.token?.isCancellationRequested) return Promise.reject(new PanelError('cancelled', 'Cancelled.'));
    return new Promise<Replies[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.abandon(id, 'timed out', new PanelError('timeout', `The Sequence Lens ${this.name} gave no answer within ${Math.round(opts.timeoutMs / 1000)} s.`));
      }, opts.timeoutMs);
      // The reply's type is checked against REPLY_TYPE[kind] before resolve is called (see settleReply).
      const p: Pending = { kind: message.type, resolve: resolve as (r: Replies[keyof Replies]) => void, reject, onProgress: opts.onProgress, timer };
      this.pending.set(id, p);
      p.cancelSub = opts.token?.onCancellationRequested(() => void this.cancel(id));
      this.webview.postMessage(message).then(
        (delivered) => {
          // Not delivered: the page never saw it, so no reply will come; say so now, not at the timeout.
          if (!delivered) this.take(id)?.reject(new PanelError('not-delivered', `The Sequence Lens ${this.name} is hidden or gone; it did not get the ${message.type} request.`));
        },
        (e: unknown) => {
          this.take(id)?.reject(new PanelError('post-failed', `Could not reach the Sequence Lens ${this.name}: ${describeError(e)}`));
        },
      );
    });
  }

  /**
   * Stops waiting for request `id`: its promise rejects with code 'cancelled' and the page is told to
   * stop. Returns false when the request was not waiting (already settled, or never sent here).
   */
  /** `error`: what the request rejects with (a run replaced by a newer one says so, not "cancelled"). */
  cancel(id: number, error = new PanelError('cancelled', 'Cancelled.')): boolean {
    return this.abandon(id, 'cancelled', error);
  }

  private abandon(id: number, why: string, error: PanelError): boolean {
    const p = this.take(id);
    if (!p) return false;
    this.abandoned.set(id, why);
    if (this.abandoned.size > ABANDONED_KEPT) this.abandoned.delete(this.abandoned.keys().next().value as number);
    p.reject(error);
    void this.post({ type: 'cancel', id }).catch((e: unknown) => this.log.warn(`${this.name}: could not post cancel for request ${id}: ${describeError(e)}`));
    return true;
  }

  /** Removes request `id` from the pending set and returns it, with its timer and token listener released. */
  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    p.cancelSub?.dispose();
    this.pending.delete(id);
    return p;
  }

  private failAll(code: string, reason: string): void {
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(new PanelError(code, reason));
  }

  private receive(raw: unknown): void {
    if (this.disposed) return;
    const problem = webviewToHostProblem(raw);
    if (problem !== undefined) {
      this.log.warn(`${this.name}: dropped a malformed message: ${problem}`);
      return;
    }
    const m = raw as WebviewToHost;
    if (isReply(m)) {
      this.settleReply(m);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        // A page that (re)loads starts onnxruntime-web anew.
        this.runtimeWarm = false;
        this.log.info(`${this.name}: webview ready`);
        this.readyEmitter.fire();
        return;
      case 'runtimeReady':
        this.runtimeWarm = true;
        this.log.info(`${this.name}: onnxruntime-web loaded in the page in ${Math.round(m.ms)} ms`);
        return;
      case 'log':
        if (m.level === 'error') this.log.error(`[${this.name}] ${m.message}`);
        else if (m.level === 'warn') this.log.warn(`[${this.name}] ${m.message}`);
        else this.log.info(`[${this.name}] ${m.message}`);
        return;
      case 'progress':
        // Progress of a request no longer waited for (cancelled, timed out) is of no use to anyone.
        this.pending.get(m.requestId)?.onProgress?.(m.message, m.fraction);
        return;
      case 'tokensRescored':
        this.rescoredEmitter.fire(m);
        return;
      case 'exportFile':
        this.exportEmitter.fire(m);
        return;
      case 'fetchLayers':
      case 'cancelHostWork':
      case 'tryOnHost':
      case 'pickNpy':
      case 'chooseBackend':
        this.askEmitter.fire(m);
        return;
    }
  }

  private settleReply(m: WebviewReply): void {
    const id = m.inReplyTo;
    const p = this.take(id);
    if (!p) {
      const why = this.abandoned.get(id);
      if (why !== undefined) this.log.info(`${this.name}: dropped the late '${m.type}' reply to request ${id} (${why}).`);
      else this.log.warn(`${this.name}: dropped a '${m.type}' reply to request ${id}, which nothing waits for.`);
      return;
    }
    if (m.type === 'error') p.reject(new PanelError(m.error.code, m.error.message));
    else if (m.type !== REPLY_TYPE[p.kind]) p.reject(new PanelError('protocol', `The Sequence Lens ${this.name} answered '${p.kind}' with '${m.type}'.`));
    else p.resolve(m);
  }

  dispose(): void {
    if (this.disposed) return;
    const closed = this.closedError();
    this.failAll(closed.code, closed.message);
    for (const fail of [...this.readyWaiters]) fail(closed);
    this.disposed = true;
    for (const d of this.disposables) d.dispose();
  }
}
