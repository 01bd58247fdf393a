/**
 * What every code-server suite does the same way: find the extension's log in the code-server profile, and
 * run a step that, when it fails, leaves a screenshot and prints what the panel and the host saw (CI keeps
 * only the console).
 */
import { it } from 'node:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Workbench } from './workbench.js';

/** The extension's log file in the code-server profile (the newest session's), if there is one yet. */
export function extensionLogFile(scratch: string | undefined): string | undefined {
  const logs = join(scratch ?? '', 'profile', 'user-data', 'logs');
  if (!scratch || !existsSync(logs)) return undefined;
  const files = readdirSync(logs).sort().map((session) => join(logs, session, 'exthost1', 'sequence-lens.sequence-lens', 'Sequence Lens.log'));
  return files.reverse().find((f) => existsSync(f));
}

export function extensionLog(scratch: string | undefined): string[] {
  const f = extensionLogFile(scratch);
  return f ? readFileSync(f, 'utf8').trimEnd().split('\n') : [];
}

/**
 * A suite's `step(name, fn)`: an `it` that, on failure, screenshots the workbench as FAILED-<name> and prints
 * the panel's status line, the notifications and the last 25 lines of the extension's log. The workbench and
 * scratch folder are read when the step runs (they are made in the suite's `before`).
 */
export function stepWith(ctx: () => { wb?: Workbench; scratch?: string }): (name: string, fn: () => Promise<void>) => void {
  return (name, fn) => {
    it(name, async () => {
      try {
        await fn();
      } catch (e) {
        const { wb, scratch } = ctx();
        await wb?.screenshot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`).catch(() => undefined);
        const panel = await wb?.panelStatus().catch(() => undefined);
        console.log(`# FAILED step "${name}": panel status: ${panel ?? '(no panel)'}; notifications: ${JSON.stringify(await wb?.notifications().catch(() => []))}`);
        for (const line of extensionLog(scratch).slice(-25)) console.log(`#   log: ${line}`);
        throw e;
      }
    });
  };
}
