/** Sequence Lens: Open Panel — shows the side panel and gives it focus. */
import type { HostContext } from './hostContext.js';

export async function openPanel(ctx: HostContext): Promise<void> {
  await ctx.panel.open(false);
}
