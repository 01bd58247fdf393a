/** Loads the probe dumps in test/fixtures/traceMath (see make.sh there) back into ProbeTensors. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FloatTensor } from '../../src/core/run/backend.js';
import { decodeNpy } from '../../src/core/trace/npy.js';
import type { ProbeTensor } from '../../src/core/trace/traceTypes.js';
import type { AxisRole, ProbeKind } from '../../src/core/types.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'traceMath');

export function npy(...path: string[]): FloatTensor {
  return decodeNpy(readFileSync(join(FIXTURES, ...path)));
}

interface DumpProbe {
  name: string;
  kind: ProbeKind;
  layer: number;
  stream?: 'encoder' | 'decoder' | 'cross';
  axes: (AxisRole | 'step')[];
  file: string;
}

export function loadDump(model: string): { probes: ProbeTensor[]; tokens: { id: number; text: string }[]; logits: FloatTensor } {
  const json = JSON.parse(readFileSync(join(FIXTURES, model, 'trace.json'), 'utf8')) as { probes: DumpProbe[]; tokens: { id: number; text: string }[] };
  const probes = json.probes.map((p): ProbeTensor => {
    const stepAxis = p.axes[0] === 'step';
    const axes = p.axes.filter((a): a is AxisRole => a !== 'step');
    return {
      probe: { name: p.name, kind: p.kind, layer: p.layer, axes, source: { op: '', node: '' }, ...(p.stream ? { stream: p.stream } : {}) },
      tensor: npy(model, p.file),
      ...(stepAxis ? { stepAxis: true } : {}),
    };
  });
  return { probes, tokens: json.tokens, logits: npy(model, 'logits.npy') };
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
