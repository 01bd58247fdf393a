/**
 * What the fuzzer found, pinned as plain inputs (not seed + index, which change whenever a mutator does):
 * each once threw something other than a one-sentence SeqLensError, hung, or read past what a file holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeqLensError, isSeqLensError } from '../../src/core/errors.js';
import { decodeModel, onnx, type ModelProto, type TensorProto } from '../../src/core/onnx/decode.js';
import { tensorToFloat32 } from '../../src/core/onnx/tensorData.js';
import { inspectModel } from '../../src/core/inspect.js';
import { instrument } from '../../src/core/instrument.js';
import { parseManifest } from '../../src/core/manifest.js';
import { decodeNpy } from '../../src/core/trace/npy.js';
import { HfTokenizer } from '../../src/core/tokenize/hfTokenizer.js';
import { CharTokenizer } from '../../src/core/tokenize/charTokenizer.js';
import { backtracksCatastrophically } from '../../src/core/tokenize/regexSafety.js';
import { ROOT, tinyWordPiece } from './corpus.js';
import { npyBytes } from './mutators.js';
import { concat, lenField, nestedGraphs, scanFields } from './wire.js';

/** Throws a SeqLensError whose message is one line. */
function throwsOneLine(f: () => unknown, pattern?: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isSeqLensError(e), `expected a SeqLensError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n') && e.message.length > 0, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

const tiny = (): Record<string, unknown> => tinyWordPiece();

const zooModel = (name: string, file = 'model.onnx'): Uint8Array => new Uint8Array(readFileSync(join(ROOT, 'media', 'models', name, file)));

test('SeqLensError messages are one line, however much of a file they quote', () => {
  const e = new SeqLensError('bad-manifest', `not valid JSON: Unexpected token '\u0000', "\n\n${'x'.repeat(2000)}\u001b[31m"`);
  assert.ok(!e.message.includes('\n') && !e.message.includes('\u001b'));
  assert.ok(e.message.length <= 400);
});

test('.npy: negative, fractional and huge shapes, bad versions and header lengths are refused before allocating', () => {
  const data = new Uint8Array(12);
  for (const shape of ['(3, -3)', '(1.5,)', '(1e400,)', '(4294967296,)', '(65536, 65536)']) {
    throwsOneLine(() => decodeNpy(npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`, data)));
  }
  const v = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data);
  const badVersion = v.slice();
  badVersion[6] = 255;
  throwsOneLine(() => decodeNpy(badVersion), /version/);
  const longHeader = v.slice();
  new DataView(longHeader.buffer).setUint16(8, 0xffff, true);
  throwsOneLine(() => decodeNpy(longHeader), /header/);
});

