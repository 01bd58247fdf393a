/**
 * Remembers the last text editor the user worked in. Palette commands run while a webview (the
 * panel, the inspector) has focus see no active text editor, yet "run on selection" means the
 * selection the user just made.
 */
import * as vscode from 'vscode';

export class LastEditor implements vscode.Disposable {
  private editor: vscode.TextEditor | undefined;
  private readonly sub: vscode.Disposable;

  constructor() {
    this.editor = usable(vscode.window.activeTextEditor);
    this.sub = vscode.window.onDidChangeActiveTextEditor((e) => {
      if (usable(e)) this.editor = e;
    });
  }

  /** The active text editor, else the last one that is still open. */
  get(): vscode.TextEditor | undefined {
    const active = usable(vscode.window.activeTextEditor);
    if (active) return active;
    const last = this.editor;
    if (last && !last.document.isClosed) {
      // The same document may be shown by a newer editor object after a tab switch.
      return vscode.window.visibleTextEditors.find((e) => e === last)
        ?? vscode.window.visibleTextEditors.find((e) => e.document === last.document)
        ?? last;
    }
    return undefined;
  }

  dispose(): void {
    this.sub.dispose();
  }
}

/** Output panes and the like are text editors too, but never what the user means to run on. */
function usable(e: vscode.TextEditor | undefined): vscode.TextEditor | undefined {
  return e && (e.document.uri.scheme === 'file' || e.document.uri.scheme === 'untitled' || e.document.uri.scheme === 'vscode-remote') ? e : undefined;
}
