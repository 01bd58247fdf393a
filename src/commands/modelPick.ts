/** The model quick pick: each model with its architecture, size and source. */
import * as vscode from 'vscode';
import type { ModelRegistry } from '../models/modelRegistry.js';
import { formatBytes, primaryFile, type RegisteredModel } from '../models/registeredModel.js';

interface ModelItem extends vscode.QuickPickItem {
  model: RegisteredModel;
}

export async function pickModel(
  registry: ModelRegistry,
  opts: { title: string; placeHolder?: string; exclude?: string; filter?: (m: RegisteredModel) => boolean },
): Promise<RegisteredModel | undefined> {
  await registry.whenReady();
  const activeId = registry.active()?.id;
  const models = registry.list().filter((m) => m.id !== opts.exclude && (opts.filter?.(m) ?? true));
  if (models.length === 0) {
    void vscode.window.showWarningMessage(vscode.workspace.isTrusted
      ? 'Sequence Lens: no models found. Add an .onnx file to the workspace or a path to the setting sequenceLens.models.'
      : 'Sequence Lens: no bundled models found, and workspace models are not used in Restricted Mode.');
    return undefined;
  }
  const items: ModelItem[] = models.map((m) => ({
    model: m,
    label: `${m.id === activeId ? '$(pass-filled) ' : ''}${m.label}`,
    description: `${m.architecture} · ${formatBytes(m.sizeBytes)} · ${m.source}`,
    detail: m.problem ? `$(error) ${m.problem}` : m.tokenizerProblem ? `$(warning) ${m.tokenizerProblem}`
      : (m.description ?? vscode.workspace.asRelativePath(primaryFile(m) ?? m.id)),
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: opts.title,
    placeHolder: opts.placeHolder ?? 'Choose a model',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked?.model;
}
