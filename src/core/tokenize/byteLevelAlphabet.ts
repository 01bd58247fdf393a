/**
 * GPT-2's byte <-> unicode table: byte-level BPE vocabularies spell every byte as one printable
 * character (space is 'Ġ', newline 'Ċ'). Mapping a token back to bytes is what lets us rebuild exact
 * source offsets, because @huggingface/tokenizers returns no offsets.
 */

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array<string>(256);
  const isPrintable = new Set(printable);
  for (const b of printable) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!isPrintable.has(b)) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

/** BYTE_TO_CHAR[b] is the character that spells byte b. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

const CHAR_TO_BYTE = new Map<string, number>(BYTE_TO_CHAR.map((ch, b) => [ch, b]));

/** The bytes a byte-level token spells; characters outside the alphabet fall back to their UTF-8. */
export function byteLevelTokenBytes(token: string): Uint8Array {
  const out: number[] = [];
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b !== undefined) out.push(b);
    else for (const u of new TextEncoder().encode(ch)) out.push(u);
  }
  return Uint8Array.from(out);
}
