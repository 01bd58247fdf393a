#!/usr/bin/env python3
"""Rebuilds the sample model zoo in media/models/.

    /usr/bin/python3 tools/zoo/build_zoo.py                 # train + export every model
    /usr/bin/python3 tools/zoo/build_zoo.py lstm dates-gru  # only these
    /usr/bin/python3 tools/zoo/build_zoo.py --export-only   # re-export from cached checkpoints
    /usr/bin/python3 tools/zoo/build_zoo.py --steps 50 lstm # a quick smoke run

Then verify with onnxruntime-node:  node tools/zoo/verify_onnx.mjs
Needs Debian python3-torch (1.13) and libopenblas0-pthread. Checkpoints and logs go to tools/zoo/.cache/.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import charlm  # noqa: E402

LM = list(charlm.SPECS)
try:
    import dates  # noqa: E402
    S2S = list(dates.SPECS)
except ImportError:
    dates, S2S = None, []


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('models', nargs='*', help=f'subset of {LM + S2S}')
    ap.add_argument('--export-only', action='store_true')
    ap.add_argument('--steps', type=int, default=None, help='override the step count (smoke runs)')
    args = ap.parse_args()
    names = args.models or LM + S2S
    for name in names:
        mod = charlm if name in LM else dates
        if not args.export_only:
            mod.train(name, steps=args.steps)
        mod.export_model(name)


if __name__ == '__main__':
    main()
