/** Status bar item: the active model and the backend of the last run; click to switch model. */
import * as vscode from 'vscode';
import { readSettings } from './settings.js';
import type { RegisteredModel } from '../models/registeredModel.js';

export class ModelStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sequenceLens.status', vscode.StatusBarAlignment.Right, 100);
  private backend: string | undefined;

  constructor() {
    this.item.name = 'Sequence Lens';
    this.item.command = 'sequenceLens.selectModel';
  }

  setBackend(backend: string): void {
    this.backend = backend;
  }

  update(model: RegisteredModel | undefined): void {
    const backend = this.backend ?? readSettings().backend;
    const restricted = vscode.workspace.isTrusted ? '' : ' (Restricted Mode: bundled models only)';
    this.item.text = `$(telescope) ${model?.label ?? 'no model'} · ${backend}`;
    this.item.tooltip = model
      ? `Sequence Lens: ${model.label} (${model.architecture}, ${model.source}) on ${backend}${restricted}. Click to choose another model.`
      : `Sequence Lens: no model available${restricted}. Click to choose one.`;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
