/**
 * The read-only custom editor for *.onnx: opening a model file shows the webview app in
 * inspection mode (summary, architecture with evidence, probe plan, a box to try it). The page
 * decodes the model (its LoadedModel, shared with runs in that page) from the model's webview URIs;
 * the host never decodes it a second time. A failure (a corrupt file) comes back as the inspect
 * request's error reply, which the page shows and the host logs.
 */
import * as vscode from 'vscode';
import { describeError, type Log } from '../host/log.js';
import { readSettings } from '../host/settings.js';
import type { ModelRegistry } from '../models/modelRegistry.js';
import { modelFromOnnx } from '../models/looseModel.js';
import type { RegisteredModel } from '../models/registeredModel.js';
import { newRequestId, PanelError, WebviewChannel } from './webviewChannel.js';
import { baseRoots, modelFolders, modelRefFor, pageFor, wasmBaseFor, webviewOptions } from './webviewSetup.js';

export const INSPECTOR_VIEW_TYPE = 'sequenceLens.onnxInspector';

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
