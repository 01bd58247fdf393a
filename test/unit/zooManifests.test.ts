// The bundled zoo (media/models/) as data: every folder has a manifest that parseManifest accepts,
// the files it names exist and stay under the 5 MB budget, and the vocabularies are arrays of single
// characters that cover the ids the manifest names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, isSeq2SeqIO, type TokenizerSpec } from '../../src/core/manifest.js';

const zoo = join(import.meta.dirname, '..', '..', 'media', 'models');
const folders = readdirSync(zoo).filter((d) => existsSync(join(zoo, d, 'manifest.json'))).sort();

function readVocab(dir: string, spec: TokenizerSpec): string[] {
  assert.equal(spec.type, 'char');
  if (spec.type !== 'char') return [];
  const vocab: unknown = JSON.parse(readFileSync(join(dir, spec.vocab), 'utf8'));
  assert.ok(Array.isArray(vocab));
  for (const c of vocab) assert.ok(typeof c === 'string' && [...c].length === 1, `vocab entry ${JSON.stringify(c)}`);
  assert.equal(new Set(vocab).size, vocab.length, 'vocab entries are unique');
  return vocab as string[];
}

test('the zoo holds the seven sample models', () => {
  assert.deepEqual(folders, ['dates-gru', 'dates-gru-attention', 'dates-transformer', 'gru', 'lstm', 'rnn', 'transformer']);
});

for (const folder of folders) {
  test(`zoo ${folder}: manifest, files and vocabularies`, () => {
    const dir = join(zoo, folder);
    const m = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    for (const file of Object.values(m.files)) {
      assert.ok(existsSync(join(dir, file)), `${file} exists`);
      assert.ok(statSync(join(dir, file)).size <= 5 * 1024 * 1024, `${file} is at most 5 MB`);
    }
    const vocab = readVocab(dir, m.tokenizer);
    if (m.tokenizer.type === 'char' && m.tokenizer.unk !== undefined) assert.equal(vocab[m.tokenizer.unk], '\ufffd');
    assert.ok(m.training && m.training.steps > 0 && (m.training.params ?? 0) > 0);
    assert.ok(m.metric);
    if (isSeq2SeqIO(m.io)) {
      assert.equal(m.task, 'seq2seq');
      const target = readVocab(dir, m.io.targetTokenizer);
      assert.ok(m.io.bos < target.length && m.io.eos < target.length && m.io.bos !== m.io.eos);
      const held: unknown = JSON.parse(readFileSync(join(dir, 'heldout.json'), 'utf8'));
      assert.ok(typeof held === 'object' && held !== null && 'pairs' in held && Array.isArray(held.pairs));
      assert.ok(held.pairs.length >= 20);
      assert.equal(m.metric?.name, 'exact-match');
    } else {
      assert.equal(m.task, 'char-lm');
      assert.equal(m.metric?.name, 'bpc');
      assert.ok((m.metric?.value ?? 99) < 2.5, `held-out bpc ${m.metric?.value} is under 2.5`);
    }
  });
}
