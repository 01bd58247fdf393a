/** The "Sequence Lens" output channel: what happened, for users and for E2E failure reports. */
import * as vscode from 'vscode';
import { describeError } from './describeError.js';

export { describeError };

export class Log implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('Sequence Lens', { log: true });

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string, e?: unknown): void {
    this.channel.error(e === undefined ? message : `${message}: ${describeError(e)}`);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
