/**
 * An encoder-decoder exported as Hugging Face optimum leaves it, in one folder without a manifest:
 * `encoder_model.onnx`, `decoder_model.onnx` and/or `decoder_model_merged.onnx`, often
 * `decoder_with_past_model.onnx`, plus `tokenizer.json`, `config.json` and maybe `generation_config.json`
 * (T5, Marian, BART, mT5 text-to-text exports). This module recognises such a folder from its file names
 * and pairs its graphs into the same Seq2Seq manifest a hand-written one would be, or says in one
 * sentence why it cannot. Pure: the callers (the extension's registry, the CLI) list the folder, decode
 * the graphs and read the JSON files.
 *
 * The greedy loop (run/seq2seqRun.ts) runs the decoder over the whole target prefix at each step
 * ('prefix' mode). `decoder_with_past_model.onnx` is listed, not run: its first step needs the encoder
 * half of the cache that only the plain decoder produces, so using it would be a second decoder session
 * and a cache loop. A merged decoder alone is run with `use_cache_branch` false and an empty cache
 * (cacheInputs.ts), which takes the branch without the cache at every step.
 */
import type { ModelProto } from './onnx/decode.js';
import type { TensorSummary } from './onnx/summarize.js';
import { graphInputs } from './run/feeds.js';
import { emptyPastDims, isPastInput, isUseCacheFlag } from './cacheInputs.js';
import { MAX_TARGET_LENGTH, parseManifest, type ModelManifest, type Seq2SeqIO } from './manifest.js';
import { SeqLensError } from './errors.js';

/** optimum's file names. */
export const SEQ2SEQ_FOLDER_FILES = {
  encoder: 'encoder_model.onnx',
  decoder: 'decoder_model.onnx',
  decoderWithPast: 'decoder_with_past_model.onnx',
  merged: 'decoder_model_merged.onnx',
} as const;

/** Which of a folder's files make the export (their names as the folder spells them). */
export interface Seq2SeqFolderLayout {
  encoder: string;
  /** The plain decoder (no cache inputs): what each step runs when present. */
  decoder?: string;
  decoderWithPast?: string;
  merged?: string;
}

/** The inputs and outputs of one decoded graph. */
export interface GraphIO {
  inputs: readonly TensorSummary[];
  outputs: readonly string[];
}

/** A decoded graph's real inputs (not initializers old exporters list as inputs) and its output names. */
export function graphIO(model: ModelProto): GraphIO {
  return { inputs: graphInputs(model), outputs: model.graph?.output.map((v) => v.name) ?? [] };
}

const base = (p: string): string => p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);

/**
 * The export's files among a folder's file names (any files: .onnx, .json, ...), or undefined when the
 * folder is not such an export: no `encoder_model.onnx`, no decoder to run, or a `manifest.json` or a
 * `<stem>.seqlens.json` sidecar of one of its models, which say how to run it themselves.
 */
export function seq2seqFolderLayout(fileNames: readonly string[]): Seq2SeqFolderLayout | undefined {
  const byLower = new Map(fileNames.map((f) => [base(f).toLowerCase(), base(f)]));
  if (byLower.has('manifest.json')) return undefined;
  const pick = (name: string): string | undefined => byLower.get(name);
  const encoder = pick(SEQ2SEQ_FOLDER_FILES.encoder);
  const decoder = pick(SEQ2SEQ_FOLDER_FILES.decoder);
  const merged = pick(SEQ2SEQ_FOLDER_FILES.merged);
  if (!encoder || (!decoder && !merged)) return undefined;
  const decoderWithPast = pick(SEQ2SEQ_FOLDER_FILES.decoderWithPast);
  const layout: Seq2SeqFolderLayout = { encoder, ...(decoder ? { decoder } : {}), ...(decoderWithPast ? { decoderWithPast } : {}), ...(merged ? { merged } : {}) };
  const sidecar = layoutFiles(layout).some((f) => byLower.has(f.toLowerCase().replace(/\.onnx$/, '.seqlens.json')));
  return sidecar ? undefined : layout;
}

/** Every .onnx file of the layout: the model lists them once, not one model per file. */
export function layoutFiles(layout: Seq2SeqFolderLayout): string[] {
  return [layout.encoder, layout.decoder, layout.decoderWithPast, layout.merged].filter((f): f is string => f !== undefined);
}

/** The decoder each step runs: the plain one, else the merged one (its branch without the cache). */
export function runDecoderFile(layout: Seq2SeqFolderLayout): string {
  return layout.decoder ?? (layout.merged as string);
}

