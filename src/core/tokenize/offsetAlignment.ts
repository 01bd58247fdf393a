/**
 * Rebuilds source offsets for a token sequence that a tokenizer produced without them.
 * Every token is turned into the bytes it stands for ("surface"), and the surfaces are walked along
 * the UTF-8 bytes of the normalized text. The walk tolerates exactly what tokenizers do to text:
 * spaces they insert (GPT-2's prefix space, SentencePiece's leading '▁'), whitespace they drop
 * (BERT), and a prefix string the normalizer prepends. Byte positions then map to UTF-16 positions
 * in the normalized text, and through the NormalizationMap to the original text.
 */
import type { NormalizationMap } from './normalizationMap.js';

export type Piece =
  /** Ordinary model token: the bytes it spells. */
  | { kind: 'bytes'; bytes: Uint8Array }
  /** Added/special token that may be written literally in the text. */
  | { kind: 'added'; content: string; normalizedContent: string }
  /** The tokenizer's unknown token: covers whatever lies before the next token. */
  | { kind: 'unknown' }
  /** Inserted by the post-processor ([CLS], <s>): never in the text, zero width. */
  | { kind: 'inserted' };

export interface AlignedSpan {
  /** UTF-16 offsets in the original text. */
  start: number;
  end: number;
  /** False when the position had to be guessed (resynchronised after a mismatch). */
  exact: boolean;
}

export interface AlignOptions {
  /** Text the normalizer prepends to each section (SentencePiece's '▁'), already spelled with spaces. */
  prepend?: string;
}

const SPACE = 0x20;
const encoder = new TextEncoder();

function isWsByte(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number, limit: number): number {
  if (needle.length === 0) return from;
  const last = Math.min(hay.length - needle.length, limit);
  outer: for (let i = from; i <= last; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

function startsWithBytes(hay: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (needle.length === 0 || at + needle.length > hay.length) return false;
  for (let k = 0; k < needle.length; k++) if (hay[at + k] !== needle[k]) return false;
  return true;
}

function trimLeadingSpaces(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length && bytes[i] === SPACE) i++;
  return bytes.subarray(i);
}

/** How far to look ahead when a token does not match where it should (bytes). */
const RESYNC_WINDOW = 4096;

/** Byte position -> UTF-16 position in `s`; a byte inside a character maps to the character's end. */
function byteToUtf16(s: string, byteLength: number): Int32Array {
  const map = new Int32Array(byteLength + 1);
  let b = 0;
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i) ?? 0;
    const units = cp > 0xffff ? 2 : 1;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    map[b] = i;
    for (let k = 1; k < bytes; k++) map[b + k] = i + units;
    b += bytes;
    i += units;
  }
  map[byteLength] = s.length;
  return map;
}

