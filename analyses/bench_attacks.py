"""Time of the key-recovery attacks per threat model on 28×28 images, one CPU thread.

For the authors' published Fashion-MNIST vortex key and a fixed random permutation: the prior
attack (ciphertexts plus 9,000 public plain test images of the same kind), the known-plaintext
pair matching (100 pairs) and the blind attack, at 1,000 and 10,000 ciphertexts; each attack
timed as a whole call (``pixinfo.privacy.attack``), with the load average of the machine when it
ran (other jobs slow a call down; a quiet machine is faster).

Writes analyses/results/bench_attacks_cpu.json (config, versions, git commit, CPU, every timed run)
and prints a Markdown table.

Usage: python analyses/bench_attacks.py [--sizes 1000 10000] [--threats prior known-plaintext blind]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd
import torch

from pixinfo.data import load_dataset
from pixinfo.privacy import attack
from pixinfo.provenance import make_record, write_json
from pixinfo.transforms import build_transform

OUT = Path(__file__).resolve().parent / "results"
SPECS = ["vortex:authors", "permutation:seed=0"]


def time_one(t, ds, threat: str, n: int) -> dict:
    ciphertexts = t(ds.train.images[:n])
    holdings = {"prior": {"public": ds.test.images[1000:]},
                "known-plaintext": {"pairs": (ds.train.images[n : n + 100], t(ds.train.images[n : n + 100]))},
                "blind": {}}[threat]  # fmt: skip
    load = os.getloadavg()[0]
    start = time.perf_counter()
    key = attack(t, ciphertexts, **holdings)
    return {"threat": threat, "n_ciphertexts": n, "seconds": time.perf_counter() - start, "load_average": load,
            "found": key.found}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000])
    parser.add_argument("--threats", nargs="+", default=["prior", "known-plaintext", "blind"])
    args = parser.parse_args()
    torch.set_num_threads(1)  # a script, not the library: the benchmark is of one thread
    ds = load_dataset("fashion-mnist")
    runs = []
    for spec in SPECS:
        t = build_transform(spec, shape=ds.image_shape, dataset=ds.name)
        runs += [{"spec": spec, **time_one(t, ds, threat, n)} for threat in args.threats for n in args.sizes]
    frame = pd.DataFrame(runs)
    print(frame.to_markdown(index=False, floatfmt=".1f"))
    write_json(OUT / "bench_attacks_cpu.json", make_record("bench_attacks", vars(args), {"runs": runs}, device="cpu"))


if __name__ == "__main__":
    main()
