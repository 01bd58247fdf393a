/** What every command works with, created once in activate(). */
import type * as vscode from 'vscode';
import type { Log } from '../host/log.js';
import type { ModelStatusBar } from '../host/statusBar.js';
import type { LastEditor } from '../editor/lastEditor.js';
import type { TokenDecorations } from '../editor/tokenDecorations.js';
import type { ModelRegistry } from '../models/modelRegistry.js';
import type { Visualizer } from '../panels/visualizer.js';

export interface HostContext {
  extensionUri: vscode.Uri;
  registry: ModelRegistry;
  panel: Visualizer;
  decorations: TokenDecorations;
  lastEditor: LastEditor;
  statusBar: ModelStatusBar;
  log: Log;
}
