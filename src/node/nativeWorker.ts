/**
 * The native backend's worker thread: onnxruntime-node beside the extension host, never in its main
 * thread (a crash or out-of-memory here ends this thread, not the host). It keeps one core LoadedModel per
 * model (the object the CLI and the webview use: same instrumentation, same trace code) reading the files
 * from disk, external data included, and answers the host's messages (nativeMessages.ts): a trace for the
 * panel, a fetch of deferred attention layers by run, cancel, dispose. Results move their tensors'
 * ArrayBuffers (transfer list), never copy them. Never imports `vscode`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { LoadedModel, type ModelRun } from '../core/run/loadedModel.js';
import { parseManifest, type ModelManifest } from '../core/manifest.js';
import { SeqLensError, isSeqLensError, oneLine } from '../core/errors.js';
import { DEFAULT_ATTENTION_BUDGET } from '../core/run/fetchPlan.js';
import { plainProbe, plainTokens, Transferables, type WireRun } from '../shared/traceWire.js';
import { topLogitsOf } from '../core/trace/predictions.js';
import { SessionThread, postMoving, serveSessions } from './sessionThread.js';
import type { FromWorker, NativeModelSpec, NativeTraceRequest, ToWorker, WorkerResult } from './nativeMessages.js';

/** What the host hands the worker at start. */
export interface NativeWorkerData {
  /**
   * Fault injection for tests and the E2E: when this file exists as a trace starts, it is deleted and its
   * content ('exit' or 'oom') makes the worker stop mid-run as a crash or an out-of-memory would; 'unavailable'
   * is read when a fresh worker loads onnxruntime-node, and makes that fail as if the package were missing.
   */
  faultFile?: string;
  /**
   * This script's path, to start it again as the session thread (sessionThread.ts): onnxruntime-node's sessions
   * live there, so a session builds while this thread parses the tokenizer. (The session thread itself gets only `role`.)
   */
  script: string;
  /** 'sessions': this thread is that session thread, not the native worker. */
  role?: 'sessions';
}

/** Logit-lens projections up to this size travel to the page (copied out of the model's bytes) unless the request says less; larger ones stay. */
const LENS_WIRE_MAX_BYTES = 32 * 2 ** 20;
/** Output vocabularies up to this many entries are read as strings for the page (Qwen-sized: 151,669). */
const VOCAB_WIRE_MAX = 400_000;
/**
 * Logits up to this size travel whole; past it only their top entries per position do (`topLogits`). Through a
 * remote window (code-server) the page receives 3-4 MB a second: the 80 MB bench decoder's 10 positions of
 * 151k logits (6 MB) and its vocabulary's strings took 3.5 s to reach the page.
 */
const LOGITS_WIRE_MAX_BYTES = 2 ** 20;
/** Top entries per position sent in `topLogits` (the page shows 5). */
const TOP_LOGITS_K = 16;
/** Vocabularies up to this size travel whole; bigger ones only as the texts of the ids the page shows, unless the logit lens goes too (it can name any id). */
const WHOLE_VOCAB_MAX = 4096;
/** Runs whose deferred layers can still be fetched; older runs say so. */
const RUNS_KEPT = 8;
/** Loaded models kept (each holds its bytes and sessions): the panel's model and a compare partner. */
const MODELS_KEPT = 2;

const port = parentPort;
if (!port) throw new Error('nativeWorker.ts runs as a worker thread (the native backend starts it).');
const data = (workerData ?? {}) as NativeWorkerData;

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  postMoving(port!, msg, transfer);
}

let nativePromise: Promise<SessionThread> | undefined;
/**
 * onnxruntime-node, loaded on the session thread. If that thread stops, so does this worker: the host starts both
 * anew and tells the user, as for a crash here.
 */
function native(): Promise<SessionThread> {
  nativePromise ??= (async (): Promise<SessionThread> => {
    injectFault('load');
    const thread = new SessionThread(data.script, (why) => {
      send({ type: 'error', id: -1, code: 'runtime', message: `onnxruntime's session thread stopped (${why})` });
      process.exit(71);
    });
    try {
      await thread.info();
      return thread;
    } catch (e) {
      await thread.dispose();
      throw e;
    }
  })().catch((e: unknown) => {
    nativePromise = undefined;
    const msg = e instanceof Error ? e.message : String(e);
    const where = `${process.platform}-${process.arch}`;
    throw new NativeError('native-unavailable', /Cannot find module/.test(msg)
      ? `onnxruntime-node for ${where} is not installed with Sequence Lens (the universal package has none: install the ${where} one)`
      : `onnxruntime-node could not be loaded: ${msg.replace(/^The native backend needs the optional package onnxruntime-node \((.*)\); use --backend wasm\.?$/, '$1')}`);
  });
  return nativePromise;
}

