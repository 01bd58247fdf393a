/**
 * A fuzz case from (run seed, case index) alone: which path it exercises, which seed it starts from,
 * the mutations applied (as labels) and the resulting files. The same pair always gives the same
 * case, in any process, so the runner's lanes rebuild their cases themselves and a reproducer is two
 * numbers.
 */
import type { TokenizerSpec } from '../../src/core/manifest.js';
import { Corpus, type ModelFolder } from './corpus.js';
import { mutateBytes, mutateJson, mutateNpy, pickText, type Mutated } from './mutators.js';
import { mutateOnnx } from './onnxMutators.js';
import { Prng, caseSeed } from './prng.js';

export const TARGETS = ['inspect', 'instrument', 'tokenize', 'manifest', 'npy', 'trace-wasm', 'cli-inspect', 'cli-trace'] as const;
export type Target = (typeof TARGETS)[number];

/**
 * Where a case runs: in a worker thread of the runner (the core called in-process), in a child
 * process that holds onnxruntime-web's WASM backend, or as a `seqlens` process.
 */
export type Lane = 'inprocess' | 'trace' | 'cli';

export function laneOf(t: Target): Lane {
  return t === 'trace-wasm' ? 'trace' : t.startsWith('cli-') ? 'cli' : 'inprocess';
}

/** Shares of the cases: mostly the fast in-process paths, enough of the slow ones to matter. */
const WEIGHTS: readonly (readonly [Target, number])[] = [
  ['inspect', 30], ['instrument', 22], ['tokenize', 16], ['manifest', 6], ['npy', 10],
  ['trace-wasm', 10], ['cli-inspect', 4.5], ['cli-trace', 1.5],
];

export interface InstrumentChoice {
  allowExternalData: boolean;
  cellVia: 'affine' | 'relu-pair';
  pooledAttention: boolean;
}

export interface FuzzCase {
  seed: number;
  index: number;
  target: Target;
  /** The seed the case started from. */
  origin: string;
  /** What was done to it, in order. */
  steps: string[];
  /** A folder's worth of files, by relative path. */
  files: Record<string, Uint8Array>;
  /** The file the path under test is given (model, tokenizer file, manifest, .npy). */
  entry: string;
  text: string;
  role?: 'encoder' | 'decoder';
  tokenizer?: TokenizerSpec;
  instrument?: InstrumentChoice;
}

export function targetOf(seed: number, index: number): Target {
  return new Prng(caseSeed(seed, index)).weighted(WEIGHTS);
}

function onnxCase(rng: Prng, corpus: Corpus, c: FuzzCase): void {
  const seeds = corpus.onnx();
  const seed = rng.pick(seeds);
  c.origin = seed.name;
  const name = seed.name.slice(seed.name.lastIndexOf('/') + 1);
  let bytes = seed.bytes;
  const r = rng.float();
  if (r < 0.03) {
    c.steps.push('unmutated');
  } else if (r < 0.06) {
    // Something else entirely with an .onnx name: a tokenizer, an .npy, text.
    const foreign = rng.pick([...corpus.npy().map((s) => s.bytes), new TextEncoder().encode('not a model\n'), new Uint8Array(0)]);
    bytes = foreign;
    c.steps.push(`replaced by a ${foreign.length}-byte non-ONNX file`);
  } else {
    const m = mutateOnnx(rng, bytes, rng.pick(seeds).bytes);
    bytes = m.bytes;
    c.steps.push(m.label);
  }
  c.files = { ...seed.companions, [name]: bytes };
  c.entry = name;
  c.role = seed.role ?? (rng.chance(0.1) ? rng.pick(['encoder', 'decoder'] as const) : undefined);
  c.instrument = { allowExternalData: rng.chance(0.5), cellVia: rng.pick(['affine', 'relu-pair'] as const), pooledAttention: rng.chance(0.7) };
}

