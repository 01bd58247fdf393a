/**
 * Hosts one View: builds its controls with @vscode-elements, paints its Scene on a canvas at device
 * resolution, keeps hover on a separate overlay canvas (a hover never repaints the view, so it stays far
 * under a frame at 2,048 tokens), and exports PNG/SVG/CSV/JSON/.npy.
 *
 * The view gets a box: the viewport below the header, the tabs and its own controls (the panel usually
 * opens in the short bottom area). A view taller than its box scrolls inside it, so the header and the
 * tabs stay in sight; a zoomed view's ScrollArea gets native scrollbars laid over the part that scrolls,
 * while the rest of its picture (axis labels, legend) stays put.
 */
import { paint, toPng, toSvg, type Scene } from './render/scene.js';
import type { Control, HoverInfo, View, ViewEnv } from './views/viewTypes.js';
import { encodeNpy } from './render/npy.js';

export interface ExportSink {
  (fileName: string, mime: string, data: Uint8Array): void;
}

export interface ViewTimings { render: number; hover: number[] }

const enc = new TextEncoder();

/** Below this a box is too small to read: the view is sized to the viewport instead and the page scrolls to it. */
const MIN_BOX = 100;
/** Room left under the box (the page's own margin). */
const BOX_PAD = 8;
/** Where the last measured stage started (document px): the estimate for a stage whose tab panel is not laid out yet. */
let lastStageTop: number | undefined;
let scrollbarPx: number | undefined;

/** Width of a native scrollbar on this page (VS Code styles them; 0 where they overlay the content). */
function scrollbarSize(): number {
  if (scrollbarPx === undefined) {
    const d = document.createElement('div');
    d.style.cssText = 'position:absolute;left:-200px;top:-200px;width:100px;height:100px;overflow:scroll';
    document.body.append(d);
    scrollbarPx = d.offsetWidth - d.clientWidth;
    d.remove();
  }
  return scrollbarPx;
}

/** The box of a view whose stage is not laid out (not shown yet, or its host not built yet): CSS px. */
export function estimatedBoxHeight(): number {
  return Math.max(MIN_BOX, window.innerHeight - (lastStageTop ?? 0) - BOX_PAD);
}

export class ViewHost {
  readonly root: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private readonly scroller: HTMLElement;
  private readonly sizer: HTMLElement;
  private readonly tip: HTMLElement;
  private readonly note: HTMLElement;
  private scene?: Scene;
  /** The view took the current press as a drag (View.drag): the click after its release is not sent. */
  private dragTaken = false;
  /** Whether the overlay holds outlines (a hover's, the keyboard pointer's) that the next hover must clear. */
  private overlayMarked = false;
  /** Height of the box the last scene was drawn for (CSS px); 0 before the first measure. */
  private box = 0;
  readonly timings: ViewTimings = { render: 0, hover: [] };

