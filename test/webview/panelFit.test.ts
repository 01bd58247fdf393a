/**
 * The first picture fits the panel: the Sequence Lens panel opens in VS Code's bottom area, a few hundred
 * pixels tall. In headless Chromium at panel-sized viewports, the heatmap of the zoo Transformer on 44
 * tokens must show every query row inside the view's box; hovering a cell (with the real mouse, through
 * the fitted scale) must name the (query, key) pair and the weight that `values('heatmap')` holds;
 * clicking pins; zoom enlarges the cells and scrolls under the pointer, keeps the keyboard cursor in
 * sight, is remembered in the webview state, and Fit returns. Screenshots go to test-results/webview/.
 * Run: node --import tsx --test test/webview/panelFit.test.ts
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { startHarness, type Harness } from './harnessServer.js';
import { launch, PageDriver, CHROMIUM } from './pageDriver.js';
import { zooRef } from './zooRefs.js';
import { buildWebviewBundle, TEST_BUNDLE } from './buildBundle.js';

const OUT = 'test-results/webview';
/** 44 characters: the char-level Transformer sees 44 tokens, the row count of the report. */
const TEXT = 'interface Foo {\n  bar(): number;\n  id: 12;\n}';
const HEATMAP = 'section.view[data-view="heatmap"]';

let harness: Harness;
const have = (m: string): boolean => existsSync(`media/models/${m}/manifest.json`);

interface Heat { matrix: number[]; shape: number[]; layout: number[] }

/** Where things are on the page, in CSS px. */
interface Boxes { canvas: { x: number; y: number; w: number; h: number }; stage: { clientH: number; scrollH: number; top: number }; innerH: number }

async function heat(d: PageDriver): Promise<Heat> {
  const v = (await d.values('heatmap')) as unknown as Heat | undefined;
  assert.ok(v?.layout, 'the heatmap reports where it drew the matrix');
  return v;
}

/** Waits until the page has drawn (two animation frames: the view is measured and drawn again for its box if it moved). */
async function frames(d: PageDriver): Promise<void> {
  await d.page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

async function boxes(d: PageDriver, view = HEATMAP): Promise<Boxes> {
  return d.page.evaluate((sel) => {
    const stage = document.querySelector(`${sel} .view-stage`) as HTMLElement;
    const c = (document.querySelector(`${sel} canvas.view-canvas`) as HTMLCanvasElement).getBoundingClientRect();
    return { canvas: { x: c.x, y: c.y, w: c.width, h: c.height }, stage: { clientH: stage.clientHeight, scrollH: stage.scrollHeight, top: stage.getBoundingClientRect().top }, innerH: window.innerHeight };
  }, view);
}

/** An integer page pixel inside cell (r, c) of the layout (the mouse lands on whole pixels). */
function cellPixel(b: Boxes, L: number[], r: number, c: number): { x: number; y: number } {
  const [x, y, , , cell, sx, sy] = L;
  const px = b.canvas.x + x + c * cell - sx, py = b.canvas.y + y + r * cell - sy;
  const p = { x: Math.ceil(px + 0.01), y: Math.ceil(py + 0.01) };
  assert.ok(p.x < px + cell && p.y < py + cell, `cell (${r}, ${c}) of ${cell.toFixed(2)} px holds a whole pixel`);
  return p;
}

/** The tooltip's weight, query and key. */
async function tip(d: PageDriver): Promise<{ v: number; q: number; k: number; text: string }> {
  const text = await d.page.locator(`${HEATMAP} .view-tip`).innerText();
  const m = /^(\S+)\nquery (\d+) .*\nkey (\d+) /s.exec(text);
  assert.ok(m, `tooltip names a cell: ${JSON.stringify(text)}`);
  return { v: Number(m[1]), q: Number(m[2]), k: Number(m[3]), text };
}

async function hoverCell(d: PageDriver, h: Heat, r: number, c: number): Promise<void> {
  const b = await boxes(d);
  const p = cellPixel(b, h.layout, r, c);
  await d.page.mouse.move(p.x, p.y);
  const t = await tip(d);
  const n = h.shape[1];
  assert.deepEqual([t.q, t.k], [r, c], `hover at cell (${r}, ${c}) of ${h.layout[4].toFixed(2)} px`);
  const want = h.matrix[r * n + c];
  assert.ok(Math.abs(t.v - want) <= 5e-5 + 5e-3 * Math.abs(want), `weight at (${r}, ${c}): tip ${t.v}, values ${want}`);
}

/** The canvas's colour at a page pixel. */
async function pixel(d: PageDriver, p: { x: number; y: number }): Promise<number[]> {
  return d.page.evaluate(({ p, sel }) => {
    const c = document.querySelector(`${sel} canvas.view-canvas`) as HTMLCanvasElement;
    const r = c.getBoundingClientRect(), dpr = c.width / r.width;
    return Array.from(c.getContext('2d')!.getImageData(Math.floor((p.x - r.x) * dpr), Math.floor((p.y - r.y) * dpr), 1, 1).data.slice(0, 3));
  }, { p, sel: HEATMAP });
}

/** Polls until the heatmap's scroll offset stops changing (wheel scrolling may be animated) and `ok` holds; returns the layout. */
async function settledScroll(d: PageDriver, ok: (sy: number) => boolean): Promise<Heat> {
  let last = await heat(d);
  for (let i = 0; i < 300; i++) {
    await frames(d);
    const now = await heat(d);
    if (now.layout.join() === last.layout.join() && ok(now.layout[6])) return now;
    last = now;
  }
  assert.fail(`the heatmap's scroll did not settle (last layout ${last.layout.join(', ')})`);
}

async function savedZoom(d: PageDriver): Promise<unknown> {
  return d.page.evaluate(() => (window as unknown as { acquireVsCodeApi(): { getState(): { zoom?: Record<string, number> } | undefined } }).acquireVsCodeApi().getState()?.zoom?.heatmap);
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  await buildWebviewBundle();
  harness = await startHarness(undefined, TEST_BUNDLE);
});
after(async () => { await harness?.close(); });