function tokenizerCase(rng: Prng, corpus: Corpus, c: FuzzCase): void {
  const all = corpus.tokenizers();
  const pool = rng.chance(0.12) ? all.filter((s) => s.full) : all.filter((s) => !s.full);
  const seed = rng.pick(pool);
  c.origin = seed.name;
  const mutated: Mutated = rng.chance(0.9) ? mutateJson(rng, seed.file) : { bytes: seed.file, label: 'unmutated' };
  c.steps.push(mutated.label);
  if (seed.spec.type === 'hf') {
    c.files = { 'tokenizer.json': mutated.bytes };
    if (seed.config && rng.chance(0.6)) {
      const config = rng.chance(0.3) ? mutateJson(rng, seed.config) : { bytes: seed.config, label: '' };
      c.files['tokenizer_config.json'] = config.bytes;
      if (config.label) c.steps.push(`tokenizer_config.json: ${config.label}`);
    }
    c.tokenizer = { type: 'hf', file: 'tokenizer.json' };
    c.entry = 'tokenizer.json';
  } else {
    c.files = { 'vocab.json': mutated.bytes };
    const spec: TokenizerSpec = { ...seed.spec, vocab: 'vocab.json' };
    if (rng.chance(0.2)) {
      const key = rng.pick(['unk', 'bos', 'eos', 'pad'] as const);
      const v = rng.pick([-1, 0, 1e9, 0.5, 2 ** 53]);
      (spec as Record<string, unknown>)[key] = v;
      c.steps.push(`spec ${key} = ${v}`);
    }
    c.tokenizer = spec;
    c.entry = 'vocab.json';
  }
}

/** A model folder with one of its files mutated (model, manifest, tokenizer) or only odd text. */
function folderCase(rng: Prng, corpus: Corpus, c: FuzzCase, what: 'any' | 'manifest'): void {
  const folders = corpus.folders();
  const zoo = folders.filter((f) => f.entry === 'manifest.json');
  const folder: ModelFolder = what === 'manifest' || rng.chance(0.7) ? rng.pick(zoo) : rng.pick(folders);
  c.origin = folder.name;
  c.entry = folder.entry;
  c.files = { ...folder.files };
  const text = rng.chance(0.6) ? { text: folder.text, label: '' } : pickText(rng);
  c.text = text.text;
  const onnxFiles = Object.keys(folder.files).filter((f) => f.endsWith('.onnx'));
  const jsonFiles = Object.keys(folder.files).filter((f) => f.endsWith('.json') && f !== 'manifest.json');
  const part = what === 'manifest' ? 'manifest'
    : rng.weighted<'model' | 'manifest' | 'tokenizer' | 'text'>([['model', 55], ['manifest', folder.entry === 'manifest.json' ? 15 : 0], ['tokenizer', 15], ['text', 15]]);
  if (part === 'model') {
    const file = rng.pick(onnxFiles);
    const m = mutateOnnx(rng, folder.files[file]!, corpus.onnx()[rng.int(0, corpus.onnx().length - 1)]!.bytes);
    c.files[file] = m.bytes;
    c.steps.push(`${file}: ${m.label}`);
  } else if (part === 'manifest') {
    const m = mutateJson(rng, folder.files['manifest.json']!);
    c.files['manifest.json'] = m.bytes;
    c.steps.push(`manifest.json: ${m.label}`);
  } else if (part === 'tokenizer' && jsonFiles.length) {
    const file = rng.pick(jsonFiles);
    const m = rng.chance(0.85) ? mutateJson(rng, folder.files[file]!) : mutateBytes(rng, folder.files[file]!);
    c.files[file] = m.bytes;
    c.steps.push(`${file}: ${m.label}`);
  }
  if (text.label) c.steps.push(text.label);
}

export function makeCase(seed: number, index: number, corpus: Corpus): FuzzCase {
  const rng = new Prng(caseSeed(seed, index));
  const target = rng.weighted(WEIGHTS);
  const c: FuzzCase = { seed, index, target, origin: '', steps: [], files: {}, entry: '', text: '' };
  switch (target) {
    case 'inspect':
    case 'instrument':
    case 'cli-inspect':
      onnxCase(rng, corpus, c);
      break;
    case 'tokenize': {
      tokenizerCase(rng, corpus, c);
      const t = pickText(rng);
      c.text = t.text;
      c.steps.push(t.label);
      break;
    }
    case 'manifest':
      folderCase(rng, corpus, c, 'manifest');
      break;
    case 'npy': {
      const s = rng.pick(corpus.npy());
      c.origin = s.name;
      const m = rng.chance(0.92) ? mutateNpy(rng, s.bytes) : { bytes: s.bytes, label: 'unmutated' };
      c.files = { 'input.npy': m.bytes };
      c.entry = 'input.npy';
      c.steps.push(m.label);
      break;
    }
    case 'trace-wasm':
    case 'cli-trace':
      folderCase(rng, corpus, c, 'any');
      break;
  }
  return c;
}

export function reproducer(c: { seed: number; index: number }): string {
  return `npm run fuzz -- --seed ${c.seed} --case ${c.index}`;
}
