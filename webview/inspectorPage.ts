/**
 * Inspector mode (a .onnx opened in VS Code): summary, architecture with its evidence, the probe plan
 * (and what could not be exposed), inputs/outputs, and a "try it" box that runs the model.
 */
import type { ModelRef } from '../src/shared/protocol.js';
import type { TensorSummary } from '../src/core/onnx/summarize.js';
import type { InspectInfo } from './runtime/inspectModel.js';
import type { Theme } from './render/theme.js';
import { el } from './viewHost.js';
import { tryItChoice } from './inputChoice.js';
import { arraysTrySection, inputsSection, type ArrayRunHooks } from './inspectorInputs.js';
import { InspectorPicture } from './inspectorPicture.js';

function dims(t: TensorSummary): string {
  return t.shape ? `[${t.shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '(rank unknown)';
}

function row(tbl: HTMLElement, k: string, v: string): void {
  const tr = el('tr');
  const th = el('th');
  th.textContent = k;
  const td = el('td');
  td.textContent = v;
  tr.append(th, td);
  tbl.append(tr);
}

function section(title: string): HTMLElement {
  const s = el('section', 'insp-section');
  const h = el('h3');
  h.textContent = title;
  s.append(h);
  return s;
}

export class InspectorPage {
  readonly root = el('div', 'inspector');

  /** Tensors picked to probe by name in the next "Try it" run, for the model shown (`pickedFor`). */
  readonly picked = new Set<string>();
  private pickedFor?: string;

  /** `onProbes`: the picked tensors changed (the page's runner reads them in the next run). */
  /** How a run on arrays picks its .npy files and starts (set by the app; see inspectorInputs.ts). */
  arrays?: ArrayRunHooks;

  constructor(private readonly onTry: (text: string) => void, private readonly onProbes: (names: string[]) => void = () => undefined) {}

  showError(model: ModelRef, message: string): void {
    this.showMessage(model.label, message, 'insp-error');
  }

  /** A page with a heading and one paragraph, for the cases where there is nothing to inspect. */
  showMessage(title: string, message: string, cls = 'insp-notice'): void {
    this.root.replaceChildren();
    const h = el('h2');
    h.textContent = title;
    const p = el('p', cls);
    p.textContent = message;
    this.root.append(h, p);
  }

  show(model: ModelRef, info: InspectInfo, _theme: Theme): void {
    this.root.replaceChildren();
    const h = el('h2');
    h.textContent = `${model.label} — ${info.architecture}`;
    this.root.append(h);
    if (info.manifest?.description) {
      const d = el('p');
      d.textContent = info.manifest.description;
      this.root.append(d);
    }
    if (this.pickedFor !== model.id) {
      this.picked.clear();
      this.pickedFor = model.id;
      this.onProbes([]);
    }
    const oneFile = info.files.length === 1;
    for (const f of info.files) {
      if (!f.picture) continue;
      const s = section(oneFile ? 'Picture' : `Picture: ${f.key}`);
      const pic = new InspectorPicture(f.picture, {
        picked: this.picked, enabled: oneFile, changed: () => this.onProbes([...this.picked]),
      });
      s.append(pic.root);
      // Consistency: whatever the picture marks as attention or recurrent without a probe says why, here in one list.
      const unread = [...new Map(f.picture.unread.map((u) => [u.why, u] as const)).values()];
      if (unread.length) {
        s.append(Object.assign(el('h4'), { textContent: 'What cannot be read' }));
        const ul = el('ul', 'insp-unread');
        for (const u of unread) { const li = el('li'); li.textContent = `${u.what}: ${u.why}`; ul.append(li); }
        s.append(ul);
      }
      this.root.append(s);
    }
    // A text box only for a model that takes text; arrays (one .npy per input) for images, audio, features.
    const choice = tryItChoice(info);
    if (choice.mode === 'text') {
      const tryS = section('Try it');
      const box = el('vscode-textarea', 'insp-try') as HTMLElement & { value: string };
      box.setAttribute('placeholder', 'Text to run through the model');
      box.setAttribute('aria-label', 'Text to run through the model');
      box.setAttribute('rows', '3');
      const go = el('vscode-button', 'insp-try-run');
      go.textContent = 'Run';
      go.addEventListener('click', () => { if (box.value) this.onTry(box.value); });
      tryS.append(box, go);
      this.root.append(tryS);
    } else if (choice.mode === 'arrays') {
      this.root.append(arraysTrySection(choice, this.arrays));
    }
    const inputsS = inputsSection(info);
    if (inputsS) this.root.append(inputsS);
    for (const f of info.files) {
      const s = section(info.files.length > 1 ? `File: ${f.key}` : 'Summary');
      const tbl = el('table', 'insp-table');
      const sm = f.summary;
      row(tbl, 'Size', `${(sm.byteSize / 1024).toFixed(1)} KiB`);
      if (sm.externalData) row(tbl, 'Weights', sm.externalData.text);
      row(tbl, 'Parameters', sm.parameterCount.toLocaleString('en-US'));
      if (sm.weightTypes.length) row(tbl, 'Weight types', sm.weightTypes.join(', '));
      row(tbl, 'Nodes', String(sm.nodeCount));
      row(tbl, 'Producer', `${sm.producer.name} ${sm.producer.version}`.trim() || '—');
      row(tbl, 'Opsets', sm.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', '));
      row(tbl, 'Ops', Object.entries(sm.opHistogram).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`).join(', '));
      s.append(tbl);
      const io = el('table', 'insp-table');
      for (const i of sm.inputs) row(io, `input ${i.name}`, `${i.type} ${dims(i)}`);
      for (const o of sm.outputs) row(io, `output ${o.name}`, `${o.type} ${dims(o)}`);
      s.append(io);
      if (f.evidence) {
        const ev = el('ul', 'insp-evidence');
        for (const e of f.evidence.evidence) { const li = el('li'); li.textContent = e; ev.append(li); }
        const head = el('p');
        head.textContent = `Architecture ${f.evidence.architecture}: ${f.evidence.layers} layer(s)${f.evidence.heads ? `, ${f.evidence.heads} heads` : ''}${f.evidence.hiddenSize ? `, hidden ${f.evidence.hiddenSize}` : ''}`;
        s.append(head, ev);
      }
      if (f.plan) {
        const pt = el('table', 'insp-table insp-plan');
        for (const p of f.plan.probes) row(pt, `${p.kind} L${p.layer}${p.stream ? ` ${p.stream}` : ''}${p.gate ? ` ${p.gate}` : ''}`, `${p.name} [${p.axes.join(', ')}] at ${p.source.op} ${p.source.node}`);
        for (const u of f.plan.unavailable) row(pt, `not exposed: ${u.what}`, u.reason);
        const ph = el('h4');
        ph.textContent = `Probe plan (${f.plan.probes.length} probes)`;
        s.append(ph, pt);
      }
      for (const w of f.warnings ?? []) {
        const p = el('p', 'insp-warning');
        p.textContent = w;
        s.append(p);
      }
      if (f.error) {
        const p = el('p', 'insp-error');
        p.textContent = f.error;
        s.append(p);
      }
      this.root.append(s);
    }
  }
}
