/**
 * Every command failure ends here: one clear message, a log line, never an exception out of a
 * command (code-server shows thrown command errors as a modal dialog that blocks the UI).
 */
import * as vscode from 'vscode';
import { isSeqLensError } from '../core/errors.js';
import { describeError, type Log } from '../host/log.js';
import { PanelError } from '../panels/webviewChannel.js';

export function reportError(log: Log, what: string, e: unknown): void {
  if (e instanceof PanelError && e.code === 'cancelled') {
    log.info(`${what}: cancelled`);
    void vscode.window.showInformationMessage(`Sequence Lens: ${what} cancelled.`);
    return;
  }
  // Two right-clicks in quick succession: the newer run wins, and the older needs no message of its own.
  if (e instanceof PanelError && e.code === 'replaced') {
    log.info(`${what}: replaced by a newer run`);
    return;
  }
  const message = isSeqLensError(e) || e instanceof PanelError ? e.message : describeError(e);
  log.error(`${what} failed`, e);
  void vscode.window.showErrorMessage(`Sequence Lens: ${message}`, 'Show Log').then((choice) => {
    if (choice === 'Show Log') log.show();
  });
}

/** Wraps a command body so it can never throw into VS Code. */
export function guarded<A extends unknown[]>(log: Log, what: string, fn: (...args: A) => Promise<unknown> | unknown) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (e) {
      reportError(log, what, e);
    }
  };
}
