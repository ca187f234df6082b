"""How long predicting for a new transform takes: pixinfo.predict measures the transform as the
study measured its settings (the three measures on 5,000 images and the probes the shipped predictor
uses) and applies the shipped predictor to every model family of the dataset.

Each transform is one the study did not train on: a new key and strength of the vortex, a block
scramble followed by a negative, and the image shrunk to half its side and tiled 2 × 2, given
as a plain callable (probed for its map). One thread is the reference (``torch.set_num_threads(1)``).
Each transform is timed as a first call would be: the probes' baseline on the untransformed
images comes from the shipped predictor (``LossPredictor.baseline``), nothing from the call before.

Writes ``analyses/results/bench_predict_<device>.json`` (config, versions, git commit, every
timed call) and prints a Markdown table.

Usage: python analyses/bench_predict.py [--dataset fashion-mnist] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from pixinfo.predict import LossPredictor, features, predict
from pixinfo.provenance import make_record, write_json

OUT = Path(__file__).resolve().parent / "results"


def tile(x: torch.Tensor) -> torch.Tensor:
    """The image at half its side, repeated 2 × 2: a kind of transform outside the study's."""
    return torch.nn.functional.avg_pool2d(x, 2).repeat(1, 1, 2, 2)


TRANSFORMS = {"vortex:seed=3,n=10,strength=1.5": "vortex:seed=3,n=10,strength=1.5",
              "block:size=7+negative": "block:size=7+negative", "half size tiled 2×2 (callable)": tile}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    predictor = LossPredictor.load()
    families = [f for _, f in predictor.families(args.dataset)]
    results = []
    for label, transform in TRANSFORMS.items():
        start = time.perf_counter()
        feats = features(transform, args.dataset, probes=predictor.probes(args.dataset, families),
                         baseline=predictor.baseline(args.dataset))  # fmt: skip
        rows = [predict(feats, args.dataset, f, predictor=predictor) for f in families]
        seconds = time.perf_counter() - start
        results.append({"transform": label, "seconds": seconds, "measure_seconds": feats.seconds,
                        "families": len(rows),
                        "out_of_domain": [p.model for p in rows if p.out_of_domain]})  # fmt: skip
    record = make_record("bench_predict", vars(args), results, device="cpu")
    write_json(OUT / "bench_predict_cpu.json", record)
    print(f"## {record['environment']['device']}\n")
    print("| transform | seconds (measure + predict every family) | out of domain for |")
    print("|---|---:|---|")
    for r in results:
        print(f"| {r['transform']} | {r['seconds']:.1f} | {', '.join(r['out_of_domain']) or '–'} |")


if __name__ == "__main__":
    main()