/** A failure with a code outside SeqLensError's (the host maps it to its own message). */
class NativeError extends Error {
  constructor(readonly code: string, message: string) {
    super(oneLine(message));
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  const buf = await readFile(path);
  // A view over the Buffer's own memory: no copy of the weights.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The model's files as the webview resolves them: manifest paths by their `files` key, tokenizer files by name, else beside the model. */
async function loadModel(spec: NativeModelSpec): Promise<LoadedModel> {
  let manifest: ModelManifest | undefined;
  if (spec.manifestPath) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(spec.manifestPath, 'utf8'));
    } catch (e) {
      throw new SeqLensError('bad-manifest', `Cannot read the model manifest ${spec.manifestPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
    manifest = parseManifest(json);
  } else if (spec.manifest) {
    manifest = parseManifest(spec.manifest);
  }
  const byRel = new Map<string, string>(Object.entries(spec.tokenizerFiles));
  for (const [k, rel] of Object.entries(manifest?.files ?? {})) if (spec.files[k]) byRel.set(rel, spec.files[k]);
  const base = spec.manifestPath ? dirname(spec.manifestPath) : dirname(spec.files.model ?? Object.values(spec.files)[0] ?? '.');
  const files = async (rel: string): Promise<Uint8Array> => {
    const path = byRel.get(rel) ?? resolve(base, rel);
    try {
      return await readBytes(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new SeqLensError('model-missing', `The file ${path} was not found (deleted or moved?). Restore it, or pick another model.`);
      throw new SeqLensError('runtime', `Could not read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  // onnxruntime-node reads external data from the model's folder itself (LoadedModel): it needs the paths, not the bytes.
  const localPath = async (rel: string): Promise<string | undefined> => {
    const path = byRel.get(rel) ?? resolve(base, rel);
    return existsSync(path) ? path : undefined;
  };
  if (manifest) return LoadedModel.load({ files, localPath, manifest, name: spec.label });
  const modelPath = spec.files.model ?? Object.values(spec.files)[0];
  if (!modelPath) throw new SeqLensError('bad-manifest', `${spec.label} lists no .onnx file.`);
  const modelFile = relative(base, modelPath).split('\\').join('/') || 'model.onnx';
  byRel.set(modelFile, modelPath);
  return LoadedModel.load({ files, localPath, modelFile, name: spec.label });
}

const models = new Map<string, Promise<LoadedModel>>();
function model(spec: NativeModelSpec): Promise<LoadedModel> {
  const key = `${spec.id}|${spec.version ?? ''}`;
  let m = models.get(key);
  if (m) {
    // Most recently used last.
    models.delete(key);
    models.set(key, m);
    return m;
  }
  // Files changed on disk (a new version of the same id), or too many models: release the old ones.
  for (const [k, old] of [...models]) {
    if (k.startsWith(`${spec.id}|`) || models.size >= MODELS_KEPT) {
      models.delete(k);
      void old.then((x) => x.dispose(), () => undefined);
    }
  }
  m = loadModel(spec);
  m.catch(() => models.delete(key));
  models.set(key, m);
  return m;
}

interface KeptRun { spec: NativeModelSpec; text: string; maxTokens?: number }
const runs = new Map<string, KeptRun>();
const vocabs = new WeakMap<LoadedModel, Promise<string[] | undefined>>();
const controllers = new Map<number, AbortController>();

function vocabOf(m: LoadedModel): Promise<string[] | undefined> {
  let v = vocabs.get(m);
  if (!v) {
    v = m.outputTokenizer().then((tok) => {
      if (tok.vocabSize > VOCAB_WIRE_MAX) return undefined;
      return Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i));
    }, () => undefined);
    vocabs.set(m, v);
  }
  return v;
}

