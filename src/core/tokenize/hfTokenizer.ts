/**
 * A Hugging Face tokenizer.json, run by @huggingface/tokenizers (pure JS, works in the webview),
 * with the source offsets that library does not return rebuilt by offsetAlignment.ts:
 *  - byte-level BPE (GPT-2, RoBERTa, Llama 3, Qwen): tokens spell bytes through the GPT-2 alphabet;
 *    spans partition the input exactly;
 *  - WordPiece (BERT): '##' stripped, aligned against the lowercased / accent-stripped text;
 *  - SentencePiece-style BPE/Unigram ('▁' for space, '<0xAB>' byte fallback, a prepended '▁').
 * Special tokens the post-processor adds ([CLS], <s>) get zero-width spans; special tokens written
 * in the text span their literal text.
 */
import { SequenceNormalizer, Tokenizer } from '@huggingface/tokenizers';
import { SeqLensError, jsonErrorDetail } from '../errors.js';
import { byteLevelTokenBytes } from './byteLevelAlphabet.js';
import { backtracksCatastrophically } from './regexSafety.js';
import { buildNormalizationMap } from './normalizationMap.js';
import { alignPieces, type Piece } from './offsetAlignment.js';
import type { EncodeOptions, EncodeResult, TextTokenizer, TokenSpan } from './textTokenizer.js';

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every component config in a (possibly nested 'Sequence') normalizer / pre-tokenizer / decoder tree. */
function components(v: unknown): Json[] {
  if (!isRecord(v)) return [];
  const children = [v.normalizers, v.pretokenizers, v.decoders, v.processors].find(Array.isArray) as unknown[] | undefined;
  return children ? children.flatMap(components) : [v];
}

/**
 * A call into @huggingface/tokenizers. The library does not validate tokenizer.json, so a bad entry
 * surfaces deep inside it as a TypeError, at load or only at encode time; it is reported as the file's fault.
 */
function library<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SeqLensError) throw e;
    throw new SeqLensError('unsupported', `tokenizer.json could not ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Normalizer steps that act on each character independently are kept for the offset map; steps that
 * act on the whole text (Prepend, Strip) are left to the aligner, which tolerates inserted and dropped
 * whitespace, so that the map stays exact per cluster.
 */
function perClusterNormalizer(config: unknown): ((s: string) => string) | null {
  const steps = components(config).filter((c) => c.type !== 'Prepend' && c.type !== 'Strip');
  if (steps.length === 0) return null;
  const seq = new SequenceNormalizer({ type: 'Sequence', normalizers: steps } as unknown as ConstructorParameters<typeof SequenceNormalizer>[0]);
  return (s) => library('normalize the text', () => seq.normalize(s));
}

interface AddedInfo {
  content: string;
  special: boolean;
  normalized: boolean;
}

const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;

/** Real tokenizer.json files nest a few levels; the library and `components` recurse through them. */
const MAX_CONFIG_DEPTH = 64;

/**
 * Refuses what would take the library down instead of failing: nesting deep enough to overflow the
 * stack (walked here without recursion) and regular expressions that backtrack exponentially.
 */
function checkConfig(json: Json): void {
  // The vocabulary and the merges are most of the file (151k entries each in Qwen's) and hold no config:
  // they are checked flat (checkIds, checkMerges), not walked entry by entry (a third of the load's time).
  const model = isRecord(json.model) ? json.model : undefined;
  const flat = new Set<unknown>();
  if (isRecord(model?.vocab)) flat.add(model.vocab);
  if (Array.isArray(model?.vocab) && model.vocab.every(isScoredPiece)) flat.add(model.vocab);
  if (Array.isArray(model?.merges)) {
    checkMerges(model.merges);
    flat.add(model.merges);
  }
  const stack: [unknown, number][] = [[json, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null || flat.has(v)) continue;
    if (depth > MAX_CONFIG_DEPTH) {
      throw new SeqLensError('unsupported', `tokenizer.json nests more than ${MAX_CONFIG_DEPTH} levels deep, which no tokenizer does`);
    }
    if (!Array.isArray(v) && typeof (v as Json).Regex === 'string' && backtracksCatastrophically((v as Json).Regex as string)) {
      throw new SeqLensError('unsupported',
        `tokenizer.json has a regular expression that can take exponential time (${JSON.stringify((v as Json).Regex).slice(0, 60)}), so it is not run`);
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  checkIds(json);
}

/**
 * Token ids are array indices inside the library, which walks its vocabulary up to the largest id: an
 * id far beyond the entries the file has (2^31) would make it walk that far. So ids must be integers
 * within a bound proportional to the entries the file really holds.
 */
function checkIds(json: Json): void {
  const vocab = isRecord(json.model) ? json.model.vocab : undefined;
  const entries = Array.isArray(vocab) ? vocab.length : isRecord(vocab) ? Object.keys(vocab).length : 0;
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  const limit = 2 * (entries + added.length) + 1024;
  const check = (token: unknown, id: unknown): void => {
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < limit) return;
    throw new SeqLensError('unsupported',
      `tokenizer.json gives the token ${JSON.stringify(String(token)).slice(0, 40)} the id ${String(id).slice(0, 20)}, which is not a token id below ${limit}`);
  };
  // for-in: Object.entries would build an array per entry (a quarter of a second on a 151k vocabulary).
  if (isRecord(vocab)) for (const token in vocab) check(token, vocab[token]);
  for (const a of added) if (isRecord(a)) check(a.content, a.id);
}

/** A Unigram vocabulary's entry: [piece, score]. */
function isScoredPiece(v: unknown): boolean {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number';
}

/** BPE merges are "a b" strings or [a, b] pairs of strings; anything else is refused before the library reads it. */
function checkMerges(merges: unknown[]): void {
  for (let i = 0; i < merges.length; i++) {
    const m: unknown = merges[i];
    if (typeof m === 'string' || (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string')) continue;
    throw new SeqLensError('unsupported',
      `tokenizer.json's merge ${i} is ${JSON.stringify(m)?.slice(0, 40) ?? String(m)}, not "a b" or a pair of strings`);
  }
}

