/**
 * The steps of the "From RNNs to Transformers" walkthrough (package.json `contributes.walkthroughs`):
 * for each step that runs a model, the sample text (media/walkthrough/samples/), the span to select,
 * the zoo model(s), and the view the page shows afterwards (with a button of it to press). Read by the
 * command behind the steps' buttons (src/commands/walkthroughStep.ts), by the generator of the steps'
 * pictures (tools/walkthroughMedia.ts) and by the E2E test; no `vscode` here.
 */

/** The walkthrough's id in package.json (its full id is `sequence-lens.sequence-lens#<this>`). */
export const WALKTHROUGH_ID = 'sequenceLens.roadToTransformers';

export interface WalkthroughRunStep {
  /** File in media/walkthrough/samples/. */
  sample: string;
  /** The selection: from the first `start` to the end of the first `through` after it. */
  start: string;
  through: string;
  /** Zoo model id (made the active model). */
  model: string;
  /** A second zoo model run on the same text (the Compare view). */
  compareWith?: string;
  /** View id (webview/views/allViews.ts) shown after the run, and a button of that view to press. */
  view: string;
  press?: string;
}

export const WALKTHROUGH_RUN_STEPS = {
  rnn: { sample: 'declarations.ts', start: 'interface ReadonlyArray', through: '\n}', model: 'zoo:rnn', view: 'hidden' },
  gates: { sample: 'brackets.ts', start: 'export function', through: 'String(s.length));', model: 'zoo:lstm', view: 'recurrent', press: 'unitBracket' },
  bottleneck: {
    sample: 'dates.txt', start: 'Thu, the', through: 'twenty-seven', model: 'zoo:dates-gru', compareWith: 'zoo:dates-gru-attention', view: 'compare',
  },
  alignment: { sample: 'dates.txt', start: 'the twenty-seventh', through: 'seventy-eight', model: 'zoo:dates-gru-attention', view: 'encdec' },
  transformer: { sample: 'declarations.ts', start: 'interface ReadonlyArray', through: '\n}', model: 'zoo:transformer', view: 'headview' },
  parallel: { sample: 'declarations.ts', start: 'interface ReadonlyArray', through: '\n}', model: 'zoo:transformer', view: 'sequentialParallel', press: 'story-measure' },
} as const satisfies Record<string, WalkthroughRunStep>;

export type WalkthroughRunStepId = keyof typeof WALKTHROUGH_RUN_STEPS;
/** Every step, in the walkthrough's order; 'inspect' opens a model of the workspace in the inspector. */
export type WalkthroughStepId = WalkthroughRunStepId | 'inspect';
export const WALKTHROUGH_STEP_IDS: readonly WalkthroughStepId[] = ['rnn', 'gates', 'bottleneck', 'alignment', 'transformer', 'parallel', 'inspect'];

export function isWalkthroughStepId(v: unknown): v is WalkthroughStepId {
  return typeof v === 'string' && (WALKTHROUGH_STEP_IDS as readonly string[]).includes(v);
}

/** Where the step's span is in the sample's text (undefined when the sample lacks it). */
export function stepRange(text: string, step: Pick<WalkthroughRunStep, 'start' | 'through'>): { start: number; end: number } | undefined {
  const start = text.indexOf(step.start);
  const through = start < 0 ? -1 : text.indexOf(step.through, start);
  return through < 0 ? undefined : { start, end: through + step.through.length };
}
