import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSeqLensError } from '../../src/core/errors.js';
import { parseManifest } from '../../src/core/manifest.js';
import { CharTokenizer } from '../../src/core/tokenize/charTokenizer.js';
import { loadTokenizer } from '../../src/core/tokenize/loadTokenizer.js';
import { realSourceText } from './tokenizeFixtures.js';

const ZOO = join(import.meta.dirname, '..', '..', 'media', 'models');

/** Zoo model folders that hold all the given files. */
function zooModels(...files: string[]): string[] {
  if (!existsSync(ZOO)) return [];
  return readdirSync(ZOO).filter((d) => files.every((f) => existsSync(join(ZOO, d, f))));
}

/** A character vocabulary built the way the zoo builds one: every distinct code point of a real corpus. */
function corpusVocab(text: string): string[] {
  return ['<unk>', ...[...new Set(Array.from(text))].sort()];
}

test('char tokenizer: every character of a real .d.ts file is one token whose span slices back to it', () => {
  const text = realSourceText();
  const vocab = corpusVocab(text);
  const tok = new CharTokenizer(vocab);
  const r = tok.encodeDetailed(text);
  assert.equal(r.unknown, 0);
  assert.equal(r.tokens.length, Array.from(text).length);
  assert.equal(r.tokens.map((t) => text.slice(t.start, t.end)).join(''), text);
  for (const t of r.tokens) {
    assert.equal(vocab[t.id], text.slice(t.start, t.end));
    assert.equal(t.text, vocab[t.id]);
  }
  assert.equal(tok.decode(r.tokens.map((t) => t.id)), text);
});

test('char tokenizer: unknown characters map to the unk id and are counted', () => {
  const vocab = ['\u0000', '\uFFFD', 'a', 'b', ' '];
  const withSpecUnk = new CharTokenizer(vocab, { unk: 1, pad: 0 });
  const r = withSpecUnk.encodeDetailed('ab xa');
  assert.equal(r.unknown, 1);
  assert.deepEqual(r.tokens.map((t) => t.id), [2, 3, 4, 1, 2]);
  assert.deepEqual(r.tokens[3], { id: 1, text: 'x', start: 3, end: 4 });
  assert.match(r.warnings[0] ?? '', /1 character/);
  // Without a manifest unk, a '<unk>' entry is used.
  const named = new CharTokenizer(['a', '<unk>']);
  assert.deepEqual(named.encode('az').map((t) => t.id), [0, 1]);
  // With no unknown token at all, unknown characters are left out, and said so.
  const none = new CharTokenizer(['a']);
  const rn = none.encodeDetailed('aza');
  assert.deepEqual(rn.tokens.map((t) => [t.start, t.end]), [[0, 1], [2, 3]]);
  assert.equal(rn.unknown, 1);
  assert.match(rn.warnings[0] ?? '', /left out/);
});

test('char tokenizer: a surrogate pair is one token (two UTF-16 units) whether or not the vocabulary has it', () => {
  const text = 'a😀b\u00e9e\u0301';
  const has = new CharTokenizer(['<unk>', 'a', 'b', '😀', '\u00e9', 'e', '\u0301']);
  const r = has.encode(text);
  assert.deepEqual(r.map((t) => [t.id, t.start, t.end]), [[1, 0, 1], [3, 1, 3], [2, 3, 4], [4, 4, 5], [5, 5, 6], [6, 6, 7]]);
  const halves = new CharTokenizer(['<unk>', 'a', '\ud83d', '\ude00']);
  assert.deepEqual(halves.encode('a😀').map((t) => [t.id, t.start, t.end]), [[1, 0, 1], [2, 1, 2], [3, 2, 3]]);
  const lacks = new CharTokenizer(['<unk>', 'a', 'b']);
  const r2 = lacks.encodeDetailed('a😀b');
  assert.deepEqual(r2.tokens.map((t) => [t.id, t.start, t.end]), [[1, 0, 1], [0, 1, 3], [2, 3, 4]]);
  assert.equal(r2.unknown, 1);
});

