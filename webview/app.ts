/**
 * The webview app: header (model, backend, timings, progress, cancel), the ten views as tabs, the
 * inspector page, and the protocol handling. Runs are serialised: a new run cancels the one in flight.
 */
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import type { Backend, DecorationMode, ExportedFile, HostToWebview, ModelRef, Requests } from '../src/shared/protocol.js';
import { isSeqLensError } from '../src/core/errors.js';
import { untilAborted } from '../src/core/run/runSteps.js';
import type { RunData } from './data/runData.js';
import { readTheme, type Theme } from './render/theme.js';
import { el, estimatedBoxHeight, ViewHost } from './viewHost.js';
import type { Selection, View, ViewEnv } from './views/viewTypes.js';
import { restoreSelection } from './state.js';
import type { VsCodeApi } from './vscodeApi.js';
import { Runner, type RunInput, type RunOutcome } from './runtime/runner.js';
import { backendChoice, detectBackend, inferenceInWorker, ortLoaded, jspiMissing, threadChoice, warmUpResult } from './runtime/ortWebBackend.js';
import { pendingWork } from './data/derived.js';
import { tokenSummaries } from './data/tokenSummary.js';
import { attachAccuracy } from './data/heldoutAccuracy.js';
import { allViews } from './views/allViews.js';
import { InspectorPage } from './inspectorPage.js';
import { NpyRequests } from './npyRequests.js';
import type { FloatTensor } from '../src/core/run/backend.js';
import { HostChannel } from './hostChannel.js';
import { HostLayers, runDataFromWire } from './runtime/hostRuns.js';
import { ContinueBar } from './continueBar.js';
import { markPage, PAGE_MARKS } from './pageMarks.js';
import { whenIdle } from './idleWork.js';

export interface AppConfig {
  wasmBase: string;
  /** Webview URI of the extension's media/ folder (the zoo under models/), for views that load zoo models themselves. */
  mediaBase?: string;
}

/** The latest a new page's deferred start-up work (the theme, the GPU adapter's probe) waits for an idle moment (ms). */
const IDLE_WORK_TIMEOUT_MS = 1000;

/** How much of a native run's text the page runs, hidden, to load its model (`prime`): enough to touch every kernel. */
const PRIME_CHARS = 32;

export class App {
  readonly runner: Runner;
  private shownTheme?: Theme;
  /**
   * The editor theme's colours and fonts, read when first needed (the first picture) and again when VS Code
   * switches themes. Not in the constructor: getComputedStyle there forced a style pass over a page not yet
   * built (10-23 ms of a new page's start), which the first frame then did again.
   */
  get theme(): Theme {
    return (this.shownTheme ??= readTheme());
  }
  sel: Selection;
  runs: RunData[] = [];
  readonly views: View[];
  /**
   * The view hosts by tab, each built the first time its view is shown (`host`): a new page draws one view for
   * its first picture, and a host's DOM, listeners and ResizeObserver are not needed before.
   */
  private readonly built: (ViewHost | undefined)[];
  /** The tab panels, one per view, empty until their view's host is built. */
  private readonly panels: HTMLElement[] = [];
  active = 0;
  mode: 'panel' | 'inspector' = 'panel';
  decorationMode: DecorationMode = 'attention';
  lastRun?: { id: number; outcome: ShownOutcome };
  /** The host runs models natively (setting `sequenceLens.backend` is 'native'): "Try it" asks the host. */
  hostNative = false;
  /** The runs shown came from the host (native): "Try it" asks the host too. */
  shownNative = false;
  /** The native run shown is of a model this page can load itself (`pageModel`): Continue runs here. */
  private shownLoadable = false;
  /** The background load of a native run's model (`prime`), for tests and the benchmark. */
  priming?: Promise<void>;
  /** The native run the host is making now (its request id): Cancel stops it. */
  private hostRunId?: number;
  /** Callers of `hostRunsSettled` waiting for the host's native run to end. */
  private hostRunWaiters: (() => void)[] = [];
  /** Deferred attention of native runs, fetched through the host. */
  readonly hostLayers = new HostLayers((m) => this.toHost.notify(m));
  /** Why the latest run failed (not set for a cancel). */
  lastError?: string;
  model?: ModelRef;
  compareModel?: ModelRef;
  private readonly header: HTMLElement;
  private readonly status: HTMLElement;
  private readonly badge: HTMLElement;
  /** The backend menu: shows `sequenceLens.backend`; a pick writes it (through the host). */
  private readonly backendSel: HTMLElement & { value: string };
  /** The spinner beside the status, made the first time the page is busy (its first render took 6-12 ms of a new page's start). */
  private progress?: HTMLElement;
  private readonly cancelBtn: HTMLElement;
  private readonly warnings: HTMLElement;
  /** "Continue" in the header (decoder-only models) and the step bar over a continued text's generated tokens. */
  private readonly continueBar: ContinueBar;
  private readonly tabs: HTMLElement & { selectedIndex: number };
  private readonly inspector: InspectorPage;
  /** The inspector's .npy files, asked of the host (pickNpy → npyPicked). */
  private readonly npy: NpyRequests;
  private readonly tryBox: HTMLElement & { value: string };
  private readonly compareBox: HTMLElement & { value: string };
  private inflight?: { id: number; abort: AbortController };
  private localId = -1;
  /** Resolves when the latest run (or inspect) has finished, successfully or not. Tests await it. */
  idle: Promise<void> = Promise.resolve();
  private hostChannel?: HostChannel;
  /**
   * Replies and notifications to the host, built typed (see hostChannel.ts). Made on first use: a
   * field initializer would run before the constructor's `api` parameter property is set.
   */
  get toHost(): HostChannel {
    return (this.hostChannel ??= new HostChannel(this.api));
  }

