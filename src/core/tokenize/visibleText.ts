/**
 * Text as a token label shows it: whitespace and invisible characters drawn as marks, so that a label
 * of spaces, a tab or a line break is never blank. Also the readable form of a bare vocabulary entry
 * (a prediction, a token with no source text), where GPT-2's byte alphabet ('Ġ', 'Ċ', 'Ã©'),
 * SentencePiece's '▁' and '<0x0A>' byte tokens are spelled back into the text they stand for.
 */
import { BYTE_TO_CHAR, byteLevelTokenBytes } from './byteLevelAlphabet.js';

/** The marks: '·' space, '→' tab, '⏎' line break (CRLF is one line break: one mark), '␍' a lone CR. */
export const MARKS = { space: '\u00b7', tab: '\u2192', newline: '\u23ce', cr: '\u240d', nbsp: '\u237d' } as const;

function markOf(s: string, i: number): string | undefined {
  const c = s.charCodeAt(i);
  if (c === 0x20) return MARKS.space;
  if (c === 0x0a) return MARKS.newline;
  // CR LF is one line break: the LF draws it, so the pair reads as one mark, not two.
  if (c === 0x0d) return s.charCodeAt(i + 1) === 0x0a ? '' : MARKS.cr;
  if (c === 0x09) return MARKS.tab;
  // Other C0 controls as their Unicode control pictures (U+2400 + code), DEL as '␡'.
  if (c < 0x20) return String.fromCharCode(0x2400 + c);
  if (c === 0x7f) return '\u2421';
  if (c === 0xa0) return MARKS.nbsp;
  // Other spaces (en/em/thin, ideographic) look like a space: drawn like one.
  if ((c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000) return MARKS.space;
  // Zero-width and format characters (ZWJ, BOM, ...) would vanish: named by code point.
  if (c === 0x200b || c === 0x200c || c === 0x200d || c === 0x2060 || c === 0xfeff) return `\u2039U+${c.toString(16).toUpperCase().padStart(4, '0')}\u203a`;
  return undefined;
}

/** `s` with whitespace, controls and zero-width characters drawn as visible marks (see MARKS). */
export function visibleWhitespace(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += markOf(s, i) ?? s[i];
  // A combining mark with nothing before it to sit on gets the dotted circle, as fonts expect.
  return /^\p{M}/u.test(out) ? `\u25cc${out}` : out;
}

const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;
const BYTE_ALPHABET = new Set(BYTE_TO_CHAR);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as '‹E4 B8›': what a vocabulary entry holding part of a character is shown as. */
export function hexBytes(bytes: Uint8Array): string {
  return `\u2039${Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')}\u203a`;
}

/**
 * A vocabulary entry as readable text, without the tokenizer at hand (predictions travel as bare
 * strings): a '<0xAB>' byte token and a GPT-2 byte-alphabet entry are read as the UTF-8 they spell,
 * when that is valid UTF-8 and says something other than the entry (so a WordPiece 'café' stays
 * 'café': its 'é' alone is no valid UTF-8); SentencePiece's '▁' is a space; then marks as above.
 */
export function vocabLabel(entry: string): string {
  const fallback = BYTE_FALLBACK.exec(entry);
  if (fallback) {
    const b = parseInt(fallback[1]!, 16);
    return b < 0x80 ? visibleWhitespace(String.fromCharCode(b)) : hexBytes(Uint8Array.of(b));
  }
  if (entry !== '' && [...entry].every((ch) => BYTE_ALPHABET.has(ch))) {
    const bytes = byteLevelTokenBytes(entry);
    try {
      const text = strictUtf8.decode(bytes);
      if (text !== entry) return visibleWhitespace(text);
    } catch {
      // Not whole characters. Bytes spelled with the alphabet's stand-ins (0x80 and up shown as
      // 'Ā'...'ł', or 'Â'-'ÿ' leads) are part of a character: shown as bytes, not as mojibake.
      if (bytes.some((b) => b >= 0x80) && [...entry].some((ch) => ch.charCodeAt(0) >= 0x100)) return hexBytes(bytes);
    }
  }
  return visibleWhitespace(entry.replace(/\u2581/g, ' '));
}
