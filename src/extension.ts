/**
 * Entry point: creates the registry, panels, decorations and status bar, and registers the
 * commands. No logic of its own; everything is disposed with the extension.
 */
import * as vscode from 'vscode';
import { Log } from './host/log.js';
import { ModelStatusBar } from './host/statusBar.js';
import { LastEditor } from './editor/lastEditor.js';
import { TokenDecorations } from './editor/tokenDecorations.js';
import { ModelRegistry } from './models/modelRegistry.js';
import { ModelTree } from './models/modelTree.js';
import { EDITOR_VIEW_TYPE, PANEL_VIEW_ID, Visualizer } from './panels/visualizer.js';
import { INSPECTOR_VIEW_TYPE, OnnxInspectorProvider } from './panels/onnxInspector.js';
import type { HostContext } from './commands/hostContext.js';
import { guarded } from './commands/reportError.js';
import { runOnSelection } from './commands/runOnSelection.js';
import { compareModels } from './commands/compareModels.js';
import { selectModel, useModel } from './commands/selectModel.js';
import { inspectModel } from './commands/inspectModel.js';
import { exportView, saveExport } from './commands/exportView.js';
import { openPanel } from './commands/openPanel.js';
import { moveToPanel, openBeside } from './commands/placeVisualizer.js';
import { walkthroughStep } from './commands/walkthroughStep.js';
import { WALKTHROUGH_ID } from './shared/walkthroughSteps.js';

export function activate(context: vscode.ExtensionContext): void {
  const log = new Log();
  const sub = (...d: vscode.Disposable[]): void => void context.subscriptions.push(...d);
  sub(log);
  log.info(`Sequence Lens ${String(context.extension.packageJSON.version)} activating (VS Code ${vscode.version}, trusted: ${vscode.workspace.isTrusted})`);

  const registry = new ModelRegistry(context.extensionUri, context.workspaceState, log);
  const panel = new Visualizer(context.extensionUri, log, context.globalState);
  const decorations = new TokenDecorations();
  const lastEditor = new LastEditor();
  const statusBar = new ModelStatusBar();
  const tree = new ModelTree(registry);
  sub(registry, panel, decorations, lastEditor, statusBar, tree);
  let selectionTimer: ReturnType<typeof setTimeout> | undefined;
  const ctx: HostContext = { extensionUri: context.extensionUri, registry, panel, decorations, lastEditor, statusBar, log };

  sub(
    vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, panel),
    vscode.window.registerWebviewPanelSerializer(EDITOR_VIEW_TYPE, panel),
    vscode.window.registerCustomEditorProvider(INSPECTOR_VIEW_TYPE, new OnnxInspectorProvider(context.extensionUri, registry, log), {
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.window.createTreeView('sequenceLens.models', { treeDataProvider: tree, showCollapseAll: true }),
    registry.onDidChange(() => statusBar.update(registry.active())),
    panel.onTokensRescored((r) => {
      // The panel re-scored the last run (its pin or the decoration mode changed): recolour the editor.
      const editor = lastEditor.get();
      if (editor) log.info(`panel re-scored ${r.tokens.length} tokens as ${r.decorationMode}`);
      decorations.rescore(r.tokens, r.decorationMode);
    }),
    panel.onUnsolicitedExport((f) => void guarded(log, 'export', () => saveExport(ctx, f))()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => statusBar.update(registry.active())),
    // Text selected in an editor: the run it may lead to starts loading now (panel.prepareFor decides whether),
    // once the selection has settled (a drag selects for a while). Only where Sequence Lens is in use in this
    // window (its visualizer open, or a model chosen for this workspace): it activates in every window, and
    // a worker with onnxruntime-node is not started for text selected for other reasons.
    vscode.window.onDidChangeTextEditorSelection((e) => {
      clearTimeout(selectionTimer);
      if (!panel.isOpen && !registry.hasChosenModel) return;
      if (e.textEditor.document.uri.scheme === 'output' || e.selections.every((s) => s.isEmpty)) return;
      selectionTimer = setTimeout(() => {
        const model = registry.active();
        if (model && (vscode.workspace.isTrusted || model.source === 'zoo')) void panel.prepareFor(model);
      }, 250);
    }),
    { dispose: () => clearTimeout(selectionTimer) },
  );

  const commands: [string, (...args: unknown[]) => unknown][] = [
    ['sequenceLens.runOnSelection', () => runOnSelection(ctx)],
    ['sequenceLens.openPanel', () => openPanel(ctx)],
    ['sequenceLens.openBeside', () => openBeside(ctx)],
    ['sequenceLens.moveToPanel', () => moveToPanel(ctx)],
    ['sequenceLens.selectModel', () => selectModel(ctx)],
    ['sequenceLens.useModel', (arg) => useModel(ctx, typeof arg === 'object' && arg !== null && 'model' in arg ? (arg as { model: { id: unknown } }).model.id : arg)],
    ['sequenceLens.inspectModel', (arg) => inspectModel(ctx, arg)],
    ['sequenceLens.compareModels', () => compareModels(ctx)],
    ['sequenceLens.exportView', () => exportView(ctx)],
    ['sequenceLens.clearDecorations', () => decorations.clear()],
    ['sequenceLens.refreshModels', () => registry.refresh()],
    ['sequenceLens.walkthroughStep', (arg) => walkthroughStep(ctx, arg)],
    ['sequenceLens.openWalkthrough', () => vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#${WALKTHROUGH_ID}`, false)],
  ];
  for (const [id, fn] of commands) sub(vscode.commands.registerCommand(id, guarded(log, id.replace('sequenceLens.', ''), fn)));
  statusBar.update(undefined);
  void registry.whenReady().then(() => statusBar.update(registry.active()));
}

export function deactivate(): void {}
