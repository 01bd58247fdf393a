/**
 * The model registry: the bundled zoo (media/models/<name>/manifest.json), every *.onnx in the
 * workspace (kept current by a file watcher) and the paths in `sequenceLens.models`. In an
 * untrusted workspace only the zoo is offered. The active model is remembered per workspace.
 */
import * as vscode from 'vscode';
import type { Log } from '../host/log.js';
import { readSettings } from '../host/settings.js';
import { modelFromManifest, fileSize } from './manifestModel.js';
import { modelFromOnnx, resolvePath } from './looseModel.js';
import { modelFromSeq2SeqFolder, seq2seqFolderFiles, seq2seqLayoutOf } from './seq2seqFolderModel.js';
import { ModelInspector } from './modelInspection.js';
import type { RegisteredModel } from './registeredModel.js';

const ACTIVE_KEY = 'sequenceLens.activeModel';
const EXCLUDE = '**/{node_modules,.git,.tools,.vscode-test}/**';
/** The zoo model a first run uses when nothing is chosen: attention is what users come for. */
const PREFERRED_DEFAULT: readonly string[] = ['transformer-decoder', 'transformer-encoder', 'lstm', 'gru', 'rnn'];

export class ModelRegistry implements vscode.Disposable {
  private zoo: RegisteredModel[] = [];
  private workspaceModels: RegisteredModel[] = [];
  private settingsModels: RegisteredModel[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  readonly inspector = new ModelInspector();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private workspaceTimer: ReturnType<typeof setTimeout> | undefined;
  private ready: Promise<void>;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly state: vscode.Memento,
    private readonly log: Log,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{onnx,json}');
    const onFs = (uri: vscode.Uri): void => {
      if (/\.onnx$|\.seqlens\.json$|\/(manifest|tokenizer|config|generation_config)\.json$/i.test(uri.path)) this.scheduleWorkspaceScan();
    };
    this.disposables.push(
      watcher,
      watcher.onDidCreate(onFs),
      watcher.onDidDelete(onFs),
      watcher.onDidChange(onFs),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleWorkspaceScan()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('sequenceLens.models')) void this.scanSettings().then(() => this.changed.fire());
        if (e.affectsConfiguration('sequenceLens.defaultModel')) this.changed.fire();
      }),
    );
    this.ready = this.refresh();
  }

  /** Resolves once the first scan is done (commands wait for it). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  async refresh(): Promise<void> {
    this.ready = Promise.all([this.scanZoo(), this.scanWorkspace(), this.scanSettings()]).then(() => undefined);
    await this.ready;
    this.changed.fire();
  }

  /** Models the user may run now: everything when trusted, only the zoo otherwise. */
  list(): RegisteredModel[] {
    if (!vscode.workspace.isTrusted) return [...this.zoo];
    const seen = new Set<string>();
    const out: RegisteredModel[] = [];
    for (const m of [...this.zoo, ...this.settingsModels, ...this.workspaceModels]) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      out.push(m);
    }
    return out;
  }

  get(id: string): RegisteredModel | undefined {
    return this.list().find((m) => m.id === id);
  }

  /** The registered model one of whose files is `uri` (zoo, manifest or loose). */
  findByFile(uri: vscode.Uri): RegisteredModel | undefined {
    const all = vscode.workspace.isTrusted ? [...this.zoo, ...this.settingsModels, ...this.workspaceModels] : this.zoo;
    return all.find((m) => Object.values(m.files).some((f) => f.fsPath === uri.fsPath));
  }

  isZooFile(uri: vscode.Uri): boolean {
    return this.zoo.some((m) => Object.values(m.files).some((f) => f.fsPath === uri.fsPath));
  }

  /** The chosen model, else `sequenceLens.defaultModel`, else the zoo's first attention model. */
  active(): RegisteredModel | undefined {
    const models = this.list().filter((m) => !m.problem);
    const chosen = this.state.get<string>(ACTIVE_KEY);
    const byChoice = chosen ? models.find((m) => m.id === chosen) : undefined;
    if (byChoice) return byChoice;
    const wanted = readSettings().defaultModel.trim().toLowerCase();
    if (wanted) {
      const byDefault = models.find((m) =>
        m.id.toLowerCase() === wanted || m.label.toLowerCase() === wanted || m.id.toLowerCase() === `zoo:${wanted}`);
      if (byDefault) return byDefault;
      this.log.warn(`sequenceLens.defaultModel "${wanted}" matches no registered model; using the zoo default.`);
    }
    for (const arch of PREFERRED_DEFAULT) {
      const m = this.zoo.find((z) => z.architecture === arch && !z.problem && !z.tokenizerProblem);
      if (m) return m;
    }
    return models[0];
  }

  /**
   * The model chosen for this workspace when it is no longer found (its file deleted or moved, or the
   * workspace no longer trusted): its id, and the choice is forgotten so the next run uses the default.
   * A run asks this first, so it says so instead of silently running another model.
   */
  async takeMissingChoice(): Promise<string | undefined> {
    const chosen = this.state.get<string>(ACTIVE_KEY);
    if (!chosen || this.list().some((m) => m.id === chosen)) return undefined;
    // Restricted Mode hides workspace models without deleting them: keep the choice for when trust comes back.
    if (!vscode.workspace.isTrusted && !chosen.startsWith('zoo:')) return undefined;
    await this.state.update(ACTIVE_KEY, undefined);
    this.changed.fire();
    return chosen;
  }

  /** Whether a model was chosen for this workspace (Select Model, the tree), as opposed to the default. */
  get hasChosenModel(): boolean {
    return this.state.get<string>(ACTIVE_KEY) !== undefined;
  }

  async setActive(id: string): Promise<void> {
    await this.state.update(ACTIVE_KEY, id);
    this.changed.fire();
  }

  private async scanZoo(): Promise<void> {
    const root = vscode.Uri.joinPath(this.extensionUri, 'media', 'models');
    let entries: [string, vscode.FileType][] = [];
    try {
      entries = await vscode.workspace.fs.readDirectory(root);
    } catch {
      this.log.warn(`No bundled model zoo at ${root.fsPath}.`);
    }
    const zoo: RegisteredModel[] = [];
    for (const [name, type] of entries.sort(([a], [b]) => a.localeCompare(b))) {
      if (type !== vscode.FileType.Directory) continue;
      const manifestUri = vscode.Uri.joinPath(root, name, 'manifest.json');
      if ((await fileSize(manifestUri)) === undefined) continue;
      const m = await modelFromManifest(manifestUri, 'zoo', `zoo:${name}`);
      if (m.problem) this.log.warn(m.problem);
      zoo.push(m);
    }
    this.zoo = zoo;
    this.log.info(`Model zoo: ${zoo.map((m) => `${m.id} (${m.architecture})`).join(', ') || 'empty'}`);
  }

  private scheduleWorkspaceScan(): void {
    if (this.workspaceTimer) clearTimeout(this.workspaceTimer);
    this.workspaceTimer = setTimeout(() => {
      this.workspaceTimer = undefined;
      void this.scanWorkspace().then(() => this.changed.fire());
    }, 300);
  }

  private async scanWorkspace(): Promise<void> {
    if (!vscode.workspace.workspaceFolders?.length) {
      this.workspaceModels = [];
      return;
    }
    const files = await vscode.workspace.findFiles('**/*.onnx', EXCLUDE, 1000);
    const models: RegisteredModel[] = [];
    const seen = new Set<string>();
    // An encoder-decoder export (encoder_model.onnx + decoder_model.onnx ...) is one model, not one per file.
    const grouped = new Set<string>();
    const folders = new Map<string, { dir: vscode.Uri; onnx: number }>();
    for (const file of files) {
      if (this.isZooFile(file)) continue;
      const dir = vscode.Uri.joinPath(file, '..');
      const f = folders.get(dir.toString()) ?? { dir, onnx: 0 };
      f.onnx += 1;
      folders.set(dir.toString(), f);
    }
    for (const { dir, onnx } of folders.values()) {
      const found = onnx > 1 ? await seq2seqLayoutOf(dir) : undefined;
      if (!found) continue;
      const m = await modelFromSeq2SeqFolder(dir, found.layout, found.names, 'workspace');
      for (const f of seq2seqFolderFiles(dir, found.layout)) grouped.add(f.fsPath);
      if (m.problem) this.log.warn(m.problem);
      seen.add(m.id);
      models.push(m);
    }
    for (const file of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
      if (this.isZooFile(file) || grouped.has(file.fsPath)) continue;
      const m = await modelFromOnnx(file, 'workspace');
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      await this.fillArchitecture(m);
      models.push(m);
    }
    this.workspaceModels = models;
    this.log.info(`Workspace models: ${models.length}`);
  }

  private async scanSettings(): Promise<void> {
    const models: RegisteredModel[] = [];
    for (const entry of readSettings().models) {
      const uri = resolvePath(entry.path, undefined);
      // A folder holding an encoder-decoder export (encoder_model.onnx, decoder_model.onnx, tokenizer.json, config.json).
      const folder = /\.(json|onnx)$/i.test(uri.path) ? undefined : await seq2seqLayoutOf(uri);
      const m = folder ? await modelFromSeq2SeqFolder(uri, folder.layout, folder.names, 'settings')
        : /\.json$/i.test(uri.path)
          ? await modelFromManifest(uri, 'settings', `settings:${uri.fsPath}`)
          : await modelFromOnnx(uri, 'settings', entry);
      await this.fillArchitecture(m);
      if (m.problem) this.log.warn(m.problem);
      models.push(m);
    }
    this.settingsModels = models;
  }

  /** Loose files have no manifest to say what they are: read it from the graph. */
  private async fillArchitecture(m: RegisteredModel): Promise<void> {
    if (m.manifest || m.problem) return;
    const file = m.files.model;
    if (!file) return;
    const inspection = await this.inspector.inspect(file);
    if (inspection.error) m.problem = inspection.error;
    else m.architecture = inspection.architecture;
  }

  dispose(): void {
    if (this.workspaceTimer) clearTimeout(this.workspaceTimer);
    for (const d of this.disposables) d.dispose();
  }
}
