/**
 * Mutations of any file (bytes), of JSON files (tokenizer.json, manifests, character vocabularies),
 * of .npy inputs and of the text to tokenize. ONNX-aware mutations are in onnxMutators.ts. Every
 * mutation returns the new bytes and a label that says exactly what it did, so a failing case
 * reads as a recipe.
 */
import type { Prng } from './prng.js';

export interface Mutated {
  bytes: Uint8Array;
  label: string;
}

export type ByteMutator = (rng: Prng, input: Uint8Array, other?: Uint8Array) => Mutated;

/** A position biased towards the start and the end of the file, where headers and tails live. */
function position(rng: Prng, length: number): number {
  if (length === 0) return 0;
  const r = rng.float();
  if (r < 0.25) return rng.int(0, Math.min(length, 64));
  if (r < 0.4) return Math.max(0, length - rng.int(0, Math.min(length, 64)));
  return rng.int(0, length);
}

function splice(input: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length - remove + insert.length);
  out.set(input.subarray(0, at), 0);
  out.set(insert, at);
  out.set(input.subarray(at + remove), at + insert.length);
  return out;
}

const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

export const byteMutators: Record<string, ByteMutator> = {
  truncate(rng, input) {
    const at = position(rng, input.length);
    return { bytes: input.slice(0, at), label: `truncate to ${at} of ${input.length} bytes` };
  },
  bitFlips(rng, input) {
    const out = input.slice();
    const k = rng.size(64);
    const where: number[] = [];
    for (let i = 0; i < k && out.length; i++) {
      const at = position(rng, out.length - 1);
      out[at]! ^= 1 << rng.int(0, 7);
      where.push(at);
    }
    return { bytes: out, label: `flip ${k} bits at ${where.slice(0, 8).join(',')}${where.length > 8 ? ',...' : ''}` };
  },
  randomRun(rng, input) {
    const out = input.slice();
    const at = position(rng, out.length);
    const len = Math.min(rng.size(512), out.length - at);
    const fill = rng.pick(['random', 'zero', 'ff'] as const);
    for (let i = 0; i < len; i++) out[at + i] = fill === 'random' ? rng.u32() & 0xff : fill === 'zero' ? 0 : 0xff;
    return { bytes: out, label: `overwrite ${len} bytes at ${at} with ${fill}` };
  },
  insertRun(rng, input) {
    const at = position(rng, input.length);
    const run = rng.bytes(rng.size(512));
    return { bytes: splice(input, at, 0, run), label: `insert ${run.length} random bytes at ${at}` };
  },
  duplicateChunk(rng, input) {
    const from = position(rng, input.length);
    const len = Math.min(rng.size(4096), input.length - from);
    const to = rng.chance(0.5) ? from + len : position(rng, input.length);
    return { bytes: splice(input, to, 0, input.slice(from, from + len)), label: `duplicate ${len} bytes from ${from} at ${to}` };
  },
  removeChunk(rng, input) {
    const at = position(rng, input.length);
    const len = Math.min(rng.size(4096), input.length - at);
    return { bytes: splice(input, at, len, new Uint8Array(0)), label: `remove ${len} bytes at ${at}` };
  },
  interestingInt(rng, input) {
    const out = input.slice();
    const width = rng.pick([1, 2, 4, 8]);
    const at = Math.max(0, Math.min(position(rng, out.length), out.length - width));
    const v = rng.pick(INTERESTING_U32);
    for (let i = 0; i < width && at + i < out.length; i++) out[at + i] = width === 8 && i >= 4 ? (v >= 0x80000000 ? 0xff : 0) : (v >>> (8 * (i % 4))) & 0xff;
    return { bytes: out, label: `write ${width}-byte ${v} at ${at}` };
  },
  spliceOther(rng, input, other) {
    if (!other || other.length === 0) return byteMutators.truncate!(rng, input);
    const at = position(rng, input.length);
    const from = position(rng, other.length);
    return {
      bytes: splice(input, at, input.length - at, other.subarray(from)),
      label: `keep ${at} bytes, then another seed's bytes from ${from}`,
    };
  },
};

export function mutateBytes(rng: Prng, input: Uint8Array, other?: Uint8Array): Mutated {
  const name = rng.pick(Object.keys(byteMutators));
  return byteMutators[name]!(rng, input, other);
}

// ---------------------------------------------------------------------------------------------
// JSON

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };

function isContainer(v: Json | undefined): v is Container {
  return typeof v === 'object' && v !== null;
}

