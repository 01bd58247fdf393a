/**
 * Integration tests inside a real VS Code (the @vscode/test-electron harness; run with
 * `npm run test:vscode`, which skips with a clear message where VS Code cannot be downloaded).
 * They drive the extension through its commands and API, with the sample workspace open.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { describe, it, before } from 'mocha';

const EXT_ID = 'sequence-lens.sequence-lens';

async function waitFor<T>(what: string, fn: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Sequence Lens in VS Code', () => {
  before(async () => {
    const ext = vscode.extensions.getExtension(EXT_ID);
    assert.ok(ext, `${EXT_ID} is installed`);
    await ext.activate();
  });

  it('registers every command of the palette', async () => {
    const all = await vscode.commands.getCommands(true);
    for (const c of ['runOnSelection', 'openPanel', 'selectModel', 'inspectModel', 'compareModels', 'exportView']) {
      assert.ok(all.includes(`sequenceLens.${c}`), `sequenceLens.${c}`);
    }
  });

  it('contributes the panel view, the .onnx editor and the settings', () => {
    const pkg = vscode.extensions.getExtension(EXT_ID)?.packageJSON as { contributes: Record<string, unknown> };
    assert.ok(JSON.stringify(pkg.contributes.customEditors).includes('*.onnx'));
    const c = vscode.workspace.getConfiguration('sequenceLens');
    assert.equal(c.get('backend'), 'auto');
    assert.equal(c.get('decorationMode'), 'attention');
  });

  it('an empty selection is a warning, not an exception', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'function f() { return 1; }', language: 'typescript' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    await vscode.commands.executeCommand('sequenceLens.runOnSelection');
  });

  it('opens a corrupt .onnx in the inspector without throwing', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the sample workspace is open');
    const uri = vscode.Uri.joinPath(folder.uri, 'models', 'corrupt.onnx');
    await vscode.commands.executeCommand('vscode.openWith', uri, 'sequenceLens.onnxInspector');
    await waitFor('the inspector tab', () => vscode.window.tabGroups.activeTabGroup.activeTab?.label === 'corrupt.onnx');
  });

  it('runs the default model on a selection and colours it', async function () {
    this.timeout(180_000);
    const doc = await vscode.workspace.openTextDocument({ content: 'export const answer = 42;\n', language: 'typescript' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, 25);
    await vscode.commands.executeCommand('sequenceLens.runOnSelection');
    // The hover provider answers only for decorated tokens: it proves the run came back.
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 3));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
    assert.match(text, /Sequence Lens/);
  });
});
