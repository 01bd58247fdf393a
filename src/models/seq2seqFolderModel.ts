/**
 * An encoder-decoder export in one folder without a manifest (Hugging Face optimum's `encoder_model.onnx`,
 * `decoder_model.onnx`, `decoder_with_past_model.onnx`, tokenizer.json, config.json) as ONE RegisteredModel:
 * the host lists the folder, reads the two graphs' input and output names and config.json, and
 * core/seq2seqFolder.ts pairs them into the Seq2Seq manifest a hand-written one would be. That manifest has
 * no file: it travels inline to the page (ModelRef.manifest) and to the native worker (NativeModelSpec.manifest);
 * every file it names resolves beside the encoder. A folder that cannot be paired is still listed once,
 * with the one sentence that says why. Each .onnx file still opens in the inspector on its own (the
 * encoder and decoder as this pair; the others as loose files).
 */
import * as vscode from 'vscode';
import { decodeModel } from '../core/onnx/decode.js';
import { graphIO, layoutFiles, pairSeq2SeqFolder, runDecoderFile, seq2seqFolderLayout, type GraphIO, type Seq2SeqFolderLayout } from '../core/seq2seqFolder.js';
import { fileSize, readJson } from './manifestModel.js';
import type { ModelSource, RegisteredModel } from './registeredModel.js';

/** The names of the plain files in a folder (none when it cannot be listed). */
export async function folderFileNames(dir: vscode.Uri): Promise<string[]> {
  try {
    return (await vscode.workspace.fs.readDirectory(dir)).filter(([, type]) => (type & vscode.FileType.File) !== 0).map(([name]) => name);
  } catch {
    return [];
  }
}

async function readGraphIO(uri: vscode.Uri): Promise<GraphIO | undefined> {
  try {
    return graphIO(decodeModel(await vscode.workspace.fs.readFile(uri), uri.path.split('/').pop()));
  } catch {
    return undefined;
  }
}

async function readOptionalJson(dir: vscode.Uri, name: string, names: readonly string[]): Promise<unknown> {
  if (!names.includes(name)) return undefined;
  try {
    return await readJson(vscode.Uri.joinPath(dir, name));
  } catch {
    return undefined;
  }
}

/** The folder's layout when it is an optimum-style encoder-decoder export (and no manifest says otherwise). */
export async function seq2seqLayoutOf(dir: vscode.Uri): Promise<{ layout: Seq2SeqFolderLayout; names: string[] } | undefined> {
  const names = await folderFileNames(dir);
  const layout = seq2seqFolderLayout(names);
  return layout ? { layout, names } : undefined;
}

/** The .onnx files the folder's model stands for (listed once, not as loose models). */
export function seq2seqFolderFiles(dir: vscode.Uri, layout: Seq2SeqFolderLayout): vscode.Uri[] {
  return layoutFiles(layout).map((f) => vscode.Uri.joinPath(dir, f));
}

export async function modelFromSeq2SeqFolder(dir: vscode.Uri, layout: Seq2SeqFolderLayout, names: readonly string[], source: ModelSource): Promise<RegisteredModel> {
  const label = dir.path.split('/').filter(Boolean).pop() ?? dir.fsPath;
  const at = (name: string): vscode.Uri => vscode.Uri.joinPath(dir, name);
  const decoder = runDecoderFile(layout);
  const graphs: Record<string, GraphIO> = {};
  for (const f of [layout.encoder, decoder]) {
    const io = await readGraphIO(at(f));
    if (io) graphs[f] = io;
  }
  const [config, generationConfig] = await Promise.all([
    readOptionalJson(dir, 'config.json', names), readOptionalJson(dir, 'generation_config.json', names),
  ]);
  const pairing = pairSeq2SeqFolder({ folderName: label, fileNames: names, graphs, config, generationConfig });
  const files = { encoder: at(layout.encoder), decoder: at(decoder) };
  let sizeBytes = 0;
  for (const u of Object.values(files)) sizeBytes += (await fileSize(u)) ?? 0;
  const rel = vscode.workspace.asRelativePath(dir, false);
  const model: RegisteredModel = {
    id: `${source}:${dir.fsPath}`, label, source, architecture: 'transformer-encoder-decoder', files, tokenizerFiles: {}, sizeBytes, description: rel,
  };
  if (!pairing.ok) return { ...model, problem: pairing.reason };
  return {
    ...model, manifest: pairing.manifest, tokenizerFiles: { 'tokenizer.json': at('tokenizer.json') },
    description: `${rel}: ${pairing.note}`,
  };
}
