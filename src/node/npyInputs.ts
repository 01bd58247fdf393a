/**
 * `seqlens trace MODEL --input NAME=FILE.npy ...`: the arrays a run on tensors takes (image pixels,
 * audio frames, features), one .npy file per model input, read from disk and decoded with core's
 * decoder. Each bad spec or file is one sentence naming it.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FloatTensor } from '../core/run/backend.js';
import { decodeNpy } from '../core/trace/npy.js';
import { SeqLensError } from '../core/errors.js';

/** Splits `NAME=FILE` (the name may hold '.' or '/', the file may hold '='). */
export function parseInputSpec(spec: string): { name: string; file: string } {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) {
    throw new SeqLensError('bad-input', `--input takes NAME=FILE.npy (a model input name and a .npy file), not "${spec}".`);
  }
  return { name: spec.slice(0, eq), file: spec.slice(eq + 1) };
}

/** Reads every `--input NAME=FILE.npy` (paths relative to `cwd`) into arrays by input name. */
export async function readNpyInputs(specs: readonly string[], cwd = process.cwd()): Promise<Record<string, FloatTensor>> {
  const out: Record<string, FloatTensor> = {};
  for (const spec of specs) {
    const { name, file } = parseInputSpec(spec);
    if (name in out) throw new SeqLensError('bad-input', `--input ${name} is given twice; give one .npy file per input.`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(resolve(cwd, file)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SeqLensError('bad-input', `--input ${name}: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : code ?? 'unreadable'}).`);
    }
    try {
      out[name] = decodeNpy(bytes);
    } catch (e) {
      throw new SeqLensError('bad-input', `--input ${name}: ${file} is ${e instanceof Error ? e.message : String(e)}.`);
    }
  }
  return out;
}
