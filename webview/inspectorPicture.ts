/**
 * The inspector's picture of a model (core/graphBlocks.ts): inputs → embedding → blocks (runs of blocks built
 * alike collapsed into one box "× N") → output head → outputs, as DOM so it follows the editor's theme (CSS
 * variables) and the keyboard (every box is a button: Tab to it, Enter or Space to expand). Each box lists
 * what it holds (attention, recurrent op, hidden state) with its probes or why none can read it; the edges
 * carry shapes. An expanded box lists its nodes (of the block picked in a run of blocks) with their outputs:
 * any output can be added to the run as a probe, as can a tensor found by name in the search box.
 */
import type { BlockMark, ModelPicture, PicturePart } from '../src/core/graphBlocks.js';
import { el } from './viewHost.js';

/** Nodes listed at once in an expanded block (the rest behind "show all"). */
const NODE_PAGE = 200;
/** Matches shown for a search. */
const SEARCH_HITS = 30;

function text(tag: string, cls: string, t: string): HTMLElement {
  const e = el(tag, cls);
  e.textContent = t;
  return e;
}

/** `repeated`: the mark stands for every block of a run of blocks ("after each block", not "after block 0"). */
function markChip(m: BlockMark, repeated: boolean): HTMLElement {
  const read = m.probes.length > 0;
  const words = repeated && m.kind === 'hidden' ? m.text.replace(/after block \d+/, 'after each block') : m.text;
  const chip = text('span', `pic-mark pic-mark-${m.kind}${read ? '' : ' pic-unread'}`,
    `${words}${read ? ` · probe${m.probes.length > 1 ? `s ×${m.probes.length}` : ''}` : ' · not readable'}`);
  chip.title = read ? `Read by ${m.probes.join(', ')} (at ${m.op} ${m.node})` : (m.why ?? '');
  return chip;
}

/** What the picture asks of its page: the probes picked so far, and telling it when they change. */
export interface ProbePicks {
  picked: Set<string>;
  changed(): void;
  /** False where a run cannot probe by name (an encoder-decoder in two files): outputs are listed, not offered. */
  enabled: boolean;
}

export class InspectorPicture {
  readonly root = el('div', 'pic');
  private readonly expanded = new Set<number>();
  /** Which block of a run of blocks shows its nodes. */
  private readonly shownBlock = new Map<number, number>();
  private readonly flow = el('div', 'pic-flow');
  private readonly search: HTMLInputElement;
  private readonly hits = el('ul', 'pic-hits');
  private readonly pickedList = el('div', 'pic-picked');
  private readonly tensors: { name: string; op: string; node: string }[];

