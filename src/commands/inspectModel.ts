/**
 * Sequence Lens: Inspect ONNX Model — from the explorer (a .onnx file), the tree (a model) or the
 * palette (quick pick). Opens the file in the read-only inspector editor.
 */
import * as vscode from 'vscode';
import { primaryFile } from '../models/registeredModel.js';
import { INSPECTOR_VIEW_TYPE } from '../panels/onnxInspector.js';
import type { HostContext } from './hostContext.js';
import { pickModel } from './modelPick.js';

export async function inspectModel(ctx: HostContext, arg?: unknown): Promise<void> {
  let uri: vscode.Uri | undefined;
  if (arg instanceof vscode.Uri) uri = arg;
  else if (typeof arg === 'string') {
    const reg = ctx.registry.get(arg);
    uri = reg ? primaryFile(reg) : undefined;
  } else if (typeof arg === 'object' && arg !== null && 'model' in arg) {
    const m = (arg as { model: unknown }).model;
    if (typeof m === 'object' && m !== null && 'id' in m && typeof m.id === 'string') {
      const reg = ctx.registry.get(m.id);
      uri = reg ? primaryFile(reg) : undefined;
    }
  }
  if (!uri) {
    const m = await pickModel(ctx.registry, { title: 'Sequence Lens: Inspect ONNX Model' });
    if (!m) return;
    uri = primaryFile(m);
  }
  if (!uri) {
    void vscode.window.showWarningMessage('Sequence Lens: that model has no .onnx file to inspect.');
    return;
  }
  await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_VIEW_TYPE);
}
