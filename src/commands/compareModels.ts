/** Sequence Lens: Compare Two Models on Selection — picks two models, runs both in the panel. */
import type { HostContext } from './hostContext.js';
import { pickModel } from './modelPick.js';
import { runOnSelection } from './runOnSelection.js';

export async function compareModels(ctx: HostContext): Promise<void> {
  const first = await pickModel(ctx.registry, { title: 'Compare Two Models (1/2)', placeHolder: 'First model' });
  if (!first) return;
  const second = await pickModel(ctx.registry, { title: 'Compare Two Models (2/2)', placeHolder: `Compare ${first.label} with…`, exclude: first.id });
  if (!second) return;
  await runOnSelection(ctx, second, first);
}
