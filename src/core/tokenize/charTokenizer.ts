/**
 * Character vocabulary of the bundled zoo: a JSON array of single characters, index = id.
 * A "character" is a Unicode code point (what Python iterates when the zoo is trained), so an emoji
 * that the vocabulary holds is one token spanning both UTF-16 units of its surrogate pair.
 */
import { SeqLensError, jsonErrorDetail } from '../errors.js';
import type { TokenizerSpec } from '../manifest.js';
import type { EncodeOptions, EncodeResult, TextTokenizer, TokenSpan } from './textTokenizer.js';

type CharSpec = Extract<TokenizerSpec, { type: 'char' }>;

/** Vocabulary entries that conventionally stand for "unknown character" when the manifest names none. */
const UNK_ENTRIES = ['<unk>', '\uFFFD', '<UNK>', '[UNK]', '\u0000'];

export class CharTokenizer implements TextTokenizer {
  readonly kind = 'char';
  readonly vocabSize: number;
  readonly eos?: number;
  private readonly ids = new Map<string, number>();
  private readonly unk: number | undefined;
  /** Ids decode() leaves out: they are markers, not text. */
  private readonly markers = new Set<number>();

  constructor(
    private readonly vocab: readonly string[],
    private readonly spec: Omit<CharSpec, 'type' | 'vocab'> = {},
  ) {
    this.vocabSize = vocab.length;
    vocab.forEach((ch, id) => {
      if (!this.ids.has(ch)) this.ids.set(ch, id);
    });
    const unk = spec.unk ?? UNK_ENTRIES.map((e) => this.ids.get(e)).find((id) => id !== undefined);
    // The spec's ids are fed to the model as token ids: each must be an entry of this vocabulary.
    for (const [name, id] of [['unk', unk], ['bos', spec.bos], ['eos', spec.eos], ['pad', spec.pad]] as const) {
      if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id < vocab.length)) {
        throw new SeqLensError('bad-manifest', `Character vocabulary: ${name} id ${String(id)} is outside the vocabulary (${vocab.length} entries)`);
      }
    }
    this.unk = unk;
    this.eos = spec.eos;
    for (const id of [spec.bos, spec.eos, spec.pad]) if (id !== undefined) this.markers.add(id);
  }

  /** Parses the zoo's vocab.json (bytes or text) into a tokenizer. */
  static fromJson(json: string | Uint8Array, spec: Omit<CharSpec, 'type' | 'vocab'> = {}): CharTokenizer {
    const text = typeof json === 'string' ? json : new TextDecoder().decode(json);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new SeqLensError('bad-manifest', `Character vocabulary is not valid JSON: ${jsonErrorDetail(e)}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((c): c is string => typeof c === 'string')) {
      throw new SeqLensError('bad-manifest', 'Character vocabulary must be a JSON array of strings');
    }
    return new CharTokenizer(parsed, spec);
  }

  encode(text: string, options?: EncodeOptions): TokenSpan[] {
    return this.encodeDetailed(text, options).tokens;
  }

  encodeDetailed(text: string, options: EncodeOptions = {}): EncodeResult {
    const addSpecial = options.addSpecialTokens ?? true;
    const tokens: TokenSpan[] = [];
    let unknown = 0;
    let dropped = 0;
    if (addSpecial && this.spec.bos !== undefined) tokens.push(this.special(this.spec.bos, 0));
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i) ?? 0;
      const width = cp > 0xffff ? 2 : 1;
      const ch = text.slice(i, i + width);
      // A vocabulary built over UTF-16 units (JavaScript strings) holds the two surrogate halves instead.
      const hi = width === 2 ? this.ids.get(text[i]!) : undefined;
      const lo = width === 2 ? this.ids.get(text[i + 1]!) : undefined;
      if (!this.ids.has(ch) && hi !== undefined && lo !== undefined) {
        tokens.push({ id: hi, text: text[i]!, start: i, end: i + 1 }, { id: lo, text: text[i + 1]!, start: i + 1, end: i + 2 });
        i += 2;
        continue;
      }
      let id = this.ids.get(ch);
      if (id === undefined) {
        unknown++;
        id = this.unk;
      }
      if (id === undefined) dropped++;
      else tokens.push({ id, text: ch, start: i, end: i + width });
      i += width;
    }
    if (addSpecial && this.spec.eos !== undefined) tokens.push(this.special(this.spec.eos, text.length));
    const warnings: string[] = [];
    if (unknown > 0) {
      warnings.push(
        dropped > 0
          ? `${unknown} character(s) are not in the vocabulary, which has no unknown token: they were left out`
          : `${unknown} character(s) are not in the vocabulary and were mapped to the unknown token`,
      );
    }
    return { tokens, unknown, unaligned: 0, warnings };
  }

  decode(ids: number[]): string {
    return ids.filter((id) => !this.markers.has(id)).map((id) => this.vocab[id] ?? '').join('');
  }

  idToToken(id: number): string {
    return this.vocab[id] ?? `<${id}>`;
  }

  private special(id: number, at: number): TokenSpan {
    return { id, text: this.idToToken(id), start: at, end: at };
  }
}
