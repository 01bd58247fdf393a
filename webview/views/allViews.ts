/** The ten views, in tab order. */
import { AttentionHeatmap } from './attentionHeatmap.js';
import { HeadView } from './headView.js';
import { ModelView } from './modelView.js';
import { HiddenStates } from './hiddenStates.js';
import { ProbedTensors } from './probedTensors.js';
import { RecurrentState } from './recurrentState.js';
import { EncoderDecoder } from './encoderDecoder.js';
import { Predictions } from './predictions.js';
import { PositionalView } from './positionalEncoding.js';
import { CompareView } from './compare.js';
import { SequentialParallelView } from './sequentialParallel.js';
import type { View } from './viewTypes.js';
import type { StoryMeasure } from '../data/storyData.js';

/** What views that run something of their own need from the page (absent: they only draw). */
export interface ViewDeps {
  /** Times the zoo's recurrent models against its Transformer on the page's backend. */
  measureStory?: StoryMeasure;
}

export function allViews(deps: ViewDeps = {}): View[] {
  return [new AttentionHeatmap(), new HeadView(), new ModelView(), new HiddenStates(), new RecurrentState(),
    new EncoderDecoder(), new Predictions(), new PositionalView(), new CompareView(), new SequentialParallelView(deps.measureStory), new ProbedTensors()];
}
