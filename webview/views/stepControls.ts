/**
 * Stepping through generated tokens, one control set for every place that does it: the encoder-decoder
 * view's output steps and the panel's step bar over a continued text's tokens. ◀ and ▶ buttons, a slider
 * (arrow keys move it), optionally "All steps"; arrow keys on a view's picture step as well.
 */
import type { Control } from './viewTypes.js';

export interface StepOptions {
  /** What one step is called ('Step', 'Generated token'). */
  label?: string;
  /** The label of each step, for the slider's value text (e.g. the token). */
  stepText?: (step: number) => string;
  /** Add an "All steps" button that jumps to the last step. */
  all?: boolean;
}

/** The controls for `n` steps at `step`; `set` is given a step already clamped to 0..n-1. */
export function stepControls(n: number, step: number, set: (v: number) => void, o: StepOptions = {}): Control[] {
  const last = Math.max(0, n - 1);
  const to = (v: number): void => set(Math.max(0, Math.min(last, Math.round(v))));
  const cur = Math.min(Math.max(0, step), last);
  const label = o.label ?? 'Step';
  const out: Control[] = [
    { kind: 'button', id: 'prev', label: `◀ ${label === 'Step' ? 'Step' : ''}`.trim(), title: `Previous ${label.toLowerCase()}`, run: () => to(cur - 1) },
    {
      kind: 'range', id: 'step', label, value: cur, min: 0, max: last, set: to,
      valueText: `${cur + 1} / ${n}${o.stepText ? ` ${o.stepText(cur)}` : ''}`,
    },
    { kind: 'button', id: 'next', label: `${label === 'Step' ? 'Step ' : ''}▶`, title: `Next ${label.toLowerCase()}`, run: () => to(cur + 1) },
  ];
  if (o.all) out.push({ kind: 'button', id: 'all', label: 'All steps', run: () => to(last) });
  return out;
}

/** Arrow keys step (→ ↓ forward, ← ↑ back); returns true when the key was one of them. */
export function stepKey(e: KeyboardEvent, n: number, step: number, set: (v: number) => void): boolean {
  const last = Math.max(0, n - 1);
  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { set(Math.min(last, step + 1)); return true; }
  if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { set(Math.max(0, step - 1)); return true; }
  return false;
}
