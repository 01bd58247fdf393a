/**
 * The visualizer: the page that shows runs, hosted either by the webview view in the panel area or by a
 * webview panel beside the text in the editor area (see panelSurface.ts); runs go to the place the user
 * last chose. Its page is not retained when hidden (the app keeps its own state with getState/setState);
 * every time it (re)loads it says 'ready' and gets `init` again. Runs wait for the page, widen the
 * resource roots to the model's folders when needed (which reloads the page), then post the request.
 */
import * as vscode from 'vscode';
import type { Log } from '../host/log.js';
import { readSettings, writeBackend } from '../host/settings.js';
import type { RegisteredModel } from '../models/registeredModel.js';
import type { ExportedFile, HostToWebview, WireRun } from '../shared/protocol.js';
import { newRequestId, PanelError, WebviewChannel, type ExportFile, type PageAsk, type RunResult, type TokensRescored } from './webviewChannel.js';
import { NativeBackendError, NativeHost, type NativeModelSpec } from '../node/nativeHost.js';
import { chooseBackend, modelWeight, NATIVE_AUTO_MIN_BYTES, type Choice, type ModelWeight } from '../node/autoBackend.js';
import { DEFAULT_ATTENTION_BUDGET } from '../core/run/fetchPlan.js';
import { describeError } from '../host/describeError.js';
import { modelFilesStamp } from '../models/modelFilesStamp.js';
import { baseRoots, coveredBy, mergeRoots, modelFolders, modelRefFor, pageFor, wasmBaseFor, webviewOptions } from './webviewSetup.js';
import { editorSurface, PanelPlacement, viewSurface, type PanelLocation, type PanelSurface } from './panelSurface.js';

export const PANEL_VIEW_ID = 'sequenceLens.panel';
/** The editor-area webview panel's type (also the key of its serializer). */
export const EDITOR_VIEW_TYPE = 'sequenceLens.visualizer';
const READY_TIMEOUT_MS = 45_000;
const RUN_TIMEOUT_MS = 300_000;
/** Rendering five formats of the largest view (a 2,048-token heatmap as PNG and SVG) takes seconds, not minutes. */
const EXPORT_TIMEOUT_MS = 60_000;
/** The largest logit-lens projection a native run sends the page of a remote window (about a second of its connection). */
const REMOTE_LENS_WIRE_MAX_BYTES = 4 * 2 ** 20;

export interface RunRequest {
  model: RegisteredModel;
  text: string;
  compareWith?: RegisteredModel;
  documentUri?: vscode.Uri;
  token?: vscode.CancellationToken;
  onProgress?: (message: string, fraction?: number) => void;
  /** Native runs: a second text through the same model (the page's "Try it" compare box). */
  compareText?: string;
  /** The page's "Try it" (native): not the run the editor's colours show, nor the one restored. */
  tryIt?: boolean;
}

/** The model's files on disk, for the native worker (undefined: some file is not on a local disk of the host). */
function nativeSpec(m: RegisteredModel, version: string | undefined): NativeModelSpec | undefined {
  const all = [...Object.values(m.files), ...Object.values(m.tokenizerFiles), ...(m.manifestUri ? [m.manifestUri] : [])];
  if (!all.length || all.some((u) => u.scheme !== 'file')) return undefined;
  const paths = (r: Record<string, vscode.Uri>): Record<string, string> => Object.fromEntries(Object.entries(r).map(([k, u]) => [k, u.fsPath]));
  return {
    id: m.id, label: m.label, files: paths(m.files), tokenizerFiles: paths(m.tokenizerFiles),
    ...(m.manifestUri ? { manifestPath: m.manifestUri.fsPath } : m.manifest ? { manifest: m.manifest } : {}), ...(version ? { version } : {}),
  };
}

/** Failures of the page's own run after which 'auto' tries the model on native (not the user's cancel, not a bad file). */
const WEBVIEW_FAILURES_NATIVE_MAY_FIX = new Set(['runtime', 'timeout']);

