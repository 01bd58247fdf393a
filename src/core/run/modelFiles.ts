/**
 * Which .onnx files make a model and reading them: the one file of a model (handed in as bytes, or the
 * manifest's `files.model`), or a manifest's encoder and decoder step. Read before decoding so a cache
 * can key on the bytes (see sessionCache.ts).
 */
import type { ModelManifest, TokenizerSpec } from '../manifest.js';
import { isSeq2SeqIO } from '../manifest.js';
import { SeqLensError } from '../errors.js';
import { now } from './runSteps.js';

export interface ModelSource {
  /** Reads a file relative to the model's folder (manifest paths, tokenizer files, external data). */
  files: (relPath: string) => Promise<Uint8Array>;
  manifest?: ModelManifest;
  /** The .onnx bytes of a model without a manifest (or of a one-file manifest model, to skip reading it). */
  modelBytes?: Uint8Array;
  /** Else the path of a model without a manifest, read through `files` (so the read counts as the model's fetch). */
  modelFile?: string;
  /** Name shown in messages and `trace.model` (default: the manifest's name, else the file's path, else 'model.onnx'). */
  name?: string;
  /** Tokenizer of a model without a manifest; default: tokenizer.json beside the model. */
  tokenizer?: TokenizerSpec;
  /**
   * Where files lie on a local disk (the native worker, the CLI): the absolute path of the file at `relPath`,
   * or undefined when it is not there. onnxruntime-node then reads a model's external data itself.
   */
  localPath?: (relPath: string) => Promise<string | undefined>;
}

export type FileKey = 'model' | 'encoder' | 'decoder';

export interface ModelBytes {
  files: { key: FileKey; rel: string; bytes: Uint8Array }[];
  /** Milliseconds spent reading them. */
  fetchMs: number;
}

export async function readModelFiles(source: ModelSource): Promise<ModelBytes> {
  const t0 = now();
  const manifest = source.manifest;
  if (manifest && isSeq2SeqIO(manifest.io)) {
    const enc = manifest.files.encoder, dec = manifest.files.decoder;
    const [encoder, decoder] = await Promise.all([source.files(enc), source.files(dec)]);
    return { files: [{ key: 'encoder', rel: enc, bytes: encoder }, { key: 'decoder', rel: dec, bytes: decoder }], fetchMs: now() - t0 };
  }
  let bytes = source.modelBytes;
  const rel = manifest?.files.model ?? source.modelFile ?? '';
  if (!bytes) {
    if (!manifest && !source.modelFile) throw new SeqLensError('bad-manifest', 'A model needs its .onnx bytes, its path or a manifest.');
    if (manifest && !manifest.files.model) throw new SeqLensError('bad-manifest', 'Model manifest is invalid: "files.model" is required for one-file models.');
    bytes = await source.files(rel);
  }
  return { files: [{ key: 'model', rel, bytes }], fetchMs: now() - t0 };
}