  constructor(readonly api: VsCodeApi, readonly root: HTMLElement, cfg: AppConfig) {
    this.runner = new Runner(cfg.wasmBase);
    this.sel = restoreSelection(api.getState());
    this.header = el('header', 'app-header');
    this.badge = el('vscode-badge', 'backend-badge');
    this.badge.title = 'Inference backend';
    this.status = el('span', 'app-status');
    this.status.setAttribute('role', 'status');
    this.cancelBtn = el('vscode-button', 'app-cancel');
    this.cancelBtn.textContent = 'Cancel';
    this.cancelBtn.setAttribute('secondary', '');
    this.cancelBtn.hidden = true;
    this.cancelBtn.addEventListener('click', () => this.cancel());
    const backendSel = el('vscode-single-select', 'backend-select') as HTMLElement & { value: string };
    this.backendSel = backendSel;
    backendSel.setAttribute('aria-label', 'Backend (the sequenceLens.backend setting)');
    const names: Record<Backend, string> = {
      auto: 'Auto', webgpu: 'WebGPU', wasm: 'WASM', native: 'Native (onnxruntime-node)',
    };
    for (const b of ['auto', 'webgpu', 'wasm', 'native'] as const) {
      const o = el('vscode-option');
      o.setAttribute('value', b);
      o.textContent = names[b];
      backendSel.append(o);
    }
    backendSel.addEventListener('change', () => {
      const b = backendSel.value as Backend;
      void this.setBackend(b);
      // The setting is the one truth: the host writes it, and its runs (native or not) follow.
      this.toHost.notify({ type: 'chooseBackend', backend: b });
    });
    this.header.append(this.badge, this.status, this.cancelBtn, el('span', 'spacer'), backendSel);
    this.continueBar = new ContinueBar((n) => void this.continueText(n));
    this.header.insertBefore(this.continueBar.group, backendSel);

    // "Try it": run the current model on typed text (and compare two texts through one model).
    const tryRow = el('div', 'try-row');
    this.tryBox = el('vscode-textfield', 'try-text') as HTMLElement & { value: string };
    this.tryBox.setAttribute('placeholder', 'Type text to run the model on');
    this.tryBox.setAttribute('aria-label', 'Text to run');
    this.compareBox = el('vscode-textfield', 'try-compare') as HTMLElement & { value: string };
    this.compareBox.setAttribute('placeholder', 'Optional second text to compare');
    this.compareBox.setAttribute('aria-label', 'Second text to compare');
    const tryBtn = el('vscode-button', 'try-run');
    tryBtn.textContent = 'Run';
    tryBtn.addEventListener('click', () => void this.tryIt());
    this.tryBox.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') void this.tryIt(); });
    tryRow.append(this.tryBox, this.compareBox, tryBtn);

    const mediaBase = cfg.mediaBase;
    this.views = allViews({
      // The timing runs on this page's backend (the Runner's), so the curves are what this panel gets.
      measureStory: mediaBase ? async (req) => (await import('./runtime/storyBench.js')).measureStoryOnPage(this.runner, mediaBase, req) : undefined,
    });
    this.built = this.views.map(() => undefined);
    this.tabs = el('vscode-tabs', 'app-tabs') as HTMLElement & { selectedIndex: number };
    for (const v of this.views) {
      const h = el('vscode-tab-header');
      h.setAttribute('slot', 'header');
      h.textContent = v.title;
      h.dataset.view = v.id;
      const p = el('vscode-tab-panel');
      this.panels.push(p);
      this.tabs.append(h, p);
    }
    this.tabs.addEventListener('vsc-tabs-select', (e) => {
      const idx = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      this.showView(idx);
    });
    this.warnings = el('div', 'app-warnings');
    this.warnings.hidden = true;
    this.inspector = new InspectorPage((text) => void this.tryIt(text), (names) => { this.runner.probeTensors = names; });
    this.npy = new NpyRequests((m) => this.api.postMessage(m));
    this.inspector.arrays = { pick: (input) => this.npy.pick(input), run: (arrays) => void this.tryArrays(arrays) };
    this.inspector.root.hidden = true;
    const empty = el('div', 'app-empty');
    empty.textContent = 'Select text in an editor and choose "Run Sequence Model", or type text above.';
    this.root.append(this.header, this.warnings, tryRow, this.inspector.root, this.tabs, empty);
    this.root.insertBefore(this.continueBar.steps, this.tabs);
    this.tabs.hidden = true;
    this.updateBadge();
    window.addEventListener('resize', () => this.renderActive());
    // VS Code rewrites body class/style on theme change: re-read colours and repaint.
    new MutationObserver(() => { this.shownTheme = readTheme(); this.renderActive(); })
      .observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
    // Read once the page is idle, so that a trace arriving later finds it read (one arriving first reads it).
    whenIdle(() => { this.shownTheme ??= readTheme(); }, IDLE_WORK_TIMEOUT_MS);
  }

