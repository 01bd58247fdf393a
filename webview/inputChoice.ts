/**
 * What the inspector's "Try it" offers, decided from the inspection alone (no DOM, tested in Node):
 * a text box for a model that takes text (token ids and their companions, or a manifest that says how
 * to feed it), one .npy file per input for a model whose inputs are not text (images, audio frames,
 * features), and nothing, with the reason, where no run is possible from the inspector.
 */
import type { ClassifiedInput, NamedDim } from '../src/core/inputKinds.js';
import type { InspectInfo } from './runtime/inspectModel.js';

export type TryItChoice =
  | { mode: 'text' }
  | {
      mode: 'arrays';
      /** Every input, with its role (the filled ones are named as such). */
      inputs: ClassifiedInput[];
      /** The inputs a file is asked for, in graph order. */
      toGive: ClassifiedInput[];
      namedDims: NamedDim[];
      /** Set for a model with token ids beside other inputs: why the ids are an array too. */
      note?: string;
    }
  | { mode: 'none'; why: string };

export function tryItChoice(info: InspectInfo): TryItChoice {
  // A manifest says how to feed the model (its ids input, an encoder-decoder's two files): text.
  if (info.manifest) return { mode: 'text' };
  if (info.files.length !== 1) return { mode: 'text' };
  const f = info.files[0]!;
  if (f.error) return { mode: 'none', why: f.error };
  const inputs = f.inputs;
  // Inspected by an older page without classification: the text box, as before.
  if (!inputs || inputs.kind === 'text') return { mode: 'text' };
  const toGive = inputs.inputs.filter((i) => inputs.toGive.includes(i.name));
  if (!toGive.length) return { mode: 'none', why: 'The model has no input to give.' };
  return {
    mode: 'arrays', inputs: inputs.inputs, toGive, namedDims: inputs.namedDims,
    ...(inputs.kind === 'mixed' ? {
      note: 'This graph takes token ids beside inputs that are not text (one step of an encoder-decoder, or a multimodal model): ' +
        'give every input as a .npy array, or describe the model with a <model>.seqlens.json manifest to run it on text.',
    } : {}),
  };
}

/** How an input's role reads on the page. */
export function roleText(i: ClassifiedInput): string {
  switch (i.role) {
    case 'token-ids': return 'token ids';
    case 'attention-mask': return 'mask (filled with ones)';
    case 'token-type-ids': return 'token types (filled with zeros)';
    case 'position-ids': return 'positions (filled 0, 1, 2, …)';
    case 'past': return 'key/value cache (fed empty)';
    case 'cache-flag': return 'cache flag (fed false)';
    case 'tensor': return 'array you give (.npy)';
  }
}