describe('the first picture fits a short panel (WASM)', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, () => {
  let browser: Browser;
  before(async () => { browser = await launch('wasm'); });
  after(async () => { await browser?.close(); });

  for (const [width, height] of [[1600, 300], [600, 250]] as const) {
    test(`heatmap at ${width}×${height}: every query row in the box; hover and pin map through the scale`, { skip: !have('transformer') }, async () => {
      const d = await PageDriver.open(browser, harness, 'wasm', width);
      await d.page.setViewportSize({ width, height });
      assert.equal((await d.run(zooRef(harness.origin, 'transformer'), TEXT)).type, 'runResult');
      await d.show('heatmap');
      await d.page.evaluate(() => window.__seqlens!.settled());
      await frames(d);
      const h = await heat(d);
      const [n, cols] = h.shape;
      assert.equal(n, 44);
      const [x, y, w, hh, cell, sx, sy] = h.layout;
      const b = await boxes(d);
      console.log(`# ${width}×${height}: box ${b.stage.clientH} px tall, matrix ${w.toFixed(1)}×${hh.toFixed(1)} px at (${x}, ${y}), ${cell.toFixed(2)} px per cell`);
      // The whole matrix is drawn, unscrolled, inside the canvas, and the canvas inside the box with nothing to scroll.
      assert.deepEqual([sx, sy], [0, 0]);
      assert.ok(Math.abs(hh - n * cell) < 0.5 && Math.abs(w - cols * cell) < 0.5, 'all query rows and key columns are drawn');
      assert.ok(y + hh <= b.canvas.h && x + w <= b.canvas.w, 'the matrix lies within the picture');
      assert.ok(b.canvas.h <= b.stage.clientH && b.stage.scrollH <= b.stage.clientH, `the picture (${b.canvas.h} px) fits the box (${b.stage.clientH} px) without scrolling`);
      assert.ok(b.stage.clientH <= b.innerH, 'the box fits the window');
      // Bring the box into the window (at 600×250 the header, tabs and controls fill most of it).
      await d.page.locator(`${HEATMAP} .view-stage`).evaluate((e) => e.scrollIntoView({ block: 'end' }));
      await d.page.screenshot({ path: `${OUT}/wasm-panel-${width}x${height}-heatmap.png` });
      // What is drawn is where the layout says: row 0 attends to itself only (causal); the last row's strongest key is coloured; nothing below the last row.
      const bg = (await d.page.evaluate(() => window.__seqlens!.app.theme.bg)).match(/\d+/g)!.map(Number);
      const b2 = await boxes(d);
      assert.notDeepEqual(await pixel(d, cellPixel(b2, h.layout, 0, 0)), bg, 'cell (0, 0) is coloured');
      assert.deepEqual(await pixel(d, cellPixel(b2, h.layout, 0, cols - 1)), bg, 'cell (0, last) is zero (causal mask)');
      let best = 0;
      for (let c = 0; c < cols; c++) if (h.matrix[(n - 1) * cols + c] > h.matrix[(n - 1) * cols + best]) best = c;
      const lastRow = cellPixel(b2, h.layout, n - 1, best);
      assert.notDeepEqual(await pixel(d, lastRow), bg, 'the last query row is drawn at the bottom of the matrix box');
      assert.deepEqual(await pixel(d, { x: lastRow.x, y: Math.ceil(b2.canvas.y + y + hh + 2) }), bg, 'nothing below the last row');
      // Hover with the mouse at fitted cells (a few px each) names the cell and its weight.
      for (const [r, c] of [[0, 0], [n - 1, 0], [n - 1, best], [Math.floor(n / 2), Math.floor(n / 3)], [17, 17]]) await hoverCell(d, h, r, c);
      // A click pins the query row under it.
      const p = cellPixel(b2, h.layout, 20, 3);
      await d.page.mouse.click(p.x, p.y);
      assert.equal(await d.page.evaluate(() => window.__seqlens!.app.sel.pinned), 20);
      assert.deepEqual(d.errors, []);
      await d.page.close();
    });
  }

  test('zoom: +/- and Ctrl+wheel enlarge and scroll, hover and click map through scale and scroll, the cursor stays in sight, the zoom is saved, Fit returns', { skip: !have('transformer') }, async () => {
    const d = await PageDriver.open(browser, harness, 'wasm', 1600);
    await d.page.setViewportSize({ width: 1600, height: 300 });
    assert.equal((await d.run(zooRef(harness.origin, 'transformer'), TEXT)).type, 'runResult');
    await d.show('heatmap');
    await d.page.evaluate(() => window.__seqlens!.settled());
    await frames(d);
    const fit = await heat(d);
    const n = fit.shape[0];
    const fitCell = fit.layout[4];
    // Keyboard: + twice (×4), then the cursor walks down the first column to the last row.
    await d.page.locator(`${HEATMAP} canvas.view-canvas`).focus();
    await d.page.keyboard.press('+');
    await d.page.keyboard.press('+');
    await frames(d);
    let z = await heat(d);
    assert.ok(Math.abs(z.layout[4] - 4 * fitCell) < 1e-6, `+ twice: cells ×4 (${fitCell} → ${z.layout[4]})`);
    assert.ok(z.layout[3] < n * z.layout[4], 'zoomed: the rows no longer all fit, the matrix scrolls');
    assert.equal(await savedZoom(d), 4, 'the zoom is kept in the webview state');
    const scroller = d.page.locator(`${HEATMAP} .view-scroll`);
    assert.ok(await scroller.isVisible(), 'a scroller lies over the zoomed matrix');
    for (let i = 0; i < n - 1; i++) await d.page.keyboard.press('ArrowDown');
    await frames(d);
    z = await heat(d);
    const [, , , zh, zc, , zsy] = z.layout;
    assert.ok(zsy > 0 && (n - 1) * zc >= zsy - 0.5 && n * zc <= zsy + zh + 0.5, `the cursor's row ${n - 1} is in sight (scrolled ${zsy} px, box ${zh} px)`);
    const t = await tip(d);
    assert.deepEqual([t.q, t.k], [n - 1, 0], 'the cursor tip names the cursor cell');
    // The mouse wheel scrolls the zoomed matrix (native scrolling); hover maps through the new offset.
    const b = await boxes(d);
    const mid = cellPixel(b, z.layout, n - 3, 2);
    await d.page.mouse.move(mid.x, mid.y);
    await d.page.mouse.wheel(0, -60);
    z = await settledScroll(d, (sy) => sy < zsy);
    await hoverCell(d, z, Math.floor(z.layout[6] / z.layout[4]) + 2, 3);
    await d.page.screenshot({ path: `${OUT}/wasm-panel-1600x300-heatmap-zoomed.png` });
    // Ctrl+wheel zooms in around the pointer: the row under it stays under it. (The key columns all fit the
    // 1600 px box at this zoom, so the matrix does not scroll sideways and a column cannot be held.)
    const b3 = await boxes(d);
    const [, , , zh2, zc2, , zsy2] = z.layout;
    const r0 = Math.floor((zsy2 + zh2 / 2) / zc2);
    const at = cellPixel(b3, z.layout, r0, 5);
    await d.page.mouse.move(at.x, at.y);
    await d.page.keyboard.down('Control');
    await d.page.mouse.wheel(0, -240);
    await d.page.keyboard.up('Control');
    const zz = await settledScroll(d, () => true);
    assert.ok(zz.layout[4] > z.layout[4] * 1.5, `Ctrl+wheel zoomed in (${z.layout[4]} → ${zz.layout[4]} px)`);
    assert.ok(zz.layout[6] > 0 && zz.layout[6] < n * zz.layout[4] - zz.layout[3], 'the anchor needed no clamping');
    await d.page.mouse.move(at.x, at.y + 0.1);
    const t2 = await tip(d);
    assert.equal(t2.q, r0, 'the query row under the pointer stays under it');
    await hoverCell(d, zz, t2.q, t2.k + 1);
    // A click on the zoomed, scrolled matrix (it lands on the scroller over the canvas) pins the row under it.
    await d.page.mouse.click(at.x, at.y);
    assert.equal(await d.page.evaluate(() => window.__seqlens!.app.sel.pinned), r0, 'click pins the query row under the pointer');
    // Fit ("0" on the picture) returns to the whole matrix.
    await d.page.locator(`${HEATMAP} canvas.view-canvas`).focus();
    await d.page.keyboard.press('0');
    await frames(d);
    const back = await heat(d);
    assert.ok(Math.abs(back.layout[4] - fitCell) < 1e-6 && back.layout[5] === 0 && back.layout[6] === 0, 'Fit: the first picture again');
    assert.equal(await savedZoom(d), 1);
    assert.equal(await scroller.isVisible(), false, 'no scroller at fit');
    // The Zoom in button works the same as +.
    await d.page.locator(`${HEATMAP} [data-control="zoomIn"] vscode-button`).click();
    await frames(d);
    assert.ok(Math.abs((await heat(d)).layout[4] - 2 * fitCell) < 1e-6, 'the + button doubles the cells');
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });

  test('model view and head view in a short panel: thumbnails shrink to fit; the head view scrolls inside its box', { skip: !have('transformer') }, async () => {
    const d = await PageDriver.open(browser, harness, 'wasm', 1600);
    await d.page.setViewportSize({ width: 1600, height: 300 });
    assert.equal((await d.run(zooRef(harness.origin, 'transformer'), TEXT)).type, 'runResult');
    for (const v of ['modelview', 'headview']) {
      await d.show(v);
      await d.page.evaluate(() => window.__seqlens!.settled());
      await frames(d);
      const b = await boxes(d, `section.view[data-view="${v}"]`);
      assert.ok(b.stage.clientH <= b.innerH - b.stage.top, `${v}: the box ends inside the window`);
      if (v === 'modelview') assert.ok(b.canvas.h <= b.stage.clientH, `model view: every layer's thumbnails fit the ${b.stage.clientH} px box (${b.canvas.h} px)`);
      else assert.ok(b.stage.scrollH > b.stage.clientH, 'head view: 44 rows of labels scroll inside the box');
      await d.page.screenshot({ path: `${OUT}/wasm-panel-1600x300-${v}.png` });
    }
    assert.deepEqual(d.errors, []);
    await d.page.close();
  });
});
