/**
 * `seqlens`: the headless face of the core.
 *   seqlens inspect MODEL [--json]
 *   seqlens trace MODEL --text TEXT [--backend native|wasm] [--dump DIR] [--json]
 *   seqlens bench-story [--backend native|wasm] [--out FILE.csv] [--max 2048] [--repeats N] [--threads N] [--clock wall|cpu]
 * MODEL is an .onnx file, a folder with manifest.json, a manifest file, or a bundled model name.
 * Every failure is one line on stderr and a non-zero exit.
 */
import { parseArgs } from 'node:util';
import { access, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isSeqLensError, oneLine } from './core/errors.js';
import { LoadedModel } from './core/run/loadedModel.js';
import { loadModel, zooNames } from './node/modelLoader.js';
import { getBackend, isBackendName } from './node/backends.js';
import { dumpTrace, traceJson } from './node/traceDump.js';
import { formatTrace } from './node/traceReport.js';
import { readNpyInputs } from './node/npyInputs.js';
import { inspectLoaded, formatInspect } from './node/inspectReport.js';
import { formatStory, machineLine, runStory } from './node/storyReport.js';
import { storyCsv, storyLengths, STORY_MAX_TOKENS } from './core/bench/storyRows.js';

const HELP = `seqlens — look inside sequence models (RNN, LSTM, GRU, seq2seq, Transformer)

Usage:
  seqlens inspect MODEL [--json]
      Summary, detected architecture and the probe plan (attention per layer/head, hidden states, gates).
  seqlens trace MODEL (--text TEXT | --text-file FILE) [--backend native|wasm] [--dump DIR] [--json]
                [--max-tokens N] [--tokenizer FILE] [--probe TENSOR ...] [--continue N]
      Tokenizes TEXT, runs the instrumented model and prints a summary. Encoder-decoder models decode
      greedily. --dump writes DIR/trace.json and one .npy file per probe tensor. --probe TENSOR (repeatable)
      also reads any tensor a node computes, by name (names as \`seqlens inspect --json\` lists them).
      --continue N (decoder-only models) generates up to N tokens greedily after TEXT (with the model's
      key/value cache when it has one), prints them, and traces the text and the continuation together.
  seqlens trace MODEL --input NAME=FILE.npy [--input NAME=FILE.npy ...] [--backend ...] [--dump DIR] [--json]
      A model whose inputs are not text (image, audio frames, features): one .npy file per input it
      needs (seqlens inspect lists them); the probes read positions t0, t1, ... instead of tokens.
  seqlens bench-story [--backend native|wasm] [--out FILE.csv] [--max N] [--repeats N] [--threads N]
                      [--clock wall|cpu] [--json]
      Sequential against parallel: times the zoo's RNN, LSTM, GRU and Transformer (plain models) over
      16, 32, ... N tokens (default ${STORY_MAX_TOKENS}), the median of --repeats runs (default 5) after a warm-up,
      and prints ms per token and the Transformer's attention memory (layers x heads x T^2 x 4 bytes).
      --out writes the CSV (model,kind,tokens,ms_total,ms_per_token,attention_bytes,...).
      --threads pins onnxruntime-node's intra-op threads (default: one per core). --clock cpu times runs by
      the process's CPU time (on a busy machine; needs one computing thread: wasm, or native --threads 1).

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
  /** `--input NAME=FILE.npy` specs: a run on arrays instead of text. */
  inputs: string[];
  probe?: string[];
  /** `--continue N`: generate up to N tokens after the text first. */
  continueTokens?: number;
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
    // onnxruntime-node reads external data files itself, from the model's folder (LoadedModel).
    localPath: async (rel) => {
      const p = resolve(loaded.dir, rel);
      return access(p).then(() => p, () => undefined);
    },
    manifest,
    modelFile: manifest ? undefined : loaded.modelRel,
    name: loaded.name,
    // Relative to where the user is, not to the model's folder.
    tokenizer: a.tokenizer ? { type: 'hf', file: resolve(a.tokenizer) } : undefined,
  });
  try {
    const inputs = a.inputs.length ? { inputs: await readNpyInputs(a.inputs), inputFlag: (n: string) => `--input ${n}=FILE.npy` } : {};
    const trace = await model.trace({ backend, text: a.text, maxTokens: a.maxTokens, startedAt, ...inputs, ...(a.probe?.length ? { probeTensors: a.probe } : {}),
      ...(a.continueTokens !== undefined ? { continueTokens: a.continueTokens } : {}) });
    const json = a.dump ? await dumpTrace(trace, a.dump) : traceJson(trace);
    const c = trace.continuation;
    const generatedIds = c ? trace.tokens.slice(c.from).map((t) => t.id) : [];
    if (a.json) {
      process.stdout.write(JSON.stringify(c ? { ...json, continuation: { ...c, ids: generatedIds } } : json, null, 2) + '\n');
    } else {
      if (c) {
        process.stdout.write(`continued ${c.steps} tokens (${c.cachedSteps} with the KV cache, stopped at ${c.stop === 'eos' ? 'the end token' : 'the limit'}):\n`);
        process.stdout.write(`  text: ${JSON.stringify(c.text)}\n  ids:  ${generatedIds.join(' ')}\n`);
      }
      const vocab = await model.outputTokenizer().catch(() => undefined);
      process.stdout.write(formatTrace(trace, vocab) + '\n');
      if (a.dump) process.stdout.write(`wrote ${a.dump}/trace.json and ${json.probes.length + (json.logits ? 1 : 0)} .npy files\n`);
    }
    for (const w of trace.warnings) if (a.json) process.stderr.write(`seqlens: warning: ${w}\n`);
  } finally {
    await model.dispose();
  }
}

interface StoryArgs {
  backend: string;
  out?: string;
  max: number;
  repeats: number;
  threads?: number;
  clock: string;
  json: boolean;
}

async function cmdBenchStory(a: StoryArgs): Promise<void> {
  if (!isBackendName(a.backend)) throw new UsageError(`--backend must be native or wasm, not "${a.backend}"`);
  if (a.threads !== undefined && a.backend !== 'native') throw new UsageError('--threads applies to the native backend only (wasm runs on 1 thread)');
  if (a.clock !== 'wall' && a.clock !== 'cpu') throw new UsageError(`--clock must be wall or cpu, not "${a.clock}"`);
  // CPU time adds up every thread's: it stands for elapsed time only when one thread computes.
  if (a.clock === 'cpu' && a.backend === 'native' && a.threads !== 1) throw new UsageError('--clock cpu on the native backend needs --threads 1');
  const backend = await getBackend(a.backend, { threads: a.threads });
  // Progress on stderr, rewritten in place on a terminal only: a redirected stderr gets no control characters.
  const tty = process.stderr.isTTY === true;
  const result = await runStory(backend, {
    lengths: storyLengths(a.max),
    repeats: a.repeats,
    clock: a.clock,
    onProgress: (p) => { if (tty) process.stderr.write(`\r\x1b[K${p.message} (${Math.round(p.fraction * 100)}%)`); },
  });
  if (tty) process.stderr.write('\r\x1b[K');
  const csv = storyCsv(result.rows);
  if (a.out) await writeFile(a.out, csv);
  if (a.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${machineLine(a.backend, a.threads)} · median of ${a.repeats} runs after a warm-up · ${a.clock === 'cpu' ? 'CPU' : 'wall'} clock\n`);
  process.stdout.write(formatStory(result) + '\n');
  if (a.out) process.stdout.write(`wrote ${a.out} (${result.rows.length} rows)\n`);
}

