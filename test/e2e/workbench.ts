/**
 * Driving the VS Code workbench (code-server) with Playwright: the palette, quick picks, the
 * explorer, the editor's context menu, notifications, and the webviews' inner frames.
 * Pitfalls this encodes (see ../shared/notes/e2e-code-server.md): Escape in the editor drops the
 * selection; right-click must land inside the selection; a webview's content is two frames deep.
 */
import type { Frame, Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

export class Workbench {
  private shot = 0;
  /** When contextMenu() last chose its entry, and when command() last clicked its palette row (epoch ms). */
  lastMenuChosenAt = 0;
  lastCommandAt = 0;
  constructor(readonly page: Page, readonly shotsDir: string) {
    mkdirSync(shotsDir, { recursive: true });
  }

  async screenshot(name: string): Promise<string> {
    this.shot += 1;
    const file = join(this.shotsDir, `${String(this.shot).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async waitLoaded(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await this.page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60_000 });
  }

  /** Runs a palette command by its full label; retries while the extension is still activating. */
  async command(label: string, timeoutMs = 30_000): Promise<void> {
    await until(`command "${label}" in the palette`, async () => {
      await this.page.keyboard.press('F1');
      const input = this.page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 5000 });
      await input.fill(`>${label}`);
      await sleep(400);
      const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
      if (!(await row.isVisible())) {
        await this.page.keyboard.press('Escape');
        return false;
      }
      this.lastCommandAt = Date.now();
      await row.click();
      return true;
    }, timeoutMs, 1000);
  }

  /** Picks a row of the open quick pick by its text. */
  async pick(text: string, timeoutMs = 15_000): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: timeoutMs });
    await input.fill(text);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
    await row.waitFor({ timeout: timeoutMs });
    await row.click();
  }

  /** The rows of the open quick pick titled `title` (waits until the palette has given way to it). */
  async quickPickRows(title: string): Promise<string[]> {
    await this.page.locator('.quick-input-widget .quick-input-title', { hasText: title }).first().waitFor({ timeout: 15_000 });
    await this.page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 15_000 });
    return this.page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
  }

  /** Opens a workspace file with Quick Open (falling back to the explorer) and waits until its tab is active. */
  async openFile(relPath: string): Promise<void> {
    const name = relPath.split('/').pop() ?? relPath;
    const active = this.page.locator(`.tab.active[aria-label^="${name}"]`).first();
    const input = this.page.locator('.quick-input-widget input');
    const tab = this.page.locator(`.tab[aria-label^="${name}"]`).first();
    await until(`${relPath} in the active tab`, async () => {
      if (await input.isVisible().catch(() => false)) await this.page.keyboard.press('Escape');
      // Already open: click its tab. A focused webview (a custom editor) may swallow Ctrl+P.
      if (await tab.isVisible().catch(() => false)) {
        await tab.click();
        return active.waitFor({ timeout: 5000 }).then(() => true, () => false);
      }
      await this.page.keyboard.press('Control+P');
      if (await input.waitFor({ timeout: 3000 }).then(() => true, () => false)) {
        await input.fill(relPath);
        await this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 5000 });
        await this.page.keyboard.press('Enter');
      } else {
        // A focused webview (the inspector) may keep Ctrl+P to itself: use the explorer instead.
        await this.openFromExplorer(relPath);
      }
      return active.waitFor({ timeout: 5000 }).then(() => true, () => false);
    }, 45_000, 500);
    await sleep(200);
  }

  /** Clicks a file in the explorer, expanding the folders on its path. */
  async openFromExplorer(relPath: string): Promise<void> {
    const parts = relPath.split('/');
    for (let i = 0; i < parts.length; i += 1) {
      const row = this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${parts[i]}"]`).first();
      await row.waitFor({ timeout: 15_000 });
      const expanded = await row.getAttribute('aria-expanded');
      if (i < parts.length - 1) {
        if (expanded !== 'true') await row.click();
      } else {
        await row.click();
      }
      await sleep(300);
    }
  }

  /** The status bar's "Ln 1, Col 55 (54 selected)". */
  async cursorStatus(): Promise<string> {
    return (await this.page.locator('[id="status.editor.selection"]').first().innerText().catch(() => '')).trim();
  }

  /**
   * Selects `length` characters from line `line`, column `column` (1-based) of the active editor,
   * with Go to Line and Shift+Right, and checks the result in the status bar (retrying when a
   * keystroke was lost on a busy machine).
   */
  async selectInEditor(line: number, column: number, length: number): Promise<void> {
    const want = new RegExp(`^Ln ${line}, Col ${column + length}${length > 0 ? ` \\(${length} selected\\)` : '$'}`);
    await until(`a selection of ${length} characters at ${line}:${column}`, async () => {
      // A leftover menu or quick input (e.g. an earlier Go to Line) would swallow the keys: close it first.
      for (const sel of ['.context-view .monaco-menu', '.quick-input-widget input']) {
        if (await this.page.locator(sel).first().isVisible().catch(() => false)) await this.page.keyboard.press('Escape');
      }
      const editor = this.page.locator('.editor-instance .monaco-editor').first();
      await editor.locator('.view-lines').click({ timeout: 5000 }).catch(() => undefined);
      await this.page.keyboard.press('Control+G');
      const input = this.page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 5000 });
      await input.fill(`:${line}:${column}`);
      await sleep(150);
      await this.page.keyboard.press('Enter');
      await input.waitFor({ state: 'hidden', timeout: 5000 });
      for (let i = 0; i < length; i += 1) await this.page.keyboard.press('Shift+ArrowRight');
      await sleep(150);
      return want.test(await this.cursorStatus());
    }, 30_000, 500);
  }

  /**
   * Selects the whole of line `line` (Go to Line, then Shift+End): text with emoji or combining marks, where
   * arrow presses and the status bar's count go by other units than characters.
   */
  async selectLine(line: number): Promise<void> {
    await until(`line ${line} selected`, async () => {
      for (const sel of ['.context-view .monaco-menu', '.quick-input-widget input']) {
        if (await this.page.locator(sel).first().isVisible().catch(() => false)) await this.page.keyboard.press('Escape');
      }
      await this.page.locator('.editor-instance .monaco-editor .view-lines').first().click({ timeout: 5000 }).catch(() => undefined);
      await this.page.keyboard.press('Control+G');
      const input = this.page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 5000 });
      await input.fill(`:${line}:1`);
      await sleep(150);
      await this.page.keyboard.press('Enter');
      await input.waitFor({ state: 'hidden', timeout: 5000 });
      await this.page.keyboard.press('Shift+End');
      await sleep(150);
      return new RegExp(`^Ln ${line}, Col \\d+ \\(\\d+ selected\\)`).test(await this.cursorStatus());
    }, 30_000, 500);
  }

  /** Screen point inside the current selection (right-clicking elsewhere would drop it). */
  async selectionPoint(): Promise<{ x: number; y: number }> {
    const sel = this.page.locator('.editor-instance .monaco-editor .selected-text').first();
    await sel.waitFor({ timeout: 10_000 });
    const box = await sel.boundingBox();
    if (!box) throw new Error('selection has no box');
    // In a narrow editor (the visualizer beside it) the line may be scrolled sideways: click the part in view.
    const view = await this.page.locator('.editor-instance .monaco-editor .editor-scrollable').first().boundingBox();
    const left = Math.max(box.x, view?.x ?? box.x), right = Math.min(box.x + box.width, view ? view.x + view.width : Infinity);
    if (right <= left) throw new Error('the selection is scrolled out of view');
    return { x: left + Math.min(20, (right - left) / 2), y: box.y + box.height / 2 };
  }

  /** Right-clicks inside the selection and chooses `item` from the context menu. Returns the time of the right-click. */
  async contextMenu(item: string): Promise<number> {
    const p = await this.selectionPoint();
    const t0 = Date.now();
    await this.page.mouse.click(p.x, p.y, { button: 'right' });
    const entry = this.page.locator('.monaco-menu .action-item', { hasText: item }).first();
    await entry.waitFor({ timeout: 10_000 });
    await this.screenshotQuiet('context-menu');
    // A click that lands while the menu is still settling can leave it open with the entry merely
    // highlighted (seen in CI): hover first, and if the menu is still there, activate the entry with Enter.
    await entry.hover();
    await sleep(150);
    this.lastMenuChosenAt = Date.now();
    await entry.click();
    const menu = this.page.locator('.context-view .monaco-menu').first();
    if (!(await menu.waitFor({ state: 'hidden', timeout: 3000 }).then(() => true, () => false))) {
      await entry.hover();
      this.lastMenuChosenAt = Date.now();
      await this.page.keyboard.press('Enter');
      await menu.waitFor({ state: 'hidden', timeout: 5000 });
    }
    return t0;
  }

  private pendingMenuShot = false;
  /** A screenshot of the open context menu, taken once per test run. */
  private async screenshotQuiet(name: string): Promise<void> {
    if (this.pendingMenuShot) return;
    this.pendingMenuShot = true;
    await this.screenshot(name);
  }

  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-toast .notification-list-item-message').allInnerTexts();
  }

  async waitNotification(re: RegExp, timeoutMs = 30_000): Promise<string> {
    return until(`a notification matching ${re}`, async () => (await this.notifications()).find((t) => re.test(t)), timeoutMs);
  }

  async clearNotifications(): Promise<void> {
    await this.command('Notifications: Clear All Notifications');
  }

  /** Makes the bottom panel about `height` px tall by dragging its top edge. */
  async resizePanel(height: number): Promise<void> {
    const panel = await this.page.locator('.part.panel').first().boundingBox();
    if (!panel) return;
    const x = panel.x + panel.width / 2;
    const targetTop = panel.y + panel.height - height;
    await this.page.mouse.move(x, panel.y - 1);
    await this.page.mouse.down();
    await this.page.mouse.move(x, (panel.y + targetTop) / 2, { steps: 5 });
    await this.page.mouse.move(x, targetTop, { steps: 5 });
    await this.page.mouse.up();
  }

  /** Number of decoration ranges Sequence Lens painted in the visible editor. */
  async decoratedRanges(): Promise<number> {
    return this.page.evaluate(() => {
      const els = Array.from(document.querySelectorAll('.editor-instance .view-overlays div[class*="ced-"]'));
      return els.filter((e) => getComputedStyle(e).backgroundColor.startsWith('rgba')).length;
    });
  }

  /** The inner frame of a Sequence Lens webview (its app exposes `window.__seqlens`; body data-mode tells which). */
  /** The status line of the Sequence Lens panel, or undefined when no panel page is loaded. */
  async panelStatus(): Promise<string | undefined> {
    const frame = await this.webviewFrame('panel', 2000).catch(() => undefined);
    return frame?.evaluate(() => document.querySelector('.app-status')?.textContent ?? '');
  }

  /**
   * `area`: only a page shown over that part of the workbench (the visualizer can live in the panel area
   * or beside the editor; both pages are mode 'panel'). Webview iframes float over the workbench rather
   * than sitting inside the part's DOM, so the part is told by where the frame is drawn.
   */
  async webviewFrame(mode: 'panel' | 'inspector', timeoutMs = 30_000, area?: 'panel' | 'editor'): Promise<Frame> {
    return until(`the ${mode} webview${area ? ` in the ${area} area` : ''}`, async () => {
      for (const f of this.page.frames()) {
        const ok = await f.evaluate((m) => typeof (window as { __seqlens?: unknown }).__seqlens === 'object' && document.body.dataset.mode === m, mode)
          .catch(() => false);
        if (ok && (!area || await this.frameIn(f, area))) return f;
      }
      return undefined;
    }, timeoutMs);
  }

  private async frameIn(f: Frame, area: 'panel' | 'editor'): Promise<boolean> {
    // The app's frame sits in VS Code's webview iframe; that iframe's box is where the page is drawn.
    const outer = f.parentFrame();
    const box = await (await outer?.frameElement().catch(() => undefined))?.boundingBox();
    const part = await this.page.locator(`.part.${area}`).first().boundingBox().catch(() => null);
    if (!box || !part || box.width === 0) return false;
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    return cx >= part.x && cx <= part.x + part.width && cy >= part.y && cy <= part.y + part.height;
  }
}
