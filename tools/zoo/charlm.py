"""Character-level language models on the TypeScript standard library declarations (lib.*.d.ts).

Four models of about the same size (~150k parameters): tanh RNN, LSTM, GRU and a decoder-only
Transformer (2 layers, 4 heads, sinusoidal positions, attention written out with MatMul + Softmax so
the weights are visible in the ONNX graph).
"""
import math
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import (CACHE, REPO, Log, count_params, export, model_dir, setup, write_json,
                    write_reference)

LIB = REPO / 'node_modules' / 'typescript' / 'lib'
TRAIN_PREFIXES = ('lib.es5.', 'lib.es2015.', 'lib.es2017.', 'lib.es2020.')
VAL_PREFIXES = ('lib.es2016.', 'lib.es2018.', 'lib.es2019.', 'lib.es2021.', 'lib.es2022.', 'lib.es2023.')
UNK = '\ufffd'
# Index = id. UNK first, then newline and printable ASCII: covers all but ~20 characters of the corpus.
VOCAB = [UNK, '\n'] + [chr(c) for c in range(32, 127)]
STOI = {c: i for i, c in enumerate(VOCAB)}
EVAL_WINDOW = 256


def lib_files(prefixes) -> list:
    return sorted(p for p in LIB.glob('lib.*.d.ts') if p.name.startswith(prefixes))


def load_text(prefixes) -> str:
    return '\n'.join(p.read_text().replace('\r\n', '\n') for p in lib_files(prefixes))


def encode(text: str) -> torch.Tensor:
    return torch.tensor([STOI.get(c, 0) for c in text], dtype=torch.int64)


class RecurrentLM(nn.Module):
    def __init__(self, kind: str, emb: int, hidden: int, layers: int = 1):
        super().__init__()
        cell = {'rnn': nn.RNN, 'lstm': nn.LSTM, 'gru': nn.GRU}[kind]
        self.embed = nn.Embedding(len(VOCAB), emb)
        self.rnn = cell(emb, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, len(VOCAB))

    def forward(self, ids):
        y, _ = self.rnn(self.embed(ids))
        return self.head(y)


def sinusoidal(t: int, d: int, device=None) -> torch.Tensor:
    """Computed in the graph (Range, Sin, Cos), so any sequence length works."""
    pos = torch.arange(t, device=device, dtype=torch.float32).unsqueeze(1)
    i = torch.arange(0, d, 2, device=device, dtype=torch.float32)
    angle = pos * torch.exp(i * (-math.log(10000.0) / d))
    return torch.stack([torch.sin(angle), torch.cos(angle)], dim=2).reshape(t, d)