/** The run as it travels: tensors in buffers of their own, moved; what belongs to the model (lens, table positions) copied. */
function toWire(runKey: string, r: ModelRun, m: LoadedModel, budget: number, vocab: string[] | undefined, tx: Transferables, lensMax: number): WireRun {
  const t = r.trace;
  // Row t of a language model's logits predicts token t + 1 of the input; a seq2seq decoder's rows have no input to name.
  const top = t.logits ? topLogitsOf(t.logits, TOP_LOGITS_K, t.generated ? [] : t.tokens.slice(1).map((x) => x.id)) : undefined;
  const wholeLogits = !!t.logits && t.logits.data.byteLength <= LOGITS_WIRE_MAX_BYTES;
  const trace = {
    ...t,
    tokens: plainTokens(t.tokens),
    ...(t.generated ? { generated: plainTokens(t.generated) } : {}),
    // The logits probe is the logits again (the same tensor): it stays behind with them.
    probes: t.probes.filter((p) => wholeLogits || p.probe.kind !== 'logits').map((p) => tx.probeTensor(p)),
    logits: wholeLogits && t.logits ? tx.tensor(t.logits) : undefined,
    timings: { ...t.timings },
    warnings: [...t.warnings],
    ...(t.deferred ? { deferred: t.deferred.map(plainProbe) } : {}),
    ...(t.pooled ? { pooled: t.pooled.map((p) => tx.probeTensor(p)) } : {}),
  };
  const copy = (a: Float32Array): Float32Array => tx.own(a.slice());
  const lens = r.lens && r.lens.projection.weight.data.byteLength <= lensMax ? {
    ...(r.lens.stream ? { stream: r.lens.stream } : {}),
    projection: {
      weight: { dims: [...r.lens.projection.weight.dims], data: copy(r.lens.projection.weight.data) },
      transposed: r.lens.projection.transposed,
      ...(r.lens.projection.bias ? { bias: copy(r.lens.projection.bias) } : {}),
      ...(r.lens.projection.norm ? {
        norm: {
          ...r.lens.projection.norm,
          ...(r.lens.projection.norm.scale ? { scale: copy(r.lens.projection.norm.scale) } : {}),
          ...(r.lens.projection.norm.bias ? { bias: copy(r.lens.projection.norm.bias) } : {}),
        },
      } : {}),
    },
  } : undefined;
  const wholeVocab = vocab && (vocab.length <= WHOLE_VOCAB_MAX || !!lens);
  const shownIds = top && vocab && !wholeVocab ? [...new Set(Array.from(top.ids).filter((id) => id >= 0))] : [];
  return {
    runKey, trace, budget,
    attention: r.layers.resident().map((p) => tx.probeTensor(p)),
    ...(r.positional ? { positional: { ...r.positional, data: copy(r.positional.data) } } : {}),
    ...(lens ? { lens } : {}),
    ...(top ? { topLogits: { ...top, ids: tx.own(top.ids), logits: tx.own(top.logits), logSumExp: tx.own(top.logSumExp), next: tx.own(top.next) } } : {}),
    ...(vocab && wholeVocab ? { vocab } : {}),
    ...(vocab && !wholeVocab ? { someVocab: { ids: shownIds, texts: shownIds.map((id) => vocab[id] ?? `#${id}`) } } : {}),
    ...(m.manifest ? { manifest: JSON.parse(JSON.stringify(m.manifest)) as unknown } : {}),
  };
}

/**
 * Test and E2E fault injection: at 'run', a crash or an out-of-memory in the middle of a run; at 'load' (a fresh
 * worker loading onnxruntime-node), a package that is not there, as in the universal package.
 */
function injectFault(at: 'load' | 'run'): void {
  const file = data.faultFile;
  if (!file || !existsSync(file)) return;
  const what = readFileSync(file, 'utf8').trim();
  if ((what === 'unavailable') !== (at === 'load')) return;
  unlinkSync(file);
  if (what === 'unavailable') throw new Error('Cannot find module \'onnxruntime-node\' (a fault the tests inject)');
  if (what === 'exit') process.exit(70);
  if (what === 'oom') {
    const hog: number[][] = [];
    for (;;) hog.push(new Array<number>(1 << 20).fill(Math.random()));
  }
}

/** A result and the buffers its reply moves. */
type Answer = [WorkerResult, ArrayBuffer[]];

