/**
 * The inspector's inputs: what the model takes (each input's name, element type, shape and role, and
 * the named dimensions they share), and for a model whose inputs are not text the "Try it" that runs it
 * on arrays: one "Choose .npy…" per input (the host's open dialog; see npyRequests.ts), the shape each
 * file holds, and Run once every input has one. The run uses the same probes and views, over positions.
 */
import type { FloatTensor } from '../src/core/run/backend.js';
import { describeInput } from '../src/core/inputKinds.js';
import type { InspectInfo } from './runtime/inspectModel.js';
import { roleText, type TryItChoice } from './inputChoice.js';
import type { PickedArray } from './npyRequests.js';
import { el } from './viewHost.js';

export interface ArrayRunHooks {
  /** Asks the host for a .npy file for an input (undefined: the dialog was dismissed). */
  pick(input: string): Promise<PickedArray | undefined>;
  /** Runs the model on these arrays, by input name. */
  run(inputs: Record<string, FloatTensor>): void;
}

function titled(title: string, cls = 'insp-section'): HTMLElement {
  const s = el('section', cls);
  const h = el('h3');
  h.textContent = title;
  s.append(h);
  return s;
}

/** "Inputs": one row per input of a one-file model (name, type and shape, role), then its named dimensions. */
export function inputsSection(info: InspectInfo): HTMLElement | undefined {
  const f = info.files.length === 1 ? info.files[0] : undefined;
  const inputs = f?.inputs;
  if (!inputs) return undefined;
  const s = titled('Inputs', 'insp-section insp-inputs');
  const p = el('p');
  p.textContent = inputs.kind === 'text' ? 'The model takes text: the token ids come from its tokenizer, the other inputs are filled by the run.'
    : inputs.kind === 'tensors' ? 'The model takes arrays, not text: give one .npy file per input below; the views then read positions t0, t1, … instead of tokens.'
      : 'The model takes token ids beside arrays that are not text.';
  const tbl = el('table', 'insp-table');
  for (const i of inputs.inputs) {
    const tr = el('tr');
    const th = el('th');
    th.textContent = i.name;
    const td = el('td');
    td.textContent = `${describeInput(i)} · ${roleText(i)}`;
    tr.append(th, td);
    tbl.append(tr);
  }
  s.append(p, tbl);
  if (inputs.namedDims.length) {
    const d = el('p', 'insp-named-dims');
    d.textContent = `Named dimensions: ${inputs.namedDims.map((n) => `${n.name} (${n.uses.map((u) => `${u.input} axis ${u.axis}`).join(', ')})`).join('; ')}.`;
    s.append(d);
  }
  return s;
}

/** "Try it" on arrays: a file per input, then Run. Without hooks (no host to ask) it says so. */
export function arraysTrySection(choice: Extract<TryItChoice, { mode: 'arrays' }>, hooks: ArrayRunHooks | undefined): HTMLElement {
  const s = titled('Try it', 'insp-section insp-try-arrays');
  if (choice.note) {
    const n = el('p', 'insp-notice');
    n.textContent = choice.note;
    s.append(n);
  }
  const picked = new Map<string, PickedArray>();
  const go = el('vscode-button', 'insp-try-run');
  go.textContent = 'Run';
  const status = el('p', 'insp-try-status');
  status.setAttribute('role', 'status');
  const ready = (): boolean => choice.toGive.every((i) => picked.has(i.name));
  const refresh = (): void => {
    if (ready()) go.removeAttribute('disabled');
    else go.setAttribute('disabled', '');
  };
  const tbl = el('table', 'insp-table insp-arrays');
  for (const input of choice.toGive) {
    const tr = el('tr');
    tr.dataset.input = input.name;
    const th = el('th');
    th.textContent = `${input.name} ${describeInput(input)}`;
    const td = el('td');
    const btn = el('vscode-button', 'insp-pick-npy');
    btn.setAttribute('secondary', '');
    btn.textContent = 'Choose .npy…';
    btn.setAttribute('aria-label', `Choose a .npy file for input ${input.name}`);
    const what = el('span', 'insp-picked');
    what.textContent = 'no file yet';
    btn.addEventListener('click', () => {
      if (!hooks) return;
      what.textContent = 'choosing…';
      hooks.pick(input.name).then((p) => {
        if (p) {
          picked.set(input.name, p);
          what.textContent = `${p.fileName}: [${p.tensor.dims.join(', ')}]`;
        } else {
          what.textContent = picked.has(input.name) ? `${picked.get(input.name)!.fileName}: [${picked.get(input.name)!.tensor.dims.join(', ')}]` : 'no file yet';
        }
        status.textContent = '';
        refresh();
      }, (e: unknown) => {
        picked.delete(input.name);
        what.textContent = 'no file yet';
        status.textContent = e instanceof Error ? e.message : String(e);
        refresh();
      });
    });
    td.append(btn, what);
    tr.append(th, td);
    tbl.append(tr);
  }
  go.addEventListener('click', () => {
    if (!hooks || !ready()) return;
    const inputs: Record<string, FloatTensor> = {};
    for (const [name, p] of picked) inputs[name] = p.tensor;
    hooks.run(inputs);
  });
  if (!hooks) status.textContent = 'Arrays can be picked only in the .onnx editor of VS Code.';
  refresh();
  s.append(tbl, go, status);
  return s;
}
