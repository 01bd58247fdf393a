/**
 * Just enough of the protobuf wire format to damage ONNX files where a decoder is most exposed: the
 * length prefix of a nested field (claimed lengths), duplicated and removed fields at any depth, and
 * subgraphs nested thousands deep (written directly, since an encoder would recurse as deeply).
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** One field of a message: [start, end) is the whole field; [dataStart, end) its payload. */
export interface WireField {
  field: number;
  wire: number;
  start: number;
  /** Where the length varint starts (LEN fields) or the value starts (others). */
  valueStart: number;
  dataStart: number;
  end: number;
}

/** A LEN field and the LEN fields that contain it, outermost first. */
export interface NestedField {
  field: WireField;
  ancestors: WireField[];
  depth: number;
}

export function readVarint(b: Uint8Array, pos: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= end) return undefined;
    const byte = b[pos + i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return { value, next: pos + i + 1 };
  }
  return undefined;
}

export function encodeVarint(v: bigint | number): Uint8Array {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    let byte = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) byte |= 0x80;
    out.push(byte);
  } while (x > 0n);
  return Uint8Array.from(out);
}

export function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export function tag(field: number, wire: number): Uint8Array {
  return encodeVarint(field * 8 + wire);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function lenField(field: number, payload: Uint8Array): Uint8Array {
  return concat([tag(field, WIRE_LEN), encodeVarint(payload.length), payload]);
}

export function stringField(field: number, s: string): Uint8Array {
  return lenField(field, new TextEncoder().encode(s));
}

export function varintField(field: number, v: number): Uint8Array {
  return concat([tag(field, WIRE_VARINT), encodeVarint(v)]);
}

/** The fields of b[start, end) when they parse cleanly as a message, else undefined. */
export function scanFields(b: Uint8Array, start: number, end: number): WireField[] | undefined {
  const fields: WireField[] = [];
  let pos = start;
  while (pos < end) {
    const t = readVarint(b, pos, end);
    if (!t) return undefined;
    const field = Math.floor(t.value / 8);
    const wire = t.value % 8;
    if (field === 0 || field > 536870911) return undefined;
    const valueStart = t.next;
    let dataStart = valueStart;
    let next: number;
    if (wire === WIRE_VARINT) {
      const v = readVarint(b, valueStart, end);
      if (!v) return undefined;
      next = v.next;
    } else if (wire === WIRE_I64) {
      next = valueStart + 8;
    } else if (wire === WIRE_I32) {
      next = valueStart + 4;
    } else if (wire === WIRE_LEN) {
      const len = readVarint(b, valueStart, end);
      if (!len) return undefined;
      dataStart = len.next;
      next = dataStart + len.value;
    } else {
      return undefined;
    }
    if (next > end) return undefined;
    fields.push({ field, wire, start: pos, valueStart, dataStart, end: next });
    pos = next;
  }
  return fields;
}

/**
 * Every LEN field down to `maxDepth` levels of messages. A payload counts as a message when it parses
 * cleanly (strings and weights rarely do); at most `limit` fields are listed.
 */
export function nestedFields(b: Uint8Array, maxDepth = 6, limit = 20000): NestedField[] {
  const out: NestedField[] = [];
  const walk = (start: number, end: number, ancestors: WireField[]): void => {
    const fields = scanFields(b, start, end);
    if (!fields) return;
    for (const f of fields) {
      if (out.length >= limit) return;
      if (f.wire !== WIRE_LEN) continue;
      out.push({ field: f, ancestors, depth: ancestors.length });
      // Short payloads are names and strings far more often than messages.
      if (ancestors.length + 1 < maxDepth && f.end - f.dataStart >= 2) walk(f.dataStart, f.end, [...ancestors, f]);
    }
  };
  walk(0, b.length, []);
  return out;
}

/**
 * Replaces b[from, to) with `replacement` and rewrites the length prefix of every ancestor (outermost
 * first) so that the damage sits exactly where it was put, inside otherwise consistent messages.
 */
export function replaceNested(b: Uint8Array, ancestors: readonly WireField[], from: number, to: number, replacement: Uint8Array): Uint8Array {
  let segment = replacement;
  let segFrom = from;
  let segTo = to;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const a = ancestors[i]!;
    const data = concat([b.subarray(a.dataStart, segFrom), segment, b.subarray(segTo, a.end)]);
    segment = concat([b.subarray(a.start, a.valueStart), encodeVarint(data.length), data]);
    segFrom = a.start;
    segTo = a.end;
  }
  return concat([b.subarray(0, segFrom), segment, b.subarray(segTo)]);
}

export type NestOp = 'If' | 'Loop' | 'Scan';

/**
 * A GraphProto payload holding one `op` node whose subgraph attribute holds another such graph,
 * `depth` times, with `bottom` (a GraphProto payload) innermost. Lengths are computed inside out
 * first and the bytes written once, so the cost is linear in depth.
 */
export function nestedGraphs(bottom: Uint8Array, depth: number, op: NestOp, viaGraphsList: boolean): Uint8Array {
  const attrName = op === 'If' ? 'then_branch' : 'body';
  // NodeProto: input=1, output=2, name=3, op_type=4, attribute=5. AttributeProto: name=1, g=6, graphs=11, type=20.
  // GraphProto: node=1, name=2.
  const nodeHead = concat([stringField(1, 'cond'), stringField(2, 'nested_out'), stringField(4, op)]);
  const attrHead = concat([stringField(1, attrName), varintField(20, viaGraphsList ? 10 : 5)]);
  const graphTail = stringField(2, 'nested');
  const graphField = viaGraphsList ? 11 : 6;
  const prefixes: Uint8Array[] = [];
  let innerLength = bottom.length;
  for (let k = 0; k < depth; k++) {
    const attrLength = attrHead.length + tag(graphField, WIRE_LEN).length + varintLength(innerLength) + innerLength;
    const nodeLength = nodeHead.length + 1 + varintLength(attrLength) + attrLength;
    prefixes.push(concat([
      tag(1, WIRE_LEN), encodeVarint(nodeLength), nodeHead,
      tag(5, WIRE_LEN), encodeVarint(attrLength), attrHead,
      tag(graphField, WIRE_LEN), encodeVarint(innerLength),
    ]));
    innerLength = 1 + varintLength(nodeLength) + nodeLength + graphTail.length;
  }
  const parts: Uint8Array[] = [];
  for (let k = depth - 1; k >= 0; k--) parts.push(prefixes[k]!);
  parts.push(bottom);
  for (let k = 0; k < depth; k++) parts.push(graphTail);
  return concat(parts);
}
