/**
 * What each fuzz target runs: the code paths a user's file goes through, called the way the product
 * calls them (inspect with the positional source and the logit lens's weights, planning and
 * instrumentation, tokenizing, manifests and the model loader, .npy inputs, a full trace on
 * onnxruntime-web's WASM backend). A case passes when it returns or throws
 * a SeqLensError; `Invariant` marks a result that came back but is wrong (a span outside the text,
 * an instrumented model that no longer decodes).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inspectDecoded, inspectModel } from '../../src/core/inspect.js';
import { findPositionalSource } from '../../src/core/trace/positionalSource.js';
import { resolveOutputProjection } from '../../src/core/trace/outputProjection.js';
import { instrument } from '../../src/core/instrument.js';
import { decodeModel } from '../../src/core/onnx/decode.js';
import { isSeq2SeqIO } from '../../src/core/manifest.js';
import { loadTokenizer } from '../../src/core/tokenize/loadTokenizer.js';
import type { TextTokenizer } from '../../src/core/tokenize/textTokenizer.js';
import { decodeNpy, encodeNpy } from '../../src/core/trace/npy.js';
import { traceModel } from '../../src/core/run/traceModel.js';
import { TraceSessionCache } from '../../src/core/run/sessionCache.js';
import type { InferenceBackend } from '../../src/core/run/backend.js';
import { loadModel } from '../../src/node/modelLoader.js';
import { traceJson } from '../../src/node/traceDump.js';
import type { FuzzCase } from './cases.js';

/** A result that came back without an error but breaks what every caller relies on. */
export class Invariant extends Error {
  override name = 'Invariant';
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Invariant(what);
}

/** The case's files as a folder (what the CLI and the model loader read). */
export function writeCaseFiles(c: FuzzCase, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [rel, bytes] of Object.entries(c.files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
  }
  writeFileSync(join(dir, 'fuzz-text.txt'), c.text);
}

function memoryFiles(c: FuzzCase): (rel: string) => Promise<Uint8Array> {
  return (rel) => {
    const bytes = c.files[rel];
    return bytes ? Promise.resolve(bytes) : Promise.reject(new Error(`ENOENT: no such file ${rel}`));
  };
}

/** Encodes and checks what the editor relies on: every span inside the text, ids integers. */
function encodeChecked(tok: TextTokenizer, text: string): void {
  const r = tok.encodeDetailed(text);
  for (const t of r.tokens) {
    check(Number.isInteger(t.id), `token id ${t.id} is not an integer`);
    check(t.start >= 0 && t.start <= t.end && t.end <= text.length, `span [${t.start}, ${t.end}) lies outside the ${text.length}-character text`);
  }
  tok.decode(r.tokens.map((t) => t.id));
  for (const id of [r.tokens[0]?.id ?? 0, -1, 1e9, 0.5]) tok.idToToken(id);
}

/** What the inspector and a loaded model read from the graph alone: inspection, positional source, logit lens. */
async function runInspect(c: FuzzCase): Promise<void> {
  const bytes = c.files[c.entry]!;
  const model = decodeModel(bytes, c.entry);
  const inspection = inspectDecoded(model, bytes.byteLength, c.entry, { role: c.role });
  findPositionalSource(model);
  if (inspection.plan.logitLens) resolveOutputProjection(model, inspection.plan.logitLens);
}

async function runInstrument(c: FuzzCase): Promise<void> {
  const bytes = c.files[c.entry]!;
  const opts = c.instrument;
  const out = instrument(bytes, undefined, {
    fileName: c.entry, role: c.role, allowExternalData: opts?.allowExternalData,
    recurrent: { cellVia: opts?.cellVia ?? 'affine' }, pooledAttention: opts?.pooledAttention,
  });
  // Whatever decoded must still decode with the probes appended.
  try {
    decodeModel(out.bytes, c.entry);
  } catch (e) {
    throw new Invariant(`the instrumented model no longer decodes: ${(e as Error).message}`);
  }
}

async function runTokenize(c: FuzzCase): Promise<void> {
  const tok = await loadTokenizer(c.tokenizer!, memoryFiles(c));
  encodeChecked(tok, c.text);
}

async function runNpy(c: FuzzCase): Promise<void> {
  const t = decodeNpy(c.files[c.entry]!);
  check(t.dims.every((d) => Number.isInteger(d) && d >= 0), `decoded dims [${t.dims.join(', ')}] are not sizes`);
  check(t.dims.reduce((a, b) => a * b, 1) === t.data.length, `dims [${t.dims.join(', ')}] do not match ${t.data.length} values`);
  encodeNpy(t);
}

/** The manifest as the loader reads it from disk, then everything it names: tokenizers and models. */
async function runManifest(c: FuzzCase, scratch: string): Promise<void> {
  writeCaseFiles(c, scratch);
  const loaded = await loadModel(join(scratch, c.entry));
  const manifest = loaded.manifest;
  if (!manifest) return;
  const specs = [manifest.tokenizer, ...(isSeq2SeqIO(manifest.io) ? [manifest.io.targetTokenizer] : [])];
  for (const spec of specs) encodeChecked(await loadTokenizer(spec, loaded.files), c.text);
  for (const [key, rel] of Object.entries(manifest.files)) {
    const role = key === 'encoder' || key === 'decoder' ? key : undefined;
    inspectModel(await loaded.files(rel), rel, { role });
  }
}

export async function runInProcessCase(c: FuzzCase, scratch: string): Promise<void> {
  switch (c.target) {
    case 'inspect': return runInspect(c);
    case 'instrument': return runInstrument(c);
    case 'tokenize': return runTokenize(c);
    case 'npy': return runNpy(c);
    case 'manifest': return runManifest(c, scratch);
    default: throw new Error(`${c.target} does not run in-process`);
  }
}

/** What `seqlens trace FOLDER --backend wasm --dump` does, on the given backend, without the process. */
export async function runTraceCase(c: FuzzCase, backend: InferenceBackend, scratch: string): Promise<void> {
  writeCaseFiles(c, scratch);
  const loaded = await loadModel(join(scratch, c.entry));
  const cache = new TraceSessionCache();
  try {
    const manifest = loaded.manifest;
    const modelBytes = !manifest && loaded.modelRel ? await loaded.files(loaded.modelRel) : undefined;
    const trace = await traceModel({
      backend, files: loaded.files, manifest, modelBytes, modelName: loaded.name, text: c.text, maxTokens: 48, cache,
    });
    for (const t of trace.tokens) {
      check(t.start >= 0 && t.start <= t.end && t.end <= c.text.length, `token span [${t.start}, ${t.end}) lies outside the text`);
    }
    traceJson(trace);
    for (const p of trace.probes) encodeNpy(p.tensor);
    if (trace.logits) encodeNpy(trace.logits);
  } finally {
    await cache.dispose();
  }
}