  /** The host of view `i`, built (into its tab panel) on first use. */
  host(i: number): ViewHost {
    let h = this.built[i];
    if (!h) {
      const v = this.views[i];
      h = new ViewHost(v, () => this.env(v), (name, mime, data) => this.exportFile(name, mime, data));
      this.built[i] = h;
      this.panels[i].append(h.root);
    }
    return h;
  }

  /** Every view's host, by tab (tests and the E2E's timing report read them); builds those not built yet. */
  get hosts(): ViewHost[] {
    return this.views.map((_, i) => this.host(i));
  }

  env(view: View): ViewEnv {
    return {
      theme: this.theme,
      sel: this.sel,
      setSel: (patch) => this.setSel(patch),
      open: (id) => this.showView(this.views.findIndex((v) => v.id === id)),
      runs: this.runs,
      width: Math.max(320, (this.root.clientWidth || window.innerWidth) - 24),
      // The host measures its box when it draws (below the header, tabs and the view's controls).
      // A view whose host is not built yet gets the box a built but hidden one would estimate.
      height: this.built?.[this.views.indexOf(view)]?.boxHeight ?? estimatedBoxHeight(),
      redraw: () => this.built[this.views.indexOf(view)]?.render(),
    };
  }

  setSel(patch: Partial<Selection>): void {
    Object.assign(this.sel, patch);
    // A new choice is a new try: fetches that were cancelled or failed may run again.
    for (const r of this.runs) { this.loadFailed.delete(r); r.loadStopped = undefined; }
    this.api.setState({ ...this.sel, hiddenHeads: undefined, units: undefined });
    this.renderActive();
    if ('pinned' in patch) this.rescore();
  }

  showView(idx: number): void {
    if (idx < 0 || idx >= this.views.length) return;
    this.active = idx;
    if (this.tabs.selectedIndex !== idx) this.tabs.selectedIndex = idx;
    this.renderActive();
  }

  renderActive(): void {
    this.continueBar.update(this.runs, this.pageRunsShown() && !!this.model && !this.tabs.hidden, this.sel, (p) => this.setSel(p));
    if (!this.runs.length) return;
    this.host(this.active).render();
    this.loadNeeds();
  }

  /** Whether what is shown can be run again in this page (Continue): its own runs, or a native one of a model it can load. */
  private pageRunsShown(): boolean {
    return (!this.shownNative || this.shownLoadable) && !this.hostNative;
  }

  /** Resolves once no run or attention load is in flight (a load may start another: wait for that too). */
  async settled(): Promise<void> {
    for (;;) {
      await this.idle;
      if (this.loading) await this.loading.done;
      else if (pendingWork.size) await Promise.allSettled([...pendingWork]);
      else return;
    }
  }

  private loading?: { abort: AbortController; done: Promise<void> };
  private readonly loadFailed = new WeakSet<RunData>();

