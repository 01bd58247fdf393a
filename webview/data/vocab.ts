/** Id → token text for the model's output vocabulary (predictions, logit lens). */
import type { RunData } from './runData.js';

export function vocabText(run: RunData, id: number): string {
  return run.outputVocab ? run.outputVocab(id) : `#${id}`;
}
