/**
 * Colours and fonts from the editor theme (--vscode-* CSS variables), re-read when VS Code switches
 * themes (it rewrites the body's class and style). Colour maps run from the editor background to a
 * theme chart colour, so a heatmap reads the same way in light, dark and high-contrast themes.
 */
import type { Fonts } from './scene.js';

export type RGB = [number, number, number];

export interface Theme {
  bg: string;
  fg: string;
  muted: string;
  border: string;
  accent: string;
  pin: string;
  fonts: Fonts;
  /** Sequential map (0 = background, 1 = accent): 256 RGBA entries. */
  seq: Uint8ClampedArray;
  /** Diverging map (0 = negative colour, 0.5 = background, 1 = positive colour). */
  div: Uint8ClampedArray;
  /** One colour per head (chart colours first, then evenly spaced hues). */
  headColor(i: number): string;
  dark: boolean;
}

let probe: CanvasRenderingContext2D | null = null;

export function parseColor(css: string, fallback: RGB): RGB {
  if (!css.trim()) return fallback;
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return fallback;
  probe.fillStyle = '#010203';
  probe.fillStyle = css.trim();
  const v = String(probe.fillStyle);
  if (v === '#010203' && css.trim() !== '#010203') return fallback;
  if (v.startsWith('#')) return [parseInt(v.slice(1, 3), 16), parseInt(v.slice(3, 5), 16), parseInt(v.slice(5, 7), 16)];
  const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : fallback;
}

export const rgb = (c: RGB): string => `rgb(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])})`;

function mix(a: RGB, b: RGB, t: number): RGB {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function luminance(c: RGB): number {
  return (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255;
}

/** 256-entry LUT through the given stops (evenly spaced). */
function lut(stops: RGB[]): Uint8ClampedArray {
  const out = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const j = Math.min(stops.length - 2, Math.floor(t));
    const c = mix(stops[j], stops[j + 1], t - j);
    out[i * 4] = c[0]; out[i * 4 + 1] = c[1]; out[i * 4 + 2] = c[2]; out[i * 4 + 3] = 255;
  }
  return out;
}

function hsl(h: number, s: number, l: number): string {
  return `hsl(${Math.round(h)},${Math.round(s * 100)}%,${Math.round(l * 100)}%)`;
}

export function readTheme(): Theme {
  const cs = getComputedStyle(document.body);
  const v = (name: string): string => cs.getPropertyValue(name);
  const bg = parseColor(v('--vscode-editor-background') || v('--vscode-sideBar-background'), [30, 30, 30]);
  const dark = luminance(bg) < 0.5;
  const fg = parseColor(v('--vscode-editor-foreground') || v('--vscode-foreground'), dark ? [212, 212, 212] : [30, 30, 30]);
  const blue = parseColor(v('--vscode-charts-blue'), dark ? [55, 148, 255] : [26, 133, 255]);
  const red = parseColor(v('--vscode-charts-red'), dark ? [241, 76, 76] : [229, 20, 0]);
  const orange = parseColor(v('--vscode-charts-orange'), [209, 134, 22]);
  const yellow = parseColor(v('--vscode-charts-yellow'), [204, 167, 0]);
  const green = parseColor(v('--vscode-charts-green'), [137, 209, 133]);
  const purple = parseColor(v('--vscode-charts-purple'), [179, 128, 255]);
  const border = parseColor(v('--vscode-panel-border') || v('--vscode-widget-border'), mix(bg, fg, 0.25));
  const accent = blue;
  // Sequential: background → accent → a lighter/darker end so the top of the scale stands out.
  const end: RGB = dark ? mix(accent, [255, 255, 255], 0.55) : mix(accent, [0, 0, 0], 0.45);
  const chart = [blue, orange, green, red, purple, yellow];
  const fonts: Fonts = {
    ui: v('--vscode-font-family').trim() || 'system-ui, sans-serif',
    mono: v('--vscode-editor-font-family').trim() || 'monospace',
  };
  return {
    bg: rgb(bg),
    fg: rgb(fg),
    muted: rgb(mix(bg, fg, 0.6)),
    border: rgb(border),
    accent: rgb(accent),
    pin: rgb(orange),
    fonts,
    seq: lut([bg, mix(bg, accent, 0.55), accent, end]),
    div: lut([red, mix(red, bg, 0.5), bg, mix(blue, bg, 0.5), blue]),
    headColor: (i) => (i < chart.length ? rgb(chart[i]) : hsl((i * 137.508) % 360, 0.65, dark ? 0.62 : 0.42)),
    dark,
  };
}

export function lutColor(map: Uint8ClampedArray, t: number): string {
  const i = Math.max(0, Math.min(255, Math.round(t * 255))) * 4;
  return `rgb(${map[i]},${map[i + 1]},${map[i + 2]})`;
}
