/**
 * The model manifest: a sidecar JSON (`<model>.seqlens.json`, or `manifest.json` in a zoo folder) that
 * says how to feed a model. A model may be several .onnx files (encoder + one decoder step), like
 * Hugging Face seq2seq exports; the greedy loop then runs in TypeScript (src/core/run).
 */
import type { Architecture } from './types.js';
import { SeqLensError } from './errors.js';

export type TokenizerSpec =
  /** Character vocabulary: `vocab` is a JSON file holding an array of single characters; index = id. */
  | { type: 'char'; vocab: string; unk?: number; bos?: number; eos?: number; pad?: number }
  /**
   * A Hugging Face tokenizer.json; a `file` named vocab.txt, vocab.json or encoder.json is read as the
   * older layout of that name (and a missing tokenizer.json falls back to those beside it).
   */
  | { type: 'hf'; file: string }
  /** A WordPiece vocabulary, one token per line (BERT's vocab.txt). */
  | { type: 'wordpiece'; vocab: string }
  /** GPT-2-style byte-level BPE: vocab.json (token → id) and merges.txt. */
  | { type: 'bpe'; vocab: string; merges: string };

/** Input/output names of a causal or encoder-only model in one file. */
export interface SingleModelIO {
  /** int64 [batch, seq] token ids. */
  ids: string;
  /** Optional int64 [batch, seq] attention mask (1 = keep). */
  mask?: string;
  /** Logits output, [batch, seq, vocab]. */
  logits?: string;
}

/**
 * Encoder + one decoder step. The step is run once per generated token:
 *   decoder inputs:  prevToken int64 [1,1], state (float [layers,1,H], optional for transformers),
 *                    encoderOut float [1,S,H], optional srcMask / target prefix for transformers
 *   decoder outputs: logits [1,1,V] or [1,V], new state, optional attention [1,S] / [1,heads,1,S]
 */
export interface Seq2SeqIO {
  encoder: { ids: string; outputs: string; state?: string; mask?: string };
  decoder: {
    /** For RNN decoders: the previous token [1,1]. For Transformer decoders: the whole prefix [1,T]. */
    tokens: string;
    tokensMode: 'previous' | 'prefix';
    encoderOut?: string;
    stateIn?: string;
    stateOut?: string;
    srcMask?: string;
    logits: string;
    /** Cross-attention weights as an output of the step graph, if the model returns them. */
    attention?: string;
  };
  /** Separate target tokenizer (the source tokenizer is `tokenizer`). */
  targetTokenizer: TokenizerSpec;
  bos: number;
  eos: number;
  maxTargetLength: number;
}

export interface ModelManifest {
  name: string;
  description?: string;
  architecture: Architecture;
  task: 'char-lm' | 'lm' | 'seq2seq' | 'encoder';
  /** Paths relative to the manifest file. Single-file models use `model`; seq2seq uses `encoder` + `decoder`. */
  files: Record<string, string>;
  tokenizer: TokenizerSpec;
  maxLength: number;
  io: SingleModelIO | Seq2SeqIO;
  training?: { data: string; steps: number; seconds?: number; params?: number; seed?: number };
  metric?: { name: string; value: number; split: string };
}

export function isSeq2SeqIO(io: SingleModelIO | Seq2SeqIO): io is Seq2SeqIO {
  return typeof (io as Seq2SeqIO).encoder === 'object';
}

function fail(why: string): never {
  throw new SeqLensError('bad-manifest', `Model manifest is invalid: ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Longest greedy decode a manifest may ask for: each step is a run of the decoder, so the bound is the run's. */
export const MAX_TARGET_LENGTH = 16384;

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkTokenizer(v: unknown, where: string): TokenizerSpec {
  if (!isRecord(v)) fail(`${where} must be an object`);
  if (v.type === 'char' && typeof v.vocab === 'string') {
    // The ids become token ids fed to the model: a string or object here would travel as far as the session.
    for (const k of ['unk', 'bos', 'eos', 'pad'] as const) {
      if (v[k] !== undefined && !isId(v[k])) fail(`${where}.${k} must be a token id (a non-negative integer)`);
    }
    return v as unknown as TokenizerSpec;
  }
  if (v.type === 'hf' && typeof v.file === 'string') return v as unknown as TokenizerSpec;
  if (v.type === 'wordpiece' && typeof v.vocab === 'string') return v as unknown as TokenizerSpec;
  if (v.type === 'bpe' && typeof v.vocab === 'string' && typeof v.merges === 'string') return v as unknown as TokenizerSpec;
  return fail(`${where} must be {type:"char",vocab}, {type:"hf",file}, {type:"wordpiece",vocab} or {type:"bpe",vocab,merges}`);
}

/** The named fields are strings (tensor names); the optional ones are strings when present. */
function checkNames(v: Record<string, unknown>, where: string, required: readonly string[], optional: readonly string[]): void {
  for (const k of required) if (typeof v[k] !== 'string') fail(`"${where}.${k}" must name a tensor`);
  for (const k of optional) if (v[k] !== undefined && typeof v[k] !== 'string') fail(`"${where}.${k}" must name a tensor`);
}

/** Validates parsed JSON as a manifest; throws SeqLensError('bad-manifest') naming the first problem. */
export function parseManifest(json: unknown): ModelManifest {
  if (!isRecord(json)) fail('not a JSON object');
  if (typeof json.name !== 'string') fail('"name" must be a string');
  if (typeof json.architecture !== 'string') fail('"architecture" must be a string');
  if (typeof json.task !== 'string') fail('"task" must be a string');
  if (!isRecord(json.files) || !Object.values(json.files).every((f) => typeof f === 'string')) {
    fail('"files" must map names to relative paths');
  }
  checkTokenizer(json.tokenizer, '"tokenizer"');
  if (typeof json.maxLength !== 'number' || json.maxLength <= 0) fail('"maxLength" must be a positive number');
  if (!isRecord(json.io)) fail('"io" must be an object');
  const io = json.io;
  if (isRecord(io.encoder)) {
    if (!isRecord(io.decoder)) fail('"io.decoder" is required with "io.encoder"');
    checkTokenizer(io.targetTokenizer, '"io.targetTokenizer"');
    if (!('encoder' in json.files) || !('decoder' in json.files)) fail('seq2seq "files" needs "encoder" and "decoder"');
    checkNames(io.encoder, 'io.encoder', ['ids', 'outputs'], ['state', 'mask']);
    checkNames(io.decoder, 'io.decoder', ['tokens', 'logits'], ['encoderOut', 'stateIn', 'stateOut', 'srcMask', 'attention']);
    if (io.decoder.tokensMode !== 'previous' && io.decoder.tokensMode !== 'prefix') fail('"io.decoder.tokensMode" must be "previous" or "prefix"');
    if (!isId(io.bos) || !isId(io.eos)) fail('"io.bos" and "io.eos" must be token ids (non-negative integers)');
    // Each step is a decoder run: an unbounded length would never end on a model that never says eos.
    if (!isId(io.maxTargetLength) || io.maxTargetLength < 1 || io.maxTargetLength > MAX_TARGET_LENGTH) {
      fail(`"io.maxTargetLength" must be an integer from 1 to ${MAX_TARGET_LENGTH}`);
    }
  } else {
    if (typeof io.ids !== 'string') fail('"io.ids" must name the token-id input');
    checkNames(io, 'io', ['ids'], ['mask', 'logits']);
  }
  return json as unknown as ModelManifest;
}
