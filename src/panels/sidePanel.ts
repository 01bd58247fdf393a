/**
 * The side panel: a webview view in the panel area that shows runs. It is not retained when
 * hidden (the app keeps its own state with getState/setState); every time its page (re)loads it
 * says 'ready' and gets `init` again. Runs wait for the page, widen the resource roots to the
 * model's folders when needed (which reloads the page), then post the request.
 */
import * as vscode from 'vscode';
import type { Log } from '../host/log.js';
import { readSettings } from '../host/settings.js';
import type { RegisteredModel } from '../models/registeredModel.js';
import { newRequestId, PanelError, WebviewChannel, type ExportFile, type RunResult } from './webviewChannel.js';
import { baseRoots, coveredBy, modelFolders, modelRefFor, pageFor, wasmBaseFor, webviewOptions } from './webviewSetup.js';

export const PANEL_VIEW_ID = 'sequenceLens.panel';
const READY_TIMEOUT_MS = 45_000;
const RUN_TIMEOUT_MS = 300_000;

export interface RunRequest {
  model: RegisteredModel;
  text: string;
  compareWith?: RegisteredModel;
  documentUri?: vscode.Uri;
  token?: vscode.CancellationToken;
  onProgress?: (message: string, fraction?: number) => void;
}

export class SidePanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private channel: WebviewChannel | undefined;
  private roots: vscode.Uri[];
  private readonly disposables: vscode.Disposable[] = [];
  private viewDisposables: vscode.Disposable[] = [];
  private readonly resolved = new vscode.EventEmitter<void>();
  private readonly lateResult = new vscode.EventEmitter<RunResult>();
  private readonly unsolicitedExport = new vscode.EventEmitter<ExportFile>();
  /** A finished run re-scored in the panel (e.g. another decoration mode was picked there). */
  readonly onLateRunResult = this.lateResult.event;
  readonly onUnsolicitedExport = this.unsolicitedExport.event;
  private currentRun: number | undefined;
  lastBackend: string | undefined;
  /** The last run that succeeded: re-posted when the page comes back after being hidden. */
  private lastRun: Omit<RunRequest, 'token' | 'onProgress'> | undefined;
  private restoreOnReady = false;
  /** Runs asked for and not yet answered, counted from before the page is ready (a restore must not overtake them). */
  private pendingRuns = 0;
  /** Files of an "Export Current View" in progress (the panel sends one exportFile per format). */
  private exportCollector: ExportFile[] | undefined;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: Log) {
    this.roots = baseRoots(extensionUri);
    this.disposables.push(this.resolved, this.lateResult, this.unsolicitedExport);
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('sequenceLens.backend') && this.channel?.isReady) {
        void this.channel.post({ type: 'setBackend', backend: readSettings().backend });
      }
      if (e.affectsConfiguration('sequenceLens.decorationMode') && this.channel?.isReady) {
        void this.channel.post({ type: 'setDecorationMode', mode: readSettings().decorationMode });
      }
    }));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    for (const d of this.viewDisposables) d.dispose();
    this.view = view;
    const channel = new WebviewChannel(view.webview, this.log, 'panel');
    this.channel = channel;
    this.viewDisposables = [
      channel,
      channel.onReady(() => void this.sendInit().then(() => this.restore())),
      channel.onLateRunResult((r) => this.lateResult.fire(r)),
      channel.onUnsolicitedExport((f) => {
        if (this.exportCollector) this.exportCollector.push(f);
        else this.unsolicitedExport.fire(f);
      }),
      view.onDidChangeVisibility(() => {
        // Hidden: VS Code drops the page; it reloads (and says 'ready') when shown again.
        if (!view.visible) {
          channel.reset('The Sequence Lens panel was hidden while it was working. Run again.');
          this.restoreOnReady = this.lastRun !== undefined;
        }
      }),
      view.onDidDispose(() => {
        if (this.view === view) {
          this.view = undefined;
          this.channel = undefined;
        }
        channel.dispose();
      }),
    ];
    view.webview.options = webviewOptions(this.roots);
    view.webview.html = pageFor(view.webview, this.extensionUri, 'panel', 'Sequence Lens');
    this.resolved.fire();
  }

  private async sendInit(): Promise<void> {
    const s = readSettings();
    if (!this.channel || !this.view) return;
    await this.channel.post({
      type: 'init', mode: 'panel', backend: s.backend, maxTokens: s.maxTokens, trusted: vscode.workspace.isTrusted,
      decorationMode: s.decorationMode, wasmBase: wasmBaseFor(this.view.webview, this.extensionUri),
    });
  }

  /**
   * The page was dropped while hidden and has just come back: run the last request again so the
   * panel shows what it showed (its own view choices come back from getState).
   */
  private async restore(): Promise<void> {
    const last = this.lastRun;
    if (!this.restoreOnReady || !last || !this.channel || !this.view) return;
    this.restoreOnReady = false;
    // A run the user just asked for (which may be what showed the panel) wins over the restore.
    if (this.currentRun !== undefined || this.pendingRuns > 0) return;
    this.log.info(`panel: restoring the last run (${last.model.label}) after the panel was shown again`);
    try {
      await this.run({ ...last }, true);
    } catch (e) {
      const replaced = e instanceof PanelError && e.code === 'cancelled';
      this.log[replaced ? 'info' : 'warn'](`panel: ${replaced ? 'did not restore' : 'could not restore'} the last run: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Shows the panel (without taking focus when it already exists) and waits until its page is ready. */
  async open(preserveFocus = true): Promise<WebviewChannel> {
    if (this.view) {
      this.view.show(preserveFocus);
    } else {
      const resolved = new Promise<void>((resolve) => {
        const sub = this.resolved.event(() => {
          sub.dispose();
          resolve();
        });
      });
      await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
      await Promise.race([resolved, new Promise((r) => setTimeout(r, READY_TIMEOUT_MS))]);
    }
    const channel = this.channel;
    if (!channel) throw new PanelError('no-panel', 'The Sequence Lens panel could not be opened.');
    await channel.waitReady(READY_TIMEOUT_MS);
    return channel;
  }

  /** Lets the page read the model's folders; reloads the page when the set grows. */
  private async allow(models: RegisteredModel[]): Promise<WebviewChannel> {
    const needed = models.flatMap(modelFolders).filter((f) => !coveredBy(this.roots, f));
    let channel = await this.open();
    if (needed.length > 0 && this.view) {
      this.roots = [...this.roots, ...needed];
      this.log.info(`panel: allowing ${needed.map((u) => u.fsPath).join(', ')}`);
      channel.reset('The Sequence Lens panel reloaded to read a new model folder.');
      this.view.webview.options = webviewOptions(this.roots);
      // Changing the options reloads the page in some VS Code versions and not in others: reload for sure.
      this.view.webview.html = pageFor(this.view.webview, this.extensionUri, 'panel', 'Sequence Lens');
      channel = await this.open();
    }
    return channel;
  }

  /** `restoring`: a re-run of the last result, which yields to (and never cancels) a run the user asked for. */
  async run(req: RunRequest, restoring = false): Promise<RunResult> {
    if (!restoring) this.pendingRuns += 1;
    try {
      return await this.runNow(req, restoring);
    } finally {
      if (!restoring) this.pendingRuns -= 1;
    }
  }

  private async runNow(req: RunRequest, restoring: boolean): Promise<RunResult> {
    const channel = await this.allow(req.compareWith ? [req.model, req.compareWith] : [req.model]);
    const webview = this.view?.webview;
    if (!webview) throw new PanelError('no-panel', 'The Sequence Lens panel is not open.');
    if (restoring && (this.currentRun !== undefined || this.pendingRuns > 0)) {
      throw new PanelError('cancelled', 'A new run replaced the restore of the last one.');
    }
    if (this.currentRun !== undefined) void channel.post({ type: 'cancel', id: this.currentRun });
    const id = newRequestId();
    this.currentRun = id;
    try {
      const answer = await channel.request(
        {
          type: 'run', id, text: req.text, model: modelRefFor(webview, req.model),
          compareWith: req.compareWith ? modelRefFor(webview, req.compareWith) : undefined,
          documentUri: req.documentUri?.toString(),
        },
        { timeoutMs: RUN_TIMEOUT_MS, onProgress: req.onProgress, token: req.token },
      );
      if (answer.type !== 'runResult') throw new PanelError('protocol', `The panel answered a run with '${answer.type}'.`);
      this.lastBackend = answer.backend;
      this.lastRun = { model: req.model, text: req.text, compareWith: req.compareWith, documentUri: req.documentUri };
      return answer;
    } finally {
      if (this.currentRun === id) this.currentRun = undefined;
    }
  }

  async inspect(model: RegisteredModel): Promise<void> {
    const channel = await this.allow([model]);
    const webview = this.view?.webview;
    if (!webview) throw new PanelError('no-panel', 'The Sequence Lens panel is not open.');
    await channel.request({ type: 'inspect', id: newRequestId(), model: modelRefFor(webview, model) }, { timeoutMs: 60_000 });
  }

  /**
   * Asks the panel to export its current view. The panel answers with one exportFile per format
   * (PNG, SVG, CSV, JSON, .npy), with or without inReplyTo: collect them until they stop coming.
   */
  async exportView(): Promise<ExportFile[]> {
    if (!this.view) throw new PanelError('no-panel', 'Nothing to export yet: open the Sequence Lens panel and run a model first.');
    const channel = await this.open();
    const files: ExportFile[] = [];
    this.exportCollector = files;
    try {
      await channel.post({ type: 'exportView', id: newRequestId() });
      const started = Date.now();
      let count = -1;
      let quietSince = Date.now();
      while (Date.now() - started < 30_000) {
        await new Promise((r) => setTimeout(r, 250));
        if (files.length !== count) {
          count = files.length;
          quietSince = Date.now();
        } else if (files.length > 0 && Date.now() - quietSince > 1500) {
          break;
        }
      }
    } finally {
      this.exportCollector = undefined;
    }
    if (files.length === 0) throw new PanelError('timeout', 'The panel exported nothing: run a model first, then export.');
    return files;
  }

  dispose(): void {
    for (const d of this.viewDisposables) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
