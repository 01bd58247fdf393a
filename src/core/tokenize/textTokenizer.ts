/**
 * The one tokenizer interface every face of Sequence Lens uses: ids for the model plus, for every
 * token, the UTF-16 range of the source text it came from (so the editor can colour the text).
 */
import type { TokenSpan } from '../trace/traceTypes.js';

export type { TokenSpan };

export interface EncodeOptions {
  /** Add the tokenizer's own special tokens (BOS/EOS, [CLS]/[SEP]); default true. They get zero-width spans. */
  addSpecialTokens?: boolean;
}

export interface EncodeResult {
  tokens: TokenSpan[];
  /** Characters (char vocabularies) or tokens (HF) the vocabulary did not know. */
  unknown: number;
  /** Tokens whose source position could only be guessed; 0 when every span is exact. */
  unaligned: number;
  warnings: string[];
}

export interface TextTokenizer {
  /** 'char' or 'hf:<model type>' (e.g. 'hf:BPE', 'hf:WordPiece'). */
  readonly kind: string;
  readonly vocabSize: number;
  /** The id that ends a text, when the tokenizer's files say (tokenizer_config.json's eos_token, a char manifest's eos). */
  readonly eos?: number;
  encode(text: string, options?: EncodeOptions): TokenSpan[];
  encodeDetailed(text: string, options?: EncodeOptions): EncodeResult;
  decode(ids: number[]): string;
  idToToken(id: number): string;
}
