#!/usr/bin/env python3
"""Writes docs/zoo.md, docs/bottleneck.md and docs/bottleneck.svg from the committed zoo
(media/models/*/manifest.json and heldout.json), so the numbers in the docs are the models' own.

    /usr/bin/python3 tools/zoo/write_docs.py
"""
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / 'media' / 'models'
DOCS = REPO / 'docs'
SEQ2SEQ = [('dates-gru', 'GRU, no attention', '#d62728'),
           ('dates-gru-attention', 'GRU + Bahdanau attention', '#1f77b4'),
           ('dates-transformer', 'Transformer', '#2ca02c')]


def load(name):
    held = json.loads((MODELS / name / 'heldout.json').read_text())
    manifest = json.loads((MODELS / name / 'manifest.json').read_text())
    return held, manifest


def svg(series, buckets) -> str:
    w, h, left, right, top, bottom = 720, 360, 60, 230, 30, 50
    pw, ph = w - left - right, h - top - bottom
    def x(i):
        return left + pw * (i + 0.5) / len(buckets)
    def y(v):
        return top + ph * (1 - v)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left + pw / 2}" y="18" text-anchor="middle" font-size="14">'
           'Exact match vs source length (held-out dates)</text>']
    for k in range(0, 11, 2):
        v = k / 10
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{int(v * 100)}%</text>')
    for i, b in enumerate(buckets):
        out.append(f'<text x="{x(i):.1f}" y="{top + ph + 18}" text-anchor="middle">{b}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 8}" text-anchor="middle">source length (characters)</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#333"/>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#333"/>')
    for n, (label, color, values) in enumerate(series):
        pts = ' '.join(f'{x(i):.1f},{y(v):.1f}' for i, v in enumerate(values))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2.5"/>')
        for i, v in enumerate(values):
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{color}"/>')
        ly = top + 20 + 22 * n
        out.append(f'<line x1="{left + pw + 15}" x2="{left + pw + 40}" y1="{ly}" y2="{ly}" stroke="{color}" '
                   'stroke-width="2.5"/>')
        out.append(f'<text x="{left + pw + 46}" y="{ly + 4}">{label}</text>')
    out.append('</svg>')
    return '\n'.join(out) + '\n'


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    rows, series, buckets = {}, [], None
    for name, label, color in SEQ2SEQ:
        if not (MODELS / name / 'heldout.json').exists():
            continue
        held, manifest = load(name)
        if 'accuracyByLength' not in held:
            continue
        rows[name] = (label, held, manifest)
        buckets = [b['lengths'] for b in held['accuracyByLength']]
        series.append((label, color, [b['exactMatch'] for b in held['accuracyByLength']]))
    (DOCS / 'bottleneck.svg').write_text(svg(series, buckets))
    counts = [b['n'] for b in next(iter(rows.values()))[1]['accuracyByLength']]
    table = ['| source length | n | ' + ' | '.join(label for label, _, _ in rows.values()) + ' |',
             '|---|---|' + '---|' * len(rows)]
    for i, b in enumerate(buckets):
        cells = [f"{rows[n][1]['accuracyByLength'][i]['exactMatch'] * 100:.1f}%" for n in rows]
        table.append(f'| {b} | {counts[i]} | ' + ' | '.join(cells) + ' |')
    table.append('| **all** | ' + str(sum(counts)) + ' | ' +
                 ' | '.join(f"**{rows[n][1]['heldOutExactMatch'] * 100:.1f}%**" for n in rows) + ' |')
    params = ', '.join(f"{label}: {m['training']['params']:,} parameters, {m['training']['steps']} steps"
                       for label, _, m in rows.values())
    def acc(held, lo, hi):  # pooled exact match over buckets whose range lies in [lo, hi]
        sel = [b for b in held['accuracyByLength'] if lo <= int(b['lengths'].split('-')[0]) <= hi]
        return sum(b['exactMatch'] * b['n'] for b in sel) / max(1, sum(b['n'] for b in sel))
    summary = '\n'.join(f"- {label}: {acc(held, 1, 20) * 100:.1f}% on sources of at most 20 characters, "
                        f"{acc(held, 41, 999) * 100:.1f}% on sources longer than 40."
                        for label, held, _ in rows.values())
    if 'dates-gru' in rows and 'dates-gru-attention' in rows:
        plain, att = rows['dates-gru'][1], rows['dates-gru-attention'][1]
        short_gap = (acc(att, 1, 20) - acc(plain, 1, 20)) * 100
        long_gap = (acc(att, 41, 999) - acc(plain, 41, 999)) * 100
        summary += (f"\n\nThe gap between attention and the single context vector is {short_gap:.1f} points on "
                    f"short sources and {long_gap:.1f} points on long ones, although the no-attention model was "
                    f"trained for {rows['dates-gru'][2]['training']['steps']} steps against "
                    f"{rows['dates-gru-attention'][2]['training']['steps']}.")
        summary += ("\n\nWhich field is wrong (share of held-out dates with a wrong year / month / day). "
                    "The decoder writes year, month, day in that order, so the day is what the single context "
                    "vector has to carry longest:\n\n| source length | n | " +
                    ' | '.join(f'{label}: year / month / day' for label, _, _ in rows.values()) + ' |\n|---|---|' +
                    '---|' * len(rows) + '\n')
        for i, fe in enumerate(plain['fieldErrorsByLength']):
            summary += f"| {fe['lengths']} | {fe['n']} | " + ' | '.join(
                ' / '.join(f"{held['fieldErrorsByLength'][i][f] * 100:.1f}%" for f in ('year', 'month', 'day'))
                for _, held, _ in rows.values()) + ' |\n'
    (DOCS / 'bottleneck.md').write_text(BOTTLENECK.format(table='\n'.join(table), params=params, summary=summary))
    write_zoo()
    print('\n'.join(table))