  /**
   * Long inputs: fetches the attention layers the shown view still needs, one run per batch that fits
   * the run's byte budget, then draws the view again (which asks for the next batch, if any).
   */
  private loadNeeds(): void {
    if (this.loading || this.inflight) return;
    const view = this.views[this.active];
    const needs = (view.needs?.(this.env(view)) ?? []).filter((n) => !this.loadFailed.has(n.run));
    if (!needs.length) return;
    const run = needs[0].run;
    const batch: typeof needs = [];
    let bytes = 0;
    for (const n of needs.filter((x) => x.run === run)) {
      const b = run.layerBytes(n.stream, n.layer);
      if (batch.length && bytes + b > run.budget) break;
      batch.push(n);
      bytes += b;
    }
    const abort = new AbortController();
    const before = this.status.textContent ?? '';
    const what = `${batch.length > 1 ? 'layers' : 'layer'} ${batch.map((n) => n.layer).join(', ')}`;
    this.setStatus(`Loading the attention of ${what} (${(bytes / 2 ** 20).toFixed(0)} MB)…`, true);
    const t0 = performance.now();
    const done = untilAborted(run.load(batch, abort.signal), abort.signal).then(
      () => {
        this.setStatus(before, false);
        this.api.postMessage({ type: 'log', level: 'info', message: `loaded the attention of ${what} in ${(performance.now() - t0).toFixed(0)} ms` });
      },
      (e: unknown) => {
        const message = abort.signal.aborted ? 'Loading the attention was cancelled.' : `Could not load the attention of ${what}: ${e instanceof Error ? e.message : String(e)}`;
        this.loadFailed.add(run);
        run.loadStopped = `${message} Pick another layer or head to try again.`;
        this.setStatus(message, false);
        this.api.postMessage({ type: 'log', level: abort.signal.aborted ? 'info' : 'error', message });
      },
    ).finally(() => {
      this.loading = undefined;
      if (this.runs.includes(run) && !this.loadFailed.has(run)) this.renderActive();
    });
    this.loading = { abort, done };
  }

  /** The badge names the backend; its tooltip says why that one, how many threads, and where inference runs. */
  private updateBadge(outcome?: RunOutcome): void {
    if (!outcome && this.hostNative) {
      this.badge.textContent = 'NATIVE';
      this.badge.title = 'Setting sequenceLens.backend is "native": models run in onnxruntime-node beside the extension host; this page only draws.';
      this.badge.dataset.backend = 'native';
      return;
    }
    const b = outcome?.backend ?? this.runner.activeBackend;
    this.badge.textContent = (b ?? this.runner.preference).toUpperCase() + (outcome?.fallbackReason ? ' (WebGPU fallback)' : '');
    const choice = backendChoice();
    const why = outcome?.fallbackReason ? `WebGPU could not run this model: ${outcome.fallbackReason}`
      : this.runner.preference !== 'auto' ? `${this.runner.preference === 'webgpu' ? 'WebGPU' : 'WASM'}: chosen in the panel`
        : b && choice ? choice.reason : 'Auto: WebGPU on a hardware adapter, else WASM';
    // Until onnxruntime-web has loaded (warm-up or first run) it is not known whether a worker could be started.
    const where = ortLoaded ? (inferenceInWorker ? 'inference runs in a worker' : 'inference runs on the page thread') : undefined;
    this.badge.title = [why, threadChoice().reason, where].filter((x) => !!x).join('\n');
    this.badge.dataset.backend = b ?? '';
  }

  private setStatus(text: string, busy: boolean): void {
    this.status.textContent = text;
    if (busy && !this.progress) {
      this.progress = el('vscode-progress-ring', 'app-progress');
      this.status.after(this.progress);
    }
    if (this.progress) this.progress.hidden = !busy;
    this.cancelBtn.hidden = !busy;
  }

  async setBackend(b: Backend): Promise<void> {
    this.hostNative = b === 'native';
    if (this.backendSel.value !== b) this.backendSel.value = b;
    // The page's own runs (none while the host runs natively) pick WebGPU or WASM as on 'auto'.
    await this.runner.setPreference(b === 'native' ? 'auto' : b);
    this.updateBadge();
  }

  cancel(): void {
    if (this.hostRunId !== undefined) this.toHost.notify({ type: 'cancelHostWork', id: this.hostRunId, what: 'run' });
    this.inflight?.abort.abort();
    this.loading?.abort.abort();
  }

