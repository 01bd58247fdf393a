/**
 * Host-side inspection of a model's bytes with src/core (pure TypeScript, no vscode/Node deps):
 * what the tree view shows (architecture, what can be probed) and the first check that turns a
 * corrupt file into a clear message before any webview is involved. Cached per file version.
 */
import * as vscode from 'vscode';
import { describeError } from '../host/log.js';
import { inspectOnnxBytes, type ModelInspection } from './onnxFacts.js';

export type { ModelInspection };

interface CacheEntry { mtime: number; size: number; result: ModelInspection }

export class ModelInspector {
  private readonly cache = new Map<string, CacheEntry>();

  async inspect(uri: vscode.Uri): Promise<ModelInspection> {
    const name = uri.path.split('/').pop() ?? uri.fsPath;
    let stat: vscode.FileStat;
    try {
      stat = await vscode.workspace.fs.stat(uri);
    } catch (e) {
      return { architecture: 'unknown', facts: [], probes: [], error: `Cannot read ${name}: ${describeError(e)}` };
    }
    const hit = this.cache.get(uri.toString());
    if (hit && hit.mtime === stat.mtime && hit.size === stat.size) return hit.result;
    let result: ModelInspection;
    try {
      result = inspectOnnxBytes(await vscode.workspace.fs.readFile(uri), name);
    } catch (e) {
      result = { architecture: 'unknown', facts: [], probes: [], error: `Cannot read ${name}: ${describeError(e)}` };
    }
    this.cache.set(uri.toString(), { mtime: stat.mtime, size: stat.size, result });
    return result;
  }
}