/** A positive whole number from an option, or a usage error naming it. */
function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0)) throw new UsageError(`${option} must be a positive integer`);
  return n;
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
        input: { type: 'string', multiple: true },
        probe: { type: 'string', multiple: true },
        continue: { type: 'string' },
        out: { type: 'string', short: 'o' },
        max: { type: 'string' },
        repeats: { type: 'string' },
        threads: { type: 'string' },
        clock: { type: 'string', default: 'wall' },
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
  if (cmd === 'bench-story') {
    // It times the zoo's own four models; a MODEL here is a mistake, not something to ignore.
    if (model !== undefined) throw new UsageError(`bench-story takes no MODEL (it times the zoo's rnn, lstm, gru and transformer), got "${model}"`);
    await cmdBenchStory({
      backend: values.backend ?? 'native', out: values.out, json: values.json === true,
      max: positiveInt(values.max, '--max') ?? STORY_MAX_TOKENS,
      repeats: positiveInt(values.repeats, '--repeats') ?? 5,
      threads: positiveInt(values.threads, '--threads'),
      clock: values.clock ?? 'wall',
    });
    return 0;
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
    const inputs = values.input ?? [];
    if (inputs.length && text !== undefined) throw new UsageError('trace takes --text or --input NAME=FILE.npy, not both');
    if (text === undefined && !inputs.length) throw new UsageError('trace needs --text TEXT, --text-file FILE or --input NAME=FILE.npy');
    const maxTokens = values['max-tokens'] === undefined ? undefined : Number(values['max-tokens']);
    if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) {
      throw new UsageError('--max-tokens must be a positive integer');
    }
    await cmdTrace(model, {
      text: text ?? '', inputs, backend: values.backend ?? 'native', dump: values.dump, json: values.json === true, maxTokens, tokenizer: values.tokenizer, probe: values.probe,
      continueTokens: positiveInt(values.continue, '--continue'),
    });
    return 0;
  }
  throw new UsageError(`unknown command "${cmd}" (inspect, trace, bench-story)`);
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


