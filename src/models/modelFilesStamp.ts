/**
 * A model's files as they are on disk now: a stamp that changes when any of them is rewritten, or a
 * one-sentence error naming the file that is gone. Checked before each run, so a model deleted or moved
 * since it was listed fails with a message that says what to do instead of a fetch error in the page,
 * and one rewritten in place runs from its new bytes.
 */
import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import { SeqLensError } from '../core/errors.js';
import type { RegisteredModel } from './registeredModel.js';

/**
 * Files on this host's disk are read with Node's stat: `vscode.workspace.fs.stat` goes through the workbench,
 * which in code-server took 27-65 ms for a zoo model's three files one after the other in a warm window and
 * 330 ms in a window still starting (each run waits for this). Other schemes go through VS Code.
 */
async function statOf(uri: vscode.Uri): Promise<{ size: number; mtime: number }> {
  if (uri.scheme !== 'file') return vscode.workspace.fs.stat(uri);
  const s = await stat(uri.fsPath);
  return { size: s.size, mtime: s.mtimeMs };
}

export async function modelFilesStamp(m: RegisteredModel): Promise<string> {
  const files = [...Object.values(m.files), ...(m.manifestUri ? [m.manifestUri] : []), ...Object.values(m.tokenizerFiles)];
  const stats = await Promise.allSettled(files.map(statOf));
  const parts: string[] = [];
  for (const [i, s] of stats.entries()) {
    if (s.status === 'rejected') {
      throw new SeqLensError('model-missing',
        `${m.label} cannot run: its file ${vscode.workspace.asRelativePath(files[i])} no longer exists (deleted or moved). Restore it, or pick another model with "Sequence Lens: Select Model".`);
    }
    parts.push(`${s.value.size}@${s.value.mtime}`);
  }
  return parts.join(',');
}