  handle(msg: HostToWebview): void {
    switch (msg.type) {
      case 'init':
        this.mode = msg.mode;
        if (msg.decorationMode) this.decorationMode = msg.decorationMode;
        if (msg.continueTokens) this.continueBar.setDefault(msg.continueTokens);
        if (msg.wasmBase) this.runner.setWasmBase(msg.wasmBase);
        void this.setBackend(msg.backend);
        // Ask for the GPU adapter before the first run of the page's own (0.4-0.6 s on SwiftShader), but once the page is
        // idle: the request's own 35 ms on the page thread held back a new page's first picture (a native trace sent
        // just after this init). A run that comes first asks for it itself (detectBackend answers once per page).
        if (msg.backend === 'auto') whenIdle(() => void detectBackend(), IDLE_WORK_TIMEOUT_MS);
        this.runner.maxTokens = msg.maxTokens;
        if (msg.mode === 'inspector' && !msg.trusted) {
          // The host inspects nothing in Restricted Mode; say so here rather than leave the page blank.
          this.inspector.showMessage('Restricted Mode',
            'Sequence Lens does not open models from an untrusted workspace. Trust this folder (Manage Workspace Trust) to inspect it; the bundled sample models still run in the Sequence Lens panel.');
          this.inspector.root.hidden = false;
          this.root.querySelector('.app-empty')?.remove();
        }
        return;
      case 'run':
        this.model = msg.model;
        this.compareModel = msg.compareWith;
        this.tryBox.value = msg.text;
        void this.run(msg.id, msg.model, msg.text, msg.compareWith);
        return;
      case 'inspect':
        this.model = msg.model;
        void this.inspect(msg.id, msg.model);
        return;
      case 'cancel':
        if (this.inflight?.id === msg.id) this.cancel();
        return;
      case 'setBackend':
        void this.setBackend(msg.backend);
        return;
      case 'exportView':
        void this.exportActive(msg.id);
        return;
      case 'setDecorationMode':
        this.decorationMode = msg.mode;
        this.rescore();
        return;
      case 'showTrace':
        void this.showHostRuns(msg);
        return;
      case 'hostRun':
        this.hostRunStatus(msg.id, msg.state, msg.message);
        return;
      case 'layersResult':
        this.hostLayers.settle(msg.inReplyTo, { probes: msg.probes });
        return;
      case 'hostError':
        this.hostLayers.settle(msg.inReplyTo, { error: msg.error });
        return;
      case 'npyPicked':
        this.npy.settle(msg);
        return;
      case 'showView':
        this.showViewFor(msg.view, msg.press);
        return;
    }
  }

  /** The host's showView (the walkthrough): shows view `id` and, with `press`, runs that button of the view. */
  private showViewFor(id: string, press?: string): void {
    const idx = this.views.findIndex((v) => v.id === id);
    const view = this.views[idx];
    if (!view || !this.runs.length) {
      this.api.postMessage({ type: 'log', level: 'warn', message: `showView: ${view ? 'no run yet to show in' : 'no view'} '${id.slice(0, 40)}'` });
      return;
    }
    this.showView(idx);
    if (!press) return;
    const env = this.env(view);
    const button = view.unavailable(env) ? undefined : view.controls(env).find((c) => c.kind === 'button' && c.id === press);
    if (button?.kind === 'button') button.run();
    else this.api.postMessage({ type: 'log', level: 'warn', message: `showView: the ${view.title} view has no button '${press.slice(0, 40)}' now` });
  }

  /** Files the view hosts hand over while an asked-for export runs: they go into its reply. */
  private exportCollector?: ExportedFile[];
  /** Asked-for exports one after the other, so each reply gets its own files. */
  private exporting: Promise<unknown> = Promise.resolve();

  /**
   * Exports the shown view in every format. With `id` (the host's exportView request) the files go
   * back in one reply; without, each goes to the host as its own exportFile, as the buttons do.
   */
  exportActive(id?: number): Promise<ExportedFile[]> {
    const done = this.exporting.then(() => this.exportNow(id));
    this.exporting = done.catch(() => undefined);
    return done;
  }

  private async exportNow(id: number | undefined): Promise<ExportedFile[]> {
    const view = this.views[this.active];
    const files: ExportedFile[] = [];
    // A button's export that lands in this window is swept into the reply too: the same view, the same files.
    if (id !== undefined) this.exportCollector = files;
    try {
      for (const f of ['png', 'svg', 'csv', 'json', 'npy'] as const) await this.host(this.active).export(f);
    } catch (e) {
      if (id === undefined) throw e;
      // Asked for by the host: the failure is its answer (the command shows it), not an exception here.
      this.toHost.fail(id, { code: 'export-failed', message: `Could not export the ${view.title} view: ${e instanceof Error ? e.message : String(e)}` });
      return [];
    } finally {
      this.exportCollector = undefined;
    }
    if (id === undefined) return files;
    if (files.length) {
      this.toHost.reply('exportView', id, { view: view.id, files });
    } else {
      const why = this.runs.length ? view.unavailable(this.env(view)) : undefined;
      this.toHost.fail(id, { code: 'nothing-to-export', message: `The ${view.title} view has nothing to export${why ? ` (${why})` : ''}: run a model first, then export.` });
    }
    return files;
  }

  private exportFile(fileName: string, mime: string, data: Uint8Array): void {
    if (this.exportCollector) this.exportCollector.push({ fileName, mime, data });
    else this.toHost.notify({ type: 'exportFile', fileName, mime, data });
  }

  /** "Try it" on arrays (a model whose inputs are not text): the .npy files picked in the inspector, by input name. */
  private async tryArrays(arrays: Record<string, FloatTensor>): Promise<void> {
    if (!this.model) return;
    await this.run(this.localId--, this.model, { arrays });
  }

