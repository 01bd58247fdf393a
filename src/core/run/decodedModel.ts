/**
 * A model's .onnx files decoded once, and what the graphs alone give, each found once: the probe plan
 * per instrumentation variant and the instrumented bytes, the logit-lens projection, the positional-
 * encoding source and the inspector's analysis. No sessions and no tokenizers: LoadedModel owns those.
 */
import type { InferenceBackend } from './backend.js';
import type { AttentionStream, ProbePlan } from '../types.js';
import type { CellReadout } from '../probes/recurrentProbes.js';
import { decodeModel, type ModelProto } from '../onnx/decode.js';
import { inlineLocalFunctions } from '../onnx/localFunctions.js';
import { summarize, tensorSummary, type ModelSummary, type TensorSummary } from '../onnx/summarize.js';
import { applyDelta, emptyDelta, mergeDeltas, type GraphDelta } from '../onnx/graphDelta.js';
import { planProbes } from '../probes/planProbes.js';
import { analyzeGraph } from '../probes/analyzeGraph.js';
import { inspectDecoded, type ModelInspection } from '../inspect.js';
import { graphBlocks, type ModelPicture } from '../graphBlocks.js';
import { projectionBytes, resolveOutputProjection } from '../trace/outputProjection.js';
import type { OutputProjection } from '../trace/predictions.js';
import { findPositionalSource, type PositionalSource } from '../trace/positionalSource.js';
import { SeqLensError } from '../errors.js';
import { graphInputs } from './feeds.js';
import type { FileKey, ModelBytes } from './modelFiles.js';
import { now, type OneTimeCosts } from './runSteps.js';

/** How many times each costly step ran: each once per model (plans, instruments and sessions: once per backend kind). */
export interface ModelStats {
  decodes: number;
  plans: number;
  instruments: number;
  sessions: number;
  tokenizers: number;
  positionalSearches: number;
  lensResolves: number;
}

export interface ModelFile {
  key: FileKey;
  /** Path relative to the model's folder ('' for bytes handed in without one). */
  rel: string;
  displayName: string;
  role?: 'encoder' | 'decoder';
  bytes: Uint8Array;
  model: ModelProto;
  /** Graph inputs of the original model (names, element types, symbolic shapes). */
  inputs: TensorSummary[];
  /** Graph outputs of the original model, before instrumentation. */
  outputs: TensorSummary[];
}

/** What instrumentation a backend runs; `tensors`: tensors the user asked to probe by name. */
export interface Variant { cellVia: CellReadout; pooledAttention: boolean; tensors?: readonly string[] }

export const DEFAULT_VARIANT: Variant = { cellVia: 'scan', pooledAttention: true };

export function variantFor(backend: InferenceBackend): Variant {
  // onnxruntime-web's WebGPU LSTM has no Affine activation: read the cell state through Relu there.
  // The pooled attention overviews made its runs 2.5× slower (measured on the zoo Transformer): not there.
  return backend.name === 'webgpu' ? { cellVia: 'relu-pair', pooledAttention: false } : DEFAULT_VARIANT;
}

/** The model's own final norm and output projection, which the logit lens pushes every hidden state through. */
export interface ModelLens {
  /** Views into the model's bytes, shared by every run of the model. */
  projection: OutputProjection;
  stream?: AttentionStream;
}

/** One file's inspection (summary, architecture with evidence, the plan), or why its analysis failed. */
export interface FileInspection {
  key: string;
  summary: ModelSummary;
  inspection?: ModelInspection;
  /** The picture of the graph's blocks (core/graphBlocks.ts); absent when it could not be drawn (see `pictureError`). */
  picture?: ModelPicture;
  pictureError?: string;
  error?: string;
}