export class HfTokenizer implements TextTokenizer {
  readonly kind: string;
  readonly vocabSize: number;
  readonly eos?: number;
  private readonly tok: Tokenizer;
  private readonly byteLevel: boolean;
  private readonly byteFallback: boolean;
  private readonly subwordPrefix: string | null;
  private readonly wordSuffix: string | null;
  /** Characters that stand for a space in tokens (SentencePiece's '▁'). */
  private readonly spaceMarks: Set<string>;
  private readonly prepend: string;
  private readonly unkToken: string | null;
  private readonly added = new Map<string, AddedInfo>();
  private readonly alignNormalize: ((s: string) => string) | null;

  constructor(json: unknown, config: unknown = {}) {
    if (!isRecord(json) || !isRecord(json.model)) {
      throw new SeqLensError('missing-tokenizer', 'tokenizer.json has no "model" section: not a Hugging Face tokenizer file');
    }
    checkConfig(json);
    const withDefaults: Json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json };
    try {
      this.tok = new Tokenizer(withDefaults, isRecord(config) ? config : {});
    } catch (e) {
      throw new SeqLensError('unsupported', `tokenizer.json could not be loaded: ${(e as Error).message}`);
    }
    const model = json.model;
    const modelType = typeof model.type === 'string' ? model.type : Array.isArray(model.vocab) ? 'Unigram' : 'BPE';
    this.kind = `hf:${modelType}`;
    const pre = components(withDefaults.pre_tokenizer);
    const dec = components(withDefaults.decoder);
    const post = components(withDefaults.post_processor);
    const norm = components(withDefaults.normalizer);
    this.byteLevel = [...pre, ...dec, ...post].some((c) => c.type === 'ByteLevel');
    this.byteFallback = model.byte_fallback === true;
    this.subwordPrefix =
      typeof model.continuing_subword_prefix === 'string' && model.continuing_subword_prefix !== ''
        ? model.continuing_subword_prefix
        : modelType === 'WordPiece'
          ? '##'
          : null;
    this.wordSuffix = typeof model.end_of_word_suffix === 'string' && model.end_of_word_suffix !== '' ? model.end_of_word_suffix : null;
    this.spaceMarks = new Set<string>();
    for (const c of [...pre, ...dec]) {
      if (c.type === 'Metaspace') this.spaceMarks.add(typeof c.replacement === 'string' ? c.replacement : '\u2581');
    }
    for (const c of [...norm, ...dec]) {
      const pattern = isRecord(c.pattern) ? c.pattern.String : undefined;
      if (c.type === 'Replace' && pattern === ' ' && typeof c.content === 'string' && [...c.content].length === 1) this.spaceMarks.add(c.content);
      if (c.type === 'Replace' && c.content === ' ' && typeof pattern === 'string' && [...pattern].length === 1) this.spaceMarks.add(pattern);
    }
    const prepend = norm.find((c) => c.type === 'Prepend');
    this.prepend = prepend && typeof prepend.prepend === 'string' ? this.spell(prepend.prepend) : '';
    this.unkToken = typeof model.unk_token === 'string' ? model.unk_token : null;
    if (Array.isArray(json.added_tokens)) {
      for (const a of json.added_tokens) {
        if (isRecord(a) && typeof a.content === 'string') {
          this.added.set(a.content, { content: a.content, special: a.special === true, normalized: a.normalized === true });
        }
      }
    }
    const clusterNormalize = library('be loaded', () => perClusterNormalizer(withDefaults.normalizer));
    // Some tokenizer_config.json files ask for lowercasing and accent removal before the normalizer (XLM).
    const lowerFirst = isRecord(config) && config.do_lowercase_and_remove_accent === true;
    const lower = (s: string): string => s.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    this.alignNormalize = lowerFirst ? (s) => (clusterNormalize ? clusterNormalize(lower(s)) : lower(s)) : clusterNormalize;
    // The library's id → token list, added tokens included (what get_vocab(true) walks, without building its Map).
    this.vocabSize = this.tok.model?.vocab.length ?? 0;
    // The end token: tokenizer_config.json names it, else a special added token spelled like one.
    const named = isRecord(config) ? config.eos_token : undefined;
    const eosToken = typeof named === 'string' ? named : isRecord(named) && typeof named.content === 'string' ? named.content
      : ['<|endoftext|>', '</s>', '<eos>'].find((t) => this.added.get(t)?.special);
    const eosId = eosToken === undefined ? undefined : library('look up a token', () => this.tok.token_to_id(eosToken));
    if (eosId !== undefined && eosId !== null) this.eos = eosId;
  }

  /** Parses tokenizer.json (and optionally tokenizer_config.json) from bytes or text. */
  static fromJson(json: string | Uint8Array, config?: string | Uint8Array): HfTokenizer {
    const parse = (v: string | Uint8Array, what: string): unknown => {
      try {
        return JSON.parse(typeof v === 'string' ? v : new TextDecoder().decode(v));
      } catch (e) {
        throw new SeqLensError('missing-tokenizer', `${what} is not valid JSON: ${jsonErrorDetail(e)}`);
      }
    };
    return new HfTokenizer(parse(json, 'tokenizer.json'), config === undefined ? {} : parse(config, 'tokenizer_config.json'));
  }

  encode(text: string, options?: EncodeOptions): TokenSpan[] {
    return this.encodeDetailed(text, options).tokens;
  }

  encodeDetailed(text: string, options: EncodeOptions = {}): EncodeResult {
    const addSpecial = options.addSpecialTokens ?? true;
    // One encode without special tokens, then the post-processor by hand: the tokens it adds are the
    // ones around the plain run, and they are not in the text. (Encoding twice doubled the cost.)
    const plain = library('tokenize the text', () => this.tok.encode(text, { add_special_tokens: false }));
    let tokens = plain.tokens;
    let ids = plain.ids;
    let first = 0;
    if (addSpecial && this.tok.post_processor) {
      const post = this.tok.post_processor;
      const processed = library('add its special tokens', () => post.post_process(plain.tokens, null, true).tokens);
      const at = findRun(processed, plain.tokens);
      if (at >= 0) {
        first = at;
        tokens = processed;
        ids = processed.map((t, i) => (i >= at && i < at + plain.tokens.length ? plain.ids[i - at]! : this.tokenId(t)));
      }
    }
    // The library returns no id for a token it cannot map (an unk_token missing from the vocabulary).
    const noId = ids.findIndex((id) => !(Number.isSafeInteger(id) && id >= 0));
    if (noId >= 0) {
      throw new SeqLensError('unsupported', `tokenizer.json has no token id for ${JSON.stringify(String(tokens[noId])).slice(0, 40)} (is its unk_token in the vocabulary?)`);
    }
    const plainLength = plain.tokens.length;
    const pieces: Piece[] = tokens.map((t, i) => {
      if (i < first || i >= first + plainLength) return { kind: 'inserted' };
      return this.piece(t);
    });
    const norm = buildNormalizationMap(text, this.alignNormalize && ((s: string) => this.spellText(this.alignNormalize!(s))));
    const spans = alignPieces(text, norm, pieces, { prepend: this.prepend });
    let unknown = 0;
    let unaligned = 0;
    const out = tokens.map((t, i): TokenSpan => {
      const span = spans[i]!;
      if (pieces[i]!.kind === 'unknown') unknown++;
      if (!span.exact) unaligned++;
      return { id: ids[i]!, text: t, start: span.start, end: span.end };
    });
    const warnings: string[] = [];
    if (unknown > 0) warnings.push(`${unknown} token(s) are unknown to the tokenizer (${this.unkToken ?? 'unk'})`);
    if (unaligned > 0) warnings.push(`${unaligned} token(s) could not be placed exactly in the source text; their positions are approximate`);
    return { tokens: out, unknown, unaligned, warnings };
  }

  decode(ids: number[]): string {
    if (ids.length === 0) return '';
    return library('decode token ids', () => this.tok.decode(ids, { skip_special_tokens: false }));
  }

  idToToken(id: number): string {
    return library('name a token id', () => this.tok.id_to_token(id)) ?? `<${id}>`;
  }

  private tokenId(token: string): number {
    const id = library('look up a token', () => this.tok.token_to_id(token));
    if (id !== undefined) return id;
    const unkToken = this.unkToken;
    const unk = unkToken === null ? undefined : library('look up a token', () => this.tok.token_to_id(unkToken));
    if (unk !== undefined) return unk;
    throw new SeqLensError('unsupported', `Tokenizer produced "${token}", which is not in its vocabulary`);
  }

  private piece(token: string): Piece {
    // The unknown token is usually also an added token; it stands for text, so check it first.
    if (this.unkToken !== null && token === this.unkToken) return { kind: 'unknown' };
    const added = this.added.get(token);
    if (added) {
      return { kind: 'added', content: added.content, normalizedContent: this.alignNormalize ? this.spellText(this.alignNormalize(added.content)) : added.content };
    }
    if (this.byteLevel) return { kind: 'bytes', bytes: byteLevelTokenBytes(token) };
    const fallback = this.byteFallback ? BYTE_FALLBACK.exec(token) : null;
    if (fallback) return { kind: 'bytes', bytes: Uint8Array.of(parseInt(fallback[1]!, 16)) };
    let s = token;
    if (this.subwordPrefix !== null && s.length > this.subwordPrefix.length && s.startsWith(this.subwordPrefix)) s = s.slice(this.subwordPrefix.length);
    if (this.wordSuffix !== null && s.length > this.wordSuffix.length && s.endsWith(this.wordSuffix)) s = s.slice(0, -this.wordSuffix.length) + ' ';
    return { kind: 'bytes', bytes: new TextEncoder().encode(this.spell(s)) };
  }

  /** Token text with its space marks spelled as spaces. */
  private spell(s: string): string {
    if (this.spaceMarks.size === 0) return s;
    let out = '';
    for (const ch of s) out += this.spaceMarks.has(ch) ? ' ' : ch;
    return out;
  }

  /** The normalized text spelled the same way, so both sides compare equal. */
  private spellText(s: string): string {
    return this.spell(s);
  }
}

/** Index where `run` occurs in `list` as a contiguous run, or -1. */
function findRun(list: readonly string[], run: readonly string[]): number {
  outer: for (let k = 0; k + run.length <= list.length; k++) {
    for (let i = 0; i < run.length; i++) if (list[k + i] !== run[i]) continue outer;
    return k;
  }
  return -1;
}
