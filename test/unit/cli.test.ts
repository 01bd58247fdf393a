/**
 * The `seqlens` CLI as a user runs it (a child process on the source through tsx): inspect's JSON, trace's
 * dump (trace.json + .npy shapes agree with the probe plan; native and wasm dumps agree within 1e-4), and one
 * clear stderr line with a non-zero exit for every kind of bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onnx } from '../../src/core/onnx/decode.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ZOO = join(ROOT, 'media', 'models');
const zoo = existsSync(ZOO) ? readdirSync(ZOO).filter((n) => existsSync(join(ZOO, n, 'manifest.json'))).sort() : [];
const manifestOf = (name: string): { architecture: string; files: Record<string, string>; maxLength: number } =>
  JSON.parse(readFileSync(join(ZOO, name, 'manifest.json'), 'utf8'));
const lm = zoo.find((n) => manifestOf(n).architecture === 'lstm') ?? zoo.find((n) => manifestOf(n).files.model);
const attnLm = zoo.find((n) => manifestOf(n).architecture === 'transformer-decoder');
const s2sAttn = zoo.find((n) => manifestOf(n).architecture === 'seq2seq-attention');

const tmp = mkdtempSync(join(tmpdir(), 'seqlens-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface Result { code: number | null; stdout: string; stderr: string }

function seqlens(...args: string[]): Result {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Reads a .npy header (written by the code under test) with an independent parser: dtype and shape. */
function readNpy(path: string): { descr: string; shape: number[]; data: Float32Array } {
  const buf = readFileSync(path);
  assert.equal(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  assert.equal((start + headerLen) % 64, 0, 'header padded to 64 bytes');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? '';
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  assert.match(header, /'fortran_order':\s*False/);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = buf.subarray(start + headerLen);
  const data = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return { descr, shape, data };
}

/** One line, naming what is wrong, and a non-zero exit. */
function assertOneLineError(r: Result, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `exit code (stdout: ${r.stdout.slice(0, 200)})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], /^seqlens: /);
  assert.match(lines[0], pattern);
}

test('--help', () => {
  const r = seqlens('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /seqlens inspect MODEL/);
  assert.match(r.stdout, /seqlens trace MODEL/);
  assert.match(r.stdout, /seqlens bench-story/);
});

const story = ['rnn', 'lstm', 'gru', 'transformer'].every((n) => zoo.includes(n));
test('bench-story --max 32 --repeats 1 --out: a CSV of the four models and a short table', { skip: !story }, () => {
  const out = join(tmp, 'story.csv');
  const r = seqlens('bench-story', '--max', '32', '--repeats', '1', '--threads', '1', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const [head, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
  assert.deepEqual(head.split(',').slice(0, 6), ['model', 'kind', 'tokens', 'ms_total', 'ms_per_token', 'attention_bytes']);
  assert.deepEqual(rows.map((l) => l.split(',').slice(0, 3).join(' ')), [
    'rnn sequential 16', 'lstm sequential 16', 'gru sequential 16', 'transformer parallel 16',
    'rnn sequential 32', 'lstm sequential 32', 'gru sequential 32', 'transformer parallel 32',
  ]);
  assert.match(r.stdout, /native backend, 1 intra-op thread .* cores/);
  assert.match(r.stdout, /transformer ms\/tok/);
  assert.match(r.stdout, new RegExp(`wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(8 rows\\)`));
  assert.equal(r.stderr, '', 'no progress on a stderr that is not a terminal');
});

test('bench-story: bad options are one clear stderr line and exit 2', () => {
  assertOneLineError(seqlens('bench-story', '--repeats', '0'), /--repeats must be a positive integer/);
  assertOneLineError(seqlens('bench-story', '--max', 'lots'), /--max must be a positive integer/);
  assertOneLineError(seqlens('bench-story', '--backend', 'cuda'), /--backend must be native or wasm/);
  assertOneLineError(seqlens('bench-story', '--backend', 'wasm', '--threads', '2'), /--threads applies to the native backend/);
  assertOneLineError(seqlens('bench-story', '--clock', 'sundial'), /--clock must be wall or cpu/);
  assertOneLineError(seqlens('bench-story', '--clock', 'cpu'), /--clock cpu on the native backend needs --threads 1/);
  const stray = seqlens('bench-story', 'lstm');
  assertOneLineError(stray, /takes no MODEL/);
  assert.equal(stray.code, 2);
});

test('inspect --json of every zoo model: architecture and a probe list', () => {
  for (const name of zoo) {
    const r = seqlens('inspect', name, '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { architecture: string; probes: Record<string, unknown>[] };
    assert.equal(j.architecture, manifestOf(name).architecture);
    assert.ok(j.probes.length > 0, name);
    for (const p of j.probes) {
      assert.ok(['attention', 'hidden', 'gate', 'cell', 'logits'].includes(String(p.kind)));
      assert.equal(typeof p.layer, 'number');
      assert.equal(typeof p.name, 'string');
      if (p.kind === 'attention') {
        assert.ok(['encoder', 'decoder', 'cross'].includes(String(p.stream)), `${name} ${String(p.name)}`);
        assert.equal(typeof p.heads, 'number');
      }
    }
  }
});

test('inspect prints a readable summary', { skip: !lm }, () => {
  const r = seqlens('inspect', lm ?? '');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /probes \(\d+\):/);
  assert.match(r.stdout, /parameters/);
});

interface TraceJson {
  model: string; backend: string; architecture: string;
  tokens: { id: number; text: string; start: number; end: number }[];
  generated?: { id: number; text: string }[];
  probes: { name: string; kind: string; layer: number; stream?: string; axes: string[]; shape: number[]; file: string }[];
  timings: Record<string, number>; warnings: string[];
}

function dump(model: string, text: string, backend: string): { dir: string; json: TraceJson; stdout: string } {
  const dir = join(tmp, `${model}-${backend}`);
  const r = seqlens('trace', model, '--text', text, '--backend', backend, '--dump', dir);
  assert.equal(r.code, 0, r.stderr);
  return { dir, json: JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8')) as TraceJson, stdout: r.stdout };
}

for (const [model, text] of [[attnLm, 'interface Foo {\n  bar(): number;\n}'], [lm, 'const x = [1, 2];'], [s2sAttn, '3rd of March 1998']] as const) {
  test(`trace --dump ${model}: trace.json and .npy shapes agree with the plan; native and wasm agree`, { skip: !model }, () => {
    const name = model ?? '';
    const plan = JSON.parse(seqlens('inspect', name, '--json').stdout) as { probes: { name: string; kind: string; axes: string[] }[] };
    const native = dump(name, text, 'native');
    const j = native.json;
    assert.equal(j.backend, 'native');
    // Tokens carry source offsets into the text.
    for (const t of j.tokens) if (t.end > t.start) assert.equal(text.slice(t.start, t.end), t.text);
    assert.ok(j.tokens.length > 0);
    // Every planned probe was dumped, with its axes (plus 'step' for decoder probes) matching the .npy rank.
    for (const p of plan.probes) assert.ok(j.probes.some((d) => d.name === p.name && d.kind === p.kind), `${p.name} dumped`);
    for (const p of j.probes) {
      const npy = readNpy(join(native.dir, p.file));
      assert.equal(npy.descr, '<f4');
      assert.deepEqual(npy.shape, p.shape);
      assert.equal(npy.data.length, p.shape.reduce((a, b) => a * b, 1));
      assert.equal(p.axes.length, p.shape.length, `${p.name} axes ${p.axes.join(',')} vs shape ${p.shape.join(',')}`);
      p.axes.forEach((axis, i) => {
        if (axis === 'step') assert.equal(p.shape[i], j.generated?.length);
        else if ((axis === 'seq' || axis === 'query') && !p.axes.includes('step')) assert.equal(p.shape[i], j.tokens.length, `${p.name} ${axis}`);
      });
    }
    assert.match(native.stdout, /timings \(ms\)/);
    const wasm = dump(name, text, 'wasm');
    assert.equal(wasm.json.backend, 'wasm');
    assert.deepEqual(wasm.json.probes.map((p) => [p.name, p.shape]), j.probes.map((p) => [p.name, p.shape]));
    assert.deepEqual(wasm.json.generated, j.generated);
    for (const p of j.probes) {
      const a = readNpy(join(native.dir, p.file)).data;
      const b = readNpy(join(wasm.dir, p.file)).data;
      let d = 0;
      for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
      assert.ok(d < 1e-4, `${p.name}: native vs wasm differ by ${d}`);
    }
  });
}

test('over-long text is truncated with a warning, not refused', { skip: !lm }, () => {
  const name = lm ?? '';
  const max = manifestOf(name).maxLength;
  const r = seqlens('trace', name, '--text', 'a'.repeat(max + 7), '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as TraceJson;
  assert.equal(j.tokens.length, max);
  assert.match(j.warnings.join(' '), new RegExp(`at most ${max}`));
  assert.match(r.stderr, /warning/);
});

/** A copy of an LSTM/zoo model whose largest initializer lives in `weights.bin`, which is not written. */
function externalDataModel(path: string, out: string): void {
  const decoded = onnx.ModelProto.decode(readFileSync(path));
  const init = decoded.graph?.initializer ?? [];
  const big = [...init].sort((a, b) => (b.rawData?.length ?? 0) - (a.rawData?.length ?? 0))[0];
  const n = big.rawData?.length ?? 0;
  big.rawData = new Uint8Array();
  big.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  big.externalData = [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: String(n) }];
  writeFileSync(out, onnx.ModelProto.encode(decoded).finish());
}

/** A graph with a token-id input and no sequence structure: ids -> Cast -> ReduceSum. */
function noSequenceModel(out: string): void {
  const bytes = onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'seqlens-test',
    graph: {
      name: 'flat',
      node: [
        { opType: 'Cast', input: ['input_ids'], output: ['f'], name: 'cast', attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        { opType: 'ReduceSum', input: ['f'], output: ['total'], name: 'sum' },
      ],
      input: [{ name: 'input_ids', type: { tensorType: { elemType: 7, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'seq' }] } } } }],
      output: [{ name: 'total', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 1 }] } } } }],
    },
  }).finish();
  writeFileSync(out, bytes);
}

test('bad input: one clear stderr line and a non-zero exit', { skip: !lm }, () => {
  const name = lm ?? '';
  const modelPath = join(ZOO, name, manifestOf(name).files.model);
  const text = join(tmp, 'notes.onnx');
  writeFileSync(text, 'these are my notes, not a model\n');
  const truncated = join(tmp, 'truncated.onnx');
  const full = readFileSync(modelPath);
  writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 2)));
  const extDir = join(tmp, 'ext');
  mkdirSync(extDir, { recursive: true });
  externalDataModel(modelPath, join(extDir, 'model.onnx'));
  writeFileSync(join(extDir, 'tokenizer.json'), '{}');
  const bare = join(tmp, 'bare');
  mkdirSync(bare, { recursive: true });
  copyFileSync(modelPath, join(bare, 'lm.onnx'));
  const flat = join(tmp, 'flat.onnx');
  noSequenceModel(flat);
  const badManifest = join(tmp, 'badmanifest');
  mkdirSync(badManifest, { recursive: true });
  writeFileSync(join(badManifest, 'manifest.json'), JSON.stringify({ name: 'x', architecture: 'lstm', task: 'char-lm', files: { model: 'm.onnx' } }));

  assertOneLineError(seqlens('trace', text, '--text', 'hi'), /not an ONNX model/);
  assertOneLineError(seqlens('inspect', text), /not an ONNX model/);
  assertOneLineError(seqlens('trace', truncated, '--text', 'hi'), /truncated/);
  assertOneLineError(seqlens('inspect', truncated), /truncated/);
  assertOneLineError(seqlens('trace', join(extDir, 'model.onnx'), '--text', 'hi'), /external data.*weights\.bin.*missing/);
  assertOneLineError(seqlens('trace', join(bare, 'lm.onnx'), '--text', 'hi'), /no tokenizer.*tokenizer\.json/);
  assertOneLineError(seqlens('trace', flat, '--text', 'hi', '--tokenizer', join(bare, 'none.json')), /no sequence structure/);
  assertOneLineError(seqlens('trace', badManifest, '--text', 'hi'), /manifest is invalid/);
  assertOneLineError(seqlens('trace', name, '--text', ''), /empty/);
  assertOneLineError(seqlens('trace', 'no-such-model', '--text', 'hi'), /no such file, folder or bundled model/);
  assertOneLineError(seqlens('trace', name, '--text', 'hi', '--backend', 'cuda'), /--backend must be native or wasm/);
});

/** A WordPiece tokenizer.json small enough for the fixture's 64-entry embedding. */
function wordPieceTokenizer(): string {
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...'abcdefghijklmnopqrstuvwxyz', ...[...'abcdefghijklmnopqrstuvwxyz'].map((c) => `##${c}`),
    'the', '.', '(', ')', ',', '!', '?'];
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  const special = (t: string): Record<string, unknown> => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

const bert = join(ROOT, 'test', 'fixtures', 'graphs', 'bert_postln_opset17.onnx');
test('an .onnx without manifest picks up tokenizer.json beside it', { skip: !existsSync(bert) }, () => {
  const dir = join(tmp, 'bert');
  mkdirSync(dir, { recursive: true });
  copyFileSync(bert, join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'tokenizer.json'), wordPieceTokenizer());
  const text = 'The cats sat (quietly).';
  const out = join(tmp, 'bert-dump');
  const r = seqlens('trace', join(dir, 'model.onnx'), '--text', text, '--dump', out);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(join(out, 'trace.json'), 'utf8')) as TraceJson;
  assert.equal(j.architecture, 'transformer-encoder');
  // [CLS] ... [SEP] around word pieces whose offsets cover the source text (lower-cased by the normalizer).
  assert.equal(j.tokens[0].text, '[CLS]');
  assert.equal(j.tokens[j.tokens.length - 1].text, '[SEP]');
  const words = j.tokens.filter((t) => t.end > t.start);
  assert.equal(words.map((t) => text.slice(t.start, t.end).toLowerCase()).join(''), text.replace(/\s/g, '').toLowerCase());
  for (const t of words) assert.equal(text.slice(t.start, t.end).toLowerCase(), t.text.replace(/^##/, ''));
  const attention = j.probes.filter((p) => p.kind === 'attention');
  assert.equal(attention.length, 2);
  for (const p of attention) assert.deepEqual(p.shape, [1, 4, j.tokens.length, j.tokens.length]);
});
