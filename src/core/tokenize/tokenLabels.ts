/**
 * How every face of Sequence Lens names a token: by the source text it covers (from the tokenizer's
 * offsets), with whitespace drawn as marks, never by its vocabulary spelling ('Ġcafé' in GPT-2's byte
 * alphabet reads 'ĠcafÃ©'; SentencePiece writes '▁'). The vocabulary entry and id stay beside it for
 * hovers and exports.
 *
 * Byte-level tokenizers may cut one character across tokens (a CJK character, an emoji): the aligner
 * gives the whole character to the first of them and an empty span to the rest, so offsets alone cannot
 * tell which part each holds. The token's bytes can: a byte-level entry spells its bytes (GPT-2's
 * alphabet, or '<0xAB>' byte fallback). Those bytes are trusted only where they reproduce the UTF-8 of
 * the source exactly, over a run of tokens that starts and ends on character boundaries; anywhere else
 * (WordPiece, SentencePiece pieces, a normalizer that changed the text) the label is the span's text.
 */
import type { TokenSpan } from '../trace/traceTypes.js';
import { byteLevelTokenBytes } from './byteLevelAlphabet.js';
import { vocabLabel, visibleWhitespace } from './visibleText.js';

/** One character of which a token holds only some bytes: part `part` of `parts` tokens sharing it. */
export interface CharPart {
  char: string;
  part: number;
  parts: number;
}

/**
 * 'text': covers source text; 'special': added by the tokenizer ([CLS], <s>, an empty span) or a special
 * token written in the text; 'part': holds part of a character (see `parts`); 'unknown': the tokenizer's
 * unknown token, labelled with the text it stands for; 'position': a place along a tensor input's sequence
 * axis (a run on image, audio or feature arrays), labelled t0, t1, ...
 */
export type TokenKind = 'text' | 'special' | 'part' | 'unknown' | 'position';

export interface TokenLabel {
  /** What views show: '·café', '⏎', '⟨CLS⟩', '·中 (1/2)'. */
  label: string;
  kind: TokenKind;
  /** The source text the span covers, with whitespace marks ('' for an empty span). */
  source: string;
  /** Characters the token holds only part of, in text order (empty unless kind is 'part'). */
  parts: CharPart[];
  /** The vocabulary entry, as the tokenizer spells it (TokenSpan.text). */
  vocab: string;
  id: number;
  start: number;
  end: number;
}

/** What exports write per token: the label beside the vocabulary entry and id (which stay). */
export interface TokenRecord {
  id: number;
  text: string;
  label: string;
  kind: TokenKind;
  start: number;
  end: number;
  parts?: CharPart[];
}

/** Special-token spellings: <|endoftext|>, <s>, </s>, <unk>, <pad>, <mask>, [CLS], [SEP], [UNK], <bos>, <eos>. */
const SPECIAL_SHAPE = /^(<\|[^|<>]{1,40}\|>|<\/?(s|unk|pad|mask|bos|eos|cls|sep)>|\[[A-Z][A-Z_0-9]{1,15}\])$/i;
const UNKNOWN_SHAPE = /^(\[UNK\]|<unk>|<\|unk\|>)$/i;
const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;
/** Tokens one character can be shared by at most (4 UTF-8 bytes), times a margin for runs of them. */
const MAX_RUN = 64;
const encoder = new TextEncoder();

/** '[CLS]' → '⟨CLS⟩', '<|endoftext|>' → '⟨endoftext⟩', '</s>' → '⟨/s⟩'; a control character by its picture. */
export function specialLabel(vocab: string): string {
  const name = /^<\|(.+)\|>$/.exec(vocab)?.[1] ?? /^<(\/?[^<>]+)>$/.exec(vocab)?.[1] ?? /^\[([^[\]]+)\]$/.exec(vocab)?.[1];
  return `\u27e8${name ?? (vocab === '' ? '\u2205' : vocabLabel(vocab))}\u27e9`;
}

/** The bytes a vocabulary entry spells if it is a byte-level entry (checked against the source later). */
function entryBytes(vocab: string): Uint8Array {
  const fallback = BYTE_FALLBACK.exec(vocab);
  return fallback ? Uint8Array.of(parseInt(fallback[1]!, 16)) : byteLevelTokenBytes(vocab);
}

function startsWith(hay: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (at + needle.length > hay.length) return false;
  for (let k = 0; k < needle.length; k++) if (hay[at + k] !== needle[k]) return false;
  return true;
}

type Piece = { text: string } | { part: CharPart };

/**
 * Where tokens [i, j] share characters: for each token of a run whose bytes spell the source from
 * tokens[i].start to tokens[j].end, its pieces (whole text, parts of characters), when some character of
 * the run is cut. Undefined when the run from i is not byte-level or cuts nothing.
 */
function byteRun(input: string, tokens: readonly TokenSpan[], i: number): { last: number; pieces: Piece[][] } | undefined {
  const from = tokens[i]!.start;
  const bounds = [0];
  let acc = new Uint8Array(0);
  for (let j = i; j < tokens.length && j < i + MAX_RUN; j++) {
    const t = tokens[j]!;
    if (t.start !== (j === i ? from : tokens[j - 1]!.end) || t.end < t.start) return undefined;
    const bytes = entryBytes(t.text);
    if (bytes.length === 0) return undefined;
    const next = new Uint8Array(acc.length + bytes.length);
    next.set(acc);
    next.set(bytes, acc.length);
    acc = next;
    bounds.push(acc.length);
    const source = encoder.encode(input.slice(from, t.end));
    if (!startsWith(source, acc, 0)) return undefined;
    if (acc.length < source.length) continue;
    // The run ends on a character boundary. One token alone covering whole characters cuts nothing.
    if (j === i) return undefined;
    return { last: j, pieces: splitRun(input.slice(from, t.end), bounds) };
  }
  return undefined;
}

