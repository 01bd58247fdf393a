/**
 * What a model takes: text (token ids and their companions) or tensors the user must give (image
 * pixels, audio frames, features). Each graph input gets a role; the model is a text model when it has
 * a token-id input and nothing else it cannot fill itself. Text companions are the attention mask, token
 * type ids, position ids, a key/value cache (`past_key_values.*`, fed empty on a first run) and the
 * `use_cache_branch` flag: a run fills them. Any other input (a float input, an integer input that is
 * not ids) is a tensor the user gives, one .npy file each. Pure: reads TensorSummary only.
 */
import type { DimSummary, TensorSummary } from './onnx/summarize.js';
import { isPastInput, isUseCacheFlag } from './cacheInputs.js';
import { findSequenceInputs, MASK_NAME, POSITION_NAME, TYPE_IDS_NAME } from './run/sequenceInputs.js';

/**
 * 'token-ids': the ids a tokenizer gives; 'attention-mask', 'token-type-ids', 'position-ids': filled by a
 * run (ones, zeros, 0..n-1); 'past': a key/value cache (fed empty); 'cache-flag': `use_cache_branch`
 * (false); 'tensor': anything else, given by the user.
 */
export type InputRole = 'token-ids' | 'attention-mask' | 'token-type-ids' | 'position-ids' | 'past' | 'cache-flag' | 'tensor';

export interface ClassifiedInput {
  name: string;
  /** ONNX element type name ('float', 'int64', ...). */
  type: string;
  shape?: DimSummary[];
  role: InputRole;
}

/** A symbolic dimension (dim_param) and where the inputs use it. */
export interface NamedDim {
  name: string;
  uses: { input: string; axis: number }[];
}

export interface ModelInputs {
  /**
   * 'text': token ids and companions only (a text box runs it); 'tensors': no token-id input (a run takes
   * one .npy file per input to give); 'mixed': token ids beside inputs that are not text (an encoder's
   * hidden states, pixel values): a run takes files for all of those, the ids included.
   */
  kind: 'text' | 'tensors' | 'mixed';
  inputs: ClassifiedInput[];
  /** The inputs a tensor run needs a file for, in graph order; the others are filled by the run. */
  toGive: string[];
  namedDims: NamedDim[];
}

const INTEGER = new Set(['int64', 'int32', 'unknown']);
const TEXT_ROLES: ReadonlySet<InputRole> = new Set<InputRole>(['token-ids', 'attention-mask', 'token-type-ids', 'position-ids', 'past', 'cache-flag']);

function roleOf(t: TensorSummary, ids: string | undefined): InputRole {
  if (t.name === ids) return 'token-ids';
  if (isUseCacheFlag(t)) return 'cache-flag';
  if (isPastInput(t)) return 'past';
  const rank2 = t.shape === undefined || t.shape.length === 2;
  const intLike = INTEGER.has(t.type);
  if (rank2 && (intLike || t.type === 'bool' || t.type === 'float') && MASK_NAME.test(t.name)) return 'attention-mask';
  if (rank2 && intLike && TYPE_IDS_NAME.test(t.name)) return 'token-type-ids';
  if (rank2 && intLike && POSITION_NAME.test(t.name)) return 'position-ids';
  return 'tensor';
}

/** Roles of a model's graph inputs (initializers left out), and whether a text box can run it. */
export function classifyInputs(inputs: readonly TensorSummary[]): ModelInputs {
  let ids: string | undefined;
  try {
    // The rule a text run uses to find the ids: what it finds is what the page may offer text for.
    ids = findSequenceInputs(inputs, 'model').ids;
    // Its fallback (the one integer [batch, seq] input) may be an audio model's frame mask: not ids.
    if ([MASK_NAME, TYPE_IDS_NAME, POSITION_NAME].some((r) => r.test(ids ?? ''))) ids = undefined;
  } catch {
    ids = undefined;
  }
  const classified = inputs.map((t): ClassifiedInput => ({
    name: t.name, type: t.type, ...(t.shape ? { shape: t.shape } : {}), role: roleOf(t, ids),
  }));
  const others = classified.filter((c) => !TEXT_ROLES.has(c.role));
  const kind: ModelInputs['kind'] = ids === undefined ? 'tensors' : others.length ? 'mixed' : 'text';
  const toGive = classified.filter((c) => c.role === 'tensor' || (kind !== 'text' && c.role === 'token-ids')).map((c) => c.name);
  const dims = new Map<string, NamedDim>();
  for (const c of classified) {
    (c.shape ?? []).forEach((d, axis) => {
      if (typeof d !== 'string') return;
      const nd = dims.get(d) ?? { name: d, uses: [] };
      nd.uses.push({ input: c.name, axis });
      dims.set(d, nd);
    });
  }
  return { kind, inputs: classified, toGive, namedDims: [...dims.values()] };
}

/** `float [batch_size, frames, 40]`: an input as the inspector and messages name it. */
export function describeInput(t: { type: string; shape?: readonly DimSummary[] }): string {
  return `${t.type} ${t.shape ? `[${t.shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '(rank unknown)'}`;
}