  constructor(private readonly picture: ModelPicture, private readonly picks: ProbePicks) {
    this.root.setAttribute('aria-label', 'Picture of the model');
    this.tensors = picture.parts.flatMap((p) => p.blocks.flatMap((b) => b.nodes.flatMap((n) => n.outputs.map((o) => ({ name: o, op: n.op, node: n.name })))));
    const head = text('p', 'pic-summary', this.summary());
    this.search = el('input', 'pic-search') as HTMLInputElement;
    this.search.type = 'search';
    this.search.placeholder = 'Find a tensor to probe by name';
    this.search.setAttribute('aria-label', 'Find a tensor to probe by name');
    this.search.addEventListener('input', () => this.renderHits());
    this.search.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      const exact = this.tensors.find((t) => t.name === this.search.value.trim());
      if (exact) this.toggle(exact.name, true);
    });
    const searchRow = el('div', 'pic-search-row');
    searchRow.append(this.search, this.hits);
    this.root.append(head, this.flow);
    if (picks.enabled) this.root.append(searchRow, this.pickedList);
    this.render();
  }

  private summary(): string {
    const p = this.picture;
    const how = p.grouping === 'names' ? 'blocks found from node names' : p.grouping === 'hidden-states' ? 'blocks found between the hidden states the probes read'
      : p.grouping === 'recurrent' ? 'one block per recurrent layer' : 'no repeated blocks found';
    return `${p.blockCount} block(s), ${p.nodeCount.toLocaleString('en-US')} nodes; ${how}. Click a block (or Tab to it and press Enter) to list its nodes${this.picks.enabled ? '; pick any output to probe it in the next run' : ''}.`;
  }

  render(): void {
    this.flow.replaceChildren();
    const p = this.picture;
    this.flow.append(this.io('inputs', p.inputs));
    this.flow.append(this.edge('', ''));
    for (const [i, part] of p.parts.entries()) {
      this.flow.append(this.partBox(part, i));
      if (part.edgeOut) this.flow.append(this.edge(`${part.edgeOut.shape ?? ''}`, part.edgeOut.tensor));
      else this.flow.append(this.edge('', ''));
    }
    this.flow.append(this.io('outputs', p.outputs));
    this.renderPicked();
  }

  private io(kind: 'inputs' | 'outputs', list: { name: string; shape: string }[]): HTMLElement {
    const box = el('div', `pic-io pic-${kind}`);
    box.append(text('span', 'pic-io-title', kind));
    for (const t of list) box.append(text('span', 'pic-io-item', `${t.name} [${t.shape}]`));
    return box;
  }

  private edge(shape: string, tensor: string): HTMLElement {
    const e = el('div', 'pic-edge');
    e.append(text('span', 'pic-arrow', '↓'));
    if (shape) {
      const s = text('span', 'pic-shape', shape);
      s.title = tensor;
      e.append(s);
    }
    return e;
  }

  private partBox(part: PicturePart, i: number): HTMLElement {
    const wrap = el('div', `pic-part pic-role-${part.role}`);
    wrap.dataset.part = String(i);
    const open = this.expanded.has(i);
    const btn = el('button', 'pic-box');
    btn.setAttribute('aria-expanded', String(open));
    const n = part.blocks.length;
    btn.append(text('span', 'pic-title', part.title));
    if (n > 1) btn.append(text('span', 'pic-repeat', `× ${n}`));
    const nodes = part.blocks.reduce((k, b) => k + b.nodes.length, 0);
    btn.append(text('span', 'pic-count', `${n > 1 ? `${part.blocks[0].nodes.length} nodes each` : `${nodes} nodes`}`));
    const marks = el('span', 'pic-marks');
    // A run of blocks built alike: the first block's marks stand for all (hidden-state marks say "after block 0").
    for (const m of part.blocks[0].marks) marks.append(markChip(m, n > 1));
    btn.append(marks);
    btn.title = open ? 'Hide the nodes' : 'Show the nodes';
    btn.addEventListener('click', () => {
      if (this.expanded.has(i)) this.expanded.delete(i);
      else this.expanded.add(i);
      this.render();
      (this.flow.querySelector(`[data-part="${i}"] > .pic-box`) as HTMLElement | null)?.focus();
    });
    wrap.append(btn);
    for (const m of part.blocks[0].marks) if (m.why) wrap.append(text('p', 'pic-why', m.why));
    if (open) wrap.append(this.details(part, i));
    return wrap;
  }

  private details(part: PicturePart, i: number): HTMLElement {
    const d = el('div', 'pic-details');
    const k = Math.min(this.shownBlock.get(i) ?? 0, part.blocks.length - 1);
    if (part.blocks.length > 1) {
      const pick = el('div', 'pic-block-pick');
      pick.setAttribute('role', 'group');
      pick.setAttribute('aria-label', 'Block to list');
      part.blocks.forEach((b, j) => {
        const bb = text('button', `pic-block${j === k ? ' pic-block-on' : ''}`, b.label);
        bb.setAttribute('aria-pressed', String(j === k));
        bb.addEventListener('click', () => { this.shownBlock.set(i, j); this.render(); (this.flow.querySelector(`[data-part="${i}"] .pic-block-on`) as HTMLElement | null)?.focus(); });
        pick.append(bb);
      });
      d.append(pick);
    }
    const block = part.blocks[k];
    const table = el('table', 'pic-nodes');
    for (const n of block.nodes.slice(0, NODE_PAGE)) {
      const tr = el('tr');
      tr.append(text('td', 'pic-op', n.op), text('td', 'pic-node', n.name));
      const outs = el('td', 'pic-outs');
      for (const o of n.outputs) outs.append(this.picks.enabled ? this.probeButton(o) : text('span', 'pic-tensor-name', o));
      tr.append(outs);
      table.append(tr);
    }
    d.append(text('p', 'pic-caption', `${block.label}: ${block.nodes.length} nodes`), table);
    if (block.nodes.length > NODE_PAGE) d.append(text('p', 'pic-caption', `First ${NODE_PAGE} of ${block.nodes.length} nodes; find the others by name below.`));
    return d;
  }

  private probeButton(name: string): HTMLElement {
    const on = this.picks.picked.has(name);
    const b = text('button', `pic-tensor${on ? ' pic-tensor-on' : ''}`, name);
    b.setAttribute('aria-pressed', String(on));
    b.title = on ? 'Probed in the next run: click to remove' : 'Probe this tensor in the next run';
    b.addEventListener('click', () => this.toggle(name, !this.picks.picked.has(name)));
    return b;
  }

  /** Adds or removes a probe and redraws what shows it. */
  toggle(name: string, on: boolean): void {
    if (on) this.picks.picked.add(name);
    else this.picks.picked.delete(name);
    this.picks.changed();
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.textContent : undefined;
    this.render();
    this.renderHits();
    // Keep the keyboard where it was: on the same tensor's button.
    if (focused) [...this.root.querySelectorAll<HTMLElement>('.pic-tensor')].find((b) => b.textContent === focused)?.focus();
  }

  private renderHits(): void {
    this.hits.replaceChildren();
    const q = this.search.value.trim().toLowerCase();
    if (!q) return;
    const found = this.tensors.filter((t) => t.name.toLowerCase().includes(q) || t.node.toLowerCase().includes(q));
    for (const t of found.slice(0, SEARCH_HITS)) {
      const li = el('li');
      li.append(this.probeButton(t.name), text('span', 'pic-hit-node', `${t.op} ${t.node}`));
      this.hits.append(li);
    }
    if (!found.length) this.hits.append(text('li', 'pic-caption', `No node output matches "${this.search.value.trim()}".`));
    else if (found.length > SEARCH_HITS) this.hits.append(text('li', 'pic-caption', `${found.length - SEARCH_HITS} more: type more of the name.`));
  }

  private renderPicked(): void {
    this.pickedList.replaceChildren();
    const names = [...this.picks.picked];
    if (!names.length) return;
    this.pickedList.append(text('span', 'pic-caption', `Probed in the next run (${names.length}): `));
    for (const n of names) this.pickedList.append(this.probeButton(n));
  }
}
