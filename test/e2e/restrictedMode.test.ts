/**
 * Restricted Mode (an untrusted workspace), end to end in code-server: the extension declares
 * limited support — only the bundled models are offered, workspace .onnx files are neither run nor
 * inspected, and the UI says so.
 *
 *   node --import tsx --test test/e2e/restrictedMode.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, missingPrerequisite, prepareScratch } from './codeServer.js';
import type { Workbench } from './workbench.js';
import { closeWorkbench, openWorkbench, type OpenedWorkbench } from './suiteSupport.js';

const OUT = join(ROOT, 'test-results', 'e2e-restricted');
const skip = missingPrerequisite();

describe('Sequence Lens in Restricted Mode', { skip, timeout: 10 * 60_000 }, () => {
  let opened: OpenedWorkbench | undefined;
  let wb: Workbench;
  let scratch = '';

  before(async () => {
    let folder: string;
    ({ scratch, folder } = prepareScratch(OUT, 'seqlens-e2e-restricted-'));
    // Trust stays on but is never prompted for: a new folder then opens in Restricted Mode.
    opened = await openWorkbench({
      folder, scratch, outDir: OUT, trust: false,
      settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'always' },
    });
    wb = opened.wb;
  });

  after(() => closeWorkbench(opened, scratch, OUT));

  it('opens in Restricted Mode', async () => {
    await wb.page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 60_000 });
    await wb.screenshot('restricted-mode');
  });

  it('offers only the bundled models', async () => {
    await wb.command('Sequence Lens: Select Model', 60_000);
    const rows = await wb.quickPickRows('Sequence Lens: Select Model');
    assert.ok(rows.length >= 2, rows.join(' | '));
    assert.ok(rows.every((r) => /· zoo/.test(r)), `only zoo models: ${rows.join(' | ')}`);
    assert.ok(!rows.some((r) => /gru-encoder|corrupt/.test(r)));
    await wb.screenshot('restricted-quick-pick');
    await wb.page.keyboard.press('Escape');
  });

  it('does not open workspace models in the inspector, and says why', async () => {
    await wb.openFromExplorer('models/no-tokenizer/gru-encoder.onnx');
    const msg = await wb.waitNotification(/Restricted Mode/);
    assert.match(msg, /Trust this workspace/);
    // The inspector page itself says why it is empty.
    const frame = await wb.webviewFrame('inspector');
    await frame.locator('.insp-notice', { hasText: 'untrusted workspace' }).waitFor({ timeout: 30_000 });
    await wb.screenshot('restricted-inspector');
  });

  it('shows the restriction in the models tree', async () => {
    const header = wb.page.locator('.pane-header', { hasText: 'Sequence Models' }).first();
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    // Make room (collapse the folder tree), then move to the end of the list, where the note is.
    const folders = wb.page.locator('.pane-header', { hasText: 'sample-workspace' }).first();
    if ((await folders.getAttribute('aria-expanded')) === 'true') await folders.click();
    // Focus the tree through its generated focus command: clicking a row fails when the pane is
    // squeezed so small that the row is not visible.
    await wb.command('Focus on Sequence Models View');
    await wb.page.keyboard.press('End');
    await wb.page.locator('.monaco-list-row', { hasText: 'Restricted Mode: only the bundled models are listed' }).first().waitFor({ timeout: 20_000 });
    await wb.screenshot('restricted-tree');
  });
});
