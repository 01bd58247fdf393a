/**
 * `seqlens trace --dump DIR`: DIR/trace.json (what was run and what each file holds) plus one .npy per
 * probe tensor, so the numbers can be checked in NumPy against another implementation.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProbeTensor, Trace } from '../core/trace/traceTypes.js';
import { encodeNpy } from '../core/trace/npy.js';
import { generatedLabels, tokenLabels, tokenRecord, type TokenRecord } from '../core/tokenize/tokenLabels.js';

export interface DumpedProbe {
  name: string;
  kind: string;
  layer: number;
  stream?: string;
  gate?: string;
  heads?: number;
  /** Axis meanings of the .npy, outermost first ('step' first for decoder probes stacked over steps). */
  axes: string[];
  shape: number[];
  file: string;
  /** Which .onnx of a multi-file model the probe comes from. */
  modelFile?: string;
  source: { op: string; node: string };
  postprocess?: string;
}

export interface TraceJson {
  model: string;
  architecture: string;
  backend: string;
  input: string;
  /** Each token's id, vocabulary entry (`text`), span, and the label views show (the text it covers, marked). */
  tokens: TokenRecord[];
  generated?: TokenRecord[];
  generatedText?: string;
  probes: DumpedProbe[];
  logits?: { shape: number[]; file: string };
  timings: Record<string, number>;
  warnings: string[];
}

function fileName(i: number, pt: ProbeTensor): string {
  const p = pt.probe;
  const parts = [String(i).padStart(3, '0'), p.kind, p.stream, `L${p.layer}`, p.gate].filter(Boolean);
  return `${parts.join('_').replace(/[^A-Za-z0-9_.-]/g, '-')}.npy`;
}

/** The trace.json object (without writing anything); `files` are the names the .npy files get. */
export function traceJson(trace: Trace): TraceJson {
  const probes: DumpedProbe[] = trace.probes.map((pt, i) => ({
    name: pt.probe.name,
    kind: pt.probe.kind,
    layer: pt.probe.layer,
    stream: pt.probe.stream,
    gate: pt.probe.gate,
    heads: pt.probe.heads,
    axes: pt.stepAxis ? ['step', ...pt.probe.axes] : [...pt.probe.axes],
    shape: [...pt.tensor.dims],
    file: fileName(i, pt),
    modelFile: pt.probe.file,
    source: pt.probe.source,
    postprocess: pt.probe.postprocess,
  }));
  const json: TraceJson = {
    model: trace.model,
    architecture: trace.architecture,
    backend: trace.backend,
    input: trace.input,
    tokens: tokenLabels(trace.input, trace.tokens).map(tokenRecord),
    probes,
    timings: Object.fromEntries(Object.entries(trace.timings).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    warnings: trace.warnings,
  };
  if (trace.generated) {
    json.generated = generatedLabels(trace.generated).map(tokenRecord);
    json.generatedText = trace.generated.filter((t) => t.end > t.start).map((t) => t.text).join('');
  }
  if (trace.logits) json.logits = { shape: [...trace.logits.dims], file: 'logits.npy' };
  return json;
}

export async function dumpTrace(trace: Trace, dir: string): Promise<TraceJson> {
  await mkdir(dir, { recursive: true });
  const json = traceJson(trace);
  for (let i = 0; i < trace.probes.length; i++) {
    await writeFile(join(dir, json.probes[i].file), encodeNpy(trace.probes[i].tensor));
  }
  if (trace.logits) await writeFile(join(dir, 'logits.npy'), encodeNpy(trace.logits));
  await writeFile(join(dir, 'trace.json'), JSON.stringify(json, null, 2) + '\n');
  return json;
}