export interface Seq2SeqFolderFacts {
  /** The folder's name: the model's label and manifest name. */
  folderName: string;
  /** Every file name in the folder. */
  fileNames: readonly string[];
  /** Inputs and outputs of the layout's encoder and of its `runDecoderFile`, by file name. */
  graphs: Readonly<Record<string, GraphIO>>;
  /** Parsed config.json (undefined when the folder has none or it is not JSON). */
  config?: unknown;
  /** Parsed generation_config.json: its token ids and lengths win over config.json's. */
  generationConfig?: unknown;
}

export type Seq2SeqPairing =
  | { ok: true; manifest: ModelManifest; layout: Seq2SeqFolderLayout; /** What the model's description says about its files. */ note: string }
  | { ok: false; reason: string; layout?: Seq2SeqFolderLayout };

const WRITE_MANIFEST = 'write a manifest.json beside the models (docs/model-forms.md)';
/** Target length when neither config says one: HF's own default (20) is short for a sentence. */
export const DEFAULT_TARGET_LENGTH = 64;
/** Source length when the config gives no position limit (T5's relative positions have none). */
export const DEFAULT_SOURCE_LENGTH = 512;

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A token id from a config value: a non-negative integer, or the first of a list (eos_token_id: [1, 2]). */
function tokenId(v: unknown): number | undefined {
  const x = Array.isArray(v) ? (v as unknown[])[0] : v;
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : undefined;
}

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** The first of the keys either config sets (generation_config.json first). */
function configValue<T>(configs: Record<string, unknown>[], keys: readonly string[], read: (v: unknown) => T | undefined): T | undefined {
  for (const c of configs) {
    for (const k of keys) {
      const v = read(c[k]);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

const ENCODER_INPUTS = { ids: 'input_ids', mask: 'attention_mask' } as const;
const ENCODER_OUTPUT = 'last_hidden_state';
const DECODER_INPUTS = { tokens: 'input_ids', encoderOut: 'encoder_hidden_states', srcMask: 'encoder_attention_mask' } as const;
const DECODER_OUTPUT = 'logits';

/**
 * The Seq2Seq manifest of an optimum-style folder, checked by the manifest checker, or one sentence
 * saying why the folder cannot be paired and what to do.
 */
export function pairSeq2SeqFolder(f: Seq2SeqFolderFacts): Seq2SeqPairing {
  const layout = seq2seqFolderLayout(f.fileNames);
  if (!layout) {
    return { ok: false, reason: `${f.folderName} is not an encoder-decoder export: it needs ${SEQ2SEQ_FOLDER_FILES.encoder} and ${SEQ2SEQ_FOLDER_FILES.decoder} (or ${SEQ2SEQ_FOLDER_FILES.merged}) and no manifest.json.` };
  }
  const fail = (reason: string): Seq2SeqPairing => ({ ok: false, reason, layout });
  const decoderFile = runDecoderFile(layout);
  const enc = f.graphs[layout.encoder];
  const dec = f.graphs[decoderFile];
  if (!enc) return fail(`The inputs of ${layout.encoder} could not be read.`);
  if (!dec) return fail(`The inputs of ${decoderFile} could not be read.`);

  // Encoder: token ids (and a mask) in, the last hidden state out.
  const encNames = new Set(enc.inputs.map((t) => t.name));
  if (!encNames.has(ENCODER_INPUTS.ids)) {
    const first = enc.inputs[0]?.name;
    return fail(`${layout.encoder} takes ${first ? `'${first}'` : 'no input'} instead of token ids 'input_ids' (audio and image encoders are not text models here); ${WRITE_MANIFEST}.`);
  }
  const encUnknown = enc.inputs.find((t) => t.name !== ENCODER_INPUTS.ids && t.name !== ENCODER_INPUTS.mask);
  if (encUnknown) return fail(`${layout.encoder} takes an input '${encUnknown.name}' this layout does not know; ${WRITE_MANIFEST}.`);
  if (!enc.outputs.includes(ENCODER_OUTPUT)) return fail(`${layout.encoder} has no output '${ENCODER_OUTPUT}' for the decoder to read; ${WRITE_MANIFEST}.`);

  // Decoder: the target prefix and the encoder's states in, logits out; a merged decoder's cache inputs are fed empty.
  const decKnown = new Set<string>(Object.values(DECODER_INPUTS));
  const flag = dec.inputs.find(isUseCacheFlag);
  for (const t of dec.inputs) {
    if (decKnown.has(t.name)) continue;
    if (flag && t !== flag && isPastInput(t)) {
      if (!emptyPastDims(t)) return fail(`${decoderFile} has a cache input '${t.name}' whose heads and head size its shape does not give; ${WRITE_MANIFEST}.`);
      continue;
    }
    if (t === flag) continue;
    return fail(`${decoderFile} takes an input '${t.name}' this layout does not know; ${WRITE_MANIFEST}.`);
  }
  const decNames = new Set(dec.inputs.map((t) => t.name));
  for (const need of [DECODER_INPUTS.tokens, DECODER_INPUTS.encoderOut]) {
    if (!decNames.has(need)) return fail(`${decoderFile} has no input '${need}'; ${WRITE_MANIFEST}.`);
  }
  if (!dec.outputs.includes(DECODER_OUTPUT)) return fail(`${decoderFile} has no output '${DECODER_OUTPUT}'; ${WRITE_MANIFEST}.`);

  // Tokenizer and token ids.
  const names = new Set(f.fileNames.map((n) => base(n)));
  if (!names.has('tokenizer.json')) {
    return fail(`${f.folderName} has no tokenizer.json (Marian's source.spm/target.spm are not read); save the tokenizer with a fast tokenizer's save_pretrained, or ${WRITE_MANIFEST}.`);
  }
  const configs = [record(f.generationConfig), record(f.config)];
  const start = configValue(configs, ['decoder_start_token_id'], tokenId) ?? configValue(configs, ['pad_token_id'], tokenId);
  const eos = configValue(configs, ['eos_token_id'], tokenId);
  if (start === undefined || eos === undefined) {
    const missing = start === undefined ? 'decoder_start_token_id (or pad_token_id)' : 'eos_token_id';
    return fail(`${f.folderName}'s ${names.has('config.json') ? 'config.json' : 'folder has no config.json, so it'} gives no ${missing}; add it to config.json or ${WRITE_MANIFEST}.`);
  }
  const newTokens = configValue(configs, ['max_new_tokens'], positive);
  const maxLength = configValue(configs, ['max_length'], positive);
  const maxTargetLength = Math.min(MAX_TARGET_LENGTH, newTokens ?? (maxLength !== undefined ? Math.max(1, maxLength - 1) : DEFAULT_TARGET_LENGTH));
  const sourceLength = configValue([record(f.config)], ['max_position_embeddings', 'n_positions'], positive) ?? DEFAULT_SOURCE_LENGTH;

  const tokenizer = { type: 'hf', file: 'tokenizer.json' } as const;
  const io: Seq2SeqIO = {
    encoder: { ids: ENCODER_INPUTS.ids, outputs: ENCODER_OUTPUT, ...(encNames.has(ENCODER_INPUTS.mask) ? { mask: ENCODER_INPUTS.mask } : {}) },
    decoder: {
      tokens: DECODER_INPUTS.tokens, tokensMode: 'prefix', encoderOut: DECODER_INPUTS.encoderOut,
      ...(decNames.has(DECODER_INPUTS.srcMask) ? { srcMask: DECODER_INPUTS.srcMask } : {}), logits: DECODER_OUTPUT,
    },
    targetTokenizer: tokenizer, bos: start, eos, maxTargetLength,
  };
  const unused = [layout.decoderWithPast, layout.decoder ? layout.merged : undefined].filter((x): x is string => x !== undefined);
  const note = `${layout.encoder} + ${decoderFile}${layout.decoder ? '' : ' (the branch without the cache)'}, paired from their file names; ` +
    `each step runs the decoder over the whole prefix${unused.length ? ` (${unused.join(' and ')} not used)` : ''}.`;
  const modelType = configValue([record(f.config)], ['model_type'], (v) => (typeof v === 'string' ? v : undefined));
  const json = {
    name: f.folderName,
    description: `Encoder-decoder${modelType ? ` (${modelType})` : ''} exported in separate files: ${note}`,
    architecture: 'transformer-encoder-decoder',
    task: 'seq2seq',
    files: { encoder: layout.encoder, decoder: decoderFile },
    tokenizer, maxLength: sourceLength, io,
  };
  try {
    return { ok: true, manifest: parseManifest(json), layout, note };
  } catch (e) {
    return fail(e instanceof SeqLensError ? e.message : String(e));
  }
}