test('tokenizer.json: an exponential regex is refused instead of freezing the tokenizer', () => {
  const json = { ...tiny(), pre_tokenizer: { type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated', invert: false } };
  const t0 = performance.now();
  throwsOneLine(() => new HfTokenizer(json).encode(`${'a'.repeat(40)}!`), /exponential/);
  assert.ok(performance.now() - t0 < 5000);
  for (const real of ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}", ' ?[^(\\s|[.,!?…。，、।۔،])]+']) {
    assert.equal(backtracksCatastrophically(real), false, real);
  }
  for (const bad of ['(a|a)*b', '(\\w+\\s?)*$', '(.*a){12}', '(a)\\1', '(?:a*)*']) assert.equal(backtracksCatastrophically(bad), true, bad);
});

test('tokenizer.json: token ids far beyond the vocabulary, ids that are not integers, an unknown unk_token, a library TypeError', () => {
  const base = tiny();
  const added = base.added_tokens as Record<string, unknown>[];
  const t0 = performance.now();
  // The library walked its vocabulary up to id 2^31 (minutes); refused at once.
  throwsOneLine(() => new HfTokenizer({ ...base, added_tokens: [{ ...added[0], id: 2 ** 31 }] }).encode('the cat'), /token id/);
  assert.ok(performance.now() - t0 < 5000);
  throwsOneLine(() => new HfTokenizer({ ...base, added_tokens: [{ ...added[0], id: 'abc' }] }).encode('the cat'));
  const model = base.model as Record<string, unknown>;
  throwsOneLine(() => new HfTokenizer({ ...base, model: { ...model, type: '[UNK]', unk_token: 'WordPiece' } }).encodeDetailed('héllo wörld'));
  const post = base.post_processor as Record<string, unknown>;
  throwsOneLine(() => new HfTokenizer({ ...base, post_processor: { ...post, single: undefined } }).encodeDetailed('the cat'));
  throwsOneLine(() => HfTokenizer.fromJson('{"model": \n\u0001'), /not valid JSON/);
});

test('tokenizer.json nested 100,000 levels deep is refused without overflowing the stack', () => {
  const text = `{"model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}, "normalizer": ${'['.repeat(100000)}${']'.repeat(100000)}}`;
  throwsOneLine(() => HfTokenizer.fromJson(text), /nests/);
});

test('character vocabularies: unk, bos, eos and pad must be ids of the vocabulary', () => {
  for (const spec of [{ bos: 0.5 }, { eos: -1 }, { pad: 1e9 }, { unk: 3 }]) throwsOneLine(() => new CharTokenizer(['a', 'b', 'c'], spec));
  assert.equal(new CharTokenizer(['a', 'b', 'c'], { bos: 0, eos: 2 }).encode('b').length, 3);
});

test('manifests: token ids, tensor names, tokensMode and a bounded maxTargetLength are checked', () => {
  const zoo = JSON.parse(readFileSync(join(ROOT, 'media', 'models', 'dates-gru', 'manifest.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  parseManifest(zoo);
  const io = zoo.io!;
  throwsOneLine(() => parseManifest({ ...zoo, io: { ...io, maxTargetLength: 1e9 } }), /maxTargetLength/);
  throwsOneLine(() => parseManifest({ ...zoo, io: { ...io, bos: { type: 'Sequence' } } }), /bos/);
  throwsOneLine(() => parseManifest({ ...zoo, io: { ...io, decoder: { ...(io.decoder as object), logits: 7 } } }), /logits/);
  throwsOneLine(() => parseManifest({ ...zoo, io: { ...io, decoder: { ...(io.decoder as object), tokensMode: 'all' } } }), /tokensMode/);
  throwsOneLine(() => parseManifest({ ...zoo, io: { ...io, targetTokenizer: { type: 'char', vocab: 'v.json', bos: '1' } } }), /bos/);
});

test('tensors: dims are a claim, checked against the values held before anything is allocated or read', () => {
  const tensor = (dims: number[]): TensorProto =>
    onnx.TensorProto.decode(onnx.TensorProto.encode({ name: 'w', dims, dataType: 1, rawData: new Uint8Array(16) }).finish()) as unknown as TensorProto;
  assert.equal(tensorToFloat32(tensor([2, 2])).length, 4);
  for (const dims of [[2, 3], [-1, 4], [2 ** 40], [2 ** 31, 2 ** 31]]) throwsOneLine(() => tensorToFloat32(tensor(dims)), /damaged/);
});

test('a recurrent node without its R input is left unprobed instead of wiring undefined into probe nodes', () => {
  const model = decodeModel(zooModel('gru'));
  const gru = model.graph!.node.find((n) => n.opType === 'GRU')!;
  gru.input.splice(2);
  const bytes = onnx.ModelProto.encode(model as unknown as onnx.IModelProto).finish();
  const r = inspectModel(bytes, 'gru.onnx');
  assert.ok(r.plan.unavailable.some((u) => /X, W or R/.test(u.reason)));
  instrument(bytes);
});

test('subgraphs nested deeper than protobuf readers go are named as such', () => {
  const bytes = zooModel('transformer');
  const top = scanFields(bytes, 0, bytes.length)!;
  const graph = top.find((f) => f.field === 7)!;
  const nested = concat([...top.filter((f) => f !== graph).map((f) => bytes.subarray(f.start, f.end)),
    lenField(7, nestedGraphs(bytes.subarray(graph.dataStart, graph.end), 40, 'If', false))]);
  throwsOneLine(() => decodeModel(nested, 'nested.onnx'), /nests subgraphs/);
  // 30 levels still decode, and every walker of the core gets through them.
  const ok = concat([...top.filter((f) => f !== graph).map((f) => bytes.subarray(f.start, f.end)),
    lenField(7, nestedGraphs(bytes.subarray(graph.dataStart, graph.end), 30, 'Loop', true))]);
  const model: ModelProto = decodeModel(ok, 'nested.onnx');
  assert.ok(model.graph);
  inspectModel(ok, 'nested.onnx');
  instrument(ok);
});
