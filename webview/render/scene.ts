/**
 * A small retained list of drawing primitives. Each view builds one Scene; it is painted on a canvas
 * for the screen and PNG export, and serialised for SVG export, so the two exports show the same picture.
 * Dense cell grids are one raster primitive (an image), never a node per cell.
 */

export interface Raster {
  width: number;
  height: number;
  /** RGBA, width × height × 4. */
  pixels: Uint8ClampedArray;
}

export type TextAlign = 'left' | 'center' | 'right';
export type TextBaseline = 'top' | 'middle' | 'bottom' | 'alphabetic';

export type Prim =
  | { k: 'rect'; x: number; y: number; w: number; h: number; fill?: string; stroke?: string; lw?: number; alpha?: number }
  | { k: 'line'; x1: number; y1: number; x2: number; y2: number; stroke: string; lw: number; alpha?: number }
  | { k: 'path'; pts: number[]; stroke: string; lw: number; alpha?: number }
  | { k: 'circle'; x: number; y: number; r: number; fill?: string; stroke?: string; alpha?: number }
  | { k: 'text'; x: number; y: number; s: string; fill: string; size: number; align: TextAlign; baseline: TextBaseline; mono?: boolean; bold?: boolean; rotate?: number }
  | { k: 'image'; x: number; y: number; w: number; h: number; raster: Raster };

export interface Fonts { ui: string; mono: string }

export class Scene {
  readonly prims: Prim[] = [];
  constructor(public width: number, public height: number, readonly background: string, readonly fonts: Fonts) {}

  rect(x: number, y: number, w: number, h: number, fill?: string, stroke?: string, lw = 1, alpha?: number): void {
    this.prims.push({ k: 'rect', x, y, w, h, fill, stroke, lw, alpha });
  }
  line(x1: number, y1: number, x2: number, y2: number, stroke: string, lw = 1, alpha?: number): void {
    this.prims.push({ k: 'line', x1, y1, x2, y2, stroke, lw, alpha });
  }
  path(pts: number[], stroke: string, lw = 1, alpha?: number): void {
    if (pts.length >= 4) this.prims.push({ k: 'path', pts, stroke, lw, alpha });
  }
  circle(x: number, y: number, r: number, fill?: string, stroke?: string, alpha?: number): void {
    this.prims.push({ k: 'circle', x, y, r, fill, stroke, alpha });
  }
  text(x: number, y: number, s: string, fill: string, size = 11, align: TextAlign = 'left', baseline: TextBaseline = 'middle', opts: { mono?: boolean; bold?: boolean; rotate?: number } = {}): void {
    this.prims.push({ k: 'text', x, y, s, fill, size, align, baseline, ...opts });
  }
  image(x: number, y: number, w: number, h: number, raster: Raster): void {
    this.prims.push({ k: 'image', x, y, w, h, raster });
  }
}

const rasterCanvases = new WeakMap<Raster, HTMLCanvasElement>();

function rasterCanvas(r: Raster): HTMLCanvasElement {
  let c = rasterCanvases.get(r);
  if (!c) {
    c = document.createElement('canvas');
    c.width = r.width;
    c.height = r.height;
    const ctx = c.getContext('2d');
    if (ctx && r.width > 0 && r.height > 0) ctx.putImageData(new ImageData(new Uint8ClampedArray(r.pixels), r.width, r.height), 0, 0);
    rasterCanvases.set(r, c);
  }
  return c;
}

function font(p: { size: number; mono?: boolean; bold?: boolean }, fonts: Fonts): string {
  return `${p.bold ? 'bold ' : ''}${p.size}px ${p.mono ? fonts.mono : fonts.ui}`;
}

