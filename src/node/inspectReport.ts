/**
 * `seqlens inspect`: what a model is (summary, architecture with its evidence) and what Sequence Lens
 * can expose (the probe plan), for each .onnx file of the model. The JSON form is what scripts read.
 */
import { inspectDecoded } from '../core/inspect.js';
import { decodeModel, type ModelProto } from '../core/onnx/decode.js';
import { detectArchitectureOfFiles } from '../core/architecture.js';
import type { ModelSummary } from '../core/onnx/summarize.js';
import type { ModelInputs } from '../core/inputKinds.js';
import type { ArchitectureEvidence, Architecture, Probe, Unavailable } from '../core/types.js';
import type { ModelOnDisk } from './modelLoader.js';

export interface InspectedFile {
  /** Manifest key ('model', 'encoder', 'decoder'). */
  key: string;
  path: string;
  summary: ModelSummary;
  architecture: ArchitectureEvidence;
  /** Text or arrays: the role of each input, and which a run on arrays needs files for. */
  inputs: ModelInputs;
}

export interface InspectJson {
  model: string;
  manifest?: string;
  /** The model's architecture: the manifest's when it states one, else the detected one. */
  architecture: Architecture;
  detectedArchitecture: Architecture;
  task?: string;
  files: InspectedFile[];
  probes: (Omit<Probe, 'file'> & { file: string })[];
  unavailable: (Unavailable & { file: string })[];
  warnings: string[];
  timings: { readMs: number; inspectMs: number };
}

/** The one verdict for several files: core's encoder + decoder rule, else the first file that says something. */
function combine(files: readonly InspectedFile[], models: ReadonlyMap<string, ModelProto>): Architecture {
  if (files.length === 1) return files[0].architecture.architecture;
  const encoder = models.get('encoder');
  const decoder = models.get('decoder');
  if (encoder && decoder) return detectArchitectureOfFiles({ encoder, decoder }).architecture;
  return files.map((f) => f.architecture.architecture).find((a) => a !== 'unknown') ?? 'unknown';
}

export async function inspectLoaded(loaded: ModelOnDisk): Promise<InspectJson> {
  const files: InspectedFile[] = [];
  const probes: InspectJson['probes'] = [];
  const unavailable: InspectJson['unavailable'] = [];
  const warnings: string[] = [];
  const models = new Map<string, ModelProto>();
  let readMs = 0;
  let inspectMs = 0;
  for (const [key, path] of Object.entries(loaded.onnxFiles)) {
    const t0 = performance.now();
    const bytes = await loaded.files(path);
    const t1 = performance.now();
    const role = key === 'encoder' || key === 'decoder' ? key : undefined;
    const model = decodeModel(bytes, path);
    models.set(key, model);
    const r = inspectDecoded(model, bytes.byteLength, path, role ? { role } : {});
    warnings.push(...r.warnings.map((w) => `${key}: ${w}`));
    inspectMs += performance.now() - t1;
    readMs += t1 - t0;
    files.push({ key, path, summary: r.summary, architecture: r.architecture, inputs: r.inputs });
    for (const p of r.plan.probes) probes.push({ ...p, file: key });
    for (const u of r.plan.unavailable) unavailable.push({ ...u, file: key });
  }
  const detected = combine(files, models);
  return {
    model: loaded.name,
    manifest: loaded.manifestPath,
    architecture: loaded.manifest?.architecture ?? detected,
    detectedArchitecture: detected,
    task: loaded.manifest?.task,
    files,
    probes,
    unavailable,
    warnings,
    timings: { readMs: Math.round(readMs * 10) / 10, inspectMs: Math.round(inspectMs * 10) / 10 },
  };
}

const mb = (n: number): string => `${(n / 1e6).toFixed(n < 1e6 ? 2 : 1)} MB`;

function dims(shape: readonly (number | string | null)[] | undefined): string {
  return shape ? `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '[?]';
}

export function formatInspect(r: InspectJson): string {
  const out: string[] = [];
  out.push(`${r.model}: ${r.architecture}${r.detectedArchitecture !== r.architecture ? ` (graph alone suggests ${r.detectedArchitecture})` : ''}${r.task ? `, task ${r.task}` : ''}`);
  for (const f of r.files) {
    const s = f.summary;
    out.push('');
    out.push(`${f.key}: ${f.path}`);
    out.push(`  ${mb(s.byteSize)}, ${s.parameterCount.toLocaleString('en-US')} parameters, ${s.nodeCount} nodes, ` +
      `opsets ${s.opsets.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(' ')}, producer ${s.producer.name || '?'} ${s.producer.version}`);
    for (const i of s.inputs) out.push(`  in  ${i.name}: ${i.type}${dims(i.shape)}`);
    for (const o of s.outputs) out.push(`  out ${o.name}: ${o.type}${dims(o.shape)}`);
    if (f.inputs.kind !== 'text') {
      out.push(`  takes arrays, not text: seqlens trace ${f.path} ${f.inputs.toGive.map((n) => `--input ${n}=FILE.npy`).join(' ')}`);
    }
    if (s.externalData) out.push(`  ${s.externalData.text}`);
    if (s.weightText) out.push(`  ${s.weightText}`);
    const a = f.architecture;
    out.push(`  architecture ${a.architecture}: ${a.layers} layer(s)${a.heads ? `, ${a.heads} heads` : ''}${a.hiddenSize ? `, hidden ${a.hiddenSize}` : ''}`);
    for (const e of a.evidence) out.push(`    - ${e}`);
    const top = Object.entries(s.opHistogram).sort((x, y) => y[1] - x[1]).slice(0, 10);
    out.push(`  ops: ${top.map(([op, n]) => `${op}×${n}`).join(' ')}`);
  }
  out.push('');
  out.push(`probes (${r.probes.length}):`);
  for (const p of r.probes) {
    const what = [p.kind, p.stream, `layer ${p.layer}`, p.heads ? `${p.heads} heads` : '', p.gate ? `gate ${p.gate}` : '']
      .filter(Boolean).join(', ');
    out.push(`  [${p.file}] ${what}: ${p.name} [${p.axes.join(', ')}] at ${p.source.op} ${p.source.node}` +
      `${p.postprocess && p.postprocess !== 'none' ? ` (${p.postprocess})` : ''}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.unavailable.length) {
    out.push('not exposed:');
    for (const u of r.unavailable) out.push(`  [${u.file}] ${u.what}: ${u.reason}${u.node ? ` (${u.node})` : ''}`);
  }
  return out.join('\n');
}
