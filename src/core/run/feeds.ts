/**
 * Building a model's inputs from token ids. With a manifest the input names are given; for any other
 * .onnx the token-id input is found from the graph (an integer input of rank 2 whose name says ids),
 * and the usual companions (attention mask, token type ids, position ids) are filled the way their
 * names say. An input nothing here understands is an error that names it, never a guess.
 */
import type { ElementType, HostTensor } from './backend.js';
import type { ModelProto } from '../onnx/decode.js';
import { tensorSummary, type TensorSummary } from '../onnx/summarize.js';
import { SeqLensError } from '../errors.js';
import { emptyPastDims, firstRunFlags, isPastInput } from '../cacheInputs.js';
import { floatToHalf } from '../onnx/float16.js';
import { MASK_NAME, POSITION_NAME, TYPE_IDS_NAME, type SingleInputs } from './sequenceInputs.js';

/** The model's real inputs (initializers that old exporters list as inputs are left out). */
export function graphInputs(model: ModelProto): TensorSummary[] {
  const graph = model.graph;
  if (!graph) return [];
  const init = new Set(graph.initializer.map((t) => t.name));
  return graph.input.filter((v) => !init.has(v.name)).map(tensorSummary);
}

function elementType(t: TensorSummary): ElementType {
  switch (t.type) {
    case 'int64': return 'int64';
    case 'int32': return 'int32';
    case 'bool': return 'bool';
    case 'float': return 'float32';
    case 'float16': return 'float16';
    case 'unknown': return 'int64';
    default:
      throw new SeqLensError('unsupported', `Input "${t.name}" has element type ${t.type}; Sequence Lens feeds int64, int32, bool or float inputs.`);
  }
}

/** A tensor of the input's element type from plain numbers. */
export function makeTensor(type: ElementType, dims: number[], values: ArrayLike<number>): HostTensor {
  switch (type) {
    case 'int64': return { type, dims, data: BigInt64Array.from(Array.from(values), (v) => BigInt(Math.trunc(v))) };
    case 'int32': return { type, dims, data: Int32Array.from(values) };
    case 'bool': return { type, dims, data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
    case 'float32': return { type, dims, data: Float32Array.from(values) };
    // float16 travels as its bits (an fp16 model's cache, mask or features), rounded to nearest even.
    case 'float16': return { type, dims, data: Uint16Array.from(values, floatToHalf) };
  }
}

/** A tensor for the named graph input, in that input's element type. */
export function feedFor(inputs: readonly TensorSummary[], name: string, dims: number[], values: ArrayLike<number>): HostTensor {
  const info = inputs.find((i) => i.name === name);
  return makeTensor(info ? elementType(info) : 'int64', dims, values);
}

/** A key/value cache to run with: `length` positions already seen, and the tensors for the cache inputs. */
export interface CacheFeed {
  length: number;
  tensors: Readonly<Record<string, HostTensor>>;
}

/**
 * Feeds for a one-file model run over `ids`: the ids, a mask of ones, and zeros / 0..n-1 for token type
 * and position inputs. Any other required input is reported by name. Without `cache` a model's cache
 * inputs are fed empty (a first run); with it they get its tensors, the mask covers past + new, positions
 * count on from the past and a use-cache flag is true (a continuation's later steps).
 */
export function singleFeeds(inputs: readonly TensorSummary[], io: SingleInputs, ids: readonly number[], cache?: CacheFeed): Record<string, HostTensor> {
  const n = ids.length;
  const past = cache?.length ?? 0;
  const ones = (): number[] => new Array<number>(past + n).fill(1);
  const feeds: Record<string, HostTensor> = { [io.ids]: feedFor(inputs, io.ids, [1, n], ids) };
  if (io.mask) feeds[io.mask] = feedFor(inputs, io.mask, [1, past + n], ones());
  const flags = firstRunFlags(inputs);
  for (const t of inputs) {
    if (t.name in feeds) continue;
    const flag = flags.get(t.name);
    if (flag) feeds[t.name] = makeTensor('bool', t.shape?.length ? t.shape.map(() => 1) : [], cache ? [1] : flag);
    else if (isPastInput(t)) feeds[t.name] = cache?.tensors[t.name] ?? emptyPast(t);
    else if (TYPE_IDS_NAME.test(t.name)) feeds[t.name] = feedFor(inputs, t.name, [1, n], new Array<number>(n).fill(0));
    else if (POSITION_NAME.test(t.name)) feeds[t.name] = feedFor(inputs, t.name, [1, n], Array.from({ length: n }, (_, i) => past + i));
    else if (MASK_NAME.test(t.name)) feeds[t.name] = feedFor(inputs, t.name, [1, past + n], ones());
    else {
      throw new SeqLensError('unsupported',
        `Input "${t.name}" (${t.type}[${(t.shape ?? []).join(',')}]) is neither token ids, mask, token types nor positions; ` +
        'describe the model with a <model>.seqlens.json manifest.');
    }
  }
  return feeds;
}

/**
 * The cache input of a first run: past length 0, batch 1, heads and head size from the graph. A
 * shape the graph leaves open is an error that names the input rather than a guessed tensor.
 */
export function emptyPast(t: TensorSummary): HostTensor {
  const dims = emptyPastDims(t);
  if (!dims) {
    throw new SeqLensError('unsupported',
      `Cache input "${t.name}" has shape [${(t.shape ?? []).map((d) => d ?? '?').join(', ')}], which does not say its heads and head size; ` +
      'Sequence Lens feeds an empty cache only when every axis but batch and past length is a number.');
  }
  return makeTensor(elementType(t), dims, []);
}

/** Zeros shaped like a graph input, with symbolic/unknown dims taken as 1 (batch of one). */
export function zerosFor(inputs: readonly TensorSummary[], name: string): HostTensor {
  const info = inputs.find((i) => i.name === name);
  const dims = (info?.shape ?? [1]).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const size = dims.reduce((a, b) => a * b, 1);
  return makeTensor(info ? elementType(info) : 'float32', dims, new Float32Array(size));
}