async function trace(req: NativeTraceRequest, signal: AbortSignal): Promise<Answer> {
  const progress = (message: string, fraction?: number): void =>
    send(fraction === undefined ? { type: 'progress', id: req.id, message } : { type: 'progress', id: req.id, message, fraction });
  progress(`Loading ${req.model.label} (native)`);
  const startedAt = performance.now();
  const [b, m] = await Promise.all([native(), model(req.model)]);
  injectFault('run');
  const budget = req.attentionBudgetBytes ?? DEFAULT_ATTENTION_BUDGET;
  const prefer = req.preferLayer;
  const lensMax = Math.min(req.lensWireMaxBytes ?? LENS_WIRE_MAX_BYTES, LENS_WIRE_MAX_BYTES);
  const r = await m.run({
    backend: b, text: req.text, maxTokens: req.maxTokens, signal, onProgress: (p) => progress(p.message, p.fraction),
    attentionBudgetBytes: budget, startedAt, ...(prefer !== undefined ? { preferProbe: (p) => p.layer === prefer } : {}),
    lensMaxBytes: lensMax,
  });
  const vocab = await vocabOf(m);
  const runKey = `run-${req.id}`;
  runs.set(runKey, { spec: req.model, text: req.text, maxTokens: req.maxTokens });
  while (runs.size > RUNS_KEPT) runs.delete(runs.keys().next().value as string);
  const tx = new Transferables();
  const run = toWire(runKey, r, m, budget, vocab, tx, lensMax);
  return [{ kind: 'trace', run }, tx.list];
}

/** The text `prepare` runs: a few characters any tokenizer reads (never shown). */
const PREPARE_TEXT = 'Hello, world.';

/** A model loaded ahead of its first run: the run that follows finds its session, tokenizer and kernels ready. */
async function prepare(spec: NativeModelSpec, signal: AbortSignal): Promise<Answer> {
  const t0 = performance.now();
  const [b, m] = await Promise.all([native(), model(spec)]);
  const r = await m.run({ backend: b, text: PREPARE_TEXT, maxTokens: 16, signal, lensMaxBytes: LENS_WIRE_MAX_BYTES, startedAt: t0 });
  return [{ kind: 'prepared', ms: performance.now() - t0, timings: { ...r.trace.timings } }, []];
}

/** Deferred attention: another run of the same session over the same text, fetching only these probes. */
async function fetchLayers(runKey: string, names: string[], signal: AbortSignal): Promise<Answer> {
  const kept = runs.get(runKey);
  if (!kept) throw new SeqLensError('runtime', 'This run\'s attention can no longer be fetched (the native backend restarted or ran newer models since); run the model again.');
  const [b, m] = await Promise.all([native(), model(kept.spec)]);
  const t = await m.trace({ backend: b, text: kept.text, maxTokens: kept.maxTokens, signal, only: names });
  const tx = new Transferables();
  const probes = t.probes.map((p) => tx.probeTensor(p));
  return [{ kind: 'layers', probes }, tx.list];
}

function errorOf(e: unknown, signal: AbortSignal): { code: string; message: string } {
  if (signal.aborted || (isSeqLensError(e) && e.code === 'cancelled')) return { code: 'cancelled', message: 'The run was cancelled.' };
  if (isSeqLensError(e) || e instanceof NativeError) return { code: e.code, message: e.message };
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'runtime', message: oneLine(msg) };
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'cancel':
      controllers.get(msg.id)?.abort();
      return;
    case 'dispose':
      for (const m of models.values()) await m.then((x) => x.dispose(), () => undefined);
      models.clear();
      if (nativePromise) await nativePromise.then((t) => t.dispose(), () => undefined);
      port!.close();
      return;
    case 'hello':
    case 'trace':
    case 'prepare':
    case 'fetchLayers': {
      const abort = new AbortController();
      controllers.set(msg.id, abort);
      try {
        // 'hello' asks the session thread anew each time: a session CUDA could not create moves later ones to the CPU.
        const [result, transfer]: Answer = msg.type === 'hello' ? [{ kind: 'hello', info: await (await native()).info() }, []]
          : msg.type === 'trace' ? await trace(msg, abort.signal)
            : msg.type === 'prepare' ? await prepare(msg.model, abort.signal)
              : await fetchLayers(msg.runKey, msg.names, abort.signal);
        if (abort.signal.aborted) send({ type: 'error', id: msg.id, code: 'cancelled', message: 'The run was cancelled.' });
        else send({ type: 'result', id: msg.id, result, sentAt: performance.timeOrigin + performance.now() }, transfer);
      } catch (e) {
        send({ type: 'error', id: msg.id, ...errorOf(e, abort.signal) });
      } finally {
        controllers.delete(msg.id);
      }
      return;
    }
  }
}

if (data.role === 'sessions') serveSessions(port);
else port.on('message', (msg: ToWorker) => {
  void handle(msg).catch((e: unknown) => {
    // A failure outside a request (dispose): logged by the host as the worker's own message.
    send({ type: 'error', id: -1, code: 'runtime', message: oneLine(e instanceof Error ? e.message : String(e)) });
  });
});
