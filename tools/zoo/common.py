"""Shared helpers for the zoo generator: paths, seeding, ONNX export, reference outputs, manifests."""
import json
import os
import random
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / 'media' / 'models'
# Checkpoints and reference outputs for verification; ignored by git (see tools/zoo/.gitignore).
CACHE = Path(__file__).resolve().parent / '.cache'
OPSET = 17
MAX_ONNX_BYTES = 5 * 1024 * 1024


def setup(seed: int) -> None:
    """Fixed seeds and a fixed thread count: the same command rebuilds the same weights."""
    # One thread: on a shared 2-core machine two OpenMP threads ran 8x slower per step than one.
    threads = int(os.environ.get('ZOO_THREADS', '1'))
    torch.set_num_threads(threads)
    random.seed(seed)
    torch.manual_seed(seed)


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def model_dir(name: str) -> Path:
    d = MODELS / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def export(module: torch.nn.Module, args: tuple, path: Path, input_names: list, output_names: list,
           dynamic_axes: dict) -> None:
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)
    size = path.stat().st_size
    if size > MAX_ONNX_BYTES:
        raise RuntimeError(f'{path} is {size} bytes, over the 5 MB budget')


def tensor_json(t: torch.Tensor) -> dict:
    dtype = 'int64' if t.dtype == torch.int64 else 'float32'
    return {'dtype': dtype, 'dims': list(t.shape), 'data': t.reshape(-1).tolist()}


def write_reference(name: str, file: str, cases: list) -> None:
    """cases: [{'inputs': {name: tensor}, 'outputs': {name: tensor}}]. Read by tools/zoo/verify_onnx.mjs."""
    out = CACHE / 'refs' / name
    out.mkdir(parents=True, exist_ok=True)
    data = {'model': str((MODELS / name / file).relative_to(REPO)), 'cases': [
        {'inputs': {k: tensor_json(v) for k, v in c['inputs'].items()},
         'outputs': {k: tensor_json(v) for k, v in c['outputs'].items()}} for c in cases]}
    (out / (Path(file).stem + '.json')).write_text(json.dumps(data))


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + '\n')


class Log:
    """Progress log with wall-clock time, flushed so `tail -f` works on background runs."""

    def __init__(self, name: str):
        CACHE.mkdir(parents=True, exist_ok=True)
        self.f = open(CACHE / f'{name}.log', 'a')
        self.t0 = time.time()

    def __call__(self, msg: str) -> None:
        line = f'[{time.time() - self.t0:7.1f}s] {msg}'
        print(line, flush=True)
        self.f.write(line + '\n')
        self.f.flush()