  private async tryIt(text?: string): Promise<void> {
    const t = text ?? this.tryBox.value;
    const second = this.compareBox.value;
    if (t && (this.hostNative || this.shownNative)) {
      // Native: the host runs it (the page never reads the model's bytes).
      this.toHost.notify(second ? { type: 'tryOnHost', text: t, compareText: second } : { type: 'tryOnHost', text: t });
      return;
    }
    if (!this.model || !t) return;
    await this.run(this.localId--, this.model, t, this.compareModel, second || undefined);
  }

  /**
   * "Continue": the shown text (a continued one included) through the shown model again, with up to `tokens`
   * tokens generated after it; the views then show prompt and generated tokens, the step bar the latter.
   */
  async continueText(tokens: number): Promise<void> {
    const run = this.runs.length === 1 ? this.runs[0] : undefined;
    if (!run || !this.model || !this.pageRunsShown() || !run.trace.input) return;
    await this.run(this.localId--, this.model, run.trace.input, undefined, undefined, tokens);
  }

  async run(id: number, model: ModelRef, text: RunInput, compareWith?: ModelRef, compareText?: string, continueTokens?: number): Promise<void> {
    this.inflight?.abort.abort();
    const abort = new AbortController();
    this.inflight = { id, abort };
    // A layer load in flight uses the same session: let it stop first.
    this.loading?.abort.abort();
    await this.loading?.done;
    this.runner.preferLayer = this.sel.layer;
    this.lastError = undefined;
    let done!: () => void;
    this.idle = new Promise((r) => { done = r; });
    this.setStatus(`Running ${model.label}…`, true);
    try {
      const progress = (message: string, fraction?: number): void => {
        // Work that ends in the background after a cancel says nothing more.
        if (abort.signal.aborted) return;
        this.setStatus(message, true);
        if (id >= 0) this.toHost.progress(id, message, fraction);
      };
      // A cancel is answered at once: work inside onnxruntime that cannot stop ends in the background.
      const runOne = (m: ModelRef, t: RunInput, more?: number): Promise<RunOutcome> => untilAborted(this.runner.run(m, t, abort.signal, progress, more), abort.signal);
      const outcome = await runOne(model, text, continueTokens);
      const runs = [outcome.run];
      if (compareWith) runs.push((await runOne(compareWith, text)).run);
      else if (compareText) runs.push((await runOne(model, compareText)).run);
      if (abort.signal.aborted) throw new Error('cancelled');
      this.runs = runs;
      this.shownNative = false;
      this.lastRun = { id, outcome };
      this.mode = 'panel';
      this.inspector.root.hidden = true;
      this.tabs.hidden = false;
      this.root.querySelector('.app-empty')?.remove();
      this.pickDefaults();
      this.updateBadge(outcome);
      this.setStatus(timingText(outcome), false);
      // Two runs (compare): say whose warning it is.
      this.warnings.textContent = runs.flatMap((r) => r.trace.warnings.map((w) => (runs.length > 1 ? `${r.label}: ${w}` : w))).join('\n');
      this.warnings.hidden = !this.warnings.textContent;
      this.showView(this.firstAvailable());
      // Seq2seq models with held-out accuracy beside them: the Compare view draws it (the bottleneck curve).
      void attachAccuracy(runs, [model, compareWith ?? (compareText ? model : undefined)]).then((found) => { if (found && this.runs === runs) this.renderActive(); });
      if (id >= 0) this.postResult(id, outcome);
    } catch (e) {
      const cancelled = abort.signal.aborted || (isSeqLensError(e) && e.code === 'cancelled');
      const error = { code: cancelled ? 'cancelled' : isSeqLensError(e) ? e.code : 'runtime', message: cancelled ? 'The run was cancelled.' : e instanceof Error ? e.message : String(e) };
      this.setStatus(error.message, false);
      if (!cancelled) this.lastError = error.message;
      if (id >= 0) this.toHost.fail(id, error);
      this.api.postMessage({ type: 'log', level: cancelled ? 'info' : 'error', message: `run ${id}: ${error.message}` });
    } finally {
      if (this.inflight?.id === id) this.inflight = undefined;
      done();
      if (!this.inflight) this.loadNeeds();
    }
  }

  /**
   * Resolves once no native run of the host's is in progress: now, or when the current one has been shown or
   * has failed. The page's onnxruntime-web warm-up waits for it (main.ts): on a machine with few cores it
   * would compete with the worker that makes the run and with the page drawing it.
   */
  hostRunsSettled(): Promise<void> {
    if (this.hostRunId === undefined) return Promise.resolve();
    return new Promise((resolve) => this.hostRunWaiters.push(resolve));
  }

