/**
 * Finding a model on disk from what a user types: a path to an .onnx file, a folder with a manifest.json,
 * a manifest file, or the name of a bundled zoo model (`lstm` -> media/models/lstm). A bare .onnx picks
 * up `<file>.seqlens.json`, else a `manifest.json` beside it that lists it, and `tokenizer.json` beside it.
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifest, type ModelManifest } from '../core/manifest.js';
import { SeqLensError } from '../core/errors.js';
import { decodeModel } from '../core/onnx/decode.js';
import { graphIO, pairSeq2SeqFolder, runDecoderFile, seq2seqFolderLayout, type GraphIO } from '../core/seq2seqFolder.js';

export interface ModelOnDisk {
  /** Name for messages: the manifest's, else the file name. */
  name: string;
  /** Folder every relative path is resolved against. */
  dir: string;
  manifest?: ModelManifest;
  manifestPath?: string;
  /** Absolute paths of the .onnx files, keyed like manifest `files` ('model' for a bare .onnx). */
  onnxFiles: Record<string, string>;
  /** Reads a file relative to `dir` (absolute paths are read as they are). */
  files: (relPath: string) => Promise<Uint8Array>;
  /** Relative path of the one-file model, when there is one (key 'model'). */
  modelRel?: string;
  totalBytes: number;
}

/** media/models of this package: one level above src/ (tsx) and dist/ (bundle). */
export function zooDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', join('..', '..')]) {
    const d = resolve(here, up, 'media', 'models');
    if (existsSync(d)) return d;
  }
  return resolve(here, '..', 'media', 'models');
}

export function zooNames(): string[] {
  const d = zooDir();
  if (!existsSync(d)) return [];
  return readdirSync(d, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(d, e.name, 'manifest.json')))
    .map((e) => e.name)
    .sort();
}

function fileReader(dir: string): (rel: string) => Promise<Uint8Array> {
  return async (rel: string) => {
    const p = resolve(dir, rel);
    const buf = await readFile(p);
    // A Uint8Array view over the Buffer's own memory: no copy of the weights.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  };
}

async function readManifest(path: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new SeqLensError('bad-manifest', `Cannot read the model manifest ${path}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SeqLensError('bad-manifest', `Model manifest ${path} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseManifest(json);
  } catch (e) {
    if (e instanceof SeqLensError) throw new SeqLensError(e.code, `${e.message} (${path})`);
    throw e;
  }
}

async function fromManifest(manifestPath: string): Promise<ModelOnDisk> {
  const manifest = await readManifest(manifestPath);
  const dir = dirname(manifestPath);
  const onnxFiles: Record<string, string> = {};
  let totalBytes = 0;
  for (const [key, rel] of Object.entries(manifest.files)) {
    const p = resolve(dir, rel);
    try {
      totalBytes += (await stat(p)).size;
    } catch {
      throw new SeqLensError('bad-manifest', `Model manifest ${manifestPath} names "${rel}" (files.${key}), which does not exist.`);
    }
    onnxFiles[key] = p;
  }
  return {
    name: manifest.name, dir, manifest, manifestPath, onnxFiles, files: fileReader(dir),
    modelRel: manifest.files.model, totalBytes,
  };
}

/**
 * A folder as Hugging Face optimum exports an encoder-decoder (encoder_model.onnx, decoder_model.onnx, ...,
 * tokenizer.json, config.json): paired into a Seq2Seq manifest by core/seq2seqFolder.ts. Undefined when the
 * folder is not such an export; a SeqLensError with the one sentence when it is one that cannot be paired.
 */
async function fromSeq2SeqFolder(dir: string): Promise<ModelOnDisk | undefined> {
  const names = readdirSync(dir);
  const layout = seq2seqFolderLayout(names);
  if (!layout) return undefined;
  const decoder = runDecoderFile(layout);
  const graphs: Record<string, GraphIO> = {};
  for (const f of [layout.encoder, decoder]) graphs[f] = graphIO(decodeModel(new Uint8Array(await readFile(join(dir, f))), f));
  const json = async (name: string): Promise<unknown> => {
    if (!names.includes(name)) return undefined;
    try {
      return JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  };
  const pairing = pairSeq2SeqFolder({ folderName: basename(dir), fileNames: names, graphs, config: await json('config.json'), generationConfig: await json('generation_config.json') });
  if (!pairing.ok) throw new SeqLensError('bad-manifest', pairing.reason);
  const onnxFiles = { encoder: join(dir, layout.encoder), decoder: join(dir, decoder) };
  let totalBytes = 0;
  for (const p of Object.values(onnxFiles)) totalBytes += (await stat(p)).size;
  return { name: pairing.manifest.name, dir, manifest: pairing.manifest, onnxFiles, files: fileReader(dir), totalBytes };
}

/** A manifest.json beside an .onnx counts only if it lists that file. */
async function siblingManifest(onnxPath: string): Promise<string | undefined> {
  const own = `${onnxPath}.seqlens.json`;
  if (existsSync(own)) return own;
  const alt = onnxPath.replace(/\.onnx$/i, '.seqlens.json');
  if (alt !== onnxPath && existsSync(alt)) return alt;
  const shared = join(dirname(onnxPath), 'manifest.json');
  if (!existsSync(shared)) return undefined;
  try {
    const json: unknown = JSON.parse(await readFile(shared, 'utf8'));
    const files = typeof json === 'object' && json !== null ? (json as { files?: unknown }).files : undefined;
    if (typeof files === 'object' && files !== null &&
      Object.values(files).some((f) => typeof f === 'string' && resolve(dirname(onnxPath), f) === resolve(onnxPath))) {
      return shared;
    }
  } catch {
    // An unrelated or broken manifest.json beside a bare .onnx is not this model's.
  }
  return undefined;
}

/** Resolves MODEL as the CLI accepts it. Throws SeqLensError with one clear line. */
export async function loadModel(arg: string): Promise<ModelOnDisk> {
  let path = resolve(arg);
  if (!existsSync(path)) {
    const zoo = join(zooDir(), arg);
    if (!arg.includes('/') && !arg.includes(sep) && existsSync(join(zoo, 'manifest.json'))) path = zoo;
    else {
      const names = zooNames();
      throw new SeqLensError('not-onnx',
        `${arg}: no such file, folder or bundled model${names.length ? ` (bundled: ${names.join(', ')})` : ''}.`);
    }
  }
  const st = await stat(path);
  if (st.isDirectory()) {
    const m = join(path, 'manifest.json');
    if (existsSync(m)) return fromManifest(m);
    const pair = await fromSeq2SeqFolder(path);
    if (pair) return pair;
    const onnx = readdirSync(path).filter((f) => f.toLowerCase().endsWith('.onnx'));
    if (onnx.length === 1) return loadModel(join(path, onnx[0]));
    throw new SeqLensError('bad-manifest', `${arg} is a folder without manifest.json${onnx.length ? ` and with ${onnx.length} .onnx files; name one` : ' or .onnx file'}.`);
  }
  if (path.toLowerCase().endsWith('.json')) return fromManifest(path);
  const manifest = await siblingManifest(path);
  if (manifest) {
    const loaded = await fromManifest(manifest);
    // A manifest shared by several files: trace the one named on the command line when it is one-file.
    return loaded;
  }
  const dir = dirname(path);
  const rel = relative(dir, path);
  return {
    name: basename(path), dir, onnxFiles: { model: path }, files: fileReader(dir), modelRel: rel, totalBytes: st.size,
  };
}
