/**
 * Hosts one View: builds its controls with @vscode-elements, paints its Scene on a canvas at device
 * resolution, keeps hover on a separate overlay canvas (a hover never repaints the view, so it stays far
 * under a frame at 2,048 tokens), and exports PNG/SVG/CSV/JSON/.npy.
 */
import { paint, toPng, toSvg, type Scene } from './render/scene.js';
import type { Control, HoverInfo, View, ViewEnv } from './views/viewTypes.js';
import { encodeNpy } from './render/npy.js';

export interface ExportSink {
  (fileName: string, mime: string, data: Uint8Array): void;
}

export interface ViewTimings { render: number; hover: number[] }

const enc = new TextEncoder();

export class ViewHost {
  readonly root: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private readonly tip: HTMLElement;
  private readonly note: HTMLElement;
  private scene?: Scene;
  readonly timings: ViewTimings = { render: 0, hover: [] };

  constructor(readonly view: View, private readonly env: () => ViewEnv, private readonly sink: ExportSink) {
    this.root = el('section', 'view');
    this.root.dataset.view = view.id;
    this.bar = el('div', 'view-bar');
    this.note = el('div', 'view-note');
    this.stage = el('div', 'view-stage');
    this.canvas = el('canvas', 'view-canvas') as HTMLCanvasElement;
    this.overlay = el('canvas', 'view-overlay') as HTMLCanvasElement;
    this.tip = el('div', 'view-tip');
    this.tip.setAttribute('role', 'status');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-keyshortcuts', 'ArrowUp ArrowDown ArrowLeft ArrowRight Enter Escape');
    this.stage.append(this.canvas, this.overlay, this.tip);
    this.root.append(this.bar, this.note, this.stage);
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e.offsetX, e.offsetY));
    this.canvas.addEventListener('mouseleave', () => this.showHover(undefined));
    this.canvas.addEventListener('click', (e) => { this.view.click?.(this.env(), e.offsetX, e.offsetY); });
    this.canvas.addEventListener('wheel', (e) => {
      if (this.view.wheel?.(this.env(), e.offsetX, e.offsetY, e.deltaY)) e.preventDefault();
    }, { passive: false });
    this.canvas.addEventListener('keydown', (e) => {
      if (this.view.key?.(this.env(), e)) {
        e.preventDefault();
        const cursor = (this.view as View & { cursorInfo?: (env: ViewEnv) => HoverInfo | undefined }).cursorInfo;
        if (cursor) this.showHover(cursor.call(this.view, this.env()));
        return;
      }
      if (this.pointerKey(e)) e.preventDefault();
    });
    this.canvas.addEventListener('blur', () => this.showHover(undefined));
  }

  render(): void {
    const env = this.env();
    const why = this.view.unavailable(env);
    this.buildBar(why ? [] : this.view.controls(env), !why);
    this.note.textContent = why ?? '';
    this.note.hidden = !why;
    this.stage.hidden = !!why;
    if (why) { this.scene = undefined; return; }
    const t0 = performance.now();
    const scene = this.view.scene(env);
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.overlay]) {
      c.width = Math.ceil(scene.width * dpr);
      c.height = Math.ceil(scene.height * dpr);
      c.style.width = `${scene.width}px`;
      c.style.height = `${scene.height}px`;
    }
    const ctx = this.canvas.getContext('2d');
    if (ctx) paint(scene, ctx, dpr);
    this.canvas.setAttribute('aria-label', `${this.view.title}: ${scene.prims.find((p) => p.k === 'text')?.s ?? ''}`);
    this.scene = scene;
    this.timings.render = performance.now() - t0;
    this.showHover(undefined);
  }

  /** The keyboard pointer of views without keys of their own (CSS px in the scene). */
  private pointer?: { x: number; y: number };

  /**
   * Every view is usable from the keyboard: where a view has no keys of its own, the arrows move a
   * pointer over the picture (8 px a press, 40 with Shift) and show what the mouse would; Enter or
   * Space clicks there; Escape hides the tip.
   */
  private pointerKey(e: KeyboardEvent): boolean {
    const scene = this.scene;
    if (!scene) return false;
    const step = e.shiftKey ? 40 : 8;
    const p = this.pointer ?? { x: Math.min(120, scene.width / 2), y: Math.min(80, scene.height / 2) };
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) {
      const [dx, dy] = this.pointer ? moves[e.key] : [0, 0];
      this.pointer = { x: Math.max(0, Math.min(scene.width - 1, p.x + dx)), y: Math.max(0, Math.min(scene.height - 1, p.y + dy)) };
      const info = this.view.hover?.(this.env(), this.pointer.x, this.pointer.y);
      const dot = { x: this.pointer.x - 3, y: this.pointer.y - 3, w: 6, h: 6 };
      this.showHover({ text: info?.text ?? `(${Math.round(this.pointer.x)}, ${Math.round(this.pointer.y)}): nothing here`, marks: [...(info?.marks ?? []), dot] }, this.pointer.x, this.pointer.y);
      return true;
    }
    if ((e.key === 'Enter' || e.key === ' ') && this.pointer && this.view.click) {
      this.view.click(this.env(), this.pointer.x, this.pointer.y);
      return true;
    }
    if (e.key === 'Escape') { this.showHover(undefined); this.pointer = undefined; return true; }
    return false;
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
    const ctx = this.overlay.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    if (ctx) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue('--vscode-focusBorder') || '#f80';
      ctx.lineWidth = 1.5;
      for (const m of info?.marks ?? []) ctx.strokeRect(m.x - 0.5, m.y - 0.5, m.w + 1, m.h + 1);
    }
    if (!info) { this.tip.hidden = true; return; }
    this.tip.hidden = false;
    this.tip.textContent = info.text;
    const mark = info.marks?.[0];
    const ax = mark ? mark.x + mark.w : x, ay = mark ? mark.y + mark.h : y;
    const w = this.scene?.width ?? 400;
    this.tip.style.left = `${Math.min(ax + 12, Math.max(0, w - 220))}px`;
    this.tip.style.top = `${ay + 12}px`;
  }

  private buildBar(controls: Control[], exports: boolean): void {
    this.bar.replaceChildren();
    for (const c of controls) this.bar.append(control(c));
    if (!exports) return;
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
    if (fmt === 'json' && nums.json !== undefined) send(`${base}.json`, 'application/json', enc.encode(JSON.stringify(nums.json)));
    if (fmt === 'npy') for (const t of nums.tensors ?? []) send(`${t.name.replace(/[^\w.-]+/g, '_')}.npy`, 'application/octet-stream', encodeNpy(t.tensor));
    return out;
  }
}

export function el(tag: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

function control(c: Control): HTMLElement {
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
      s.addEventListener('change', () => c.set(s.value));
      wrap.append(s);
      break;
    }
    case 'checkbox': {
      const b = el('vscode-checkbox') as HTMLElement & { checked: boolean };
      b.setAttribute('label', c.label);
      if (c.checked) b.setAttribute('checked', '');
      b.addEventListener('change', () => c.set(b.checked));
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
          let v = Number(t.value);
          if (!Number.isFinite(v)) return;
          if (c.min !== undefined) v = Math.max(c.min, v);
          if (c.max !== undefined) v = Math.min(c.max, v);
          c.set(v);
        });
      } else {
        t.addEventListener('change', () => c.set(t.value));
      }
      wrap.append(t);
      break;
    }
    case 'button': {
      const b = el('vscode-button');
      b.setAttribute('secondary', '');
      b.textContent = c.label;
      b.addEventListener('click', () => c.run());
      wrap.append(b);
      break;
    }
  }
  return wrap;
}