  constructor(readonly view: View, private readonly env: () => ViewEnv, private readonly sink: ExportSink) {
    this.root = el('section', 'view');
    this.root.dataset.view = view.id;
    this.bar = el('div', 'view-bar');
    this.note = el('div', 'view-note');
    this.stage = el('div', 'view-stage');
    this.canvas = el('canvas', 'view-canvas') as HTMLCanvasElement;
    this.overlay = el('canvas', 'view-overlay') as HTMLCanvasElement;
    this.scroller = el('div', 'view-scroll');
    this.sizer = el('div', 'view-scroll-size');
    this.scroller.append(this.sizer);
    this.scroller.hidden = true;
    // Scrolled with the mouse only: the keyboard stays on the canvas (its arrows move the view's cursor).
    this.scroller.tabIndex = -1;
    this.tip = el('div', 'view-tip');
    this.tip.setAttribute('role', 'status');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-keyshortcuts', 'ArrowUp ArrowDown ArrowLeft ArrowRight Enter Shift+Enter Escape');
    this.stage.append(this.canvas, this.overlay, this.scroller, this.tip);
    this.root.append(this.bar, this.note, this.stage);
    // Pointer events are taken on the stage: over a zoomed view the scroller lies on top of the canvas.
    this.stage.addEventListener('mousemove', (e) => {
      const p = this.point(e);
      if (p) this.onHover(p.x, p.y);
      else this.showHover(undefined);
    });
    this.stage.addEventListener('mouseleave', () => this.showHover(undefined));
    this.stage.addEventListener('click', (e) => {
      // The release of a drag the view took is not also a click.
      if (this.dragTaken) { this.dragTaken = false; return; }
      const p = this.point(e);
      if (p) this.view.click?.(this.env(), p.x, p.y, { shift: e.shiftKey });
    });
    // Drags (a span of tokens): pressed on the stage, followed on the window so a release outside ends it.
    this.stage.addEventListener('mousedown', (e) => {
      this.dragTaken = false;
      const p = e.button === 0 ? this.point(e) : undefined;
      if (!p || !this.view.drag?.(this.env(), 'start', p.x, p.y, { shift: e.shiftKey })) return;
      e.preventDefault(); // no text selection while dragging (it also keeps focus from moving: give it to the canvas)
      this.canvas.focus({ preventScroll: true });
      this.dragTaken = true;
      const move = (ev: MouseEvent): void => { const q = this.canvasPoint(ev); this.view.drag?.(this.env(), 'move', q.x, q.y, { shift: ev.shiftKey }); };
      const up = (ev: MouseEvent): void => {
        window.removeEventListener('mousemove', move);
        window.removeEventListener('mouseup', up);
        const q = this.canvasPoint(ev);
        this.view.drag?.(this.env(), 'end', q.x, q.y, { shift: ev.shiftKey });
        // A release off the stage sends no click to clear the flag: clear it after this event's turn.
        setTimeout(() => { this.dragTaken = false; }, 0);
      };
      window.addEventListener('mousemove', move);
      window.addEventListener('mouseup', up);
    });
    this.stage.addEventListener('wheel', (e) => {
      const p = this.point(e);
      if (!p) return;
      // Ctrl+wheel (a touchpad pinch arrives as one too) zooms views that zoom; preventDefault keeps the
      // page (and VS Code) from zooming instead.
      if ((e.ctrlKey || e.metaKey) && this.view.zoomAt) {
        e.preventDefault();
        const dy = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1);
        this.view.zoomAt(this.env(), Math.min(2, Math.max(0.5, 2 ** (-dy / 240))), p.x, p.y);
        return;
      }
      if (e.target === this.canvas && this.view.wheel?.(this.env(), p.x, p.y, e.deltaY)) e.preventDefault();
    }, { passive: false });
    this.scroller.addEventListener('focus', () => this.canvas.focus({ preventScroll: true }));
    this.scroller.addEventListener('scroll', () => {
      if (this.view.scrolled?.(this.scroller.scrollLeft, this.scroller.scrollTop)) this.draw();
    });
    this.canvas.addEventListener('keydown', (e) => {
      if (this.view.key?.(this.env(), e)) {
        e.preventDefault();
        const cursor = (this.view as View & { cursorInfo?: (env: ViewEnv) => HoverInfo | undefined }).cursorInfo;
        if (cursor) {
          const info = cursor.call(this.view, this.env());
          this.reveal(info?.marks?.[0]);
          this.showHover(info);
        }
        return;
      }
      if (this.pointerKey(e)) e.preventDefault();
    });
    this.canvas.addEventListener('blur', () => this.showHover(undefined));
    // The box changes without a window resize when the tab panel is laid out after a switch of tabs, when
    // the controls above the picture wrap onto another line, or when the header above the tabs changes
    // height (the run's status, warnings): the section or the page then changes size. Draw for the new box.
    const ro = new ResizeObserver(() => {
      if (!this.scene || this.stage.hidden || !this.stage.getClientRects().length) return;
      if (Math.abs(this.measure() - this.box) >= 1) this.draw();
    });
    ro.observe(this.root);
    ro.observe(document.body);
  }

  /** Height of the view's box (CSS px), as last measured. */
  get boxHeight(): number {
    return this.box || this.measure();
  }

  /**
   * The box's height: from the top of the stage to the bottom of the window. Where that is too small to
   * read (a window barely taller than the header and tabs, or the inspector above the views) the view is
   * given the viewport less its own controls, and the page scrolls to it.
   */
  private measure(): number {
    const vh = window.innerHeight;
    if (!this.stage.getClientRects().length) {
      // Its tab panel is not laid out yet (tabs switch in a microtask): the ResizeObserver measures again.
      return this.box || estimatedBoxHeight();
    }
    const r = this.stage.getBoundingClientRect();
    lastStageTop = r.top + window.scrollY;
    const below = vh - lastStageTop - BOX_PAD;
    if (below >= MIN_BOX) return Math.floor(below);
    const controls = r.top - this.root.getBoundingClientRect().top;
    return Math.floor(Math.max(MIN_BOX, vh - controls - BOX_PAD));
  }

  /** Scene coordinates of any pointer event, off the picture too (a drag that left it). */
  private canvasPoint(e: MouseEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  /** Scene coordinates of a pointer event over the stage, or undefined over a scrollbar or off the picture. */
  private point(e: MouseEvent): { x: number; y: number } | undefined {
    if (!this.scroller.hidden && this.scroller.contains(e.target as Node)) {
      const sr = this.scroller.getBoundingClientRect();
      if (e.clientX >= sr.left + this.scroller.clientWidth || e.clientY >= sr.top + this.scroller.clientHeight) return undefined;
    }
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    return x >= 0 && y >= 0 && x < r.width && y < r.height ? { x, y } : undefined;
  }

  render(): void {
    const env = this.env();
    const why = this.view.unavailable(env);
    this.buildBar(why ? [] : this.view.controls(env), !why);
    this.note.textContent = why ?? '';
    this.note.hidden = !why;
    this.stage.hidden = !!why;
    if (why) { this.scene = undefined; this.scroller.hidden = true; return; }
    this.draw();
  }

  /** Draws the view's scene for its box, without building the controls again (scrolling, a new box). */
  private draw(): void {
    // Measured after the controls are built: they decide where the box starts.
    this.box = this.measure();
    this.stage.style.maxHeight = `${this.box}px`;
    const env = this.env();
    const t0 = performance.now();
    const scene = this.view.scene(env);
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.overlay]) {
      const w = Math.ceil(scene.width * dpr), h = Math.ceil(scene.height * dpr);
      // Assigning a canvas's size, even the size it has, drops its bitmap, and the next paint allocates one
      // again (12-16 ms for a panel-wide canvas in Chromium): only a new size is assigned, else it is cleared.
      if (c.width !== w || c.height !== h) {
        c.width = w;
        c.height = h;
      } else if (c === this.canvas || this.overlayMarked) {
        const cx = c.getContext('2d');
        cx?.setTransform(1, 0, 0, 1, 0, 0);
        cx?.clearRect(0, 0, w, h);
      }
      c.style.width = `${scene.width}px`;
      c.style.height = `${scene.height}px`;
    }
    const ctx = this.canvas.getContext('2d');
    if (ctx) paint(scene, ctx, dpr);
    this.canvas.setAttribute('aria-label', `${this.view.title}: ${scene.prims.find((p) => p.k === 'text')?.s ?? ''}`);
    this.scene = scene;
    this.placeScroller();
    this.timings.render = performance.now() - t0;
    // A redraw (a new box after a tab switch, a layer that arrived) keeps the keyboard pointer's tip: it
    // would otherwise vanish under a keyboard user between two presses. The mouse's tip comes back on its next move.
    if (this.pointer && document.activeElement === this.canvas) this.showPointer(false);
    else this.showHover(undefined);
  }

  /** Lays native scrollbars over the view's ScrollArea when what it shows is bigger than its box. */
  private placeScroller(): void {
    const a = this.view.scrollArea?.();
    const hbar = !!a && a.contentW > a.w + 0.5, vbar = !!a && a.contentH > a.h + 0.5;
    this.scroller.hidden = !a || (!hbar && !vbar);
    if (!a || this.scroller.hidden) return;
    // The scrollbars sit just outside the area (the view leaves room for them), so the client box is the area.
    const sb = scrollbarSize();
    const st = this.scroller.style;
    st.left = `${a.x}px`;
    st.top = `${a.y}px`;
    st.width = `${a.w + (vbar ? sb : 0)}px`;
    st.height = `${a.h + (hbar ? sb : 0)}px`;
    this.sizer.style.width = `${a.contentW}px`;
    this.sizer.style.height = `${a.contentH}px`;
    if (Math.abs(this.scroller.scrollLeft - a.scrollX) >= 1) this.scroller.scrollLeft = a.scrollX;
    if (Math.abs(this.scroller.scrollTop - a.scrollY) >= 1) this.scroller.scrollTop = a.scrollY;
  }

  /** The keyboard pointer of views without keys of their own (CSS px in the scene). */
  private pointer?: { x: number; y: number };

  /**
   * Every view is usable from the keyboard: where a view has no keys of its own, the arrows move a
   * pointer over the picture (8 px a press, 40 with Shift) and show what the mouse would; Enter or
   * Space clicks there (with Shift, a Shift+click: it extends a span of tokens); Escape hides the tip.
   */
  private pointerKey(e: KeyboardEvent): boolean {
    const scene = this.scene;
    if (!scene) return false;
    const step = e.shiftKey ? 40 : 8;
    const p = this.pointer ?? { x: Math.min(120, scene.width / 2), y: Math.min(80, scene.height / 2) };
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) {
      const [dx, dy] = this.pointer ? moves[e.key] : [0, 0];
      this.pointer = { x: p.x + dx, y: p.y + dy };
      this.showPointer(true);
      return true;
    }
    if ((e.key === 'Enter' || e.key === ' ') && this.pointer && this.view.click) {
      this.view.click(this.env(), this.pointer.x, this.pointer.y, { shift: e.shiftKey });
      return true;
    }
    if (e.key === 'Escape') { this.showHover(undefined); this.pointer = undefined; return true; }
    return false;
  }

  /** Shows what lies under the keyboard pointer (kept inside the scene), scrolling it into sight if asked. */
  private showPointer(reveal: boolean): void {
    const scene = this.scene;
    if (!scene || !this.pointer) return;
    const pt = { x: Math.max(0, Math.min(scene.width - 1, this.pointer.x)), y: Math.max(0, Math.min(scene.height - 1, this.pointer.y)) };
    this.pointer = pt;
    const info = this.view.hover?.(this.env(), pt.x, pt.y);
    const dot = { x: pt.x - 3, y: pt.y - 3, w: 6, h: 6 };
    if (reveal) this.reveal(dot);
    this.showHover({ text: info?.text ?? `(${Math.round(pt.x)}, ${Math.round(pt.y)}): nothing here`, marks: [...(info?.marks ?? []), dot] }, pt.x, pt.y);
  }

  /** Scrolls the box (a view taller than it) so that the keyboard's cursor or pointer is in sight. */
  private reveal(r: { x: number; y: number; w: number; h: number } | undefined): void {
    if (!r) return;
    const st = this.stage, m = 4;
    if (r.y - m < st.scrollTop) st.scrollTop = Math.max(0, r.y - m);
    else if (r.y + r.h + m > st.scrollTop + st.clientHeight) st.scrollTop = r.y + r.h + m - st.clientHeight;
    if (r.x - m < st.scrollLeft) st.scrollLeft = Math.max(0, r.x - m);
    else if (r.x + r.w + m > st.scrollLeft + st.clientWidth) st.scrollLeft = r.x + r.w + m - st.clientWidth;
  }

  /** Runs a hover at (x, y) and returns how long it took (ms); used by the mouse and by tests. */
  onHover(x: number, y: number): number {
    const t0 = performance.now();
    this.showHover(this.view.hover?.(this.env(), x, y), x, y);
    const dt = performance.now() - t0;
    this.timings.hover.push(dt);
    if (this.timings.hover.length > 200) this.timings.hover.shift();
    return dt;
  }

  private showHover(info: HoverInfo | undefined, x = 0, y = 0): void {
    const marks = info?.marks ?? [];
    // The overlay is touched only when it has outlines to draw or to clear: every draw ends here, and a new page's
    // first picture paid 15-35 ms (headless Chromium) for the overlay's first bitmap, made only to be cleared, and
    // for the style pass getComputedStyle forces.
    const ctx = marks.length || this.overlayMarked ? this.overlay.getContext('2d') : null;
    if (ctx) {
      const dpr = window.devicePixelRatio || 1;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      if (marks.length) ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue('--vscode-focusBorder') || '#f80';
      ctx.lineWidth = 1.5;
      for (const m of marks) ctx.strokeRect(m.x - 0.5, m.y - 0.5, m.w + 1, m.h + 1);
      this.overlayMarked = marks.length > 0;
    }
    if (!info) { this.tip.hidden = true; return; }
    this.tip.hidden = false;
    this.tip.textContent = info.text;
    const mark = info.marks?.[0];
    const ax = mark ? mark.x + mark.w : x, ay = mark ? mark.y + mark.h : y;
    const w = this.scene?.width ?? 400;
    // Kept inside the visible part of the box: a tip that ran past its bottom would make the box scroll.
    const tw = this.tip.offsetWidth, th = this.tip.offsetHeight;
    const bottom = this.stage.scrollTop + this.stage.clientHeight;
    let top = ay + 12;
    if (top + th > bottom) top = Math.max(this.stage.scrollTop, (mark ? mark.y : y) - th - 8);
    this.tip.style.left = `${Math.max(0, Math.min(ax + 12, w - tw - 4))}px`;
    this.tip.style.top = `${top}px`;
  }

  /** What the bar shows (controls without their callbacks), and the controls its elements call now. */
  private barKey = '';
  private barControls: Control[] = [];

  private buildBar(controls: Control[], exports: boolean): void {
    this.barControls = controls;
    // Built again only when what it shows changes. New @vscode-elements draw themselves a moment later;
    // until then the bar is shorter and the box below it taller, so a redraw for a zoom or a keyboard
    // move would be measured for the wrong box.
    const key = JSON.stringify([controls, exports]);
    if (key === this.barKey) return;
    this.barKey = key;
    // A control used from the keyboard (a step slider, ◀ ▶) keeps the focus across the rebuild its change causes.
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && this.bar.contains(active) ? active.closest<HTMLElement>('[data-control]')?.dataset.control : undefined;
    this.bar.replaceChildren();
    controls.forEach((c, i) => this.bar.append(control(c, () => this.barControls[i])));
    if (focused) focusControl(this.bar, focused);
    if (exports) {
      const spacer = el('span', 'spacer');
      this.bar.append(spacer);
      for (const [fmt, label] of [['png', 'PNG'], ['svg', 'SVG'], ['csv', 'CSV'], ['json', 'JSON'], ['npy', '.npy']] as const) {
        const b = el('vscode-button', 'export');
        b.setAttribute('secondary', '');
        b.textContent = label;
        b.title = `Export ${label}`;
        b.dataset.export = fmt;
        b.addEventListener('click', () => void this.export(fmt));
        this.bar.append(b);
      }
    }
    renderNow(this.bar);
  }

  async export(fmt: 'png' | 'svg' | 'csv' | 'json' | 'npy'): Promise<string[]> {
    const env = this.env();
    if (this.view.unavailable(env)) return [];
    const scene = this.scene ?? this.view.scene(env);
    const nums = this.view.numbers(env);
    const base = nums.name.replace(/[^\w.-]+/g, '_');
    const out: string[] = [];
    const send = (name: string, mime: string, data: Uint8Array): void => { this.sink(name, mime, data); out.push(name); };
    if (fmt === 'png') send(`${base}.png`, 'image/png', await toPng(scene));
    if (fmt === 'svg') send(`${base}.svg`, 'image/svg+xml', enc.encode(toSvg(scene)));
    if (fmt === 'csv' && nums.csv !== undefined) send(`${base}.csv`, 'text/csv', enc.encode(nums.csv));
    if (fmt === 'csv') for (const t of nums.tables ?? []) send(`${base}-${t.name.replace(/[^\w.-]+/g, '_')}.csv`, 'text/csv', enc.encode(t.csv));
    if (fmt === 'json' && nums.json !== undefined) send(`${base}.json`, 'application/json', enc.encode(JSON.stringify(nums.json)));
    if (fmt === 'npy') for (const t of nums.tensors ?? []) send(`${t.name.replace(/[^\w.-]+/g, '_')}.npy`, 'application/octet-stream', encodeNpy(t.tensor));
    return out;
  }
}