/** Component types tokenizer.json knows, plus one it does not. */
const TOKENIZER_TYPES = ['Sequence', 'BPE', 'WordPiece', 'WordLevel', 'Unigram', 'ByteLevel', 'Metaspace', 'Split',
  'Replace', 'Prepend', 'Strip', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'BertNormalizer', 'BertPreTokenizer',
  'TemplateProcessing', 'RobertaProcessing', 'BertProcessing', 'ByteFallback', 'Fuse', 'Punctuation', 'Whitespace',
  'WhitespaceSplit', 'Digits', 'CharDelimiterSplit', 'UnicodeScripts', 'Precompiled', 'StripAccents', 'FixedLength', 'CTC',
  'BPEDecoder', 'Bogus'];

/** Keys a mutation may add: tokenizer.json, manifest and char-spec keys, so that additions land where code reads. */
const KEYS = ['type', 'normalizers', 'pretokenizers', 'decoders', 'processors', 'pattern', 'Regex', 'String', 'content',
  'vocab', 'merges', 'unk_token', 'unk_id', 'byte_fallback', 'continuing_subword_prefix', 'end_of_word_suffix', 'added_tokens',
  'replacement', 'prepend_scheme', 'prepend', 'single', 'pair', 'special_tokens', 'ids', 'tokens', 'model', 'normalizer',
  'pre_tokenizer', 'post_processor', 'decoder', 'add_prefix_space', 'use_regex', 'behavior', 'invert', 'lowercase',
  'name', 'architecture', 'task', 'files', 'tokenizer', 'maxLength', 'io', 'encoder', 'decoder', 'ids', 'mask', 'logits',
  'tokensMode', 'stateIn', 'stateOut', 'encoderOut', 'srcMask', 'attention', 'targetTokenizer', 'bos', 'eos', 'pad', 'unk',
  'maxTargetLength', 'outputs', 'state', 'model', 'file', 'length', 'individual_digits', 'max_input_chars_per_word', 'start', 'stop',
  'suffix', 'sep', 'cls', 'unk_id', 'ignore_merges', 'fuse_unk', 'dropout'];

/** Regular expressions that backtrack catastrophically on the right text, and ones that do not compile. */
export const HOSTILE_PATTERNS = ['(a+)+$', '(a|a)*b', '(\\w+\\s?)*$', '(.*a){12}', '([^\\s]+\\s?)+!', '(', '[', '(?<x', '\\', '(?P<x>a)', 'a{99999999999}'];

const LONG_STRING = 'ab'.repeat(5000);
/** Placeholder replaced by deeply nested brackets after serialization (JSON.stringify would recurse). */
const DEEP = '\u0000seqlens-fuzz-deep\u0000';

function randomValue(rng: Prng): Json {
  return rng.pick<() => Json>([
    () => null, () => true, () => false, () => 0, () => -1, () => 1, () => 2 ** 31, () => 2 ** 53 + 2, () => 1e308,
    () => -1e308, () => 0.5, () => -0.5, () => '', () => 'x', () => LONG_STRING, () => '\u0000\ud800\uffff',
    () => '\u2581', () => '##', () => '<unk>', () => [], () => ({}), () => [1, 2, 3], () => ['a', 'b'],
    () => new Array<Json>(rng.pick([1000, 20000])).fill(0), () => ({ type: rng.pick(TOKENIZER_TYPES) }),
    () => DEEP, () => rng.pick(HOSTILE_PATTERNS), () => ({ Regex: rng.pick(HOSTILE_PATTERNS) }),
  ])();
}

function tweakNumber(rng: Prng, v: number): number {
  return rng.pick([-v, v + 1, v - 1, v * 1e6, 2 ** 32 - v, -1, 0, 1e20, 2 ** 31 - 1, v + 0.5, -(2 ** 53)]);
}

/** A random place in the tree: a container and one of its keys, reached by a random descent. */
function randomSlot(rng: Prng, root: Container): { parent: Container; key: string | number; path: string } {
  let parent: Container = root;
  let path = '$';
  for (;;) {
    const keys: (string | number)[] = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
    if (keys.length === 0) return { parent, key: Array.isArray(parent) ? 0 : 'type', path };
    const key = rng.pick(keys);
    const child: Json | undefined = Array.isArray(parent) ? parent[key as number] : parent[key as string];
    const childPath = `${path}${typeof key === 'number' ? `[${key}]` : `.${key}`}`;
    if (isContainer(child) && (Array.isArray(child) ? child.length : Object.keys(child).length) > 0 && rng.chance(0.7)) {
      parent = child;
      path = childPath;
      continue;
    }
    return { parent, key, path: childPath };
  }
}

function getSlot(parent: Container, key: string | number): Json | undefined {
  return Array.isArray(parent) ? parent[key as number] : parent[key as string];
}

function setSlot(parent: Container, key: string | number, v: Json): void {
  if (Array.isArray(parent)) parent[key as number] = v;
  else parent[key as string] = v;
}

