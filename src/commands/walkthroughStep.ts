/**
 * Sequence Lens: Walkthrough Step — the one command behind every button of the "From RNNs to
 * Transformers" walkthrough (package.json `contributes.walkthroughs`). A step opens a prepared sample
 * text shipped in media/walkthrough/samples/, selects the span it is about, makes the step's zoo model
 * the active one, runs it through the usual run path (runOnSelection, with a second model for the
 * bottleneck step) and asks the page to show the step's view (protocol `showView`), pressing one of the
 * view's buttons where the step needs it (the bracket-depth hypothesis, Measure). The last step opens an
 * .onnx of the workspace in the inspector. Each step also sets a context key the walkthrough's
 * `completionEvents` listen to. The steps' table is src/shared/walkthroughSteps.ts.
 */
import * as vscode from 'vscode';
import type { HostContext } from './hostContext.js';
import { runOnSelection } from './runOnSelection.js';
import { useModel } from './selectModel.js';
import { primaryFile, type RegisteredModel } from '../models/registeredModel.js';
import { INSPECTOR_VIEW_TYPE } from '../panels/onnxInspector.js';
import { isWalkthroughStepId, stepRange, WALKTHROUGH_RUN_STEPS, type WalkthroughRunStep } from '../shared/walkthroughSteps.js';

async function runStep(ctx: HostContext, id: string, step: WalkthroughRunStep): Promise<void> {
  await ctx.registry.whenReady();
  const model = ctx.registry.get(step.model);
  const second = step.compareWith ? ctx.registry.get(step.compareWith) : undefined;
  if (!model || (step.compareWith && !second)) {
    void vscode.window.showErrorMessage(`Sequence Lens: the bundled model ${!model ? step.model : step.compareWith} is missing, so this walkthrough step cannot run.`);
    return;
  }
  const uri = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'walkthrough', 'samples', step.sample);
  const document = await vscode.workspace.openTextDocument(uri);
  const range = stepRange(document.getText(), step);
  if (!range) throw new Error(`the walkthrough sample ${step.sample} has no "${step.start}"…"${step.through}"`);
  // Beside the walkthrough page (or another page that is no text) when that is in front, so the text, its
  // explanation and the panel show at once (in the column of a text already shown beside it, if any: the
  // steps do not open a column each); else where the user is reading.
  const group = vscode.window.tabGroups.activeTabGroup;
  const besidePage = group.activeTab !== undefined && !(group.activeTab.input instanceof vscode.TabInputText);
  const other = vscode.window.visibleTextEditors.find((e) => e.viewColumn !== undefined && e.viewColumn !== group.viewColumn)?.viewColumn;
  const column = besidePage ? other ?? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
  const editor = await vscode.window.showTextDocument(document, { viewColumn: column, preview: false });
  const selection = new vscode.Selection(document.positionAt(range.start), document.positionAt(range.end));
  editor.selection = selection;
  editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  await useModel(ctx, model.id);
  ctx.log.info(`walkthrough step ${id}: ${model.label}${second ? ` vs ${second.label}` : ''} on ${step.sample}, then the ${step.view} view`);
  await runOnSelection(ctx, second, model);
  await ctx.panel.showView(step.view, step.press);
}

/** Step 7: an .onnx of the workspace in the inspector (a pick when there are several; the bundled GRU when none). */
async function inspectStep(ctx: HostContext): Promise<void> {
  await ctx.registry.whenReady();
  const usable = ctx.registry.list().filter((m) => m.source === 'workspace' && !m.problem && primaryFile(m));
  let model: RegisteredModel | undefined = usable[0];
  if (usable.length > 1) {
    const picked = await vscode.window.showQuickPick(
      usable.map((m) => ({ label: m.label, description: m.architecture, detail: vscode.workspace.asRelativePath(primaryFile(m)!), model: m })),
      { title: 'Sequence Lens: inspect which model of this workspace?', placeHolder: 'A .onnx file of the workspace' },
    );
    if (!picked) return;
    model = picked.model;
  }
  if (!model) {
    model = ctx.registry.get('zoo:gru');
    const why = vscode.workspace.isTrusted ? 'This workspace has no .onnx file' : 'Workspace models open only in a trusted workspace';
    void vscode.window.showInformationMessage(`Sequence Lens: ${why}; showing the bundled GRU in the inspector. Open any .onnx file to inspect your own model.`);
  }
  const file = model && primaryFile(model);
  if (!file) return;
  ctx.log.info(`walkthrough step inspect: ${vscode.workspace.asRelativePath(file)}`);
  await vscode.commands.executeCommand('vscode.openWith', file, INSPECTOR_VIEW_TYPE);
}

export async function walkthroughStep(ctx: HostContext, arg: unknown): Promise<void> {
  const id = Array.isArray(arg) ? (arg as unknown[])[0] : arg;
  if (!isWalkthroughStepId(id)) {
    void vscode.window.showWarningMessage(`Sequence Lens: no walkthrough step ${JSON.stringify(id)?.slice(0, 40)}.`);
    return;
  }
  if (id === 'inspect') await inspectStep(ctx);
  else await runStep(ctx, id, WALKTHROUGH_RUN_STEPS[id]);
  await vscode.commands.executeCommand('setContext', `sequenceLens.walkthrough.${id}`, true);
}
