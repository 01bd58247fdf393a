"""Synthetic models for the benchmarks (random weights; never committed; written under .cache/bench/).

    /usr/bin/python3 bench/make_models.py OUT_DIR [overhead|large|all]

overhead: transformer-6x384.onnx  6 layers, d_model 384, 12 heads, FFN 1536, vocab 16000 (untied), ~92 MB.
          A GPT-2-style pre-LayerNorm causal Transformer written with nn.Linear and an explicit softmax, so the
          attention weights are a visible Softmax per layer (what exporters give for hand-written attention).
large:    transformer-6x384-v100k.onnx  the same blocks with a 100k vocabulary (untied): ~350 MB, for
          decode + inspect at a size where copying weights would show.
Needs only Debian's python3-torch (torch.onnx.export, opset 17). Fixed seed: the same command gives the same file.
"""
import math
import sys
from pathlib import Path

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d: int, heads: int, ff: int):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ff)
        self.fc2 = nn.Linear(ff, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q = q.view(b, t, h, d // h).transpose(1, 2)
        k = k.view(b, t, h, d // h).transpose(1, 2)
        v = v.view(b, t, h, d // h).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // h)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        scores = scores.masked_fill(~causal, float('-inf'))
        att = torch.softmax(scores, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x))))


class LM(nn.Module):
    def __init__(self, vocab: int, d: int, layers: int, heads: int, ff: int, max_len: int):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList([Block(d, heads, ff) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        x = self.emb(ids) + self.pos(torch.arange(t, device=ids.device)).unsqueeze(0)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x))


def export(path: Path, model: nn.Module, vocab: int, input_name: str) -> None:
    """Exports `model` (random weights, seed 0) with a dynamic batch and sequence, unless `path` exists."""
    if path.exists():
        print(f'{path} exists ({path.stat().st_size / 1e6:.1f} MB)')
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.randint(0, vocab, (1, 128))
    tmp = path.with_suffix('.tmp')
    with torch.no_grad():
        torch.onnx.export(model.eval(), (ids,), str(tmp), opset_version=17, input_names=[input_name], output_names=['logits'],
                          dynamic_axes={input_name: {0: 'batch', 1: 'seq'}, 'logits': {0: 'batch', 1: 'seq'}},
                          do_constant_folding=True)
    tmp.rename(path)
    print(f'{path}: {path.stat().st_size / 1e6:.1f} MB')


def make(path: Path, vocab: int) -> None:
    torch.manual_seed(0)
    export(path, LM(vocab, 384, 6, 12, 1536, 512), vocab, 'input_ids')


def make_scale(folder: Path) -> None:
    """12 layers x 12 heads, d_model 192, up to 2,048 positions, the zoo's character vocabulary (97): the
    scale the panel must stay interactive at, small enough in weights to run at 2,048 tokens on WASM."""
    torch.manual_seed(0)
    export(folder / 'model.onnx', LM(97, 192, 12, 12, 768, 2048), 97, 'ids')


def main() -> None:
    out = Path(sys.argv[1])
    which = sys.argv[2] if len(sys.argv) > 2 else 'all'
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    if which in ('overhead', 'all'):
        make(out / 'transformer-6x384.onnx', 16000)
    if which in ('scale', 'all'):
        make_scale(out / 'scale-12x12')
    if which in ('large', 'all'):
        make(out / 'transformer-6x384-v100k.onnx', 100000)


if __name__ == '__main__':
    main()
