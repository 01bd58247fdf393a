/**
 * `seqlens`: the headless face of the core.
 *   seqlens inspect MODEL [--json]
 *   seqlens trace MODEL --text TEXT [--backend native|wasm] [--dump DIR] [--json]
 * MODEL is an .onnx file, a folder with manifest.json, a manifest file, or a bundled model name.
 * Every failure is one line on stderr and a non-zero exit.
 */
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isSeqLensError, oneLine } from './core/errors.js';
import { LoadedModel } from './core/run/loadedModel.js';
import { loadModel, zooNames } from './node/modelLoader.js';
import { getBackend, isBackendName } from './node/backends.js';
import { dumpTrace, traceJson } from './node/traceDump.js';
import { formatTrace } from './node/traceReport.js';
import { inspectLoaded, formatInspect } from './node/inspectReport.js';

const HELP = `seqlens — look inside sequence models (RNN, LSTM, GRU, seq2seq, Transformer)

Usage:
  seqlens inspect MODEL [--json]
      Summary, detected architecture and the probe plan (attention per layer/head, hidden states, gates).
  seqlens trace MODEL (--text TEXT | --text-file FILE) [--backend native|wasm] [--dump DIR] [--json]
                [--max-tokens N] [--tokenizer FILE]
      Tokenizes TEXT, runs the instrumented model and prints a summary. Encoder-decoder models decode
      greedily. --dump writes DIR/trace.json and one .npy file per probe tensor.

MODEL: an .onnx file (tokenizer.json and <file>.seqlens.json beside it are used), a folder with
       manifest.json, a manifest .json, or a bundled model name (${zooNames().join(', ') || 'none found'}).
Backends: native (onnxruntime-node, default) or wasm (onnxruntime-web's WebAssembly build, 1 thread).
Exit status: 0 ok, 1 bad input or failed run (one line on stderr), 2 usage error.`;

class UsageError extends Error {}

async function cmdInspect(model: string, json: boolean): Promise<void> {
  const loaded = await loadModel(model);
  const result = await inspectLoaded(loaded);
  process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : formatInspect(result) + '\n');
}

interface TraceArgs {
  text: string;
  backend: string;
  dump?: string;
  json: boolean;
  maxTokens?: number;
  tokenizer?: string;
}

async function cmdTrace(modelArg: string, a: TraceArgs): Promise<void> {
  if (!isBackendName(a.backend)) throw new UsageError(`--backend must be native or wasm, not "${a.backend}"`);
  const startedAt = performance.now();
  const loaded = await loadModel(modelArg);
  const backend = await getBackend(a.backend);
  const manifest = loaded.manifest;
  // One LoadedModel: the trace and the report's vocabulary share its tokenizer (parsed once).
  const model = await LoadedModel.load({
    files: loaded.files,
    manifest,
    modelFile: manifest ? undefined : loaded.modelRel,
    name: loaded.name,
    // Relative to where the user is, not to the model's folder.
    tokenizer: a.tokenizer ? { type: 'hf', file: resolve(a.tokenizer) } : undefined,
  });
  try {
    const trace = await model.trace({ backend, text: a.text, maxTokens: a.maxTokens, startedAt });
    const json = a.dump ? await dumpTrace(trace, a.dump) : traceJson(trace);
    if (a.json) {
      process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    } else {
      const vocab = await model.outputTokenizer().catch(() => undefined);
      process.stdout.write(formatTrace(trace, vocab) + '\n');
      if (a.dump) process.stdout.write(`wrote ${a.dump}/trace.json and ${json.probes.length + (json.logits ? 1 : 0)} .npy files\n`);
    }
    for (const w of trace.warnings) if (a.json) process.stderr.write(`seqlens: warning: ${w}\n`);
  } finally {
    await model.dispose();
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        text: { type: 'string', short: 't' },
        'text-file': { type: 'string' },
        backend: { type: 'string', short: 'b', default: 'native' },
        dump: { type: 'string', short: 'd' },
        'max-tokens': { type: 'string' },
        tokenizer: { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const [cmd, model, ...rest] = positionals;
  if (values.help || cmd === 'help' || !cmd) {
    process.stdout.write(HELP + '\n');
    return cmd || values.help ? 0 : 2;
  }
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (!model) throw new UsageError(`${cmd} needs a MODEL (a .onnx file, a model folder or one of: ${zooNames().join(', ')})`);
  if (cmd === 'inspect') {
    await cmdInspect(model, values.json === true);
    return 0;
  }
  if (cmd === 'trace') {
    let text = values.text;
    if (values['text-file'] !== undefined) text = await readFile(values['text-file'], 'utf8');
    if (text === undefined) throw new UsageError('trace needs --text TEXT or --text-file FILE');
    const maxTokens = values['max-tokens'] === undefined ? undefined : Number(values['max-tokens']);
    if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) {
      throw new UsageError('--max-tokens must be a positive integer');
    }
    await cmdTrace(model, {
      text, backend: values.backend ?? 'native', dump: values.dump, json: values.json === true, maxTokens, tokenizer: values.tokenizer,
    });
    return 0;
  }
  throw new UsageError(`unknown command "${cmd}" (inspect, trace)`);
}

// `seqlens trace ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`seqlens: ${oneLine(e.message)} (see seqlens --help)\n`);
      process.exitCode = 2;
    } else if (isSeqLensError(e)) {
      process.stderr.write(`seqlens: ${oneLine(e.message)}\n`);
      process.exitCode = 1;
    } else {
      const err = e as NodeJS.ErrnoException;
      const msg = err?.code === 'ENOENT' || err?.code === 'EACCES' ? `${err.code}: cannot read ${err.path ?? 'a file'}`
        : e instanceof Error ? `unexpected error: ${e.message}` : `unexpected error: ${String(e)}`;
      process.stderr.write(`seqlens: ${oneLine(msg)}\n`);
      process.exitCode = 1;
    }
  },
);