BOTTLENECK = """# The bottleneck, measured on our own models

The three sequence-to-sequence models of the zoo translate free-form dates into ISO dates
(`Tuesday, the 3rd of March 1998` → `1998-03-03`, `the twenty-third of March, nineteen ninety-eight` →
`1998-03-23`). They are trained on the same 40,000 generated pairs in batches of 64; the number of steps
each got is listed under the table (on the shared 2-core build machine the no-attention model, the cheapest per
step, was given the most). The only difference between the first two is attention: `dates-gru` hands its decoder one vector, the encoder's final state, while
`dates-gru-attention` lets every decoder step look at all encoder outputs (additive, Bahdanau-style attention).

Exact match (greedy decoding, the whole ISO string must be right) on held-out dates that were never seen in
training, grouped by the length of the source text in characters:

{table}

![Exact match vs source length](bottleneck.svg)

Short against long inputs:

{summary}

{params}.

How it was measured: `tools/zoo/dates.py` generates the held-out pairs with a different seed and drops every
source string that also occurs in the training set; PyTorch decodes them greedily. The exported ONNX encoder +
decoder-step graphs give the same predictions: `node tools/zoo/verify_onnx.mjs` runs the greedy loop with
onnxruntime-node on the 50 pairs in each model's `heldout.json` and compares them with PyTorch's.

Rebuild: `/usr/bin/python3 tools/zoo/build_zoo.py dates-gru dates-gru-attention dates-transformer`, then
`/usr/bin/python3 tools/zoo/write_docs.py`.
"""


def fmt_metric(m) -> str:
    metric = m['metric']
    if metric['name'] == 'bpc':
        return f"{metric['value']:.3f} bits/char"
    return f"{metric['value'] * 100:.1f}% exact match"