/** One structural change to a parsed JSON document, in place; returns its label. */
export function mutateJsonTree(rng: Prng, root: Container): string {
  const { parent, key, path } = randomSlot(rng, root);
  const current = getSlot(parent, key);
  const op = rng.weighted<string>([['delete', 3], ['replace', 4], ['retype', 2], ['number', 2], ['type', 2], ['add', 2],
    ['array', 2], ['swap', 1], ['pattern', 1]]);
  switch (op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      return `delete ${path}`;
    case 'retype': {
      const v: Json = typeof current === 'number' ? String(current) : typeof current === 'string' ? Number(current.length)
        : Array.isArray(current) ? { ...current } : isContainer(current) ? Object.values(current) : String(current);
      setSlot(parent, key, v);
      return `retype ${path} (${typeof current})`;
    }
    case 'number':
      if (typeof current === 'number') {
        const v = tweakNumber(rng, current);
        setSlot(parent, key, v);
        return `set ${path} = ${v} (was ${current})`;
      }
      break;
    case 'type':
      if (!Array.isArray(parent)) {
        const t = rng.pick(TOKENIZER_TYPES);
        parent.type = t;
        return `set ${path.replace(/\.[^.[]*$|\[\d+\]$/, '')}.type = ${t}`;
      }
      break;
    case 'add':
      if (!Array.isArray(parent)) {
        const k = rng.pick(KEYS);
        parent[k] = randomValue(rng);
        return `add key ${k} at ${path.replace(/\.[^.[]*$|\[\d+\]$/, '')}`;
      }
      break;
    case 'array':
      if (Array.isArray(current) && current.length) {
        const how = rng.pick(['duplicate', 'reverse', 'truncate', 'shuffle'] as const);
        if (how === 'duplicate') current.push(...current.slice(0, rng.size(current.length)));
        else if (how === 'reverse') current.reverse();
        else if (how === 'truncate') current.length = rng.int(0, current.length - 1);
        else for (let i = current.length - 1; i > 0; i--) { const j = rng.int(0, i); [current[i], current[j]] = [current[j]!, current[i]!]; }
        return `${how} array ${path}`;
      }
      break;
    case 'swap': {
      const keys: (string | number)[] = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
      const other = rng.pick(keys);
      const a = getSlot(parent, key);
      const b = getSlot(parent, other);
      if (a !== undefined && b !== undefined) {
        setSlot(parent, key, b);
        setSlot(parent, other, a);
        return `swap ${path} with its sibling ${String(other)}`;
      }
      break;
    }
    case 'pattern':
      if (!Array.isArray(parent)) {
        const p = rng.pick(HOSTILE_PATTERNS);
        parent.pattern = rng.chance(0.5) ? { Regex: p } : { String: p };
        return `set ${path.replace(/\.[^.[]*$|\[\d+\]$/, '')}.pattern = ${JSON.stringify(parent.pattern)}`;
      }
      break;
  }
  const v = randomValue(rng);
  setSlot(parent, key, v);
  return `replace ${path} with ${v === DEEP ? 'deeply nested arrays' : JSON.stringify(v)?.slice(0, 40)}`;
}

/** Serializes after mutation; the deep-nesting placeholder becomes `depth` nested arrays. */
export function serializeJson(rng: Prng, root: Json): { text: string; label?: string } {
  let text = JSON.stringify(root);
  let label: string | undefined;
  const quoted = JSON.stringify(DEEP);
  if (text.includes(quoted)) {
    const depth = rng.pick([100, 5000, 100000]);
    text = text.split(quoted).join('['.repeat(depth) + ']'.repeat(depth));
    label = `arrays nested ${depth} deep`;
  }
  return { text, label };
}

/**
 * A mutated JSON document: 1-4 tree mutations, sometimes followed by a byte mutation of the text
 * (syntax errors, cut-off files). Unparseable input gets byte mutations only.
 */
export function mutateJson(rng: Prng, input: Uint8Array): Mutated {
  let root: Json;
  try {
    root = JSON.parse(new TextDecoder().decode(input)) as Json;
  } catch {
    return mutateBytes(rng, input);
  }
  if (!isContainer(root) || rng.chance(0.08)) {
    if (rng.chance(0.5)) {
      const v = randomValue(rng);
      return { bytes: new TextEncoder().encode(JSON.stringify(v === DEEP ? [] : v)), label: 'replace the document with a scalar' };
    }
    return mutateBytes(rng, input);
  }
  const labels: string[] = [];
  const k = rng.weighted([[1, 6], [2, 3], [4, 1]]);
  for (let i = 0; i < k; i++) labels.push(mutateJsonTree(rng, root));
  const s = serializeJson(rng, root);
  if (s.label) labels.push(s.label);
  let bytes: Uint8Array = new TextEncoder().encode(s.text);
  if (rng.chance(0.15)) {
    const m = mutateBytes(rng, bytes);
    bytes = m.bytes;
    labels.push(m.label);
  }
  return { bytes, label: labels.join('; ') };
}

