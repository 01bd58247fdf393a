/** Sequence Lens: Select Model — the quick pick; also "Use This Model" from the tree. */
import * as vscode from 'vscode';
import type { HostContext } from './hostContext.js';
import { pickModel } from './modelPick.js';

export async function selectModel(ctx: HostContext): Promise<void> {
  const m = await pickModel(ctx.registry, { title: 'Sequence Lens: Select Model' });
  if (!m) return;
  await useModel(ctx, m.id);
}

export async function useModel(ctx: HostContext, id: unknown): Promise<void> {
  const m = typeof id === 'string' ? ctx.registry.get(id) : undefined;
  if (!m) {
    void vscode.window.showWarningMessage('Sequence Lens: that model is no longer available.');
    return;
  }
  await ctx.registry.setActive(m.id);
  ctx.statusBar.update(m);
  ctx.log.info(`active model: ${m.id}`);
  if (m.problem || m.tokenizerProblem) {
    void vscode.window.showWarningMessage(`Sequence Lens: ${m.label} is selected but cannot run yet. ${m.problem ?? m.tokenizerProblem}`);
  } else {
    void vscode.window.setStatusBarMessage(`Sequence Lens: using ${m.label} (${m.architecture})`, 4000);
  }
}
