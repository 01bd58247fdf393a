/** What the host knows about one model: where its files are, its tokenizer, and what it is. */
import type * as vscode from 'vscode';
import type { Architecture } from '../core/types.js';
import type { ModelManifest } from '../core/manifest.js';

export type ModelSource = 'zoo' | 'workspace' | 'settings';

export interface RegisteredModel {
  /** Stable id: 'zoo:<folder>', or '<source>:<absolute path of the manifest or .onnx>'. */
  id: string;
  label: string;
  source: ModelSource;
  architecture: Architecture;
  /** Manifest `files` keys ('model', or 'encoder' + 'decoder') to file URIs. */
  files: Record<string, vscode.Uri>;
  manifestUri?: vscode.Uri;
  manifest?: ModelManifest;
  /** Tokenizer files keyed by their manifest path (or by file name when found beside the model). */
  tokenizerFiles: Record<string, vscode.Uri>;
  /** Set when no tokenizer was found: what the user must add, in their words. */
  tokenizerProblem?: string;
  /** Set when the model's manifest or files are unusable (still listed so the user sees why). */
  problem?: string;
  sizeBytes: number;
  description?: string;
}

/** The .onnx file a model is inspected through: 'model', else the encoder, else the first. */
export function primaryFile(m: RegisteredModel): vscode.Uri | undefined {
  return m.files.model ?? m.files.encoder ?? Object.values(m.files)[0];
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

/** The one-line "what to add" message for a model without a tokenizer. */
export function missingTokenizerMessage(modelPath: string): string {
  const base = modelPath.replace(/^.*[\\/]/, '');
  const stem = base.replace(/\.onnx$/i, '');
  return `No tokenizer found for ${base}. Add a tokenizer.json beside it (or the older vocab.txt, or vocab.json with merges.txt), a sidecar ${stem}.seqlens.json manifest, ` +
    `or an entry { "path": "${modelPath}", "tokenizer": "<path to tokenizer.json>" } in the setting sequenceLens.models.`;
}
