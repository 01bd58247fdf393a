/** The nine views, in tab order. */
import { AttentionHeatmap } from './attentionHeatmap.js';
import { HeadView } from './headView.js';
import { ModelView } from './modelView.js';
import { HiddenStates } from './hiddenStates.js';
import { RecurrentState } from './recurrentState.js';
import { EncoderDecoder } from './encoderDecoder.js';
import { Predictions } from './predictions.js';
import { PositionalView } from './positionalEncoding.js';
import { CompareView } from './compare.js';
import type { View } from './viewTypes.js';

export function allViews(): View[] {
  return [new AttentionHeatmap(), new HeadView(), new ModelView(), new HiddenStates(), new RecurrentState(),
    new EncoderDecoder(), new Predictions(), new PositionalView(), new CompareView()];
}