export function paint(scene: Scene, ctx: CanvasRenderingContext2D, scale = 1): void {
  ctx.save();
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.fillStyle = scene.background;
  ctx.fillRect(0, 0, scene.width, scene.height);
  for (const p of scene.prims) {
    switch (p.k) {
      case 'rect':
        ctx.globalAlpha = p.alpha ?? 1;
        if (p.fill) { ctx.fillStyle = p.fill; ctx.fillRect(p.x, p.y, p.w, p.h); }
        if (p.stroke) { ctx.strokeStyle = p.stroke; ctx.lineWidth = p.lw ?? 1; ctx.strokeRect(p.x, p.y, p.w, p.h); }
        ctx.globalAlpha = 1;
        break;
      case 'line':
        ctx.globalAlpha = p.alpha ?? 1;
        ctx.strokeStyle = p.stroke; ctx.lineWidth = p.lw;
        ctx.beginPath(); ctx.moveTo(p.x1, p.y1); ctx.lineTo(p.x2, p.y2); ctx.stroke();
        ctx.globalAlpha = 1;
        break;
      case 'path':
        ctx.globalAlpha = p.alpha ?? 1;
        ctx.strokeStyle = p.stroke; ctx.lineWidth = p.lw;
        ctx.beginPath(); ctx.moveTo(p.pts[0], p.pts[1]);
        for (let i = 2; i < p.pts.length; i += 2) ctx.lineTo(p.pts[i], p.pts[i + 1]);
        ctx.stroke();
        ctx.globalAlpha = 1;
        break;
      case 'circle':
        ctx.globalAlpha = p.alpha ?? 1;
        ctx.beginPath(); ctx.arc(p.x, p.y, p.r, 0, Math.PI * 2);
        if (p.fill) { ctx.fillStyle = p.fill; ctx.fill(); }
        if (p.stroke) { ctx.strokeStyle = p.stroke; ctx.lineWidth = 1; ctx.stroke(); }
        ctx.globalAlpha = 1;
        break;
      case 'text':
        ctx.font = font(p, scene.fonts);
        ctx.fillStyle = p.fill; ctx.textAlign = p.align; ctx.textBaseline = p.baseline;
        if (p.rotate) {
          ctx.save(); ctx.translate(p.x, p.y); ctx.rotate(p.rotate); ctx.fillText(p.s, 0, 0); ctx.restore();
        } else {
          ctx.fillText(p.s, p.x, p.y);
        }
        break;
      case 'image':
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(rasterCanvas(p.raster), p.x, p.y, p.w, p.h);
        break;
    }
  }
  ctx.restore();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const n = (v: number): string => (Math.round(v * 100) / 100).toString();

export function toSvg(scene: Scene): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(scene.width)}" height="${n(scene.height)}" viewBox="0 0 ${n(scene.width)} ${n(scene.height)}">`,
    `<rect width="100%" height="100%" fill="${esc(scene.background)}"/>`,
  ];
  const anchor = { left: 'start', center: 'middle', right: 'end' } as const;
  const base = { top: 'hanging', middle: 'central', bottom: 'text-after-edge', alphabetic: 'alphabetic' } as const;
  for (const p of scene.prims) {
    switch (p.k) {
      case 'rect':
        out.push(`<rect x="${n(p.x)}" y="${n(p.y)}" width="${n(p.w)}" height="${n(p.h)}" fill="${p.fill ? esc(p.fill) : 'none'}"${p.stroke ? ` stroke="${esc(p.stroke)}" stroke-width="${p.lw ?? 1}"` : ''}${p.alpha !== undefined ? ` opacity="${n(p.alpha)}"` : ''}/>`);
        break;
      case 'line':
        out.push(`<line x1="${n(p.x1)}" y1="${n(p.y1)}" x2="${n(p.x2)}" y2="${n(p.y2)}" stroke="${esc(p.stroke)}" stroke-width="${n(p.lw)}"${p.alpha !== undefined ? ` stroke-opacity="${n(p.alpha)}"` : ''}/>`);
        break;
      case 'path': {
        const pts: string[] = [];
        for (let i = 0; i < p.pts.length; i += 2) pts.push(`${n(p.pts[i])},${n(p.pts[i + 1])}`);
        out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${esc(p.stroke)}" stroke-width="${n(p.lw)}"${p.alpha !== undefined ? ` stroke-opacity="${n(p.alpha)}"` : ''}/>`);
        break;
      }
      case 'circle':
        out.push(`<circle cx="${n(p.x)}" cy="${n(p.y)}" r="${n(p.r)}" fill="${p.fill ? esc(p.fill) : 'none'}"${p.stroke ? ` stroke="${esc(p.stroke)}"` : ''}${p.alpha !== undefined ? ` opacity="${n(p.alpha)}"` : ''}/>`);
        break;
      case 'text': {
        const tr = p.rotate ? ` transform="rotate(${n((p.rotate * 180) / Math.PI)} ${n(p.x)} ${n(p.y)})"` : '';
        const fam = p.mono ? scene.fonts.mono : scene.fonts.ui;
        out.push(`<text x="${n(p.x)}" y="${n(p.y)}" fill="${esc(p.fill)}" font-size="${p.size}" font-family="${esc(fam)}"${p.bold ? ' font-weight="bold"' : ''} text-anchor="${anchor[p.align]}" dominant-baseline="${base[p.baseline]}" xml:space="preserve"${tr}>${esc(p.s)}</text>`);
        break;
      }
      case 'image': {
        const url = rasterCanvas(p.raster).toDataURL('image/png');
        out.push(`<image x="${n(p.x)}" y="${n(p.y)}" width="${n(p.w)}" height="${n(p.h)}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${url}"/>`);
        break;
      }
    }
  }
  out.push('</svg>');
  return out.join('\n');
}

/** PNG bytes of the scene at `scale` device pixels per CSS pixel. */
export async function toPng(scene: Scene, scale = 2): Promise<Uint8Array> {
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.ceil(scene.width * scale));
  c.height = Math.max(1, Math.ceil(scene.height * scale));
  const ctx = c.getContext('2d');
  if (!ctx) throw new Error('no 2d context');
  paint(scene, ctx, scale);
  const blob = await new Promise<Blob | null>((res) => c.toBlob(res, 'image/png'));
  if (!blob) throw new Error('PNG encoding failed');
  return new Uint8Array(await blob.arrayBuffer());
}
