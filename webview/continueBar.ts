/**
 * "Continue" for a decoder-only model. In the header: how many tokens, and the Continue button, shown while
 * the panel shows one text through a decoder-only model with logits (not seq2seq, not arrays). Under it,
 * after a continuation: the step bar over the generated tokens (the step controls the encoder-decoder view
 * uses, views/stepControls.ts). The chosen token is pinned, so the attention views highlight its row.
 */
import type { RunData } from './data/runData.js';
import { tokenLabel } from './data/runData.js';
import type { Control, Selection } from './views/viewTypes.js';
import { stepControls, stepKey } from './views/stepControls.js';
import { control, el, focusControl } from './viewHost.js';

/** The most tokens one press generates (the setting's maximum). */
export const MAX_CONTINUE = 1024;

/** Whether runs shown can be continued: one run of a decoder-only model on text, with logits. */
export function canContinue(runs: readonly RunData[]): boolean {
  const t = runs.length === 1 ? runs[0].trace : undefined;
  return !!t && t.architecture === 'transformer-decoder' && !t.generated && !t.tensorInputs && (!!t.logits || !!runs[0].topLogits);
}

export class ContinueBar {
  /** The header's part: the number of tokens and the button. */
  readonly group: HTMLElement;
  /** The step bar over the generated tokens (hidden until a run is a continuation). */
  readonly steps: HTMLElement;
  private readonly count: HTMLElement & { value: string };
  private readonly button: HTMLElement;
  private stepsKey = '';
  private live: Control[] = [];
  private current?: { n: number; step: number; set: (k: number) => void };

  constructor(private readonly onContinue: (tokens: number) => void) {
    this.group = el('span', 'continue-group');
    this.count = el('vscode-textfield', 'continue-count') as HTMLElement & { value: string };
    this.count.setAttribute('inputmode', 'numeric');
    this.count.setAttribute('aria-label', 'Tokens to generate');
    this.count.title = `How many tokens Continue generates (1–${MAX_CONTINUE}; setting sequenceLens.continueTokens)`;
    this.setDefault(20);
    this.button = el('vscode-button', 'continue-run');
    this.button.textContent = 'Continue';
    this.button.title = 'Generate tokens after the text, greedily, and show the attention of each';
    this.button.addEventListener('click', () => this.press());
    this.count.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') this.press(); });
    this.group.append(this.count, this.button);
    this.group.hidden = true;

    this.steps = el('div', 'continue-steps');
    this.steps.setAttribute('role', 'group');
    this.steps.setAttribute('aria-label', 'Generated tokens');
    this.steps.hidden = true;
    // Arrow keys step from the ◀ ▶ buttons too (the slider moves by itself).
    this.steps.addEventListener('keydown', (e) => {
      const c = this.current;
      if (!c || (e.target instanceof HTMLInputElement) || !stepKey(e, c.n, c.step, c.set)) return;
      e.preventDefault();
    });
  }

  /** The number of tokens the field starts with (the host's setting). */
  setDefault(tokens: number): void {
    const n = String(Math.max(1, Math.min(MAX_CONTINUE, Math.floor(tokens))));
    this.count.value = n;
    this.count.setAttribute('value', n);
  }

  /** The number of tokens asked for, or undefined when the field holds no whole number ≥ 1. */
  tokens(): number | undefined {
    const n = Number(this.count.value.trim());
    return Number.isInteger(n) && n >= 1 ? Math.min(MAX_CONTINUE, n) : undefined;
  }

  private press(): void {
    const n = this.tokens();
    this.count.toggleAttribute('invalid', n === undefined);
    if (n !== undefined) this.onContinue(n);
  }

  /**
   * Shows what the runs allow (`allowed`: the page runs models itself and knows the shown model): the
   * Continue controls, and a continued run's step bar at the selection's step.
   */
  update(runs: readonly RunData[], allowed: boolean, sel: Selection, setSel: (patch: Partial<Selection>) => void): void {
    this.group.hidden = !allowed || !canContinue(runs);
    const run = runs.length === 1 ? runs[0] : undefined;
    const c = run?.trace.continuation;
    if (!run || !c?.steps) {
      this.steps.hidden = true;
      this.steps.replaceChildren();
      this.stepsKey = '';
      this.current = undefined;
      return;
    }
    this.steps.hidden = false;
    const step = Math.max(0, Math.min(sel.step, c.steps - 1));
    const set = (k: number): void => setSel({ step: k, pinned: c.from + k });
    this.current = { n: c.steps, step, set };
    const tokens = run.tokens;
    this.live = stepControls(c.steps, step, set, {
      label: 'Token', stepText: (i) => `"${tokenLabel(tokens[c.from + i], 12)}" at position ${c.from + i}`,
    });
    const key = JSON.stringify(this.live);
    if (key === this.stepsKey) return;
    this.stepsKey = key;
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && this.steps.contains(active) ? active.closest<HTMLElement>('[data-control]')?.dataset.control : undefined;
    const title = el('span', 'continue-steps-title');
    title.textContent = `Generated ${c.steps} token${c.steps === 1 ? '' : 's'}${c.stop === 'eos' ? ' (stopped at the end token)' : ''}:`;
    this.steps.replaceChildren(title, ...this.live.map((ctl, i) => control(ctl, () => this.live[i])));
    if (focused) focusControl(this.steps, focused);
  }
}
