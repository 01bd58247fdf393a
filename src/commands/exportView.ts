/** Sequence Lens: Export Current View — asks the panel for its current view and saves it. */
import * as vscode from 'vscode';
import type { ExportedFile } from '../shared/protocol.js';
import type { HostContext } from './hostContext.js';

/** Saves one exported file (from the panel's reply to an export, or from its own export button). */
export async function saveExport(ctx: HostContext, file: ExportedFile): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: 'Sequence Lens: Export Current View',
    defaultUri: folder ? vscode.Uri.joinPath(folder, safeName(file.fileName)) : undefined,
    saveLabel: 'Export',
  });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, file.data);
  ctx.log.info(`exported ${file.data.byteLength} bytes (${file.mime}) to ${target.fsPath}`);
  const choice = await vscode.window.showInformationMessage(`Sequence Lens: exported to ${vscode.workspace.asRelativePath(target)}.`, 'Open');
  if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
}

function safeName(name: string): string {
  return name.replace(/[\\/:*?"<>|]/g, '_').slice(0, 120) || 'sequence-lens-export';
}

export async function exportView(ctx: HostContext): Promise<void> {
  const files = await ctx.panel.exportView();
  if (files.length === 1) {
    await saveExport(ctx, files[0]);
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const picked = await vscode.window.showOpenDialog({
    title: `Sequence Lens: Export Current View (${files.length} files: ${files.map((f) => f.fileName.split('.').pop()).join(', ')})`,
    canSelectFolders: true, canSelectFiles: false, canSelectMany: false, defaultUri: folder, openLabel: 'Export Here',
  });
  const target = picked?.[0];
  if (!target) return;
  for (const f of files) await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(target, safeName(f.fileName)), f.data);
  ctx.log.info(`exported ${files.map((f) => f.fileName).join(', ')} to ${target.fsPath}`);
  void vscode.window.showInformationMessage(`Sequence Lens: exported ${files.length} files to ${vscode.workspace.asRelativePath(target)}.`);
}