export function alignPieces(text: string, norm: NormalizationMap, pieces: readonly Piece[], options: AlignOptions = {}): AlignedSpan[] {
  const nb = encoder.encode(norm.normalized);
  const prepend = encoder.encode(options.prepend ?? '');
  const out: { s: number; e: number; exact: boolean }[] = [];
  let p = 0;
  let prependLeft = prepend.length;

  const skipWs = (at: number): number => {
    while (at < nb.length && isWsByte(nb[at]!)) at++;
    return at;
  };
  const trimWsEnd = (from: number, to: number): number => {
    while (to > from && isWsByte(nb[to - 1]!)) to--;
    return to;
  };
  /** Where an added token's literal text starts at or after p (only whitespace in between), in normalized bytes. */
  const matchAdded = (piece: Extract<Piece, { kind: 'added' }>): [number, number] | null => {
    const q = skipWs(p);
    const nc = encoder.encode(piece.normalizedContent);
    if (startsWithBytes(nb, nc, q)) return [q, q + nc.length];
    const nc2 = encoder.encode(piece.content);
    if (startsWithBytes(nb, nc2, q)) return [q, q + nc2.length];
    // Added tokens that are not normalized are matched in the original text (e.g. '[CLS]' under lowercasing).
    const n16 = byteToUtf16Cache();
    const o = norm.normToOrigStart[n16[q]!]!;
    if (text.startsWith(piece.content, o)) {
      const endNorm = norm.origToNorm[o + piece.content.length]!;
      const endByte = encoder.encode(norm.normalized.slice(0, endNorm)).length;
      return [q, endByte];
    }
    return null;
  };
  let b2u: Int32Array | null = null;
  const byteToUtf16Cache = (): Int32Array => (b2u ??= byteToUtf16(norm.normalized, nb.length));

  /** Surface bytes of the next piece that can anchor an unknown token's end, or null. */
  const anchorAfter = (i: number): Uint8Array | null => {
    for (let j = i + 1; j < pieces.length; j++) {
      const pj = pieces[j]!;
      if (pj.kind === 'bytes') {
        const t = trimLeadingSpaces(pj.bytes);
        if (t.length > 0) return t;
      } else if (pj.kind === 'added') return encoder.encode(pj.normalizedContent);
    }
    return null;
  };

  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece.kind === 'inserted') {
      out.push({ s: p, e: p, exact: true });
      continue;
    }
    if (piece.kind === 'added') {
      const m = matchAdded(piece);
      if (m) {
        out.push({ s: m[0], e: m[1], exact: true });
        p = m[1];
        prependLeft = prepend.length; // the normalizer works section by section between added tokens
      } else out.push({ s: p, e: p, exact: true });
      continue;
    }
    if (piece.kind === 'unknown') {
      const s = skipWs(p);
      const anchor = anchorAfter(i);
      // An unknown token stands for at least one character.
      const minEnd = s < nb.length ? byteToUtf16Inverse(s) : s;
      let e: number;
      let exact = true;
      if (anchor === null) e = trimWsEnd(s, nb.length);
      else {
        const f = indexOfBytes(nb, anchor, minEnd, minEnd + RESYNC_WINDOW);
        if (f >= 0) e = Math.max(minEnd, trimWsEnd(s, f));
        else {
          e = minEnd;
          exact = false;
        }
      }
      out.push({ s, e, exact });
      p = e;
      continue;
    }
    const sb = piece.bytes;
    let start = -1;
    let q = p;
    let k = 0;
    let ok = true;
    while (k < sb.length) {
      const b = sb[k]!;
      if (start < 0 && prependLeft > 0 && b === prepend[prepend.length - prependLeft]) {
        prependLeft--;
        k++;
        continue;
      }
      if (q < nb.length && nb[q] === b) {
        if (start < 0) start = q;
        q++;
        k++;
        continue;
      }
      if (b === SPACE) {
        k++; // a space the tokenizer inserted
        continue;
      }
      if (q < nb.length && isWsByte(nb[q]!)) {
        q++; // whitespace the pre-tokenizer dropped
        continue;
      }
      ok = false;
      break;
    }
    prependLeft = 0;
    if (ok) {
      if (start < 0) start = q; // nothing but inserted spaces
      out.push({ s: start, e: q, exact: true });
      p = q;
      continue;
    }
    const target = trimLeadingSpaces(sb);
    const f = indexOfBytes(nb, target, p, p + RESYNC_WINDOW);
    if (f >= 0) {
      out.push({ s: f, e: f + target.length, exact: false });
      p = f + target.length;
    } else out.push({ s: p, e: p, exact: false });
  }

  /** The byte position after the character that starts at byte b. */
  function byteToUtf16Inverse(b: number): number {
    const lead = nb[b]!;
    return b + (lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1);
  }

  const toU16 = byteToUtf16Cache();
  // Tokens come in text order; where two tokens share one changed cluster, the first keeps it, so
  // spans never overlap (and byte-level spans still partition the text).
  let prevEnd = 0;
  return out.map(({ s, e, exact }) => {
    const start = Math.max(prevEnd, norm.normToOrigStart[toU16[s]!]!);
    const end = Math.max(start, norm.normToOrigEnd[toU16[e]!]!);
    if (end > start) prevEnd = end;
    return { start, end, exact };
  });
}
