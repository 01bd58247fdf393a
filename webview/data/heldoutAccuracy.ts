/**
 * A seq2seq model's measured accuracy against source length, read from the `heldout.json` beside its
 * manifest (the zoo's date models carry one: tools/zoo/dates.py writes `accuracyByLength` over 3,000
 * held-out dates, the numbers docs/bottleneck.md tables). The Compare view draws it for the runs it
 * shows, so the bottleneck curve in the panel comes from the models' own data. The file is optional and
 * untrusted: anything that is not the expected shape is ignored.
 */
import type { ModelRef } from '../../src/shared/protocol.js';
import type { RunData } from './runData.js';

export interface LengthBucket {
  /** Source lengths in characters, first and last (inclusive). */
  lo: number;
  hi: number;
  n: number;
  /** Share of exactly right outputs in this bucket (0..1). */
  exactMatch: number;
}

export interface AccuracyCurve {
  buckets: LengthBucket[];
  /** Over all held-out pairs. */
  overall?: number;
}

const curves = new WeakMap<RunData, AccuracyCurve>();

/** The accuracy curve of the run's model, once it was loaded (see attachAccuracy). */
export function accuracyOf(run: RunData): AccuracyCurve | undefined {
  return curves.get(run);
}

const fraction = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

/** The curve in a heldout.json, or undefined when the file has none (or not in the expected shape). */
export function parseHeldout(json: unknown): AccuracyCurve | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { accuracyByLength, heldOutExactMatch } = json as { accuracyByLength?: unknown; heldOutExactMatch?: unknown };
  if (!Array.isArray(accuracyByLength) || accuracyByLength.length === 0 || accuracyByLength.length > 100) return undefined;
  const buckets: LengthBucket[] = [];
  for (const b of accuracyByLength as unknown[]) {
    if (typeof b !== 'object' || b === null) return undefined;
    const { lengths, n, exactMatch } = b as { lengths?: unknown; n?: unknown; exactMatch?: unknown };
    const m = typeof lengths === 'string' ? /^(\d{1,6})-(\d{1,6})$/.exec(lengths) : null;
    if (!m || !Number.isSafeInteger(n) || !fraction(exactMatch)) return undefined;
    buckets.push({ lo: Number(m[1]), hi: Number(m[2]), n: n as number, exactMatch });
  }
  buckets.sort((a, b) => a.lo - b.lo);
  return { buckets, overall: fraction(heldOutExactMatch) ? heldOutExactMatch : undefined };
}

/**
 * Fetches `heldout.json` beside the manifest of each model that generated an output (seq2seq) and keeps its curve for the run of that
 * model. Resolves true when any curve was found (the caller draws the view again). Never rejects.
 */
export async function attachAccuracy(runs: readonly RunData[], models: readonly (ModelRef | undefined)[]): Promise<boolean> {
  let found = false;
  await Promise.all(runs.map(async (run, i) => {
    const model = models[i];
    if (!model?.manifestUri || !run.trace.generated || curves.has(run)) return;
    try {
      const res = await fetch(new URL('heldout.json', model.manifestUri).toString());
      if (!res.ok) return;
      const curve = parseHeldout(await res.json());
      if (curve) {
        curves.set(run, curve);
        found = true;
      }
    } catch {
      // No held-out data beside this model: the view draws without the curve.
    }
  }));
  return found;
}