/** A page the visualizer is attached to: its surface, its channel, and what was wired to them. */
interface Attached {
  surface: PanelSurface;
  channel: WebviewChannel;
  disposables: vscode.Disposable[];
  /** The page was dropped while hidden (or is new): show the last run again once it is ready. */
  restoreOnReady: boolean;
  /** The page's fetches of native runs' deferred layers, by the page's id. */
  fetches: Map<number, AbortController>;
}

function nameOf(where: PanelLocation): string {
  return where === 'panel' ? 'panel' : 'visualizer beside the editor';
}

export class Visualizer implements vscode.WebviewViewProvider, vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly attached = new Map<PanelLocation, Attached>();
  private readonly placement: PanelPlacement;
  private roots: vscode.Uri[];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly resolved = new vscode.EventEmitter<void>();
  private readonly rescored = new vscode.EventEmitter<TokensRescored>();
  private readonly unsolicitedExport = new vscode.EventEmitter<ExportFile>();
  /** The last run's tokens re-scored in the page (its pin or the decoration mode changed). */
  readonly onTokensRescored = this.rescored.event;
  readonly onUnsolicitedExport = this.unsolicitedExport.event;
  private currentRun: { id: number; channel: WebviewChannel } | undefined;
  /** Id of the last run that succeeded: the one the editor's colours show, the only one a rescore may recolour. */
  private lastRunId: number | undefined;
  lastBackend: string | undefined;
  /** The last run that succeeded: shown again when a page comes back after being hidden, or in a new place. */
  private lastRun: Omit<RunRequest, 'token' | 'onProgress'> | undefined;
  /** Runs asked for and not yet answered, counted from before the page is ready (a restore must not overtake them). */
  private pendingRuns = 0;
  /** onnxruntime-node in a worker thread beside this host: started at the first native run. */
  private readonly native: NativeHost;
  /** The native run in flight (its request id): the page's Cancel, the command's token or a newer run stop it. */
  private nativeRun: { id: number; abort: AbortController } | undefined;
  /** Why onnxruntime-node cannot run here, once known (it does not come back within a session). */
  private nativeMissing: string | undefined;
  /** Models the webview failed to run (id → why): 'auto' sends them to native. */
  private readonly webviewFailed = new Map<string, string>();
  private readonly weights = new Map<string, Promise<ModelWeight>>();
  /** Models (id|version) the native worker was asked to load ahead of their first run, and those being looked at now. */
  private readonly prepared = new Set<string>();
  private readonly preparing = new Set<string>();
  /** The panel area's view being shown and not yet resolved (place). */
  private revealing: Promise<void> | undefined;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: Log, state: vscode.Memento) {
    this.placement = new PanelPlacement(state);
    this.roots = baseRoots(extensionUri);
    this.native = new NativeHost({
      workerPath: vscode.Uri.joinPath(extensionUri, 'dist', 'nativeWorker.cjs').fsPath,
      // Tests and the E2E: a file whose content ('exit', 'oom') stops the worker mid-run, once.
      faultFile: process.env.SEQLENS_NATIVE_FAULT_FILE || undefined,
      log: (line) => log.info(line),
    });
    this.disposables.push(this.resolved, this.rescored, this.unsolicitedExport);
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => {
      for (const a of this.attached.values()) {
        if (!a.channel.isReady) continue;
        if (e.affectsConfiguration('sequenceLens.backend')) void a.channel.post({ type: 'setBackend', backend: readSettings().backend });
        if (e.affectsConfiguration('sequenceLens.decorationMode')) void a.channel.post({ type: 'setDecorationMode', mode: readSettings().decorationMode });
      }
    }));
  }

  /** Whether a visualizer page is open in this window (the panel's view resolved, or one beside the editor). */
  get isOpen(): boolean {
    return this.attached.size > 0;
  }

  /** Where runs are shown: the place the user last chose. */
  get location(): PanelLocation {
    return this.placement.location;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.attach(viewSurface(view));
  }

  /** An editor-area visualizer that was open when the window closed comes back (empty until the next run). */
  deserializeWebviewPanel(panel: vscode.WebviewPanel): Thenable<void> {
    this.adopt(panel);
    return Promise.resolve();
  }

  private adopt(panel: vscode.WebviewPanel): Attached {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    const a = this.attach(editorSurface(panel));
    a.disposables.push(this.placement.track(panel));
    return a;
  }

  private attach(surface: PanelSurface): Attached {
    const old = this.attached.get(surface.location);
    if (old) this.detach(old);
    const channel = new WebviewChannel(surface.webview, this.log, nameOf(surface.location));
    const a: Attached = { surface, channel, disposables: [], restoreOnReady: this.lastRun !== undefined, fetches: new Map() };
    a.disposables.push(
      channel,
      channel.onPageAsk((m) => this.pageAsk(a, m)),
      channel.onReady(() => void this.sendInit(a).then(() => this.restore(a))),
      channel.onTokensRescored((r) => {
        // Tokens of another run (an older one, or a "try it" run the host never saw) would colour the wrong text.
        if (r.runId === this.lastRunId) this.rescored.fire(r);
        else this.log.info(`${nameOf(surface.location)}: ignored re-scored tokens of run ${r.runId} (the editor shows run ${this.lastRunId ?? 'none'})`);
      }),
      channel.onUnsolicitedExport((f) => this.unsolicitedExport.fire(f)),
      surface.onDidChangeVisibility(() => {
        // Hidden: VS Code drops the page; it reloads (and says 'ready') when shown again.
        if (!surface.visible) {
          channel.reset(`The Sequence Lens ${nameOf(surface.location)} was hidden while it was working. Run again.`);
          a.restoreOnReady = this.lastRun !== undefined;
        }
      }),
      surface.onDidDispose(() => this.detach(a)),
    );
    this.attached.set(surface.location, a);
    surface.webview.options = webviewOptions(this.roots);
    surface.webview.html = pageFor(surface.webview, this.extensionUri, 'panel', 'Sequence Lens');
    this.resolved.fire();
    return a;
  }

  private detach(a: Attached): void {
    if (this.attached.get(a.surface.location) === a) this.attached.delete(a.surface.location);
    for (const d of a.disposables) d.dispose();
    a.disposables = [];
  }

  private async sendInit(a: Attached): Promise<void> {
    const s = readSettings();
    await a.channel.post({
      type: 'init', mode: 'panel', backend: s.backend, maxTokens: s.maxTokens, trusted: vscode.workspace.isTrusted,
      decorationMode: s.decorationMode, continueTokens: s.continueTokens, wasmBase: wasmBaseFor(a.surface.webview, this.extensionUri),
    });
  }

  /**
   * The page was dropped while hidden and has just come back, or the visualizer moved: run the last
   * request again so the page shows what it showed (its own view choices come back from getState).
   */
  private async restore(a: Attached): Promise<void> {
    const last = this.lastRun;
    if (!a.restoreOnReady || !last || this.attached.get(a.surface.location) !== a) return;
    a.restoreOnReady = false;
    // Only the place runs go to shows the last run; a run the user just asked for wins over the restore.
    if (a.surface.location !== this.location || this.currentRun !== undefined || this.pendingRuns > 0) return;
    this.log.info(`${nameOf(a.surface.location)}: restoring the last run (${last.model.label})`);
    try {
      await this.run({ ...last }, true);
    } catch (e) {
      const replaced = e instanceof PanelError && (e.code === 'cancelled' || e.code === 'replaced');
      this.log[replaced ? 'info' : 'warn'](`${nameOf(a.surface.location)}: ${replaced ? 'did not restore' : 'could not restore'} the last run: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Shows the visualizer where the user put it (without taking focus unless asked) and waits until its page is ready. */
  async open(preserveFocus = true): Promise<WebviewChannel> {
    const a = await this.place(preserveFocus);
    await a.channel.waitReady(READY_TIMEOUT_MS);
    return a.channel;
  }

  /** Shows the visualizer where the user put it (without taking focus unless asked): its page, made but maybe not started. */
  private async place(preserveFocus = true): Promise<Attached> {
    const where = this.location;
    const shown = this.attached.get(where);
    if (shown) {
      shown.surface.show(preserveFocus);
    } else if (where === 'editor') {
      this.createEditorPanel(preserveFocus);
    } else {
      // A second caller while the view is being shown waits for the same (VS Code resolves the view once).
      await (this.revealing ??= this.revealPanelView().finally(() => { this.revealing = undefined; }));
    }
    const a = this.attached.get(where);
    if (!a) throw new PanelError('no-panel', `The Sequence Lens ${nameOf(where)} could not be opened.`);
    return a;
  }

  /** Shows the panel area's view and waits (READY_TIMEOUT_MS at most) until VS Code has resolved it: its page is made. */
  private async revealPanelView(): Promise<void> {
    let sub: vscode.Disposable | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const resolved = new Promise<void>((resolve) => {
      sub = this.resolved.event(() => resolve());
      timer = setTimeout(resolve, READY_TIMEOUT_MS);
    });
    try {
      await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
      if (!this.attached.has('panel')) await resolved;
    } finally {
      sub?.dispose();
      clearTimeout(timer);
    }
  }

  /** A new editor-area visualizer, in the column it was last left in, never over the text being read. */
  private createEditorPanel(preserveFocus: boolean): Attached {
    let column = this.placement.column;
    if (column === vscode.window.activeTextEditor?.viewColumn) column = vscode.ViewColumn.Beside;
    const panel = vscode.window.createWebviewPanel(EDITOR_VIEW_TYPE, 'Sequence Lens', { viewColumn: column, preserveFocus }, {
      ...webviewOptions(this.roots), enableFindWidget: false, retainContextWhenHidden: false,
    });
    return this.adopt(panel);
  }

  /**
   * Moves the visualizer (the user's choice, remembered): the last run is shown again in the new place,
   * and an editor-area visualizer left behind is closed.
   */
  async moveTo(where: PanelLocation): Promise<void> {
    const from = this.location;
    this.placement.location = where;
    if (from === where && this.attached.has(where)) {
      await this.open(false);
      return;
    }
    const existing = this.attached.get(where);
    if (existing) existing.restoreOnReady = this.lastRun !== undefined;
    await this.open(false);
    if (from === 'editor' && where === 'panel') this.attached.get('editor')?.surface.close();
    const a = this.attached.get(where);
    // A page that was already loaded says 'ready' no more: show the last run now.
    if (a && a.restoreOnReady && a.channel.isReady) await this.restore(a);
  }

  /** Lets the pages read the model's folders (reloading them when the set grows) and opens the visualizer. */
  private async allow(models: RegisteredModel[]): Promise<WebviewChannel> {
    this.widenRoots(models);
    return this.open();
  }

  /** Lets the pages read the model's folders; reloads them when the set grows. */
  private widenRoots(models: RegisteredModel[]): void {
    const needed = mergeRoots(models.flatMap(modelFolders).filter((f) => !coveredBy(this.roots, f)));
    if (needed.length > 0) {
      this.roots = [...this.roots, ...needed];
      this.log.info(`visualizer: allowing ${needed.map((u) => u.fsPath).join(', ')}`);
      for (const a of this.attached.values()) {
        a.channel.reset(`The Sequence Lens ${nameOf(a.surface.location)} reloaded to read a new model folder.`);
        a.surface.webview.options = webviewOptions(this.roots);
        // Changing the options reloads the page in some VS Code versions and not in others: reload for sure.
        a.surface.webview.html = pageFor(a.surface.webview, this.extensionUri, 'panel', 'Sequence Lens');
      }
    }
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

  private webviewOf(channel: WebviewChannel): vscode.Webview {
    const a = [...this.attached.values()].find((x) => x.channel === channel);
    if (!a) throw new PanelError('no-panel', 'The Sequence Lens visualizer is not open.');
    return a.surface.webview;
  }

  /** Where this run goes: the page (webview backends) or onnxruntime-node beside this host, and why. */
  private async choose(req: RunRequest, version: string | undefined): Promise<Choice> {
    const setting = readSettings().backend;
    if (setting === 'webgpu' || setting === 'wasm') return { where: 'webview' };
    const models = req.compareWith ? [req.model, req.compareWith] : [req.model];
    if (models.some((m) => !nativeSpec(m, undefined))) {
      return setting === 'native' ? { where: 'webview', warning: 'The native backend reads models from the extension host\'s disk; this model is not there, so it ran in the webview.' } : { where: 'webview' };
    }
    const weight = await memoizedWeight(this.weights, req.model, version);
    const input = {
      setting, weight, remoteName: vscode.env.remoteName, webviewFailed: this.webviewFailed.get(req.model.id),
      pageCold: !this.attached.get(this.location)?.channel.isRuntimeWarm,
      ...(this.nativeMissing ? { nativeUnavailable: this.nativeMissing } : {}),
    };
    // Whether onnxruntime-node loads is learnt from the run's own request (nativeMissing): the worker reads and
    // plans the model while its session thread loads onnxruntime-node, not after a 'hello' that waited for it.
    return chooseBackend(input);
  }

  /** Remembers, for this session, that onnxruntime-node cannot load here: later runs choose the page. */
  private noteNativeMissing(e: unknown): boolean {
    const code = e instanceof NativeBackendError || e instanceof PanelError ? e.code : undefined;
    if (code !== 'native-unavailable') return false;
    this.nativeMissing = describeError(e);
    this.log.warn(`native backend unavailable: ${this.nativeMissing}`);
    return true;
  }

  /**
   * Starts before the click: when the user selects text with `model` active and its run would go to the
   * native backend (Auto with the page not loaded yet, a big model, a remote window, or the setting), the
   * worker loads it now (files, tokenizer, session, one run of a few characters), so the click's run finds
   * it loaded. Once per model and file version; not for models past NATIVE_AUTO_MIN_BYTES, which load on the
   * click only (gigabytes should not be read because text was selected). Never throws; a failure is logged.
   */
  async prepareFor(model: RegisteredModel): Promise<void> {
    if (this.preparing.has(model.id)) return;
    this.preparing.add(model.id);
    try {
      const version = await modelFilesStamp(model);
      const key = `${model.id}|${version ?? ''}`;
      if (this.prepared.has(key)) return;
      const choice = await this.choose({ model, text: '' }, version);
      if (choice.where !== 'native') return;
      const weight = await memoizedWeight(this.weights, model, version);
      const spec = nativeSpec(model, version);
      if (!spec || weight.bytes > NATIVE_AUTO_MIN_BYTES) return;
      this.prepared.add(key);
      const { ms, timings } = await this.native.prepare(spec);
      // Its parts (reading the files, the session, the tokenizer...) say where a slow first run's time went.
      const parts = Object.entries(timings).filter(([, v]) => v >= 0.5).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
      this.log.info(`native backend: ${model.label} loaded ahead of its first run in ${Math.round(ms)} ms (text was selected): ${parts} ms`);
    } catch (e) {
      this.noteNativeMissing(e);
      this.log.info(`native backend: could not load ${model.label} ahead of its run: ${describeError(e)}`);
    } finally {
      this.preparing.delete(model.id);
    }
  }

  private async runNow(req: RunRequest, restoring: boolean): Promise<RunResult> {
    this.startPage(req);
    const version = await modelFilesStamp(req.model);
    const compareVersion = req.compareWith ? await modelFilesStamp(req.compareWith) : undefined;
    let choice = await this.choose(req, version);
    if (choice.where === 'native') {
      try {
        return await this.runNative(req, restoring, choice.why, version, compareVersion, choice.forCold);
      } catch (e) {
        if (!this.noteNativeMissing(e)) throw e;
        choice = await this.choose(req, version);
        if (choice.where === 'native') throw e;
      }
    }
    if (choice.warning) {
      this.log.warn(choice.warning);
      void vscode.window.showWarningMessage(choice.warning);
    }
    try {
      return await this.runInPage(req, restoring, version, compareVersion);
    } catch (e) {
      // 'auto': a model the webview could not run goes to native (once onnxruntime-node loads), and says why.
      if (!(e instanceof PanelError) || !WEBVIEW_FAILURES_NATIVE_MAY_FIX.has(e.code) || readSettings().backend !== 'auto' || req.token?.isCancellationRequested) throw e;
      this.webviewFailed.set(req.model.id, e.message);
      const retry = await this.choose(req, version);
      if (retry.where !== 'native') throw e;
      this.log.info(`${req.model.label}: the webview failed (${e.message}); running it on native`);
      try {
        return await this.runNative(req, restoring, retry.why, version, compareVersion);
      } catch (native) {
        // No onnxruntime-node here either: the page's own failure is the one to tell.
        throw this.noteNativeMissing(native) ? e : native;
      }
    }
  }

  /**
   * Where no page is open yet, starts one now: a run shows in it whichever backend makes the run, and a new page
   * takes a second or more to start (code-server). It may read the run's model folders from the start, as the
   * run would let it (allow) unless it goes native by the setting; an open page is left as it is (no reload).
   * On 2 cores the native worker's start competes with the page's: in fresh code-server windows the page starts
   * 946-1,094 ms after the command now that the run's request goes at once (442-772 ms when the worker started
   * 0.3 s later), and the trace is there when its app starts (it came 70-300 ms after); the first picture is the
   * same either way (medians 1,651 and 1,592 ms, six windows each, bench/firstWebview.ts).
   */
  private startPage(req: RunRequest): void {
    if (this.attached.has(this.location)) return;
    if (readSettings().backend !== 'native') this.widenRoots(req.compareWith ? [req.model, req.compareWith] : [req.model]);
    this.place().catch(() => undefined);
  }

  /**
   * A run on the native backend: the trace is made in the worker (the page's status line shows its progress
   * and its Cancel stops it), then sent to the page to draw (showTrace); the page answers with the tokens'
   * summaries as for its own runs. The model's bytes never reach the page.
   */
  private async runNative(req: RunRequest, restoring: boolean, why: string, version?: string, compareVersion?: string, forCold = false): Promise<RunResult> {
    // The page starts while the worker runs (a new window's page takes seconds): the trace waits for it only to be drawn.
    // A page that could have run the model itself (`forCold`) is let read its folder, to load it behind this run.
    const opening = forCold && !req.compareWith && !req.compareText ? this.allow([req.model]) : this.open();
    opening.catch(() => undefined);
    if (restoring && (this.currentRun !== undefined || this.pendingRuns > 0)) {
      throw new PanelError('replaced', 'A new run replaced the restore of the last one.');
    }
    const replaced = new PanelError('replaced', 'A newer run replaced this one.');
    if (this.currentRun !== undefined) this.currentRun.channel.cancel(this.currentRun.id, replaced);
    this.nativeRun?.abort.abort(replaced);
    const id = newRequestId();
    const abort = new AbortController();
    this.nativeRun = { id, abort };
    const sub = req.token?.onCancellationRequested(() => abort.abort(new PanelError('cancelled', 'Cancelled.')));
    // What the page's status line says of this run, once the page is there.
    const tell = (m: Extract<HostToWebview, { type: 'hostRun' }>): void => void opening.then((c) => c.post(m), () => undefined);
    const progress = (message: string, fraction?: number): void => {
      if (abort.signal.aborted) return;
      req.onProgress?.(message, fraction);
      tell({ type: 'hostRun', id, state: 'running', message, ...(fraction !== undefined ? { fraction } : {}) });
    };
    void opening.then((c) => { if (this.nativeRun?.id === id) this.currentRun = { id, channel: c }; }, () => undefined);
    const s = readSettings();
    const jobs = [
      { model: req.model, version, text: req.text },
      ...(req.compareWith ? [{ model: req.compareWith, version: compareVersion, text: req.text }]
        : req.compareText ? [{ model: req.model, version, text: req.compareText }] : []),
    ];
    this.log.info(`${req.model.label}: native run ${id} (${why.split('\n')[0]}; remote: ${vscode.env.remoteName ?? 'none'})`);
    const t0 = performance.now();
    try {
      progress(`Running ${req.model.label} on the native backend`);
      const runs: WireRun[] = [];
      for (const j of jobs) {
        const spec = nativeSpec(j.model, j.version);
        if (!spec) throw new PanelError('unsupported', `${j.model.label} is not on this machine's disk, so the native backend cannot read it.`);
        runs.push(await this.native.trace(
          {
            model: spec, text: j.text, maxTokens: s.maxTokens, attentionBudgetBytes: DEFAULT_ATTENTION_BUDGET,
            // A remote window's page receives 3-4 MB a second (code-server): a 32 MB lens projection would be 8-10 s.
            ...(vscode.env.remoteName ? { lensWireMaxBytes: REMOTE_LENS_WIRE_MAX_BYTES } : {}),
          },
          { signal: abort.signal, onProgress: progress },
        ));
      }
      const traced = performance.now();
      const info = await this.native.hello();
      const channel = await opening;
      const pageReady = performance.now();
      if (abort.signal.aborted) throw abort.signal.reason;
      const pageModel = forCold && jobs.length === 1 ? modelRefFor(this.webviewOf(channel), req.model, version) : undefined;
      this.log.info(`native run ${id}: sending it to the page`);
      const answer = await channel.request(
        {
          type: 'showTrace', id, runs, labels: jobs.map((j) => j.model.label),
          badge: `NATIVE (onnxruntime-node, ${info.provider.toUpperCase()})`,
          why: `${why}\nonnxruntime-node ${info.version} on the ${info.provider.toUpperCase()} execution provider, in a worker thread beside the extension host.${info.providerWhy ? `\n${info.providerWhy}` : ''}`,
          ...(pageModel ? { pageModel } : {}),
        },
        { timeoutMs: RUN_TIMEOUT_MS, onProgress: req.onProgress, token: req.token },
      );
      // Where a native run's time went: the worker, waiting for the page, the page drawing it (its reply).
      this.log.info(`native run ${id}: traced in ${Math.round(traced - t0)} ms, the page ready ${Math.round(pageReady - t0)} ms, ` +
        `drawn ${Math.round(performance.now() - t0)} ms after the run began`);
      this.lastBackend = answer.backend;
      if (!req.tryIt) {
        this.lastRunId = id;
        this.lastRun = { model: req.model, text: req.text, compareWith: req.compareWith, documentUri: req.documentUri };
      }
      return answer;
    } catch (e) {
      const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
      if (reason instanceof PanelError) {
        if (reason.code === 'cancelled') tell({ type: 'hostRun', id, state: 'cancelled', message: 'The run was cancelled.' });
        throw reason;
      }
      if (e instanceof NativeBackendError) {
        // Without onnxruntime-node the run goes to the page (runNow): nothing failed that the user must read.
        if (e.code !== 'native-unavailable') tell({ type: 'hostRun', id, state: e.code === 'cancelled' ? 'cancelled' : 'failed', message: e.message });
        throw new PanelError(e.code, e.message);
      }
      throw e;
    } finally {
      sub?.dispose();
      if (this.currentRun?.id === id) this.currentRun = undefined;
      if (this.nativeRun?.id === id) this.nativeRun = undefined;
    }
  }

  /** What the page asks of this host for native runs: deferred layers, a cancel, a "Try it" run. */
  private pageAsk(a: Attached, m: PageAsk): void {
    switch (m.type) {
      case 'fetchLayers': {
        const abort = new AbortController();
        a.fetches.set(m.id, abort);
        void this.native.fetchLayers(m.runKey, m.names, { signal: abort.signal }).then(
          (probes) => a.channel.post({ type: 'layersResult', inReplyTo: m.id, probes }),
          (e: unknown) => a.channel.post({
            type: 'hostError', inReplyTo: m.id,
            error: { code: e instanceof NativeBackendError ? e.code : 'runtime', message: describeError(e) },
          }),
        ).finally(() => a.fetches.delete(m.id));
        return;
      }
      case 'cancelHostWork':
        if (m.what === 'fetch') a.fetches.get(m.id)?.abort();
        else if (this.nativeRun?.id === m.id) this.nativeRun.abort.abort(new PanelError('cancelled', 'Cancelled.'));
        return;
      case 'chooseBackend':
        void writeBackend(m.backend).then(
          () => this.log.info(`backend chosen in the ${nameOf(a.surface.location)}: ${m.backend}`),
          (e: unknown) => this.log.warn(`could not write sequenceLens.backend: ${describeError(e)}`));
        return;
      case 'tryOnHost': {
        const last = this.lastRun;
        if (!last) {
          this.log.info('visualizer: "Try it" before any run: nothing to run it on');
          return;
        }
        void this.run({ model: last.model, text: m.text, compareText: m.compareText, tryIt: true }).catch((e: unknown) =>
          this.log.info(`visualizer: "Try it" on ${last.model.label}: ${describeError(e)}`));
        return;
      }
    }
  }

  private async runInPage(req: RunRequest, restoring: boolean, version: string | undefined, compareVersion: string | undefined): Promise<RunResult> {
    const channel = await this.allow(req.compareWith ? [req.model, req.compareWith] : [req.model]);
    const webview = this.webviewOf(channel);
    if (restoring && (this.currentRun !== undefined || this.pendingRuns > 0)) {
      throw new PanelError('replaced', 'A new run replaced the restore of the last one.');
    }
    // The run it replaces rejects at once with 'replaced'; the page's late reply to it is dropped.
    if (this.currentRun !== undefined) this.currentRun.channel.cancel(this.currentRun.id, new PanelError('replaced', 'A newer run replaced this one.'));
    // A native run still in its worker is stopped too (its trace would otherwise be drawn over this one).
    this.nativeRun?.abort.abort(new PanelError('replaced', 'A newer run replaced this one.'));
    const id = newRequestId();
    this.currentRun = { id, channel };
    try {
      const answer = await channel.request(
        {
          type: 'run', id, text: req.text, model: modelRefFor(webview, req.model, version),
          compareWith: req.compareWith ? modelRefFor(webview, req.compareWith, compareVersion) : undefined,
          documentUri: req.documentUri?.toString(),
        },
        { timeoutMs: RUN_TIMEOUT_MS, onProgress: req.onProgress, token: req.token },
      );
      this.lastRunId = id;
      this.lastBackend = answer.backend;
      this.lastRun = { model: req.model, text: req.text, compareWith: req.compareWith, documentUri: req.documentUri };
      return answer;
    } finally {
      if (this.currentRun?.id === id) this.currentRun = undefined;
    }
  }

  /** Shows view `view` of the page runs go to, and presses its button `press` when given (the walkthrough, after a run). */
  async showView(view: string, press?: string): Promise<void> {
    const channel = await this.open();
    await channel.post({ type: 'showView', view, ...(press ? { press } : {}) });
  }

  async inspect(model: RegisteredModel): Promise<void> {
    const channel = await this.allow([model]);
    const webview = this.webviewOf(channel);
    await channel.request({ type: 'inspect', id: newRequestId(), model: modelRefFor(webview, model) }, { timeoutMs: 60_000 });
  }

  /** Asks the page to export its current view; its one reply carries every file (PNG, SVG, CSV, JSON, .npy). */
  async exportView(): Promise<ExportedFile[]> {
    if (!this.attached.has(this.location)) throw new PanelError('no-panel', 'Nothing to export yet: open the Sequence Lens panel and run a model first.');
    const channel = await this.open();
    const reply = await channel.request({ type: 'exportView', id: newRequestId() }, { timeoutMs: EXPORT_TIMEOUT_MS });
    if (reply.files.length === 0) throw new PanelError('nothing-to-export', `The ${reply.view} view has nothing to export: run a model first, then export.`);
    return reply.files;
  }

  dispose(): void {
    void this.native.dispose();
    for (const a of [...this.attached.values()]) this.detach(a);
    for (const d of this.disposables) d.dispose();
  }
}

/** A model's weight (its .onnx files and their external data), read once per model and file version. */
function memoizedWeight(cache: Map<string, Promise<ModelWeight>>, m: RegisteredModel, version: string | undefined): Promise<ModelWeight> {
  const paths = Object.values(m.files).map((u) => u.fsPath);
  const key = `${m.id}|${version ?? ''}|${paths.join('|')}`;
  let w = cache.get(key);
  if (!w) {
    w = modelWeight(paths);
    cache.set(key, w);
  }
  return w;
}