/** Each token's pieces, given the byte bounds of the tokens over `text` (whose UTF-8 they spell). */
function splitRun(text: string, bounds: readonly number[]): Piece[][] {
  const count = bounds.length - 1;
  const pieces: Piece[][] = Array.from({ length: count }, () => []);
  const add = (k: number, p: Piece): void => {
    const list = pieces[k]!;
    const prev = list[list.length - 1];
    if ('text' in p && prev && 'text' in prev) prev.text += p.text;
    else list.push(p);
  };
  let b = 0;
  for (const ch of text) {
    const cb = b, ce = b + encoder.encode(ch).length;
    b = ce;
    const holders: number[] = [];
    for (let k = 0; k < count; k++) if (bounds[k]! < ce && bounds[k + 1]! > cb) holders.push(k);
    if (holders.length === 1) add(holders[0]!, { text: ch });
    else holders.forEach((k, n) => add(k, { part: { char: ch, part: n + 1, parts: holders.length } }));
  }
  return pieces;
}

function pieceLabel(pieces: readonly Piece[]): string {
  return pieces.map((p) => ('text' in p ? visibleWhitespace(p.text) : `${visibleWhitespace(p.part.char)} (${p.part.part}/${p.part.parts})`)).join('');
}

/**
 * Labels for a token sequence over `input` (the text its offsets index). `specialIds`: ids the tokenizer
 * calls special, where known; without them, empty spans and the usual special spellings are special.
 */
export function tokenLabels(input: string, tokens: readonly TokenSpan[], specialIds?: ReadonlySet<number>): TokenLabel[] {
  const out: TokenLabel[] = [];
  for (let i = 0; i < tokens.length; ) {
    const run = tokens[i]!.position === undefined ? byteRun(input, tokens, i) : undefined;
    if (run) {
      for (let k = 0; k <= run.last - i; k++) {
        const t = tokens[i + k]!;
        const pieces = run.pieces[k]!;
        const parts = pieces.flatMap((p) => ('part' in p ? [p.part] : []));
        out.push({
          label: pieceLabel(pieces), kind: parts.length > 0 ? 'part' : 'text', source: visibleWhitespace(input.slice(t.start, t.end)),
          parts, vocab: t.text, id: t.id, start: t.start, end: t.end,
        });
      }
      i = run.last + 1;
      continue;
    }
    const t = tokens[i]!;
    out.push(t.position !== undefined ? positionLabel(t) : spanLabel(input, t, specialIds));
    i++;
  }
  return out;
}

/** A synthetic position of a run on tensors: it covers no text, its label is its own name (t0, t1...). */
function positionLabel(t: TokenSpan): TokenLabel {
  return { label: t.text, kind: 'position', source: '', parts: [], vocab: t.text, id: t.id, start: t.start, end: t.end };
}

/** A token labelled by its span alone. */
function spanLabel(input: string, t: TokenSpan, specialIds?: ReadonlySet<number>): TokenLabel {
  const text = input.slice(t.start, t.end);
  const base = { source: visibleWhitespace(text), parts: [], vocab: t.text, id: t.id, start: t.start, end: t.end };
  const named = specialIds?.has(t.id) === true || SPECIAL_SHAPE.test(t.text);
  // The unknown token stands for the text it covers: that text is its label.
  if (text !== '' && UNKNOWN_SHAPE.test(t.text) && text !== t.text) return { ...base, label: base.source, kind: 'unknown' };
  if (text === '' || (named && text === t.text)) return { ...base, label: specialLabel(t.text), kind: 'special' };
  return { ...base, label: base.source, kind: 'text' };
}

/**
 * Labels for generated tokens (an encoder-decoder's output), whose spans index the decoded output and
 * whose `text` is that decoded text: the output is rebuilt from them, then labelled as any input.
 */
export function generatedLabels(tokens: readonly TokenSpan[], specialIds?: ReadonlySet<number>): TokenLabel[] {
  let output = '';
  for (const t of tokens) if (t.end > t.start && t.start === output.length) output += t.text;
  return tokenLabels(output, tokens, specialIds);
}

export function tokenRecord(l: TokenLabel): TokenRecord {
  return { id: l.id, text: l.vocab, label: l.label, kind: l.kind, start: l.start, end: l.end, ...(l.parts.length ? { parts: l.parts } : {}) };
}

/** One line for a hover: the label, then what the label does not say (part, special) and the vocabulary entry and id. */
export function tokenHover(l: TokenLabel): string {
  if (l.kind === 'position') return `"${l.label}" · position ${l.id} along the input`;
  const what = l.kind === 'special' ? 'special token · ' : l.kind === 'unknown' ? 'unknown to the vocabulary · '
    : l.kind === 'part' ? `${l.parts.map((p) => `part ${p.part} of ${p.parts} of "${p.char}"`).join(', ')} · ` : '';
  return `"${l.label}" · ${what}id ${l.id} ${JSON.stringify(l.vocab)}`;
}
