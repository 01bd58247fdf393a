/** Error codes every face of Sequence Lens (CLI, panel, host) maps to one clear, actionable line. */
export type SeqLensErrorCode =
  | 'not-onnx'
  | 'truncated'
  | 'external-data'
  | 'not-sequence-model'
  | 'missing-tokenizer'
  | 'bad-manifest'
  | 'empty-input'
  | 'too-long'
  | 'unsupported'
  | 'runtime'
  | 'cancelled';

export class SeqLensError extends Error {
  constructor(
    readonly code: SeqLensErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SeqLensError';
  }
}

export function isSeqLensError(e: unknown): e is SeqLensError {
  return e instanceof SeqLensError;
}