/** A Lit element (what @vscode-elements are) with its first render still queued. */
interface PendingLit extends HTMLElement { isUpdatePending?: boolean; performUpdate?: () => void }

/**
 * Renders the @vscode-elements inside `root` now instead of in the microtask Lit queues. The box below the bar
 * is measured right after it is built: with the elements unrendered the bar was 11 px shorter, the first
 * picture was drawn for the wrong box and its ResizeObserver drew it again (100-140 ms more before a new
 * page's first frame). Lit documents performUpdate() for this ("to immediately process a pending update").
 */
function renderNow(root: HTMLElement): void {
  if (!root.isConnected) return;
  for (const e of root.querySelectorAll<PendingLit>('*')) {
    if (e.isUpdatePending && typeof e.performUpdate === 'function') e.performUpdate();
  }
}

export function el(tag: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

/** The control of this kind the bar holds now (an element outlives the render that made it). */
function liveOf<K extends Control['kind']>(kind: K, live: () => Control | undefined): Extract<Control, { kind: K }> | undefined {
  const c = live();
  return c?.kind === kind ? (c as Extract<Control, { kind: K }>) : undefined;
}

/** Focuses the input of control `id` in `bar` (after the bar was built again). */
export function focusControl(bar: HTMLElement, id: string): void {
  const wrap = [...bar.querySelectorAll<HTMLElement>('[data-control]')].find((w) => w.dataset.control === id);
  wrap?.querySelector<HTMLElement>('input, vscode-button, vscode-textfield, vscode-single-select, vscode-checkbox')?.focus();
}

/** The element of one control; `live` gives the control of the same place in the latest render (its callbacks). */
export function control(c: Control, live: () => Control | undefined): HTMLElement {
  const wrap = el('label', 'ctl');
  wrap.dataset.control = c.id;
  if (c.kind !== 'button' && c.kind !== 'checkbox') wrap.append(document.createTextNode(`${c.label} `));
  switch (c.kind) {
    case 'select': {
      const s = el('vscode-single-select') as HTMLElement & { value: string };
      s.setAttribute('aria-label', c.label);
      for (const o of c.options) {
        const opt = el('vscode-option');
        opt.setAttribute('value', o.value);
        opt.textContent = o.label;
        if (o.value === c.value) opt.setAttribute('selected', '');
        s.append(opt);
      }
      s.addEventListener('change', () => liveOf('select', live)?.set(s.value));
      wrap.append(s);
      break;
    }
    case 'checkbox': {
      const b = el('vscode-checkbox') as HTMLElement & { checked: boolean };
      b.setAttribute('label', c.label);
      if (c.checked) b.setAttribute('checked', '');
      b.addEventListener('change', () => liveOf('checkbox', live)?.set(b.checked));
      wrap.append(b);
      break;
    }
    case 'number':
    case 'text': {
      const t = el('vscode-textfield') as HTMLElement & { value: string };
      t.setAttribute('aria-label', c.label);
      t.setAttribute('value', String(c.value));
      if (c.kind === 'number') {
        // A text field with a numeric keyboard: the number type flags fractional values (thresholds) as invalid.
        t.setAttribute('inputmode', 'decimal');
        t.title = `${c.label}${c.min !== undefined ? ` (${c.min}–${c.max ?? '…'})` : ''}`;
        t.addEventListener('change', () => {
          const now = liveOf('number', live);
          let v = Number(t.value);
          if (!now || !Number.isFinite(v)) return;
          if (now.min !== undefined) v = Math.max(now.min, v);
          if (now.max !== undefined) v = Math.min(now.max, v);
          now.set(v);
        });
      } else {
        t.addEventListener('change', () => liveOf('text', live)?.set(t.value));
      }
      wrap.append(t);
      break;
    }
    case 'range': {
      const r = document.createElement('input');
      r.type = 'range';
      r.className = 'ctl-range';
      r.min = String(c.min);
      r.max = String(c.max);
      r.step = '1';
      r.value = String(c.value);
      r.setAttribute('aria-label', c.label);
      const shown = el('span', 'ctl-range-value');
      if (c.valueText) {
        r.setAttribute('aria-valuetext', c.valueText);
        shown.textContent = c.valueText;
      }
      // On 'change' (a release, or each arrow key): a drag is not cut short by the bar being built again under it.
      r.addEventListener('change', () => liveOf('range', live)?.set(Number(r.value)));
      wrap.append(r, shown);
      break;
    }
    case 'button': {
      const b = el('vscode-button');
      b.setAttribute('secondary', '');
      b.textContent = c.label;
      if (c.title) { b.title = c.title; b.setAttribute('aria-label', c.title); }
      b.addEventListener('click', () => liveOf('button', live)?.run());
      wrap.append(b);
      break;
    }
  }
  return wrap;
}
