/** Id → token text for the model's output vocabulary (predictions, logit lens). */
import type { RunData } from './runData.js';
import { vocabLabel } from '../../src/core/tokenize/visibleText.js';

export function vocabText(run: RunData, id: number): string {
  return run.outputVocab ? run.outputVocab(id) : `#${id}`;
}

/** A predicted token as views show it: the text the entry stands for, whitespace marked ('Ġthe' → '·the'). */
export function vocabDisplay(run: RunData, id: number): string {
  return run.outputVocab ? vocabLabel(run.outputVocab(id)) : `#${id}`;
}

/** A predicted token in a hover: readable text, then id and the entry as the vocabulary spells it. */
export function vocabHover(run: RunData, id: number): string {
  return `"${vocabDisplay(run, id)}" (id ${id}${run.outputVocab ? ` ${JSON.stringify(run.outputVocab(id))}` : ''})`;
}
