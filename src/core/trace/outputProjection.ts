/**
 * Turns the plan's LogitLens (initializer names) into the numbers the logit lens multiplies by:
 * the output projection, its bias and the final norm's scale/bias, read from the decoded model.
 * Weights that are Constant nodes instead of initializers are found too.
 */
import { SeqLensError } from '../errors.js';
import type { GraphProto, ModelProto, TensorProto } from '../onnx/decode.js';
import { tensorToFloat32 } from '../onnx/tensorData.js';
import type { LogitLens } from '../types.js';
import { dequantizeWeight, type ConstantValues } from '../onnx/dequantize.js';
import type { OutputProjection } from './predictions.js';

function findTensor(graph: GraphProto, name: string): TensorProto | undefined {
  const init = graph.initializer.find((t) => t.name === name);
  if (init) return init;
  for (const node of graph.node) {
    if (node.opType === 'Constant' && node.output[0] === name) {
      const value = node.attribute.find((a) => a.name === 'value')?.t;
      if (value) return value;
    }
  }
  return undefined;
}

/** The output projection's size as float32 (what resolveOutputProjection would make of it), from its dims. */
export function projectionBytes(model: ModelProto, lens: LogitLens): number | undefined {
  const t = model.graph && findTensor(model.graph, lens.weight);
  return t ? t.dims.reduce((n, d) => n * Number(d), 4) : undefined;
}

export function resolveOutputProjection(model: ModelProto, lens: LogitLens): OutputProjection {
  const graph = model.graph;
  if (!graph) throw new SeqLensError('unsupported', 'The model has no graph.');
  const read = (name: string, what: string): ConstantValues => {
    const t = findTensor(graph, name);
    if (!t) throw new SeqLensError('unsupported', `Logit lens: the ${what} "${name}" is not a constant of this graph.`);
    return { dims: t.dims.map(Number), data: tensorToFloat32(t), dataType: t.dataType };
  };
  // int8/4-bit heads: the integer weight dequantized the way the model's own op does it.
  const weight = lens.quantized
    ? dequantizeWeight(lens.quantized, (name) => read(name, 'quantized output projection part'))
    : read(lens.weight, 'output projection');
  if (weight.dims.length !== 2) throw new SeqLensError('unsupported', `Logit lens: the output projection "${lens.weight}" is ${weight.dims.length}-D, not a matrix.`);
  const norm = lens.finalNorm;
  return {
    weight,
    transposed: lens.transposed,
    ...(lens.bias ? { bias: read(lens.bias, 'output bias').data } : {}),
    ...(norm
      ? {
          norm: {
            kind: norm.kind,
            ...(norm.epsilon !== undefined ? { epsilon: norm.epsilon } : {}),
            ...(norm.scale ? { scale: read(norm.scale, 'final norm scale').data } : {}),
            ...(norm.bias ? { bias: read(norm.bias, 'final norm bias').data } : {}),
          },
        }
      : {}),
  };
}
