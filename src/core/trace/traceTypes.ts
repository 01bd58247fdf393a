/** The result of running a model on a text with its probes: what every view and the CLI dump read. */
import type { Architecture, Probe } from '../types.js';
import type { FloatTensor } from '../run/backend.js';

export interface TokenSpan {
  id: number;
  /** The token's text as the tokenizer shows it (e.g. 'Ġthe', '##ing', 'a'). */
  text: string;
  /** UTF-16 offsets into the original input string; `input.slice(start, end)` is the token's source. */
  start: number;
  end: number;
  /**
   * Set on the synthetic tokens of a run on tensors (image, audio, features; see run/tensorFeeds.ts): the
   * index along the sequence axis. Such tokens cover no text (start = end = 0); their label is `text` (t0, t1...).
   */
  position?: number;
  /** A token the model generated after the text (a continued run, see run/continueText.ts), not one read from it. */
  generated?: boolean;
}

export interface ProbeTensor {
  probe: Probe;
  /**
   * The tensor as the model produced it (after `probe.postprocess`). For encoder-decoder models,
   * decoder-side probes are stacked over generated steps on a new leading axis 'step'.
   */
  tensor: FloatTensor;
  /** Present when the tensor was stacked over decoding steps. */
  stepAxis?: boolean;
  /** Present on `Trace.pooled` entries: the tensor is max-pooled over blocks of this many queries × keys. */
  pooledBy?: number;
}

export interface Trace {
  model: string;
  architecture: Architecture;
  backend: string;
  input: string;
  tokens: TokenSpan[];
  /** A run on tensors (`input` is then ''): the arrays given, by input name, as fed (tokens are positions). */
  tensorInputs?: { name: string; dims: number[] }[];
  /**
   * A continued text (decoder-only models, run/continueText.ts): `tokens` are the prompt's then the
   * generated ones (marked `generated`), from index `from`; `input` is the prompt text plus the decoded
   * continuation. `cachedSteps` of the `steps` decoding runs were fed the key/value cache.
   */
  continuation?: { from: number; steps: number; cachedSteps: number; stop: 'eos' | 'limit'; text: string };
  /** Encoder-decoder models: the greedily generated target tokens, in order. */
  generated?: TokenSpan[];
  probes: ProbeTensor[];
  /** Output logits [seq, vocab] (or [steps, vocab] for decoders), when the model has them. */
  logits?: FloatTensor;
  /** Milliseconds: tokenize, instrument, sessionCreate, run (sum over steps), extract, total. */
  timings: Record<string, number>;
  warnings: string[];
  /**
   * Attention probes this run did not hand back (they would not fit the caller's byte budget): fetched
   * later by a run with `only` set to their names.
   */
  deferred?: Probe[];
  /** The deferred attention probes' pooled overviews (see probes/pooledAttention.ts), where the plan has them. */
  pooled?: ProbeTensor[];
}