  private endHostRun(): void {
    this.hostRunId = undefined;
    for (const w of this.hostRunWaiters.splice(0)) w();
  }

  /** The host's native run `id`: its progress with a Cancel button, or how it ended. */
  private hostRunStatus(id: number, state: 'running' | 'failed' | 'cancelled', message: string): void {
    if (state === 'running') {
      // A run of the page's own in flight is replaced, as a newer run replaces an older one.
      this.inflight?.abort.abort();
      this.hostRunId = id;
      this.setStatus(message, true);
      return;
    }
    if (this.hostRunId === id) this.endHostRun();
    this.setStatus(state === 'cancelled' ? 'The run was cancelled.' : message, false);
    if (state === 'failed') this.lastError = message;
  }

  /**
   * Runs the host made natively: shown as a page run is (the same RunData over a LayerStore whose deferred
   * layers the host fetches), the badge says where they ran and why, and the tokens' summaries answer it.
   */
  async showHostRuns(msg: Requests['showTrace']): Promise<void> {
    this.inflight?.abort.abort();
    this.loading?.abort.abort();
    let done!: () => void;
    this.idle = new Promise((r) => { done = r; });
    markPage(PAGE_MARKS.traceReceived);
    const arrived = performance.now();
    // When it reached the page, as a clock time: the host's log says when it was sent (a big run's trip through
    // the window's connection is not in any timing the page can take).
    this.toHost.log('info', `native run ${msg.id} reached the page at ${new Date(performance.timeOrigin + arrived).toISOString().slice(11, 23)}`);
    try {
      await this.loading?.done;
      // A background load that could not stop at once (a session being created) holds the picture back: said in the timings.
      const waited = performance.now() - arrived;
      if (this.hostRunId === msg.id) this.endHostRun();
      const runs = msg.runs.map((w, i) => runDataFromWire(w, msg.labels[i] ?? w.trace.model, this.hostLayers));
      if (!runs.length) throw new Error('The host sent no run to show.');
      const t0 = performance.now();
      this.lastError = undefined;
      // Before drawing: what the views offer (Continue runs in the page) depends on where the run was made.
      this.shownNative = true;
      this.shownLoadable = !!msg.pageModel;
      if (msg.pageModel) {
        this.model = msg.pageModel;
        this.compareModel = undefined;
      }
      // The header before the picture: its status and warnings decide where the view's box starts, and a header
      // that changed after the draw made the view draw again for its new box. (The status shows no page timings.)
      this.badge.textContent = msg.badge;
      this.badge.title = msg.why;
      this.badge.dataset.backend = runs[0].trace.backend;
      this.setStatus(timingText({ run: runs[0], timings: runs[0].trace.timings }), false);
      this.warnings.textContent = runs.flatMap((r) => r.trace.warnings.map((w) => (runs.length > 1 ? `${r.label}: ${w}` : w))).join('\n');
      this.warnings.hidden = !this.warnings.textContent;
      this.showTraces(runs);
      markPage(PAGE_MARKS.traceDrawn);
      const timings = { ...runs[0].trace.timings, ...(waited >= 1 ? { pageWait: waited } : {}), render: performance.now() - t0 };
      this.lastRun = { id: msg.id, outcome: { run: runs[0], backend: runs[0].trace.backend, timings } };
      const { tokens, mode } = tokenSummaries(runs[0], this.decorationMode, this.sel);
      this.toHost.reply('showTrace', msg.id, { backend: runs[0].trace.backend, timings, tokens, decorationMode: mode });
      if (msg.pageModel) this.prime(msg.pageModel, runs[0].trace.input);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.setStatus(message, false);
      this.lastError = message;
      this.toHost.fail(msg.id, { code: isSeqLensError(e) ? e.code : 'runtime', message });
    } finally {
      done();
      this.loadNeeds();
    }
  }

