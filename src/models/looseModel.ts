/**
 * A .onnx file found in the workspace or named in settings, resolved to a RegisteredModel.
 * Its manifest and tokenizer are looked up in this order: a sidecar `<stem>.seqlens.json`, a
 * `manifest.json` in the same folder that lists the file, the settings entry, a `tokenizer.json`
 * beside the file. When none gives a tokenizer the model is still listed, with the message that
 * says what to add.
 */
import * as vscode from 'vscode';
import type { ModelSetting } from '../host/settings.js';
import { fileSize, modelFromManifest, readJson } from './manifestModel.js';
import { missingTokenizerMessage, type ModelSource, type RegisteredModel } from './registeredModel.js';

async function exists(uri: vscode.Uri): Promise<boolean> {
  return (await fileSize(uri)) !== undefined;
}

/** Does `manifest.json` in the file's folder list this file among its `files`? */
async function folderManifestListing(file: vscode.Uri): Promise<vscode.Uri | undefined> {
  const manifestUri = vscode.Uri.joinPath(file, '..', 'manifest.json');
  if (!(await exists(manifestUri))) return undefined;
  try {
    const json = await readJson(manifestUri);
    if (typeof json !== 'object' || json === null) return undefined;
    const files = (json as Record<string, unknown>).files;
    if (typeof files !== 'object' || files === null) return undefined;
    const base = file.path.split('/').pop();
    return Object.values(files).some((rel) => typeof rel === 'string' && rel.replace(/^\.\//, '') === base) ? manifestUri : undefined;
  } catch {
    return undefined;
  }
}

export function resolvePath(p: string, relativeTo: vscode.Uri | undefined): vscode.Uri {
  if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) return vscode.Uri.file(p);
  const home = process.env.HOME;
  if (p.startsWith('~/') && home) return vscode.Uri.file(`${home}/${p.slice(2)}`);
  const root = relativeTo ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  return root ? vscode.Uri.joinPath(root, p) : vscode.Uri.file(p);
}

export async function modelFromOnnx(file: vscode.Uri, source: ModelSource, setting?: ModelSetting): Promise<RegisteredModel> {
  const stem = file.path.split('/').pop()?.replace(/\.onnx$/i, '') ?? file.path;
  const sidecar = vscode.Uri.joinPath(file, '..', `${stem}.seqlens.json`);
  const manifestFromSetting = setting?.manifest ? resolvePath(setting.manifest, undefined) : undefined;
  const manifestUri = manifestFromSetting ?? ((await exists(sidecar)) ? sidecar : await folderManifestListing(file));
  if (manifestUri) return modelFromManifest(manifestUri, source, `${source}:${manifestUri.fsPath}`);

  const rel = vscode.workspace.asRelativePath(file, false);
  const model: RegisteredModel = {
    id: `${source}:${file.fsPath}`,
    label: stem,
    source,
    architecture: 'unknown',
    files: { model: file },
    tokenizerFiles: {},
    sizeBytes: (await fileSize(file)) ?? 0,
    description: rel,
  };
  if (model.sizeBytes === 0 && !(await exists(file))) model.problem = `File not found: ${file.fsPath}`;
  if (setting?.tokenizer) {
    const tok = resolvePath(setting.tokenizer, undefined);
    if (await exists(tok)) model.tokenizerFiles[tok.path.split('/').pop() ?? 'tokenizer.json'] = tok;
    else model.tokenizerProblem = `The tokenizer ${tok.fsPath} set for ${rel} in sequenceLens.models does not exist.`;
    return model;
  }
  // tokenizer.json, else the older layouts the loader reads in its place (core/tokenize/loadTokenizer.ts).
  for (const names of [['tokenizer.json'], ['vocab.json', 'merges.txt'], ['encoder.json', 'vocab.bpe'], ['vocab.txt']]) {
    const uris = names.map((n) => vscode.Uri.joinPath(file, '..', n));
    if (!(await Promise.all(uris.map(exists))).every(Boolean)) continue;
    names.forEach((n, i) => (model.tokenizerFiles[n] = uris[i]!));
    return model;
  }
  model.tokenizerProblem = missingTokenizerMessage(rel);
  return model;
}