test('char tokenizer: bos/eos get zero-width spans; markers are left out of decode; empty text', () => {
  const tok = new CharTokenizer(['\u0000', '\u0002', '\u0003', 'x'], { pad: 0, bos: 1, eos: 2 });
  const r = tok.encode('xx');
  assert.deepEqual(r.map((t) => [t.id, t.start, t.end]), [[1, 0, 0], [3, 0, 1], [3, 1, 2], [2, 2, 2]]);
  assert.deepEqual(tok.encode('xx', { addSpecialTokens: false }).map((t) => t.id), [3, 3]);
  assert.equal(tok.decode([1, 3, 3, 2, 0]), 'xx');
  assert.deepEqual(tok.encode('', { addSpecialTokens: false }), []);
  assert.deepEqual(tok.encode('').map((t) => t.id), [1, 2]);
});

test('loadTokenizer: a missing vocabulary file is a clear missing-tokenizer error', async () => {
  const readFile = (p: string): Promise<string> => Promise.reject(new Error(`ENOENT: ${p}`));
  await assert.rejects(loadTokenizer({ type: 'char', vocab: 'vocab.json' }, readFile), (e: unknown) => {
    assert.ok(isSeqLensError(e));
    assert.equal(e.code, 'missing-tokenizer');
    assert.match(e.message, /vocab\.json/);
    return true;
  });
  await assert.rejects(loadTokenizer({ type: 'hf', file: 'tok/tokenizer.json' }, readFile), (e: unknown) => isSeqLensError(e) && e.code === 'missing-tokenizer');
  await assert.rejects(
    loadTokenizer({ type: 'char', vocab: 'v.json' }, () => Promise.resolve('{"not":"an array"}')),
    (e: unknown) => isSeqLensError(e) && e.code === 'bad-manifest',
  );
});

/** Zoo models ship reference.json: ids the training script (Python) produced for a text. */
const referenced = zooModels('manifest.json', 'reference.json');
if (referenced.length === 0) test('char tokenizer: zoo references', { skip: 'media/models has no reference.json yet' }, () => {});
for (const name of referenced) {
  const dir = join(ZOO, name);
  test(`char tokenizer: ids equal the zoo's Python reference for ${name}`, async () => {
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const tok = await loadTokenizer(manifest.tokenizer, (p) => Promise.resolve(readFileSync(join(dir, p))));
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { text: string; ids: number[] };
    const spans = tok.encode(ref.text, { addSpecialTokens: false });
    assert.deepEqual(spans.map((t) => t.id), ref.ids);
    assert.equal(spans.map((t) => ref.text.slice(t.start, t.end)).join(''), ref.text);
  });
}

for (const name of zooModels('manifest.json', 'heldout.json')) {
  const dir = join(ZOO, name);
  test(`char tokenizer: ${name} source and target vocabularies read held-out dates without unknowns`, async () => {
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const read = (p: string): Promise<Uint8Array> => Promise.resolve(readFileSync(join(dir, p)));
    const src = await loadTokenizer(manifest.tokenizer, read);
    assert.ok('targetTokenizer' in manifest.io);
    const tgt = await loadTokenizer(manifest.io.targetTokenizer, read);
    const heldout = JSON.parse(readFileSync(join(dir, 'heldout.json'), 'utf8')) as { pairs?: { source?: unknown; target?: unknown }[] };
    let checked = 0;
    for (const { source, target } of (heldout.pairs ?? []).slice(0, 200)) {
      if (typeof source !== 'string' || typeof target !== 'string') continue;
      const s = src.encodeDetailed(source, { addSpecialTokens: false });
      assert.equal(s.unknown, 0, source);
      assert.equal(s.tokens.map((t) => source.slice(t.start, t.end)).join(''), source);
      const t = tgt.encodeDetailed(target, { addSpecialTokens: false });
      assert.equal(t.unknown, 0, target);
      assert.equal(tgt.decode(t.tokens.map((x) => x.id)), target);
      checked++;
    }
    assert.ok(checked > 0, 'heldout.json held no (source, target) pairs in a known layout');
  });
}