def write_zoo() -> None:
    lines = [ZOO_HEAD, '| folder | architecture | params | training steps | time | held-out metric | files |',
             '|---|---|---|---|---|---|---|']
    for d in sorted(MODELS.iterdir()):
        mf = d / 'manifest.json'
        if not mf.exists():
            continue
        m = json.loads(mf.read_text())
        size = sum(f.stat().st_size for f in d.glob('*.onnx'))
        lines.append(f"| `{d.name}` | {m['architecture']} | {m['training']['params']:,} | {m['training']['steps']} "
                     f"| {m['training']['seconds']} s | {fmt_metric(m)} | "
                     f"{', '.join(sorted(m['files'].values()))} ({size / 1024:.0f} KB) |")
    lines.append('')
    for d in sorted(MODELS.iterdir()):
        mf = d / 'manifest.json'
        if not mf.exists():
            continue
        m = json.loads(mf.read_text())
        data, split = (t.replace('*', '\\*') for t in (m['training']['data'], m['metric']['split']))
        lines.append(f"### `{d.name}`\n\n{m['description']}\n\n- Data: {data}.\n"
                     f"- Metric: {fmt_metric(m)} on {split}.\n")
    lines.append(ZOO_TAIL)
    (DOCS / 'zoo.md').write_text('\n'.join(lines))


ZOO_HEAD = """# The sample model zoo

Small models that really learned something, bundled in `media/models/` so Sequence Lens works offline out of the
box. Each folder holds the ONNX graph(s) (opset 17, standard ops only), a `manifest.json`
(schema: `src/core/manifest.ts`) and character vocabularies (JSON arrays, index = id).

- **Character-level language models** (`rnn`, `lstm`, `gru`, `transformer`), about the same size, trained on the
  same text: the `lib.*.d.ts` declaration files of `typescript@5.9.3` (es5, es2015*, es2017*, es2020*). Whole
  files (es2016*, es2018*, es2019*, es2021*, es2022*, es2023*) are held out to measure bits per character.
  Input `ids` int64 [batch, seq], output `logits` [batch, seq, vocab]. Id 0 is the unknown character `\\ufffd`.
  `reference.json` holds PyTorch's outputs for one short text (argmax per position, logits at the last one).
  The recurrent ones are one native `RNN` / `LSTM` / `GRU` node; the Transformer's attention is written out
  (`MatMul` → `Where` (causal mask, `Trilu`) → `Softmax` → `MatMul`), one `Softmax` per layer holding all 4 heads,
  with sinusoidal positions computed in the graph (`Range`, `Sin`, `Cos`), so any length up to `maxLength` works.
- **Date translators** (`dates-*`): free-form dates → `YYYY-MM-DD`, exported like Hugging Face seq2seq models as
  `encoder.onnx` + `decoder.onnx` (one decoder step; the greedy loop runs in TypeScript). RNN decoders take the
  previous token `prev_token` [1,1], `state` [1,1,128] (and `encoder_outputs` [1,S,128] with attention) and return
  `logits` [1,V], `new_state` and, with attention, `attention` [1,S]. The Transformer decoder takes the whole
  prefix `tokens` [1,T] and `encoder_outputs` [1,S,64] and returns `logits` [1,T,V]; its self- and
  cross-attention `Softmax` nodes are explicit in the graph. Target vocabulary: pad 0, BOS 1 (`\\u0002`),
  EOS 2 (`\\u0003`). `heldout.json` holds 50 held-out pairs with PyTorch's greedy predictions.
  See [bottleneck.md](bottleneck.md) for accuracy against input length.
"""

ZOO_TAIL = """## Rebuilding

```sh
apt-get install -y --no-install-recommends python3-torch python3-onnx libopenblas0-pthread
/usr/bin/python3 tools/zoo/build_zoo.py            # all models; or name some: lstm dates-gru ...
/usr/bin/python3 tools/zoo/build_zoo.py --export-only   # re-export from tools/zoo/.cache checkpoints
node tools/zoo/verify_onnx.mjs                      # onnxruntime-node vs PyTorch, greedy loops on heldout.json
/usr/bin/python3 tools/zoo/write_docs.py            # docs/zoo.md, docs/bottleneck.md, docs/bottleneck.svg
```

Seeds are fixed and training runs on one thread (`ZOO_THREADS`, default 1), so a rebuild on the same machine
reproduces the weights. Training is a fixed number of steps; the `seconds` in each manifest are wall time on a
busy shared 2-core machine, so they say little about the cost on an idle one. Users and CI never need Python.
"""


if __name__ == '__main__':
    main()
