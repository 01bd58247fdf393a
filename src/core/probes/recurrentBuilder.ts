/**
 * Emits the small nodes the recurrent probes add, with unique `seqlens/...` names, and hides the
 * opset differences they meet (Unsqueeze/Squeeze axes as attribute before opset 13, Clip min/max as
 * attributes before opset 11). Everything added is plain default-domain ONNX.
 */
import { onnx } from '../onnx/onnxProto.js';
import { int64Tensor, floatTensor, makeNode } from '../onnx/graphDelta.js';

type Attrs = Record<string, number | number[] | string | onnx.IGraphProto>;

/** Largest int64 that Slice accepts as "to the end" (protobufjs writes JS numbers as int64 fine). */
const TO_END = Number.MAX_SAFE_INTEGER;

export class RecurrentBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();

  constructor(readonly prefix: string, readonly opset: number) {}

  fresh(tag: string): string {
    return `${this.prefix}/${tag}_${this.counter++}`;
  }

  /** Adds one node and returns its first output's name (or the given output names). */
  op(opType: string, inputs: string[], attrs: Attrs = {}, opts: { out?: string; floatAttrs?: string[] } = {}): string {
    const out = opts.out ?? this.fresh(opType);
    this.nodes.push(makeNode(opType, inputs, [out], `${out}/node`, attrs, { floatAttrs: opts.floatAttrs }));
    return out;
  }

  /** A node with several outputs, named by the caller. */
  opMulti(opType: string, inputs: string[], outputs: string[], attrs: Attrs = {}): void {
    this.nodes.push(makeNode(opType, inputs, outputs, `${outputs[0] ?? this.fresh(opType)}/node`, attrs));
  }

  i64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join(',')}:${values.join(',')}`;
    const have = this.constCache.get(key);
    if (have) return have;
    const name = this.fresh('const');
    this.initializers.push(int64Tensor(name, values, dims));
    this.constCache.set(key, name);
    return name;
  }

  f32(value: number): string {
    const key = `f32:${value}`;
    const have = this.constCache.get(key);
    if (have) return have;
    const name = this.fresh('const');
    this.initializers.push(floatTensor(name, [value], []));
    this.constCache.set(key, name);
    return name;
  }

  /** x[start:end] along one axis (Slice with inputs: opset 10+). `end` undefined = to the end. */
  slice(x: string, start: number, end: number | undefined, axis: number): string {
    return this.op('Slice', [x, this.i64([start]), this.i64([end ?? TO_END]), this.i64([axis])]);
  }

  unsqueeze(x: string, axes: number[]): string {
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.i64(axes)]) : this.op('Unsqueeze', [x], { axes });
  }

  squeeze(x: string, axes: number[]): string {
    return this.opset >= 13 ? this.op('Squeeze', [x, this.i64(axes)]) : this.op('Squeeze', [x], { axes });
  }

  /** Takes index `i` along `axis` and drops that axis. */
  pick(x: string, i: number, axis: number): string {
    return this.op('Gather', [x, this.i64([i], [])], { axis });
  }

  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm });
  }

  clip(x: string, limit: number): string {
    if (this.opset >= 11) return this.op('Clip', [x, this.f32(-limit), this.f32(limit)]);
    return this.op('Clip', [x], { min: -limit, max: limit }, { floatAttrs: ['min', 'max'] });
  }

  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
}
