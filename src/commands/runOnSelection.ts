/**
 * Sequence Lens: Run Model on Selection (also in the editor's context menu and on a keybinding).
 * Takes the selection of the last text editor, runs the active model in the panel with progress
 * and cancel, then colours the selected tokens in the editor. Compare reuses this with a second
 * model.
 */
import * as vscode from 'vscode';
import type { RegisteredModel } from '../models/registeredModel.js';
import type { HostContext } from './hostContext.js';
import { reportError } from './reportError.js';
import { isSeqLensError } from '../core/errors.js';
import { PanelError } from '../panels/webviewChannel.js';

/** Beyond this the host refuses outright; the panel truncates to sequenceLens.maxTokens itself. */
const MAX_TEXT_CHARS = 1_000_000;

/** A model the user can run now, or the message saying what is missing. */
function unusable(m: RegisteredModel): string | undefined {
  if (m.problem) return `${m.label} cannot be used: ${m.problem}`;
  if (m.tokenizerProblem) return m.tokenizerProblem;
  if (!vscode.workspace.isTrusted && m.source !== 'zoo') {
    return `${m.label} is a workspace model, and this workspace is in Restricted Mode: trust it, or pick a bundled model.`;
  }
  return undefined;
}

async function tellUnusable(ctx: HostContext, m: RegisteredModel, why: string): Promise<void> {
  ctx.log.warn(why);
  const actions = m.tokenizerProblem ? ['Select Model', 'Open Settings'] : ['Select Model'];
  const choice = await vscode.window.showErrorMessage(`Sequence Lens: ${why}`, ...actions);
  if (choice === 'Select Model') await vscode.commands.executeCommand('sequenceLens.selectModel');
  if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'sequenceLens.models');
}

export async function runOnSelection(ctx: HostContext, compareWith?: RegisteredModel, modelOverride?: RegisteredModel): Promise<void> {
  const editor = ctx.lastEditor.get();
  if (!editor) {
    void vscode.window.showWarningMessage('Sequence Lens: open a file and select some text first, then run the model on the selection.');
    return;
  }
  const selection = editor.selection;
  const text = editor.document.getText(selection);
  if (selection.isEmpty || text.trim() === '') {
    void vscode.window.showWarningMessage('Sequence Lens: the selection is empty. Select the text to run the model on (for example a sentence or a few lines of code).');
    return;
  }
  if (text.length > MAX_TEXT_CHARS) {
    void vscode.window.showWarningMessage(`Sequence Lens: the selection has ${text.length.toLocaleString('en-US')} characters; select at most ${MAX_TEXT_CHARS.toLocaleString('en-US')}.`);
    return;
  }
  await ctx.registry.whenReady();
  const gone = modelOverride ? undefined : await ctx.registry.takeMissingChoice();
  if (gone) {
    const path = gone.replace(/^[a-z]+:/, '');
    const why = `the model you chose, ${vscode.workspace.asRelativePath(path)}, no longer exists (deleted or moved). The next run uses ${ctx.registry.active()?.label ?? 'the default model'}; pick another with Select Model.`;
    ctx.log.warn(why);
    const choice = await vscode.window.showErrorMessage(`Sequence Lens: ${why}`, 'Select Model');
    if (choice === 'Select Model') await vscode.commands.executeCommand('sequenceLens.selectModel');
    return;
  }
  const model = modelOverride ?? ctx.registry.active();
  if (!model) {
    void vscode.window.showErrorMessage('Sequence Lens: no model is available. The bundled models are missing, and no workspace or settings model was found.');
    return;
  }
  for (const m of compareWith ? [model, compareWith] : [model]) {
    const why = unusable(m);
    if (why) {
      await tellUnusable(ctx, m, why);
      return;
    }
  }

  const document = editor.document;
  const base = document.offsetAt(selection.start);
  const version = document.version;
  const label = compareWith ? `${model.label} vs ${compareWith.label}` : model.label;
  ctx.log.info(`run: ${label} on ${text.length} characters of ${vscode.workspace.asRelativePath(document.uri)}`);
  const started = Date.now();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Sequence Lens: running ${label}`, cancellable: true },
      async (progress, token) => {
        let reported = 0;
        return ctx.panel.run({
          model, compareWith, text, documentUri: document.uri, token,
          onProgress: (message, fraction) => {
            const increment = fraction !== undefined ? Math.max(0, fraction * 100 - reported) : undefined;
            if (increment !== undefined) reported += increment;
            progress.report({ message, increment });
          },
        });
      },
    );
    ctx.statusBar.setBackend(result.backend);
    ctx.statusBar.update(ctx.registry.active());
    const timings = Object.entries(result.timings).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(1) : String(v)} ms`).join(', ');
    ctx.log.info(`run done in ${Date.now() - started} ms on ${result.backend}: ${result.tokens.length} tokens; ${timings}`);
    if (document.version !== version) {
      ctx.log.info('run: the text changed while the model ran; no decorations.');
      return;
    }
    const n = ctx.decorations.apply(document, base, text, result.tokens, result.decorationMode, label);
    ctx.log.info(`decorations: ${n} tokens (${result.decorationMode})`);
  } catch (e) {
    // A model file gone since the last scan: list the models as they are now, and forget the choice of it
    // (this message said so; the next run uses the default without a second message).
    if ((isSeqLensError(e) || e instanceof PanelError) && e.code === 'model-missing') {
      void ctx.registry.refresh().then(() => ctx.registry.takeMissingChoice());
    }
    reportError(ctx.log, `running ${label}`, e);
  }
}
