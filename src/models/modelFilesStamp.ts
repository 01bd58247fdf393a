/**
 * A model's files as they are on disk now: a stamp that changes when any of them is rewritten, or a
 * one-sentence error naming the file that is gone. Checked before each run, so a model deleted or moved
 * since it was listed fails with a message that says what to do instead of a fetch error in the page,
 * and one rewritten in place runs from its new bytes.
 */
import * as vscode from 'vscode';
import { SeqLensError } from '../core/errors.js';
import type { RegisteredModel } from './registeredModel.js';

export async function modelFilesStamp(m: RegisteredModel): Promise<string> {
  const files = [...Object.values(m.files), ...(m.manifestUri ? [m.manifestUri] : []), ...Object.values(m.tokenizerFiles)];
  const parts: string[] = [];
  for (const uri of files) {
    let stat: vscode.FileStat;
    try {
      stat = await vscode.workspace.fs.stat(uri);
    } catch {
      throw new SeqLensError('model-missing',
        `${m.label} cannot run: its file ${vscode.workspace.asRelativePath(uri)} no longer exists (deleted or moved). Restore it, or pick another model with "Sequence Lens: Select Model".`);
    }
    parts.push(`${stat.size}@${stat.mtime}`);
  }
  return parts.join(',');
}
