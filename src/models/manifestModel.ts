/**
 * Turning a manifest file into a RegisteredModel: its files, its tokenizer files and its size.
 * A broken manifest gives a model with `problem` set rather than an exception, so the tree can
 * show what is wrong.
 */
import * as vscode from 'vscode';
import { parseManifest, isSeq2SeqIO, type ModelManifest, type TokenizerSpec } from '../core/manifest.js';
import { describeError } from '../host/log.js';
import type { ModelSource, RegisteredModel } from './registeredModel.js';

function tokenizerPaths(spec: TokenizerSpec): string[] {
  switch (spec.type) {
    case 'char': case 'wordpiece': return [spec.vocab];
    case 'bpe': return [spec.vocab, spec.merges];
    case 'hf': return [spec.file];
  }
}

export function manifestTokenizerPaths(m: ModelManifest): string[] {
  const paths = tokenizerPaths(m.tokenizer);
  if (isSeq2SeqIO(m.io)) paths.push(...tokenizerPaths(m.io.targetTokenizer));
  return [...new Set(paths)];
}

export async function fileSize(uri: vscode.Uri): Promise<number | undefined> {
  try {
    return (await vscode.workspace.fs.stat(uri)).size;
  } catch {
    return undefined;
  }
}

export async function readJson(uri: vscode.Uri): Promise<unknown> {
  const bytes = await vscode.workspace.fs.readFile(uri);
  return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
}

export async function modelFromManifest(manifestUri: vscode.Uri, source: ModelSource, id: string): Promise<RegisteredModel> {
  const dir = vscode.Uri.joinPath(manifestUri, '..');
  const base: RegisteredModel = {
    id, source, label: manifestUri.path.split('/').slice(-2, -1)[0] ?? id, architecture: 'unknown',
    files: {}, tokenizerFiles: {}, manifestUri, sizeBytes: 0,
  };
  let manifest: ModelManifest;
  try {
    manifest = parseManifest(await readJson(manifestUri));
  } catch (e) {
    return { ...base, problem: `Cannot read manifest ${manifestUri.fsPath}: ${describeError(e)}` };
  }
  const files: Record<string, vscode.Uri> = {};
  let size = 0;
  const missing: string[] = [];
  for (const [key, rel] of Object.entries(manifest.files)) {
    const uri = vscode.Uri.joinPath(dir, rel);
    files[key] = uri;
    const s = await fileSize(uri);
    if (s === undefined) missing.push(rel);
    else size += s;
  }
  const tokenizerFiles: Record<string, vscode.Uri> = {};
  const missingTok: string[] = [];
  for (const rel of manifestTokenizerPaths(manifest)) {
    const uri = vscode.Uri.joinPath(dir, rel);
    tokenizerFiles[rel] = uri;
    if ((await fileSize(uri)) === undefined) missingTok.push(rel);
  }
  return {
    ...base,
    label: manifest.name,
    architecture: manifest.architecture,
    manifest,
    files,
    tokenizerFiles,
    sizeBytes: size,
    description: manifest.description,
    problem: missing.length > 0 ? `Manifest ${manifestUri.fsPath} names missing files: ${missing.join(', ')}` : undefined,
    tokenizerProblem: missingTok.length > 0
      ? `The tokenizer file${missingTok.length > 1 ? 's' : ''} ${missingTok.join(', ')} named in ${manifestUri.fsPath} ${missingTok.length > 1 ? 'are' : 'is'} missing: add ${missingTok.length > 1 ? 'them' : 'it'} beside the manifest.`
      : undefined,
  };
}
