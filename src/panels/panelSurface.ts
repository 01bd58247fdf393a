/**
 * Where the visualizer's page lives: the webview view in the panel area (the default), or a webview
 * panel in the editor area beside the text, like a Markdown preview. Both are reduced to one small
 * interface so the visualizer's run/restore/export logic does not care which it has. The choice and
 * the editor column are remembered across sessions (global state), so the visualizer comes back where
 * the user put it.
 */
import * as vscode from 'vscode';

export type PanelLocation = 'panel' | 'editor';

/** What the visualizer needs of a webview host, whichever kind it is. */
export interface PanelSurface {
  readonly location: PanelLocation;
  readonly webview: vscode.Webview;
  readonly visible: boolean;
  show(preserveFocus: boolean): void;
  readonly onDidChangeVisibility: vscode.Event<void>;
  readonly onDidDispose: vscode.Event<void>;
  /** Closes it (editor tabs only; the panel-area view stays registered). */
  close(): void;
}

export function viewSurface(view: vscode.WebviewView): PanelSurface {
  return {
    location: 'panel',
    webview: view.webview,
    get visible() { return view.visible; },
    show: (preserveFocus) => view.show(preserveFocus),
    onDidChangeVisibility: view.onDidChangeVisibility,
    onDidDispose: view.onDidDispose,
    close: () => undefined,
  };
}

export function editorSurface(panel: vscode.WebviewPanel): PanelSurface {
  let wasVisible = panel.visible;
  const visibility = new vscode.EventEmitter<void>();
  const sub = panel.onDidChangeViewState(() => {
    // onDidChangeViewState also fires on focus and column moves: pass on only visibility changes.
    if (panel.visible !== wasVisible) {
      wasVisible = panel.visible;
      visibility.fire();
    }
  });
  panel.onDidDispose(() => { sub.dispose(); visibility.dispose(); });
  return {
    location: 'editor',
    webview: panel.webview,
    get visible() { return panel.visible; },
    show: (preserveFocus) => panel.reveal(undefined, preserveFocus),
    onDidChangeVisibility: visibility.event,
    onDidDispose: panel.onDidDispose,
    close: () => panel.dispose(),
  };
}

const LOCATION_KEY = 'sequenceLens.visualizer.location';
const COLUMN_KEY = 'sequenceLens.visualizer.column';

/** The remembered place: which area, and in the editor area which column the user last left it in. */
export class PanelPlacement {
  constructor(private readonly state: vscode.Memento) {}

  get location(): PanelLocation {
    return this.state.get<unknown>(LOCATION_KEY) === 'editor' ? 'editor' : 'panel';
  }

  set location(where: PanelLocation) {
    void this.state.update(LOCATION_KEY, where);
  }

  /** The column to open the editor-area visualizer in: where it was last, else beside the active editor. */
  get column(): vscode.ViewColumn {
    const c = this.state.get<unknown>(COLUMN_KEY);
    return typeof c === 'number' && Number.isInteger(c) && c >= 1 && c <= 9 ? c : vscode.ViewColumn.Beside;
  }

  /** Follows the panel when the user drags it to another column. */
  track(panel: vscode.WebviewPanel): vscode.Disposable {
    return panel.onDidChangeViewState(() => {
      if (panel.viewColumn !== undefined) void this.state.update(COLUMN_KEY, panel.viewColumn);
    });
  }
}
