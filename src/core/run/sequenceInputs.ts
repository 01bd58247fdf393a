/**
 * Which inputs of a model are its token ids, mask, token types and positions, by name and shape: read from
 * the inputs' summaries alone, so the inspector's input list needs nothing that decodes a model.
 */
import type { TensorSummary } from '../onnx/summarize.js';
import { SeqLensError } from '../errors.js';

export const IDS_NAME = /(^|[_.])(input_?ids|ids|tokens?|src|source|x|input)$/i;
export const MASK_NAME = /attention_?mask|(^|[_.])mask$/i;
export const TYPE_IDS_NAME = /token_?type_?ids|segment_?ids/i;
export const POSITION_NAME = /position_?ids|positions?$/i;

const isInteger = (t: TensorSummary): boolean => ['int64', 'int32', 'unknown'].includes(t.type);
const isRank2 = (t: TensorSummary): boolean => t.shape === undefined || t.shape.length === 2;

export interface SingleInputs {
  ids: string;
  mask?: string;
  /** A fixed sequence length the graph requires, when the seq dimension is a number. */
  fixedLength?: number;
}

/** Finds the ids and mask inputs of a model that has no manifest. */
export function findSequenceInputs(inputs: readonly TensorSummary[], fileName: string): SingleInputs {
  const candidates = inputs.filter((t) => isInteger(t) && isRank2(t));
  const ids = candidates.find((t) => IDS_NAME.test(t.name) && !MASK_NAME.test(t.name) && !TYPE_IDS_NAME.test(t.name) && !POSITION_NAME.test(t.name))
    ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!ids) {
    const list = inputs.map((t) => `${t.name} ${t.type}[${(t.shape ?? []).join(',')}]`).join('; ');
    throw new SeqLensError('not-sequence-model',
      `${fileName} has no token-id input (an int64 [batch, seq] input such as "input_ids"); its inputs are: ${list || 'none'}.`);
  }
  const mask = inputs.find((t) => t !== ids && MASK_NAME.test(t.name) && isRank2(t));
  const seqDim = ids.shape?.[1];
  return { ids: ids.name, mask: mask?.name, fixedLength: typeof seqDim === 'number' ? seqDim : undefined };
}