class SelfAttention(nn.Module):
    """Multi-head attention written out: Q/K/V projections, MatMul, Where (mask), Softmax, MatMul."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask):
        b, t, d = x.shape
        q = self.q(x).view(b, t, self.heads, self.dh).transpose(1, 2)
        k = self.k(x).view(b, t, self.heads, self.dh).transpose(1, 2)
        v = self.v(x).view(b, t, self.heads, self.dh).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.dh)
        scores = scores.masked_fill(mask, -1e9)
        weights = torch.softmax(scores, dim=-1)
        return self.o(torch.matmul(weights, v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d: int, heads: int, ff: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.ff(self.ln2(x))


class TransformerLM(nn.Module):
    def __init__(self, d: int = 80, heads: int = 4, ff: int = 320, layers: int = 2):
        super().__init__()
        self.d = d
        self.embed = nn.Embedding(len(VOCAB), d)
        self.blocks = nn.ModuleList(Block(d, heads, ff) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, len(VOCAB))

    def forward(self, ids):
        t = ids.shape[1]
        # No sqrt(d) scaling: with N(0,1) embeddings it made the residual stream ~9x larger than the block
        # outputs and training crawled.
        x = self.embed(ids) + sinusoidal(t, self.d, ids.device)
        # Causal mask built in the graph (Trilu): True above the diagonal = future positions.
        mask = torch.ones(t, t, dtype=torch.bool, device=ids.device).triu(1)
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln(x))


# name -> (constructor, training hyper-parameters). Sizes chosen for ~150k parameters each.
SPECS = {
    'rnn': dict(make=lambda: RecurrentLM('rnn', 48, 320), arch='rnn', seq=128, batch=64, lr=2e-3,
                steps=300, warmup=30, maxLength=1024,
                about='Single-layer tanh RNN (hidden 320, embedding 48).'),
    'lstm': dict(make=lambda: RecurrentLM('lstm', 48, 160), arch='lstm', seq=128, batch=64, lr=3e-3,
                 steps=600, warmup=50, maxLength=1024,
                 about='Single-layer LSTM (hidden 160, embedding 48).'),
    'gru': dict(make=lambda: RecurrentLM('gru', 48, 184), arch='gru', seq=128, batch=64, lr=3e-3,
                steps=300, warmup=30, maxLength=1024,
                about='Single-layer GRU (hidden 184, embedding 48).'),
    'transformer': dict(make=lambda: TransformerLM(), arch='transformer-decoder', seq=256, batch=8, lr=2e-3,
                        steps=1200, warmup=100, maxLength=256,
                        about='Decoder-only Transformer: 2 pre-LayerNorm blocks, d_model 80, 4 heads, '
                              'feed-forward 320 (GELU), sinusoidal positions, causal self-attention.'),
}


def evaluate_bpc(model, data: torch.Tensor, limit_windows=None) -> float:
    model.eval()
    n = (len(data) - 1) // EVAL_WINDOW
    if limit_windows:
        n = min(n, limit_windows)
    x = data[: n * EVAL_WINDOW].view(n, EVAL_WINDOW)
    y = data[1: n * EVAL_WINDOW + 1].view(n, EVAL_WINDOW)
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, 32):
            logits = model(x[i:i + 32])
            total += F.cross_entropy(logits.reshape(-1, len(VOCAB)), y[i:i + 32].reshape(-1),
                                     reduction='sum').item()
    model.train()
    return total / (n * EVAL_WINDOW) / math.log(2)


def train(name: str, steps=None, seed: int = 1) -> None:
    spec = SPECS[name]
    setup(seed)
    log = Log(name)
    train_data, val_data = encode(load_text(TRAIN_PREFIXES)), encode(load_text(VAL_PREFIXES))
    model = spec['make']()
    steps = steps or spec['steps']
    # Optional spec key `stop`: end early on the schedule planned for `steps`, so a run cut short for time can
    # still be rebuilt exactly. No committed model uses it.
    stop = min(spec.get('stop', steps), steps)
    log(f'{name}: {count_params(model)} params, {len(train_data)} train chars, {len(val_data)} val chars, '
        f'{steps} steps')
    opt = torch.optim.AdamW(model.parameters(), lr=spec['lr'], weight_decay=0.01)

    def lr_at(step):  # linear warm-up, then cosine decay to 10%
        if step < spec['warmup']:
            return (step + 1) / spec['warmup']
        p = (step - spec['warmup']) / max(1, steps - spec['warmup'])
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(seed)
    seq, batch = spec['seq'], spec['batch']
    t0 = time.time()
    for step in range(stop):
        starts = torch.randint(0, len(train_data) - seq - 1, (batch,), generator=gen)
        x = torch.stack([train_data[s:s + seq] for s in starts])
        y = torch.stack([train_data[s + 1:s + seq + 1] for s in starts])
        loss = F.cross_entropy(model(x).reshape(-1, len(VOCAB)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == stop - 1:
            log(f'step {step} loss {loss.item() / math.log(2):.3f} bpc, lr {sched.get_last_lr()[0]:.5f}')
        if step % 200 == 199:
            log(f'step {step} val {evaluate_bpc(model, val_data, 64):.3f} bpc (64 windows)')
            torch.save(model.state_dict(), CACHE / f'{name}.pt')
            # Lets an unfinished run be exported (the manifest then states the steps really done).
            write_json(CACHE / f'{name}.train.json', {'steps': step + 1, 'seconds': round(time.time() - t0),
                                                       'val_bpc': evaluate_bpc(model, val_data), 'seed': seed})
    seconds = time.time() - t0
    val = evaluate_bpc(model, val_data)
    train_bpc = evaluate_bpc(model, train_data, 200)
    log(f'done: val {val:.3f} bpc, train {train_bpc:.3f} bpc, {seconds:.0f}s')
    torch.save(model.state_dict(), CACHE / f'{name}.pt')
    write_json(CACHE / f'{name}.train.json', {'steps': stop, 'seconds': round(seconds), 'val_bpc': val,
                                               'train_bpc': train_bpc, 'seed': seed})


def export_model(name: str) -> None:
    import json
    spec = SPECS[name]
    model = spec['make']()
    model.load_state_dict(torch.load(CACHE / f'{name}.pt'))
    model.eval()
    info = json.loads((CACHE / f'{name}.train.json').read_text())
    out = model_dir(name)
    sample = encode('interface ArrayLike<T> {\n    readonly length: number;\n').unsqueeze(0)
    export(model, (sample,), out / 'model.onnx', ['ids'], ['logits'],
           {'ids': {0: 'batch', 1: 'seq'}, 'logits': {0: 'batch', 1: 'seq'}})
    write_json(out / 'vocab.json', VOCAB)
    train_names = [p.name for p in lib_files(TRAIN_PREFIXES)]
    val_names = [p.name for p in lib_files(VAL_PREFIXES)]
    write_json(out / 'manifest.json', {
        'name': f'char-{name}',
        'description': f"{spec['about']} Character-level language model trained on TypeScript's own "
                       'lib.*.d.ts declaration files; predicts the next character.',
        'architecture': spec['arch'],
        'task': 'char-lm',
        'files': {'model': 'model.onnx'},
        'tokenizer': {'type': 'char', 'vocab': 'vocab.json', 'unk': 0},
        'maxLength': spec['maxLength'],
        'io': {'ids': 'ids', 'logits': 'logits'},
        'training': {
            'data': f'typescript@5.9.3 lib files: {len(train_names)} files ({", ".join(p + "*" for p in TRAIN_PREFIXES)}), '
                    f'random {spec["seq"]}-character windows, batch {spec["batch"]}, AdamW, warm-up + cosine schedule '
                    f'over {spec["steps"]} steps' + (f', stopped after {spec["stop"]}' if 'stop' in spec else ''),
            'steps': info['steps'], 'seconds': info['seconds'], 'params': count_params(model),
            'seed': info['seed']},
        'metric': {'name': 'bpc', 'value': round(info['val_bpc'], 4),
                   'split': f'held-out lib files never trained on ({len(val_names)} files: '
                            f'{", ".join(p + "*" for p in VAL_PREFIXES)}), windows of {EVAL_WINDOW} characters'},
    })
    # Reference outputs for tools/zoo/verify_onnx.mjs (batch 1 and batch 2, two lengths).
    val_data = encode(load_text(VAL_PREFIXES))
    cases = []
    for ids in (sample, val_data[:200].view(2, 100), val_data[1000:1007].view(1, 7)):
        with torch.no_grad():
            cases.append({'inputs': {'ids': ids}, 'outputs': {'logits': model(ids)}})
    write_reference(name, 'model.onnx', cases)
    # A small reference kept beside the model so TypeScript tests can compare with PyTorch.
    text = 'interface Foo {\n  bar(): number;\n}'
    with torch.no_grad():
        logits = model(encode(text).unsqueeze(0))[0]
    write_json(out / 'reference.json', {
        'text': text, 'ids': encode(text).tolist(),
        'argmax': logits.argmax(-1).tolist(),
        'logitsLast': [round(v, 5) for v in logits[-1].tolist()],
        'note': 'PyTorch outputs for `text`: argmax id at every position and the logits at the last position.'})
