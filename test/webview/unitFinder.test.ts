/**
 * "Units that follow a pattern" in the Recurrent state and Hidden states views, in plain Node on a real
 * zoo LSTM run (no browser: the views build Scenes and answer gestures without a DOM): a drag over the
 * strip selects a span and ranks units, Shift+click extends it, the Span field (keyboard) sets it, the
 * bracket-depth hypothesis ranks by correlation, the list is exported as CSV and JSON, and "Trace top
 * units" hands the best units to the hidden-state traces.
 * Run: node --import tsx --test test/webview/unitFinder.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { traceModel } from '../../src/core/run/traceModel.js';
import { rankUnitsByCorrelation, rankUnitsBySpan, spanMask } from '../../src/core/trace/unitRanking.js';
import { tokenDepths } from '../../src/core/trace/codeDepth.js';
import { getBackend } from '../../src/node/backends.js';
import { loadModel } from '../../src/node/modelLoader.js';
import { RunData } from '../../webview/data/runData.js';
import { RecurrentState } from '../../webview/views/recurrentState.js';
import { HiddenStates } from '../../webview/views/hiddenStates.js';
import type { Theme } from '../../webview/render/theme.js';
import type { Prim } from '../../webview/render/scene.js';
import type { Control, Selection, View, ViewEnv } from '../../webview/views/viewTypes.js';

const have = existsSync('media/models/lstm/manifest.json');
const TEXT = 'export function f(a: number[], b = "x{") {\n  if (a.length) { return g(a[0], (b)); }\n  return [b];\n}\n';

const lut = new Uint8ClampedArray(256 * 4).fill(128);
const theme: Theme = { bg: '#ffffff', fg: '#000000', muted: '#888888', border: '#cccccc', accent: '#0000ff', pin: '#ff8800', fonts: { ui: 'sans-serif', mono: 'monospace' }, seq: lut, div: lut, headColor: (i) => `hsl(${i * 60},50%,50%)`, dark: false };

function control<K extends Control['kind']>(v: View, env: ViewEnv, id: string, kind: K): Extract<Control, { kind: K }> {
  const c = v.controls(env).find((x) => x.id === id);
  assert.ok(c && c.kind === kind, `${v.id}: control ${id}`);
  return c as Extract<Control, { kind: K }>;
}

const texts = (prims: Prim[]): string[] => prims.flatMap((p) => (p.k === 'text' ? [p.s] : []));

test('unit finder in both views: drag, Shift+click, Span field, bracket hypothesis, export, trace top units', { skip: !have }, async () => {
  const m = await loadModel('lstm');
  const trace = await traceModel({ backend: await getBackend('native', { threads: 1 }), files: m.files, manifest: m.manifest, modelName: m.name, text: TEXT });
  const run = new RunData(trace, 'lstm', m.manifest);
  const n = trace.tokens.length;
  let sel: Selection = { stream: 'encoder', layer: 0, head: 'mean', hiddenHeads: [], units: [], threshold: 0, step: 0 };
  const env = (): ViewEnv => ({ theme, sel, setSel: (p) => { sel = { ...sel, ...p }; }, open: () => undefined, runs: [run], width: 1000, height: 400, redraw: () => undefined });
  const hiddenPt = trace.probes.find((p) => p.probe.kind === 'hidden')!;
  // The h matrix [tokens × 160], as core reads it: what both views rank for the LSTM.
  const h = { rows: n, cols: hiddenPt.tensor.dims[3], data: hiddenPt.tensor.data };

  for (const v of [new RecurrentState(), new HiddenStates()] as View[]) {
    let s = v.scene(env());
    assert.ok(texts(s.prims).some((t) => /Units that follow a pattern/.test(t)), `${v.id}: the section is drawn`);
    // The strip is the 18 px box right under the section's heading.
    const strip = s.prims.find((p): p is Extract<Prim, { k: 'rect' }> => p.k === 'rect' && p.h === 18 && !!p.stroke);
    assert.ok(strip, `${v.id}: strip`);
    const xt = (t: number): number => strip.x + ((t + 0.5) / n) * strip.w;
    assert.match(v.hover!(env(), xt(3), strip.y + 9)?.text ?? '', /^token 3 /);

    // Drag from token 20 to 30 (released below the strip: the end is clamped to the strip's tokens).
    assert.equal(v.drag!(env(), 'start', xt(20), strip.y + 9, { shift: false }), true);
    v.drag!(env(), 'move', xt(26), strip.y + 300, { shift: false });
    v.drag!(env(), 'end', xt(30), strip.y + 300, { shift: false });
    assert.equal(control(v, env(), 'unitSpan', 'text').value, '20-30');
    const expected = rankUnitsBySpan(h, spanMask(n, [{ start: 20, end: 31 }]));
    let csv = v.numbers(env()).tables?.find((t) => t.name === 'units')?.csv.split('\n') ?? [];
    assert.equal(csv[0], 'rank,unit,d,mean_in,mean_out,auc');
    assert.equal(csv.length, 161, 'every unit is listed');
    assert.deepEqual(csv.slice(1, 6).map((l) => Number(l.split(',')[1])), expected.slice(0, 5).map((e) => e.unit), `${v.id}: the list is core's ranking`);
    s = v.scene(env());
    assert.ok(texts(s.prims).some((t) => t === `1. unit ${expected[0].unit}`), `${v.id}: the list is drawn`);

    // Shift+click (mouse, or Enter with Shift on the keyboard pointer) moves the span's end from the anchor.
    v.click!(env(), xt(12), strip.y + 9, { shift: true });
    assert.equal(control(v, env(), 'unitSpan', 'text').value, '12-20');
    // The Span field (keyboard) sets it exactly.
    control(v, env(), 'unitSpan', 'text').set('5-9');
    assert.equal(control(v, env(), 'unitSpan', 'text').value, '5-9');

    // One click: bracket depth.
    control(v, env(), 'unitBracket', 'button').run();
    const depth = tokenDepths(TEXT, trace.tokens).bracket;
    const byR = rankUnitsByCorrelation(h, depth);
    const nums = v.numbers(env());
    csv = nums.tables?.find((t) => t.name === 'units')?.csv.split('\n') ?? [];
    assert.equal(csv[0], 'rank,unit,r');
    assert.deepEqual(csv.slice(1, 4).map((l) => Number(l.split(',')[1])), byR.slice(0, 3).map((e) => e.unit));
    const json = (nums.json as { unitRanking: { mode: string; signal: number[]; units: { unit: number; score: number }[] } }).unitRanking;
    assert.equal(json.mode, 'bracket');
    assert.deepEqual(json.signal, Array.from(depth));
    assert.ok(Math.abs(json.units[0].score - byR[0].r) < 1e-12);
    s = v.scene(env());
    assert.ok(texts(s.prims).some((t) => /ranked by correlation with bracket depth/.test(t)));
    if (v.id === 'hidden') {
      control(v, env(), 'unitTrace', 'button').run();
      assert.deepEqual(sel.units, byR.slice(0, 4).map((e) => e.unit), 'Trace top units hands them to the unit traces');
    }
    // Quote depth, then back to the span.
    control(v, env(), 'unitQuote', 'button').run();
    assert.equal((v.numbers(env()).json as { unitRanking: { mode: string } }).unitRanking.mode, 'quote');
    control(v, env(), 'unitSpanMode', 'button').run();
    assert.equal((v.numbers(env()).json as { unitRanking: { mode: string } }).unitRanking.mode, 'span');
  }
});
