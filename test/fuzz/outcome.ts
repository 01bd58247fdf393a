/**
 * How a fuzz case ended. Passing: 'ok' or 'seqlens-error' (a SeqLensError whose message is one
 * sentence: one line, not empty, at most MAX_MESSAGE characters). Everything else fails the tier:
 * a SeqLensError with a message of the wrong shape, any other exception (including a wrong result,
 * `Invariant`), a case over its time bound, a crashed worker or process, an allocation over the guard.
 */
import { isSeqLensError } from '../../src/core/errors.js';
import type { Target } from './cases.js';

export const OUTCOMES = ['ok', 'seqlens-error', 'bad-message', 'other-error', 'timeout', 'crash', 'allocation'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const PASSING: ReadonlySet<Outcome> = new Set<Outcome>(['ok', 'seqlens-error']);

export const MAX_MESSAGE = 500;

export interface CaseRequest {
  seed: number;
  index: number;
}

export interface CaseOutcome {
  index: number;
  target: Target;
  origin: string;
  steps: string[];
  outcome: Outcome;
  ms: number;
  /** SeqLensError code, or the error's name for other exceptions. */
  code?: string;
  message?: string;
  /** First frames of the stack for failures. */
  stack?: string;
  rssMb?: number;
}

export function isOneSentence(message: string): boolean {
  const m = message.trim();
  return m.length > 0 && !m.includes('\n') && m.length <= MAX_MESSAGE;
}

export function classify(error: unknown, allocationViolations: readonly string[] = []): Pick<CaseOutcome, 'outcome' | 'code' | 'message' | 'stack'> {
  if (allocationViolations.length) {
    return { outcome: 'allocation', code: 'AllocationTooLarge', message: allocationViolations[0] };
  }
  if (error === undefined) return { outcome: 'ok' };
  if (isSeqLensError(error)) {
    return isOneSentence(error.message)
      ? { outcome: 'seqlens-error', code: error.code, message: error.message }
      : { outcome: 'bad-message', code: error.code, message: error.message.slice(0, 2000), stack: stackOf(error) };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { outcome: 'other-error', code: e.name, message: e.message.slice(0, 2000), stack: stackOf(e) };
}

function stackOf(e: Error): string {
  return (e.stack ?? '').split('\n').slice(1, 9).map((l) => l.trim()).join('\n');
}