/** The memo key of a list of requested tensor names (order does not matter). */
export function tensorsKey(tensors: readonly string[] | undefined): string {
  return tensors?.length ? JSON.stringify([...new Set(tensors)].sort()) : '';
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A value computed once, its failure included (a second call throws the same error without trying again). */
function once<T>(memo: { value?: T; error?: unknown } | undefined, make: () => T): { value?: T; error?: unknown } {
  if (memo) return memo;
  try {
    return { value: make() };
  } catch (e) {
    return { error: e };
  }
}

export class DecodedModel {
  readonly files: ModelFile[];
  private readonly plans = new Map<string, { plan: ProbePlan; delta: GraphDelta }>();
  private positionalMemo?: { value?: PositionalSource; error?: unknown };
  private lensMemo?: { value?: ModelLens; error?: unknown };

  constructor(read: ModelBytes, readonly name: string, private readonly stats: ModelStats, private readonly costs: OneTimeCosts) {
    const t0 = now();
    this.files = read.files.map((f) => {
      const role = f.key === 'model' ? undefined : f.key;
      const displayName = role ? `${name} ${role} (${f.rel})` : name;
      const decoded = decodeModel(f.bytes, displayName);
      // Calls of local functions are expanded once: plan, instrumentation and session read the expanded graph.
      const inlined = inlineLocalFunctions(decoded, displayName);
      const model = inlined?.model ?? decoded;
      stats.decodes++;
      return {
        key: f.key, rel: f.rel, displayName, role, bytes: inlined?.bytes ?? f.bytes, model,
        inputs: graphInputs(model), outputs: (model.graph?.output ?? []).map(tensorSummary),
      };
    });
    costs.add('decode', now() - t0);
  }

  has(key: FileKey): boolean {
    return this.files.some((f) => f.key === key);
  }

  file(key: FileKey): ModelFile {
    const f = this.files.find((x) => x.key === key);
    if (!f) throw new SeqLensError('bad-manifest', `${this.name} has no ${key} file.`);
    return f;
  }

  /** The file's probe plan and graph delta for this instrumentation variant, built once. */
  plan(file: ModelFile, v: Variant): { plan: ProbePlan; delta: GraphDelta } {
    const key = `${file.key}|${v.cellVia}|${v.pooledAttention}|${tensorsKey(v.tensors)}`;
    let p = this.plans.get(key);
    if (!p) {
      const t0 = now();
      p = planProbes(file.model, { role: file.role, recurrent: { cellVia: v.cellVia }, pooledAttention: v.pooledAttention, tensors: v.tensors });
      this.stats.plans++;
      this.costs.add('plan', now() - t0);
      this.plans.set(key, p);
    }
    return p;
  }

  /** A plan of this file that exists already (the lens is the same in every variant), else the default one. */
  private anyPlan(file: ModelFile): ProbePlan {
    for (const [k, p] of this.plans) if (k.startsWith(`${file.key}|`)) return p.plan;
    return this.plan(file, DEFAULT_VARIANT).plan;
  }

  /** The file's bytes with the variant's probes (and a one-file model's positional encoding) as extra outputs. */
  instrumented(file: ModelFile, v: Variant): Uint8Array {
    const { delta } = this.plan(file, v);
    const t0 = now();
    // The positional-encoding subgraph's output rides along in the same session (no second session for it).
    const pos = file.key === 'model' ? this.sinusoidTensor() : undefined;
    const full = pos ? mergeDeltas(delta, { ...emptyDelta(), outputs: [pos] }) : delta;
    const bytes = applyDelta(file.bytes, full, file.outputs.map((o) => o.name), file.model.opsetImport.map((o) => o.domain));
    this.stats.instruments++;
    this.costs.add('instrument', now() - t0);
    // Nothing to add gives the original bytes back; onnxruntime-web's worker takes over (detaches) the
    // buffer it is handed, and the decoded model and the lens read theirs: hand it a copy.
    return bytes === file.bytes ? file.bytes.slice() : bytes;
  }

  /** The sinusoidal subgraph's output tensor, if the model has one (undefined also when the search failed). */
  sinusoidTensor(): string | undefined {
    try {
      const src = this.positionalSource();
      return src?.kind === 'sinusoid' ? src.tensor : undefined;
    } catch {
      return undefined;
    }
  }

  /** Summary, architecture evidence and probe plan of every file (the inspector). */
  inspect(): FileInspection[] {
    return this.files.map((f): FileInspection => {
      try {
        const plan = this.plan(f, DEFAULT_VARIANT).plan;
        const inspection = inspectDecoded(f.model, f.bytes.byteLength, f.key, f.role ? { role: f.role } : {}, plan);
        try {
          const picture = graphBlocks(f.model, plan, { ...(f.role ? { role: f.role } : {}), evidence: inspection.architecture });
          return { key: f.key, summary: inspection.summary, inspection, picture };
        } catch (e) {
          return { key: f.key, summary: inspection.summary, inspection, pictureError: `The picture of the model could not be drawn: ${message(e)}` };
        }
      } catch (e) {
        return { key: f.key, summary: summarize(f.model, f.bytes.byteLength), error: message(e) };
      }
    });
  }

  /** The one-file model's positional encoding source, searched once (undefined: none found). */
  positionalSource(): PositionalSource | undefined {
    this.positionalMemo = once(this.positionalMemo, () => {
      this.stats.positionalSearches++;
      const f = this.file('model');
      // The planner's index of the graph (analyzeGraph keeps one per decoded model), not a new one.
      return findPositionalSource(f.model, analyzeGraph(f.model, {}).index);
    });
    if (this.positionalMemo.error) throw this.positionalMemo.error;
    return this.positionalMemo.value;
  }

  /** The float32 size of the logit lens's output projection, from its dims alone (undefined: no lens, or not found). */
  lensBytes(): number | undefined {
    const f = this.file('model');
    const lens = this.anyPlan(f).logitLens;
    return lens && projectionBytes(f.model, lens);
  }

  /** The logit lens of a one-file model, resolved to numbers once (undefined: the plan found none). */
  lens(): ModelLens | undefined {
    this.lensMemo = once(this.lensMemo, () => {
      this.stats.lensResolves++;
      const f = this.file('model');
      const lens = this.anyPlan(f).logitLens;
      return lens ? { projection: resolveOutputProjection(f.model, lens), ...(lens.stream ? { stream: lens.stream } : {}) } : undefined;
    });
    if (this.lensMemo.error) throw this.lensMemo.error;
    return this.lensMemo.value;
  }
}
