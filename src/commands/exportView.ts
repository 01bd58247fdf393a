/** Sequence Lens: Export Current View — asks the panel for its current view and saves it. */
import * as vscode from 'vscode';
import type { ExportFile } from '../panels/webviewChannel.js';
import type { HostContext } from './hostContext.js';

/** Saves an exportFile from the panel (asked for, or from the panel's own export button). */
export async function saveExport(ctx: HostContext, file: ExportFile): Promise<void> {
  const safeName = file.fileName.replace(/[\\/:*?"<>|]/g, '_').slice(0, 120) || 'sequence-lens-export';
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: 'Sequence Lens: Export Current View',
    defaultUri: folder ? vscode.Uri.joinPath(folder, safeName) : undefined,
    saveLabel: 'Export',
  });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, file.data);
  ctx.log.info(`exported ${file.data.byteLength} bytes (${file.mime}) to ${target.fsPath}`);
  const choice = await vscode.window.showInformationMessage(`Sequence Lens: exported to ${vscode.workspace.asRelativePath(target)}.`, 'Open');
  if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
}

export async function exportView(ctx: HostContext): Promise<void> {
  const file = await ctx.panel.exportView();
  await saveExport(ctx, file);
}
