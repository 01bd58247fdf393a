/**
 * Sequence Lens: Open Visualizer Beside the Editor / Move Visualizer to the Panel — where runs are
 * shown. The choice is remembered; the last run is shown again in the new place.
 */
import type { HostContext } from './hostContext.js';

export async function openBeside(ctx: HostContext): Promise<void> {
  await ctx.panel.moveTo('editor');
}

export async function moveToPanel(ctx: HostContext): Promise<void> {
  await ctx.panel.moveTo('panel');
}
