/**
 * Typed reading of the `sequenceLens.*` settings. Values from settings.json are user input:
 * each one is checked and replaced by its default when it has the wrong shape.
 */
import * as vscode from 'vscode';
import type { Backend, DecorationMode } from '../shared/protocol.js';

export type { DecorationMode };
export const DECORATION_MODES: readonly DecorationMode[] = ['attention', 'hiddenNorm', 'gate'];

/** One entry of `sequenceLens.models`: a path, or a path with its tokenizer / manifest. */
export interface ModelSetting {
  path: string;
  tokenizer?: string;
  manifest?: string;
}

export interface Settings {
  backend: Backend;
  maxTokens: number;
  /** How many tokens the panel's "Continue" generates (decoder-only models). */
  continueTokens: number;
  defaultModel: string;
  decorationMode: DecorationMode;
  models: ModelSetting[];
}

function parseModelSetting(v: unknown): ModelSetting | undefined {
  if (typeof v === 'string' && v.trim() !== '') return { path: v.trim() };
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.path !== 'string' || o.path.trim() === '') return undefined;
  return {
    path: o.path.trim(),
    tokenizer: typeof o.tokenizer === 'string' && o.tokenizer !== '' ? o.tokenizer : undefined,
    manifest: typeof o.manifest === 'string' && o.manifest !== '' ? o.manifest : undefined,
  };
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('sequenceLens');
  const backend = c.get<unknown>('backend');
  const maxTokens = c.get<unknown>('maxTokens');
  const continueTokens = c.get<unknown>('continueTokens');
  const defaultModel = c.get<unknown>('defaultModel');
  const mode = c.get<unknown>('decorationMode');
  const models = c.get<unknown>('models');
  return {
    backend: backend === 'webgpu' || backend === 'wasm' || backend === 'native' ? backend : 'auto',
    maxTokens: typeof maxTokens === 'number' && Number.isFinite(maxTokens) && maxTokens >= 1 ? Math.floor(maxTokens) : 512,
    continueTokens: typeof continueTokens === 'number' && Number.isFinite(continueTokens) && continueTokens >= 1 ? Math.min(1024, Math.floor(continueTokens)) : 20,
    defaultModel: typeof defaultModel === 'string' ? defaultModel : '',
    decorationMode: DECORATION_MODES.includes(mode as DecorationMode) ? (mode as DecorationMode) : 'attention',
    models: Array.isArray(models) ? models.map(parseModelSetting).filter((m): m is ModelSetting => m !== undefined) : [],
  };
}

/**
 * The backend the user picked in a page's menu, written where `sequenceLens.backend` is set now (folder,
 * workspace, else the user's settings), so the menu and settings.json never disagree.
 */
export async function writeBackend(backend: Backend): Promise<void> {
  const c = vscode.workspace.getConfiguration('sequenceLens');
  const at = c.inspect<string>('backend');
  const target = at?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
    : at?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await c.update('backend', backend === 'auto' && target === vscode.ConfigurationTarget.Global ? undefined : backend, target);
}
