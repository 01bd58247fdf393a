/**
 * What the host says about a model's bytes, from src/core's inspectModel (summary, architecture
 * with evidence, probe plan): the tree view's lines and the first check that turns a corrupt file
 * into a clear message. Pure (no vscode), so it is unit-tested on the real models.
 */
import type { Architecture, ProbePlan } from '../core/types.js';
import { inspectModel } from '../core/inspect.js';
import { describeError } from '../host/describeError.js';

export interface ModelInspection {
  /** 'unknown' when the bytes decode but the architecture is not recognised (or not yet detected). */
  architecture: Architecture;
  /** One line per fact: "inputs: ids int64 [batch, seq]", "12 Softmax", ... */
  facts: string[];
  /** What can be probed, e.g. "attention ×2 layers ×4 heads", "hidden states", "gates". */
  probes: string[];
  parameterCount?: number;
  /** Set when the file is not a usable ONNX model; the message says why, in the user's words. */
  error?: string;
}

function shapeText(shape: (number | string | null)[] | undefined): string {
  return shape ? `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '[?]';
}

/** "attention ×2 layers ×4 heads (decoder)", "hidden ×3", "gate ×4" from the core's probe plan. */
export function probeLines(plan: ProbePlan): string[] {
  const groups = new Map<string, { layers: Set<number>; heads?: number; count: number }>();
  for (const p of plan.probes) {
    const key = p.kind === 'attention' ? `attention (${p.stream === 'cross' ? 'cross' : `${p.stream ?? 'encoder'} self`})` : p.kind === 'gate' ? 'gates' : p.kind;
    const g = groups.get(key) ?? { layers: new Set<number>(), count: 0 };
    g.layers.add(p.layer);
    g.count += 1;
    if (p.heads) g.heads = p.heads;
    groups.set(key, g);
  }
  const names: Record<string, string> = { hidden: 'hidden states', cell: 'cell state', gates: 'gates', logits: 'logits' };
  return [...groups].map(([key, g]) => {
    const name = names[key] ?? key;
    if (key === 'logits') return name;
    const layers = `${g.layers.size} layer${g.layers.size === 1 ? '' : 's'}`;
    if (g.heads) return `${name}: ${layers} × ${g.heads} heads`;
    return `${name}: ${layers}${g.count > g.layers.size ? ` (${g.count} tensors)` : ''}`;
  });
}

/** Inspects ONNX bytes with the core (summary, architecture with evidence, probe plan); never throws. */
export function inspectOnnxBytes(bytes: Uint8Array, fileName: string): ModelInspection {
  try {
    const { summary, architecture, plan, warnings } = inspectModel(bytes, fileName);
    const facts = [
      ...architecture.evidence,
      ...summary.inputs.map((t) => `input ${t.name}: ${t.type} ${shapeText(t.shape)}`),
      ...summary.outputs.map((t) => `output ${t.name}: ${t.type} ${shapeText(t.shape)}`),
      `${summary.nodeCount} nodes, ${summary.parameterCount.toLocaleString('en-US')} parameters`,
      ...(summary.weightText ? [summary.weightText] : []),
      ...plan.unavailable.map((u) => `not exposed: ${u.what} (${u.reason})`),
      ...warnings,
    ];
    return { architecture: architecture.architecture, facts, probes: probeLines(plan), parameterCount: summary.parameterCount };
  } catch (e) {
    return { architecture: 'unknown', facts: [], probes: [], error: describeError(e) };
  }
}