  /**
   * Loads the model of a native run shown (Auto sent it native because this page's onnxruntime-web was still
   * loading): its bytes, tokenizer and session, and one run on the text's first characters, so the next run
   * here (the user's next click, or Continue) starts warm. Nothing is shown; a failure is only logged (the
   * next run says it again, in full).
   */
  private prime(model: ModelRef, text: string): void {
    // Where onnxruntime-web cannot run (no JSPI) the native backend makes every run: nothing to load here.
    if (!text || jspiMissing()) return;
    this.priming = (async () => {
      await warmUpResult();
      const t0 = performance.now();
      await this.runner.run(model, text.slice(0, PRIME_CHARS), new AbortController().signal, () => undefined);
      this.toHost.log('info', `${model.label}: loaded in the page behind the native run (${Math.round(performance.now() - t0)} ms)`);
    })().catch((e: unknown) => {
      this.toHost.log('info', `${model.label}: the page could not load it behind the native run: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  /** Shows runs without running a model (benchmark, tests). */
  showTraces(runs: RunData[]): void {
    this.runs = runs;
    this.inspector.root.hidden = true;
    this.tabs.hidden = false;
    this.root.querySelector('.app-empty')?.remove();
    this.pickDefaults();
    this.showView(this.firstAvailable());
  }

  /** The reply to the host's run `id` (a "Try it" run, id < 0, has nobody waiting). */
  private postResult(id: number, outcome: RunOutcome): void {
    if (id < 0) return;
    const { tokens, mode } = tokenSummaries(outcome.run, this.decorationMode, this.sel);
    this.toHost.reply('run', id, { backend: outcome.backend, timings: outcome.timings, tokens, decorationMode: mode });
  }

  /**
   * The pin or the decoration mode changed: the host's last run gets new token scores, as a
   * notification of their own (its reply was sent once and is not sent again).
   */
  private rescore(): void {
    const last = this.lastRun;
    if (!last || last.id < 0) return;
    const { tokens, mode } = tokenSummaries(last.outcome.run, this.decorationMode, this.sel);
    this.toHost.notify({ type: 'tokensRescored', runId: last.id, tokens, decorationMode: mode });
  }

  /** Keeps the selection valid for the new run (e.g. layer 5 of a 2-layer model). */
  private pickDefaults(): void {
    const run = this.runs[0];
    const streams = run.streams();
    if (streams.length && !streams.includes(this.sel.stream)) this.sel.stream = streams[0];
    const layers = streams.length ? run.layers(this.sel.stream) : [];
    if (!layers.includes(this.sel.layer)) this.sel.layer = layers[0] ?? 0;
    const heads = streams.length ? run.heads(this.sel.stream, this.sel.layer) : 0;
    if (typeof this.sel.head === 'number' && this.sel.head >= heads) this.sel.head = 'mean';
    if (this.sel.pinned !== undefined && this.sel.pinned >= run.tokens.length) this.sel.pinned = undefined;
    this.sel.units = [];
    // Encoder-decoder view opens on the whole alignment; the step buttons walk back through it.
    this.sel.step = Math.max(0, ...this.runs.map((r) => (r.trace.generated?.length ?? 1) - 1));
    // A continued text opens on its last generated token, pinned: its attention row is the one highlighted.
    const c = run.trace.continuation;
    if (c?.steps) {
      this.sel.step = c.steps - 1;
      this.sel.pinned = c.from + c.steps - 1;
    }
    this.sel.hiddenHeads = [];
  }

  private firstAvailable(): number {
    const cur = this.views[this.active];
    if (cur && !cur.unavailable(this.env(cur))) return this.active;
    const i = this.views.findIndex((v) => !v.unavailable(this.env(v)));
    return i < 0 ? 0 : i;
  }

  async inspect(id: number, model: ModelRef): Promise<void> {
    let done!: () => void;
    this.idle = new Promise((r) => { done = r; });
    this.mode = 'inspector';
    this.setStatus(`Inspecting ${model.label}…`, true);
    try {
      const info = await this.runner.inspect(model);
      this.inspector.show(model, info, this.theme);
      this.inspector.root.hidden = false;
      this.root.querySelector('.app-empty')?.remove();
      this.tabs.hidden = !this.runs.length;
      this.setStatus(`${model.label}: ${info.architecture}`, false);
      this.toHost.reply('inspect', id, { architecture: info.architecture });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.inspector.showError(model, message);
      this.inspector.root.hidden = false;
      this.setStatus(message, false);
      // An error answer settles the host's pending request at once instead of leaving it to time out.
      this.toHost.fail(id, { code: isSeqLensError(e) ? e.code : 'inspect-failed', message });
    } finally {
      done();
    }
  }
}

/** What the page shows of a run it made or the host sent (native runs have no webview backend). */
type ShownOutcome = Pick<RunOutcome, 'run' | 'timings'> & { backend: string };

function timingText(o: Pick<RunOutcome, 'run' | 'timings'>): string {
  const t = o.timings;
  const part = (k: string, label: string): string => (t[k] !== undefined ? `${label} ${t[k].toFixed(t[k] < 10 ? 1 : 0)} ms` : '');
  const c = o.run.trace.continuation;
  const continued = c ? `continued ${c.steps} token${c.steps === 1 ? '' : 's'} (${c.cachedSteps} with the KV cache${c.stop === 'eos' ? ', stopped at the end token' : ''})` : '';
  return [`${o.run.label}: ${o.run.tokens.length} ${o.run.trace.tensorInputs ? 'positions' : 'tokens'}`, continued, part('sessionCreate', 'session'), part('continue', 'generate'), part('run', 'run'), part('extract', 'extract'), part('total', 'total')].filter(Boolean).join(' · ');
}
