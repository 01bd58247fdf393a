/**
 * The shared vocabulary of Sequence Lens: what kind of sequence model a graph is, and the
 * probe plan that says which tensors to expose and what their axes mean.
 * Every consumer (CLI, webview views, host decorations) reads probes through these types.
 */

export type Architecture =
  | 'rnn'
  | 'lstm'
  | 'gru'
  | 'seq2seq'
  | 'seq2seq-attention'
  | 'transformer-encoder'
  | 'transformer-decoder'
  | 'transformer-encoder-decoder'
  | 'unknown';

export const ARCHITECTURES: readonly Architecture[] = [
  'rnn', 'lstm', 'gru', 'seq2seq', 'seq2seq-attention',
  'transformer-encoder', 'transformer-decoder', 'transformer-encoder-decoder', 'unknown',
];

/**
 * 'tensor': a tensor the user asked for by name (`seqlens trace --probe NAME`, the inspector's "Probe this
 * tensor"); its axes are read from the run (the axis as long as the input is 'seq', see core/trace/probedTensor.ts).
 */
export type ProbeKind = 'attention' | 'hidden' | 'gate' | 'cell' | 'logits' | 'tensor';
export type AttentionStream = 'encoder' | 'decoder' | 'cross';

/** LSTM gates use ONNX names i/o/f plus the candidate c; GRU uses z (update), r (reset), h (candidate). */
export type GateName = 'input' | 'forget' | 'output' | 'cell-candidate' | 'update' | 'reset' | 'hidden-candidate';

/**
 * The meaning of each axis of a probe tensor, outermost first. Consumers normalise with these
 * instead of guessing from shapes. Examples:
 *   attention:            ['batch', 'head', 'query', 'key']
 *   ONNX LSTM Y:          ['seq', 'direction', 'batch', 'unit']
 *   transformer hidden:   ['batch', 'seq', 'unit']
 *   logits:               ['batch', 'seq', 'vocab']
 */
export type AxisRole = 'batch' | 'head' | 'query' | 'key' | 'seq' | 'direction' | 'unit' | 'vocab' | 'gate';

export interface Probe {
  /** Tensor name in the instrumented graph (a graph output after instrumentation). */
  name: string;
  kind: ProbeKind;
  /** 0-based block / recurrent layer index in topological order, per stream. */
  layer: number;
  /** For attention always set; for hidden states of encoder-decoder models too. */
  stream?: AttentionStream;
  /** Number of attention heads (attention probes). */
  heads?: number;
  gate?: GateName;
  axes: AxisRole[];
  /** The graph node the probe was found at (op type and node name), for the evidence list. */
  source: { op: string; node: string };
  /**
   * How the raw tensor becomes what the probe means. 'none' for most; 'softmax-last-axis' for fused
   * ops that only expose pre-softmax scores (com.microsoft MultiHeadAttention output 3).
   */
  postprocess?: 'none' | 'softmax-last-axis';
  /** Which file of a multi-file model (manifest `files` key) the probe lives in; default 'model'. */
  file?: string;
  /**
   * Attention: a graph output holding the same tensor max-pooled over `factor` × `factor` blocks of
   * (query, key), fetched instead of the full tensor when that does not fit the caller's budget.
   */
  pooled?: { name: string; factor: number };
}

/** Something the plan looked for and could not expose, with the reason in the user's words. */
export interface Unavailable {
  what: string;
  reason: string;
  node?: string;
}

/**
 * The output projection found behind the logits, so a logit lens can project every hidden state:
 * logits_l = norm(h_l) · W (+ bias). `weight` names an initializer (or Constant) of the same file.
 * transposed=false: W is [hidden, vocab] (h · W); true: W is [vocab, hidden] (h · Wᵀ, tied embeddings, Gemm transB).
 * finalNorm is set when the last hidden probe is normalised before the projection (pre-LN models);
 * post-LN models (BERT) project their last hidden state directly.
 */
/**
 * How a quantized weight becomes floats. `linear`: (data - zeroPoint) · scale, the scale one value or one per
 * index of `axis` (DequantizeLinear; MatMulInteger's weight with its scale). `nbits`: com.microsoft
 * MatMulNBits' B [N, blocks, blob] of `bits`-bit values, a scale per (column, block) and packed zero points
 * (default 2^(bits-1)), dequantized to [K, N].
 */
export type QuantizedWeight =
  | { form: 'linear'; data: string; scale: string; zeroPoint?: string; axis: number }
  | { form: 'nbits'; data: string; scales: string; zeroPoints?: string; bits: number; blockSize: number; K: number; N: number };

export interface LogitLens {
  weight: string;
  /** Set when `weight` holds quantized values: how to dequantize it (the lens then reads floats). */
  quantized?: QuantizedWeight;
  bias?: string;
  transposed: boolean;
  hiddenSize?: number;
  vocabSize?: number;
  /** The hidden-state stream the lens applies to. */
  stream?: AttentionStream;
  finalNorm?: {
    kind: 'layer' | 'rms';
    scale?: string;
    bias?: string;
    epsilon?: number;
    node: string;
  };
}

export interface ProbePlan {
  architecture: Architecture;
  probes: Probe[];
  unavailable: Unavailable[];
  logitLens?: LogitLens;
}

export interface ArchitectureEvidence {
  architecture: Architecture;
  /** Human-readable facts that led to the verdict ("2 Softmax nodes fed by Q·Kᵀ MatMul", ...). */
  evidence: string[];
  layers: number;
  heads?: number;
  hiddenSize?: number;
  /** Node names that carry the evidence (attention softmaxes, recurrent ops...). */
  nodes: string[];
}
