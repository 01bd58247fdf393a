/**
 * The "Sequence Models" tree: every registered model with its architecture, size and source; its
 * children say what can be probed (from src/core on the bytes), which tokenizer it uses, or what
 * is missing.
 */
import * as vscode from 'vscode';
import type { ModelRegistry } from './modelRegistry.js';
import { formatBytes, primaryFile, type RegisteredModel } from './registeredModel.js';

type Node = { kind: 'model'; model: RegisteredModel } | { kind: 'info'; label: string; detail?: string; icon: string };

export class ModelTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly registry: ModelRegistry) {
    this.sub = registry.onDidChange(() => this.changed.fire(undefined));
  }

  getTreeItem(n: Node): vscode.TreeItem {
    if (n.kind === 'info') {
      const item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
      item.tooltip = n.detail ?? n.label;
      item.iconPath = new vscode.ThemeIcon(n.icon);
      return item;
    }
    const m = n.model;
    const active = this.registry.active()?.id === m.id;
    const item = new vscode.TreeItem(m.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = m.id;
    item.description = `${m.architecture} · ${formatBytes(m.sizeBytes)} · ${m.source}${active ? ' · active' : ''}`;
    item.tooltip = new vscode.MarkdownString(
      `**${m.label}** (${m.architecture})\n\n${m.description ?? ''}\n\n${primaryFile(m)?.fsPath ?? ''}` +
      (m.problem ? `\n\n⚠ ${m.problem}` : '') + (m.tokenizerProblem ? `\n\n⚠ ${m.tokenizerProblem}` : ''));
    item.iconPath = new vscode.ThemeIcon(m.problem || m.tokenizerProblem ? 'warning' : active ? 'pass-filled' : 'circuit-board');
    item.contextValue = 'sequenceLens.model';
    item.command = { command: 'sequenceLens.useModel', title: 'Use This Model', arguments: [m.id] };
    return item;
  }

  async getChildren(n?: Node): Promise<Node[]> {
    if (!n) {
      await this.registry.whenReady();
      const models = this.registry.list();
      const nodes: Node[] = models.map((model) => ({ kind: 'model', model }));
      if (!vscode.workspace.isTrusted) {
        nodes.push({ kind: 'info', icon: 'shield', label: 'Restricted Mode: only the bundled models are listed',
          detail: 'Trust this workspace to use its .onnx files and the models in sequenceLens.models.' });
      }
      if (models.length === 0) nodes.push({ kind: 'info', icon: 'info', label: 'No models found' });
      return nodes;
    }
    if (n.kind === 'info') return [];
    const m = n.model;
    const out: Node[] = [];
    if (m.problem) out.push({ kind: 'info', icon: 'error', label: m.problem });
    const file = primaryFile(m);
    if (file && !m.problem) {
      const inspection = await this.registry.inspector.inspect(file);
      if (inspection.error) out.push({ kind: 'info', icon: 'error', label: inspection.error });
      else {
        out.push({ kind: 'info', icon: 'symbol-class', label: `Architecture: ${m.architecture}` });
        for (const p of inspection.probes) out.push({ kind: 'info', icon: 'eye', label: `Probe: ${p}` });
        if (inspection.probes.length === 0) out.push({ kind: 'info', icon: 'eye-closed', label: 'No probes found by the host inspector' });
        for (const f of inspection.facts) out.push({ kind: 'info', icon: 'symbol-field', label: f });
      }
    }
    if (m.tokenizerProblem) out.push({ kind: 'info', icon: 'warning', label: 'No tokenizer', detail: m.tokenizerProblem });
    else out.push({ kind: 'info', icon: 'symbol-text', label: `Tokenizer: ${Object.keys(m.tokenizerFiles).join(', ')}` });
    return out;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
