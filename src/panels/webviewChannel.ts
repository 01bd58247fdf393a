/**
 * Typed, validated messaging with one webview. Everything received is checked with the guards in
 * src/shared/protocol.ts and dropped (with a log line) when malformed. Requests carry an `id`;
 * their answers (`inReplyTo`) settle a pending promise, which also settles on timeout, on cancel
 * and when the webview goes away, so no caller waits forever.
 */
import * as vscode from 'vscode';
import { isWebviewToHost, type HostToWebview, type WebviewToHost } from '../shared/protocol.js';
import { describeError, type Log } from '../host/log.js';

export type Answer = Extract<WebviewToHost, { type: 'runResult' | 'inspectResult' | 'exportFile' }>;
export type RunResult = Extract<WebviewToHost, { type: 'runResult' }>;
export type ExportFile = Extract<WebviewToHost, { type: 'exportFile' }>;

/** A failure the user should read as is (the webview's own error, a timeout, the panel closing). */
export class PanelError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'PanelError';
  }
}

interface Pending {
  resolve(a: Answer): void;
  reject(e: PanelError): void;
  onProgress?: (message: string, fraction?: number) => void;
  timer: ReturnType<typeof setTimeout>;
}

let nextId = 1;
/** Ids are unique across all webviews so a stray answer can never settle another panel's request. */
export function newRequestId(): number {
  return nextId++;
}

export class WebviewChannel implements vscode.Disposable {
  private readonly pending = new Map<number, Pending>();
  private readonly readyEmitter = new vscode.EventEmitter<void>();
  private readonly lateResultEmitter = new vscode.EventEmitter<RunResult>();
  private readonly exportEmitter = new vscode.EventEmitter<ExportFile>();
  /** Fires on every 'ready' (first load and each reload after the view was hidden). */
  readonly onReady = this.readyEmitter.event;
  /** A runResult for a run that already finished: the panel re-scored tokens (e.g. a new decoration mode). */
  readonly onLateRunResult = this.lateResultEmitter.event;
  /** An exportFile the webview sent on its own (its export button). */
  readonly onUnsolicitedExport = this.exportEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.readyEmitter, this.lateResultEmitter, this.exportEmitter];
  private readonly finishedRuns = new Set<number>();
  private ready = false;

  constructor(private readonly webview: vscode.Webview, private readonly log: Log, private readonly name: string) {
    this.disposables.push(webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The page is about to (re)load: answers in flight will never come. */
  reset(reason: string): void {
    this.ready = false;
    this.failAll('panel-reloaded', reason);
  }

  waitReady(timeoutMs: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.dispose();
        reject(new PanelError('timeout', `The Sequence Lens ${this.name} did not start within ${Math.round(timeoutMs / 1000)} s. See the "Sequence Lens" output for details.`));
      }, timeoutMs);
      const sub = this.onReady(() => {
        clearTimeout(timer);
        sub.dispose();
        resolve();
      });
    });
  }

  async post(message: HostToWebview): Promise<void> {
    const delivered = await this.webview.postMessage(message);
    if (!delivered) this.log.warn(`${this.name}: message '${message.type}' was not delivered (webview hidden or gone).`);
  }

  /** Sends a request and resolves with its answer; rejects with PanelError on error, timeout or cancel. */
  request(
    message: Extract<HostToWebview, { id: number }>,
    opts: { timeoutMs: number; onProgress?: (message: string, fraction?: number) => void; token?: vscode.CancellationToken },
  ): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const id = message.id;
      const timer = setTimeout(() => {
        this.settle(id)?.reject(new PanelError('timeout', `The Sequence Lens ${this.name} gave no answer within ${Math.round(opts.timeoutMs / 1000)} s.`));
        void this.post({ type: 'cancel', id });
      }, opts.timeoutMs);
      this.pending.set(id, { resolve, reject, onProgress: opts.onProgress, timer });
      opts.token?.onCancellationRequested(() => {
        const p = this.settle(id);
        if (!p) return;
        void this.post({ type: 'cancel', id });
        p.reject(new PanelError('cancelled', 'Cancelled.'));
      });
      this.post(message).catch((e: unknown) => {
        this.settle(id)?.reject(new PanelError('post-failed', `Could not reach the Sequence Lens ${this.name}: ${describeError(e)}`));
      });
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(id);
    return p;
  }

  private failAll(code: string, reason: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new PanelError(code, reason));
  }

  private receive(raw: unknown): void {
    if (!isWebviewToHost(raw)) {
      const t = typeof raw === 'object' && raw !== null ? String((raw as Record<string, unknown>).type) : typeof raw;
      this.log.warn(`${this.name}: dropped a malformed message (type ${t}).`);
      return;
    }
    const m = raw;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.log.info(`${this.name}: webview ready`);
        this.readyEmitter.fire();
        return;
      case 'log':
        if (m.level === 'error') this.log.error(`[${this.name}] ${m.message}`);
        else if (m.level === 'warn') this.log.warn(`[${this.name}] ${m.message}`);
        else this.log.info(`[${this.name}] ${m.message}`);
        return;
      case 'progress':
        this.pending.get(m.inReplyTo)?.onProgress?.(m.message, m.fraction);
        return;
      case 'runError': {
        const p = this.settle(m.inReplyTo);
        if (p) p.reject(new PanelError(typeof m.error.code === 'string' ? m.error.code : 'error', m.error.message));
        else this.log.warn(`${this.name}: error for request ${m.inReplyTo} that is no longer waited for: ${m.error.message}`);
        return;
      }
      case 'runResult': {
        const p = this.settle(m.inReplyTo);
        if (p) {
          this.finishedRuns.add(m.inReplyTo);
          p.resolve(m);
        } else if (this.finishedRuns.has(m.inReplyTo)) {
          this.lateResultEmitter.fire(m);
        }
        return;
      }
      case 'inspectResult':
        this.settle(m.inReplyTo)?.resolve(m);
        return;
      case 'exportFile': {
        const p = m.inReplyTo === undefined ? undefined : this.settle(m.inReplyTo);
        if (p) p.resolve(m);
        else this.exportEmitter.fire(m);
        return;
      }
    }
  }

  dispose(): void {
    this.failAll('panel-closed', `The Sequence Lens ${this.name} was closed.`);
    for (const d of this.disposables) d.dispose();
  }
}
