/**
 * A run on tensors instead of text: the user gives one array per input that is not text (image
 * pixels, audio frames, features: .npy files), the run fills the rest (masks of ones, position ids,
 * an empty cache, the cache flag) as a text run would. The views then read the run over *positions*
 * along the sequence axis (`t0`, `t1`, ...): tokens with empty source spans, marked `position`.
 * Every mismatch (a missing input, a wrong rank, a size that contradicts the graph or another input)
 * is one sentence naming the input and what to give instead.
 */
import type { FloatTensor, HostTensor } from './backend.js';
import type { TensorSummary } from '../onnx/summarize.js';
import type { ProbeTensor, TokenSpan } from '../trace/traceTypes.js';
import { classifyInputs, describeInput } from '../inputKinds.js';
import { emptyPast, makeTensor } from './feeds.js';
import { SeqLensError } from '../errors.js';

export interface TensorRunInputs {
  feeds: Record<string, HostTensor>;
  /** Positions along the sequence axis of the first given input (the probes may say another count; see positionCount). */
  length: number;
  /** The given inputs as they were fed (batch axis added where the file had none). */
  given: { name: string; dims: number[] }[];
}

const BATCH = /batch|^n$|^b$/i;

function shapeText(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/** The element type a given array is fed as; only what can be converted from float32 exactly enough. */
function feedType(t: TensorSummary): 'float32' | 'float16' | 'int64' | 'int32' | 'bool' {
  switch (t.type) {
    case 'float': return 'float32';
    case 'float16': return 'float16';
    case 'int64': case 'unknown': return 'int64';
    case 'int32': return 'int32';
    case 'bool': return 'bool';
    default:
      throw new SeqLensError('unsupported',
        `Input "${t.name}" is ${t.type}; Sequence Lens feeds .npy data to float, float16, int64, int32 and bool inputs only.`);
  }
}

/** The axis that runs along the sequence: the first symbolic axis after the batch, else axis 1. */
function sequenceAxis(t: TensorSummary): number {
  const shape = t.shape ?? [];
  for (let i = 1; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d === 'string' && !BATCH.test(d)) return i;
  }
  return shape.length >= 2 ? 1 : 0;
}

/**
 * Feeds for a run on `given` arrays (by input name). `modelName` names the model in messages;
 * `inputFlag` is how the caller's user names a file for an input (the CLI: `--input NAME=FILE.npy`).
 */
export function tensorFeeds(inputs: readonly TensorSummary[], given: Readonly<Record<string, FloatTensor>>, modelName: string,
  inputFlag = (name: string): string => `a .npy file for "${name}"`): TensorRunInputs {
  const cls = classifyInputs(inputs);
  const byName = new Map(inputs.map((t) => [t.name, t]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      throw new SeqLensError('bad-input',
        `${modelName} has no input "${name}"; its inputs are ${inputs.map((t) => `${t.name} (${describeInput(t)})`).join(', ') || 'none'}.`);
    }
  }
  const missing = cls.toGive.filter((n) => !(n in given));
  if (missing.length) {
    const list = missing.map((n) => `${n} (${describeInput(byName.get(n)!)})`).join(', ');
    throw new SeqLensError('bad-input', `${modelName} needs ${missing.map(inputFlag).join(' and ')}: give one array per input, ${list}.`);
  }
  // Symbolic dims must agree across inputs (batch_size, frames); the first input that names one sets it.
  const bound = new Map<string, { size: number; input: string }>();
  const feeds: Record<string, HostTensor> = {};
  const fed: TensorRunInputs['given'] = [];
  for (const t of inputs) {
    const g = given[t.name];
    if (!g) continue;
    let dims = [...g.dims];
    const shape = t.shape;
    if (shape) {
      // A file saved without the batch axis ([frames, 40] for [batch, frames, 40]) is one example.
      if (dims.length === shape.length - 1 && shape.length >= 2 && (shape[0] === 1 || typeof shape[0] !== 'number')) dims = [1, ...dims];
      if (dims.length !== shape.length) {
        throw new SeqLensError('bad-input',
          `Input "${t.name}" takes ${describeInput(t)} (rank ${shape.length}); its array is ${shapeText(g.dims)} (rank ${g.dims.length}): save it with that shape.`);
      }
      shape.forEach((d, i) => {
        if (typeof d === 'number' && d > 0 && dims[i] !== d) {
          throw new SeqLensError('bad-input', `Input "${t.name}" takes ${describeInput(t)}; axis ${i} of its array ${shapeText(dims)} is ${dims[i]}, not ${d}.`);
        }
        if (typeof d !== 'string') return;
        const seen = bound.get(d);
        if (seen && seen.size !== dims[i]) {
          throw new SeqLensError('bad-input',
            `"${d}" is ${seen.size} in input "${seen.input}" but ${dims[i]} in input "${t.name}" (axis ${i} of ${shapeText(dims)}): the arrays must agree on it.`);
        }
        bound.set(d, { size: dims[i]!, input: t.name });
      });
    }
    if (dims.length && dims[0] !== 1 && shape && typeof shape[0] !== 'number') {
      throw new SeqLensError('bad-input',
        `Input "${t.name}" holds a batch of ${dims[0]} (${shapeText(dims)}); Sequence Lens runs one example at a time: save one, with batch size 1.`);
    }
    feeds[t.name] = makeTensor(feedType(t), dims, g.data);
    fed.push({ name: t.name, dims });
  }
  const first = cls.toGive.map((n) => byName.get(n)!).find((t) => (given[t.name]?.dims.length ?? 0) >= 1);
  const length = first ? (feeds[first.name]!.dims[sequenceAxis(first)] ?? 1) : 1;
  for (const c of cls.inputs) {
    if (c.name in feeds) continue;
    const t = byName.get(c.name)!;
    switch (c.role) {
      case 'attention-mask': feeds[c.name] = makeTensor(feedType(t), [1, length], new Array<number>(length).fill(1)); break;
      case 'token-type-ids': feeds[c.name] = makeTensor(feedType(t), [1, length], new Array<number>(length).fill(0)); break;
      case 'position-ids': feeds[c.name] = makeTensor(feedType(t), [1, length], Array.from({ length }, (_, i) => i)); break;
      case 'past': feeds[c.name] = emptyPast(t); break;
      case 'cache-flag': feeds[c.name] = makeTensor('bool', t.shape?.length ? t.shape.map(() => 1) : [], [0]); break;
      default:
        // classifyInputs puts every other input in toGive, which was checked above.
        throw new SeqLensError('bad-input', `${modelName} needs ${inputFlag(c.name)} (${describeInput(t)}).`);
    }
  }
  return { feeds, length, given: fed };
}

/** `n` synthetic tokens for positions along a tensor input: ids 0..n-1, labels t0..t{n-1}, empty source spans. */
export function positionTokens(n: number): TokenSpan[] {
  return Array.from({ length: n }, (_, i) => ({ id: i, text: `t${i}`, start: 0, end: 0, position: i }));
}

/**
 * How many positions the run's probes read: an attention probe's query axis, else a hidden state's
 * sequence axis (an image model's patches are not its pixels). Undefined when no probe says.
 */
export function positionCount(probes: readonly ProbeTensor[]): number | undefined {
  const at = (kind: string, axis: string): number | undefined => {
    for (const p of probes) {
      if (p.probe.kind !== kind || p.stepAxis) continue;
      const i = p.probe.axes.indexOf(axis as never);
      if (i >= 0 && p.tensor.dims.length === p.probe.axes.length) return p.tensor.dims[i];
    }
    return undefined;
  };
  return at('attention', 'query') ?? at('hidden', 'seq');
}
