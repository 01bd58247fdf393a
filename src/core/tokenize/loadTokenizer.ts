/** Builds the tokenizer a model manifest names, reading its files through the caller (fs, fetch, webview URI). */
import { SeqLensError } from '../errors.js';
import type { TokenizerSpec } from '../manifest.js';
import { CharTokenizer } from './charTokenizer.js';
import { HfTokenizer } from './hfTokenizer.js';
import type { TextTokenizer } from './textTokenizer.js';

export type ReadFile = (relPath: string) => Promise<Uint8Array | string>;

async function readRequired(readFile: ReadFile, path: string, what: string): Promise<Uint8Array | string> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new SeqLensError('missing-tokenizer', `Missing tokenizer: the ${what} "${path}" could not be read (${(e as Error).message ?? String(e)})`);
  }
}

/** The sibling tokenizer_config.json of a tokenizer.json path, if it can be read (it is optional). */
async function readOptionalConfig(readFile: ReadFile, tokenizerPath: string): Promise<Uint8Array | string | undefined> {
  const slash = tokenizerPath.lastIndexOf('/');
  const path = `${slash >= 0 ? tokenizerPath.slice(0, slash + 1) : ''}tokenizer_config.json`;
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

export async function loadTokenizer(spec: TokenizerSpec, readFile: ReadFile): Promise<TextTokenizer> {
  if (spec.type === 'char') {
    const { type: _type, vocab, ...ids } = spec;
    return CharTokenizer.fromJson(await readRequired(readFile, vocab, 'character vocabulary'), ids);
  }
  const json = await readRequired(readFile, spec.file, 'tokenizer file');
  const config = await readOptionalConfig(readFile, spec.file);
  try {
    return HfTokenizer.fromJson(json, config);
  } catch (e) {
    // A broken tokenizer_config.json must not hide a good tokenizer.json.
    if (config !== undefined) return HfTokenizer.fromJson(json);
    throw e;
  }
}
