/**
 * The read-only custom editor for *.onnx: opening a model file shows the webview app in
 * inspection mode (summary, architecture with evidence, probe plan, a box to try it). The page
 * decodes the model (its LoadedModel, shared with runs in that page) from the model's webview URIs;
 * the host never decodes it a second time. A failure (a corrupt file) comes back as the inspect
 * request's error reply, which the page shows and the host logs.
 */
import * as vscode from 'vscode';
import { describeError, type Log } from '../host/log.js';
import { readSettings, writeBackend } from '../host/settings.js';
import type { ModelRegistry } from '../models/modelRegistry.js';
import { modelFromOnnx } from '../models/looseModel.js';
import type { RegisteredModel } from '../models/registeredModel.js';
import { newRequestId, PanelError, WebviewChannel, type PageAsk } from './webviewChannel.js';
import { baseRoots, modelFolders, modelRefFor, pageFor, wasmBaseFor, webviewOptions } from './webviewSetup.js';

export const INSPECTOR_VIEW_TYPE = 'sequenceLens.onnxInspector';

/** Largest .npy file the page is sent (it decodes it and feeds it to the model in memory). */
const MAX_NPY_BYTES = 512 * 2 ** 20;

/** Opens the host's file dialog for the page's pickNpy and answers with the file's bytes (or none, or why not). */
async function answerPickNpy(channel: WebviewChannel, m: Extract<PageAsk, { type: 'pickNpy' }>, folder: vscode.Uri, log: Log): Promise<void> {
  try {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false, canSelectFiles: true, canSelectFolders: false, defaultUri: folder,
      filters: { 'NumPy array': ['npy'] }, title: `Sequence Lens: a .npy array for input "${m.input}"`, openLabel: `Use for ${m.input}`,
    });
    const file = picked?.[0];
    if (!file) {
      await channel.post({ type: 'npyPicked', inReplyTo: m.id });
      return;
    }
    const fileName = file.path.split('/').pop() ?? file.fsPath;
    const stat = await vscode.workspace.fs.stat(file);
    if (stat.size > MAX_NPY_BYTES) {
      await channel.post({ type: 'npyPicked', inReplyTo: m.id, error: { code: 'bad-input', message: `${fileName} is ${(stat.size / 2 ** 20).toFixed(0)} MiB; Sequence Lens takes .npy inputs up to ${MAX_NPY_BYTES / 2 ** 20} MiB: save a shorter example.` } });
      return;
    }
    const bytes = await vscode.workspace.fs.readFile(file);
    // Its own ArrayBuffer (a Node Buffer may be a view into a larger pool), sent as is.
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    await channel.post({ type: 'npyPicked', inReplyTo: m.id, fileName, data });
  } catch (e) {
    log.warn(`inspector: pickNpy for ${m.input}: ${describeError(e)}`);
    await channel.post({ type: 'npyPicked', inReplyTo: m.id, error: { code: 'runtime', message: `Could not read the file for input "${m.input}": ${describeError(e)}` } });
  }
}

class OnnxDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

export class OnnxInspectorProvider implements vscode.CustomReadonlyEditorProvider<OnnxDocument> {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: ModelRegistry,
    private readonly log: Log,
  ) {}

  openCustomDocument(uri: vscode.Uri): OnnxDocument {
    return new OnnxDocument(uri);
  }

  async resolveCustomEditor(document: OnnxDocument, panel: vscode.WebviewPanel): Promise<void> {
    const uri = document.uri;
    const name = uri.path.split('/').pop() ?? uri.fsPath;
    const trusted = vscode.workspace.isTrusted || this.registry.isZooFile(uri);
    let model: RegisteredModel | undefined;
    try {
      await this.registry.whenReady();
      model = this.registry.findByFile(uri) ?? (trusted ? await modelFromOnnx(uri, 'workspace') : undefined);
    } catch (e) {
      this.log.error(`inspector: cannot resolve ${uri.fsPath}`, e);
    }
    const channel = new WebviewChannel(panel.webview, this.log, `inspector ${name}`);
    const disposables: vscode.Disposable[] = [channel];
    panel.onDidDispose(() => disposables.forEach((d) => d.dispose()));

    // The host does not decode the model: the page does (its LoadedModel, which a "Try it" run then reuses),
    // and its reply names the architecture, or why the file cannot be inspected (both logged below).
    if (!trusted) {
      void vscode.window.showInformationMessage(
        `Sequence Lens does not open workspace models in Restricted Mode. Trust this workspace to inspect ${name}; the bundled sample models still work.`);
    }

    // A run on arrays (a model whose inputs are not text): the page asks for one .npy file per input.
    disposables.push(channel.onPageAsk((m) => {
      if (m.type === 'pickNpy' && trusted) void answerPickNpy(channel, m, vscode.Uri.joinPath(uri, '..'), this.log);
      if (m.type === 'chooseBackend') {
        void writeBackend(m.backend).catch((e: unknown) => this.log.warn(`could not write sequenceLens.backend: ${describeError(e)}`));
      }
    }));
    disposables.push(channel.onReady(async () => {
      const s = readSettings();
      await channel.post({
        type: 'init', mode: 'inspector', backend: s.backend, maxTokens: s.maxTokens, trusted,
        decorationMode: s.decorationMode, wasmBase: wasmBaseFor(panel.webview, this.extensionUri),
      });
      if (!model || !trusted) return;
      try {
        const answer = await channel.request({ type: 'inspect', id: newRequestId(), model: modelRefFor(panel.webview, model) }, { timeoutMs: 60_000 });
        this.log.info(`inspector: ${name} is ${answer.architecture} (webview)`);
      } catch (e) {
        this.log.warn(`inspector: ${name}: ${describeError(e)}`);
        // A corrupt or foreign file is said where the user looks, not only on the page and in the log.
        const closed = e instanceof PanelError && ['cancelled', 'panel-closed', 'panel-reloaded'].includes(e.code);
        if (!closed) void vscode.window.showWarningMessage(`Sequence Lens cannot inspect ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }));
    panel.webview.options = webviewOptions([...baseRoots(this.extensionUri), ...(model ? modelFolders(model) : [vscode.Uri.joinPath(uri, '..')])]);
    panel.webview.html = pageFor(panel.webview, this.extensionUri, 'inspector', `Inspect ${name}`);
  }
}