// ---------------------------------------------------------------------------------------------
// .npy

/** An .npy file from its parts (any version, any header text: the writer does not validate). */
export function npyBytes(header: string, data: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = header;
  const unpadded = pre + h.length + 1;
  h += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const hb = new TextEncoder().encode(h);
  const out = new Uint8Array(pre + hb.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, hb.length, true);
  else view.setUint32(8, hb.length, true);
  out.set(hb, pre);
  out.set(data, pre + hb.length);
  return out;
}

const NPY_SHAPES = ['()', '(0,)', '(-1,)', '(3, -3)', '(4294967296,)', '(9007199254740993,)', '(1e400,)', '(abc,)', '(,)',
  '(65536, 65536)', '(2, 3)', `(${'1, '.repeat(2000)})`, '(1.5,)', '(0x10,)'];
const NPY_DESCRS = ['<f4', '>f4', '<f8', '<f2', '<i8', '>i8', '<i4', '|u1', '<u4', '|b1', '<c8', '|O', '<U4', '<V8', 'f4', '<f16', '<i0'];

/** Header-aware .npy damage (shape, dtype, order, version, header length), else byte mutations. */
export function mutateNpy(rng: Prng, input: Uint8Array): Mutated {
  const op = rng.weighted<string>([['shape', 4], ['descr', 3], ['fortran', 1], ['version', 1], ['headerLength', 2], ['bytes', 4]]);
  const isNpy = input.length >= 10 && input[0] === 0x93 && input[1] === 0x4e;
  if (!isNpy || op === 'bytes') return mutateBytes(rng, input);
  const major = input[6]!;
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const pre = major === 1 ? 10 : 12;
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const header = new TextDecoder('latin1').decode(input.subarray(pre, Math.min(input.length, pre + hlen))).trimEnd();
  const data = input.subarray(Math.min(input.length, pre + hlen));
  switch (op) {
    case 'shape': {
      const s = rng.pick(NPY_SHAPES);
      return { bytes: npyBytes(header.replace(/'shape':\s*\([^)]*\)/, `'shape': ${s}`), data, major === 1 ? 1 : major), label: `shape ${s.slice(0, 30)}` };
    }
    case 'descr': {
      const d = rng.pick(NPY_DESCRS);
      return { bytes: npyBytes(header.replace(/'descr':\s*'[^']*'/, `'descr': '${d}'`), data, major === 1 ? 1 : major), label: `descr ${d}` };
    }
    case 'fortran':
      return { bytes: npyBytes(header.replace('False', 'True'), data, major === 1 ? 1 : major), label: 'fortran_order True' };
    case 'version': {
      const out = input.slice();
      const v = rng.pick([0, 2, 3, 4, 255]);
      out[6] = v;
      return { bytes: out, label: `version byte ${v}` };
    }
    default: {
      const out = input.slice();
      const v = rng.pick([0, 1, 0xffff, 0x7fffffff, 0xffffffff, hlen + 1, hlen - 1]);
      const w = new DataView(out.buffer);
      if (major === 1) w.setUint16(8, v & 0xffff, true);
      else w.setUint32(8, v >>> 0, true);
      return { bytes: out, label: `header length ${v}` };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Text

export const TEXTS = [
  'interface Foo { bar(): void; }', 'Tuesday, the 3rd of March 1998', '3/3/98', '', ' ', 'a', '\n', 'héllo wörld',
  'Cafe\u0301 crème', '日本語のテキスト', '😀👍🏽 emoji 🇫🇷', '\ud800 lone \udc00 surrogates', 'tab\tnew\nline\r\nend',
  '\u0000\u0001\u0002\u007f', 'x'.repeat(3000), 'ab '.repeat(600), '<s> [CLS] <|endoftext|> </s> [SEP]',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', '   leading and trailing   ', 'ﬁ ligature and ½ fraction', 'İstanbul ß ẞ',
];

export function pickText(rng: Prng): { text: string; label: string } {
  const r = rng.float();
  if (r < 0.75) {
    const text = rng.pick(TEXTS);
    return { text, label: `text ${JSON.stringify(text.slice(0, 24))}${text.length > 24 ? `... (${text.length} chars)` : ''}` };
  }
  if (r < 0.9) {
    // What an editor shows for a binary file: bytes read as Latin-1.
    const text = new TextDecoder('latin1').decode(rng.bytes(rng.size(2000)));
    return { text, label: `text of ${text.length} random Latin-1 characters` };
  }
  let text = '';
  const n = rng.size(500);
  for (let i = 0; i < n; i++) text += String.fromCodePoint(rng.chance(0.5) ? rng.int(0, 0x2fff) : rng.int(0, 0x10ffff));
  return { text, label: `text of ${n} random code points` };
}
