/** Error codes every face of Sequence Lens (CLI, panel, host) maps to one clear, actionable line. */
const ERROR_CODES = [
  'not-onnx',
  'truncated',
  'external-data',
  'not-sequence-model',
  'missing-tokenizer',
  'model-missing',
  'bad-manifest',
  'empty-input',
  /** Arrays given for a model's inputs (a run on .npy files) that do not fit them. */
  'bad-input',
  'too-long',
  'unsupported',
  'runtime',
  'cancelled',
] as const;

export type SeqLensErrorCode = (typeof ERROR_CODES)[number];

/** A code that crossed a thread or the webview boundary as a string: itself when Sequence Lens knows it, else 'runtime'. */
export function knownErrorCode(code: string): SeqLensErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code) ? (code as SeqLensErrorCode) : 'runtime';
}

/** Longest message kept: messages quote what a file holds (names, parser errors), which can be anything. */
export const MAX_MESSAGE_LENGTH = 400;

/**
 * Text as one short line: whitespace runs (newlines included) become one space, control characters
 * (terminal escapes in a hostile file name) become U+FFFD, and the rest is cut at `max` with an ellipsis.
 */
export function oneLine(text: string, max = MAX_MESSAGE_LENGTH): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}\u2026` : flat;
}

/**
 * A JSON.parse error without the stretch of the input V8 quotes ("Unexpected token 'x', ...\"<input>\"... is
 * not valid JSON"): the position is what helps, the quoted bytes may be binary.
 */
export function jsonErrorDetail(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return oneLine(msg.replace(/^(Unexpected token .+?), (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '$1'), 160);
}

export class SeqLensError extends Error {
  constructor(
    readonly code: SeqLensErrorCode,
    message: string,
  ) {
    // The one place that keeps the "one line" promise, whatever a message quotes.
    super(oneLine(message));
    this.name = 'SeqLensError';
  }
}

export function isSeqLensError(e: unknown): e is SeqLensError {
  return e instanceof SeqLensError;
}
