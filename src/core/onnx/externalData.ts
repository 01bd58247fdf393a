/**
 * Weights outside the .onnx file (data_location = EXTERNAL), named as a user thinks of them: "weights in
 * 1 file (model.onnx_data), 1.2 GB" or "weights in 243 files, 0.5 GB" (the torch layout with one file
 * per tensor), never a list of every file. Sizes come from the graph alone (each tensor's `length`, else
 * its dims × element size): inspection reads no weight file. A file that is missing when a run needs it is
 * one sentence naming it and what to do.
 */
import { onnx, type GraphProto, type ModelProto, type TensorProto } from './decode.js';
import { SeqLensError } from '../errors.js';

const DT = onnx.TensorProto.DataType;

/** Bytes per element of the types weights come in (4-bit types: half a byte). */
const ELEMENT_BYTES: Record<number, number> = {
  [DT.FLOAT]: 4, [DT.FLOAT16]: 2, [DT.BFLOAT16]: 2, [DT.DOUBLE]: 8, [DT.INT64]: 8, [DT.INT32]: 4, [DT.UINT32]: 4,
  [DT.INT16]: 2, [DT.UINT16]: 2, [DT.INT8]: 1, [DT.UINT8]: 1, [DT.BOOL]: 1, [DT.UINT64]: 8,
};

export interface ExternalDataSummary {
  /** Distinct files, in the order the graph first names them. */
  files: string[];
  tensors: number;
  /** Bytes the graph says those files hold for it. */
  bytes: number;
  /** "weights in 1 file (model.onnx_data), 1.2 GB" / "weights in 243 files, 0.5 GB". */
  text: string;
}

function externalBytes(t: TensorProto): number {
  const length = Number(t.externalData.find((e) => e.key === 'length')?.value);
  if (Number.isSafeInteger(length) && length >= 0) return length;
  const count = t.dims.reduce((a, d) => a * Number(d), 1);
  const width = ELEMENT_BYTES[t.dataType] ?? (t.dataType === DT.INT4 || t.dataType === DT.UINT4 ? 0.5 : 0);
  return Number.isFinite(count) ? Math.ceil(count * width) : 0;
}

/** "1.2 GB", "340 MB", "12 KB" (decimal units, as file managers show sizes). */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  if (u === 0) return `${n} bytes`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** What the model keeps outside itself; undefined when every weight is inside the .onnx file. */
export function externalDataSummary(model: ModelProto): ExternalDataSummary | undefined {
  const files = new Set<string>();
  let tensors = 0;
  let bytes = 0;
  const visit = (g: GraphProto | null | undefined): void => {
    if (!g) return;
    for (const t of g.initializer) {
      if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
      files.add(t.externalData.find((e) => e.key === 'location')?.value ?? '?');
      tensors++;
      bytes += externalBytes(t);
    }
    for (const n of g.node) for (const a of n.attribute) { visit(a.g); a.graphs.forEach(visit); }
  };
  visit(model.graph);
  if (!tensors) return undefined;
  const list = [...files];
  const where = list.length === 1 ? `1 file (${list[0]})` : `${list.length} files`;
  return { files: list, tensors, bytes, text: `weights in ${where}, ${formatBytes(bytes)}` };
}

/** The error for external data file `location` missing beside `modelName` (one of `count` files the model names). */
export function missingExternalFile(modelName: string, location: string, count: number): SeqLensError {
  const which = count > 1 ? `one of its ${count} external data files` : 'its external data file';
  return new SeqLensError('external-data',
    `${modelName} keeps its weights outside the .onnx and ${which}, "${location}", is missing beside it: ` +
    `put "${location}" back in the folder of ${modelName} (where the exporter wrote it), or export the model again with its weights inside.`);
}
