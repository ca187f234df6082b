"""Throughput of the Random Vortex Transformation and of scoring, against per-pixel loops.

* RVT: pixinfo applies the authors' Fashion-MNIST key as one gather to every image
  of the dataset, resident on the device as uint8; the baseline is the authors'
  per-pixel loop (``pixinfo.transforms.reference.vortex_per_pixel``) on a sample.
* Scoring: ``score_table`` of the vortex on every image (one pass, no bootstrap, and
  with the default bootstrap), against a per-image loop baseline on a sample: the
  per-pixel vortex, the literal O(N²) content reference for the original and the
  transformed image, scipy's Spearman per position (no NMI: the baseline does less
  work than pixinfo), and the dense R reference.

Writes analyses/results/bench_transforms_<device>.json (config, versions, git
commit, every timed run) and prints a Markdown table.

Usage: python analyses/bench_transforms.py [--device cuda] [--sample 50]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from pixinfo.data import load_dataset, to_float
from pixinfo.info import DEFAULT_KERNEL
from pixinfo.info.reference import neighbour_information_reference, structural_retention_reference
from pixinfo.provenance import make_record, write_json
from pixinfo.scoring import score_table
from pixinfo.transforms import RandomVortex
from pixinfo.transforms.reference import vortex_per_pixel

OUT = Path(__file__).resolve().parent / "results"
from bench_information import timed  # noqa: E402  (same folder: one timing helper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sample", type=int, default=50, help="images timed for the loop baselines")
    parser.add_argument("--gpu-batch", type=int, default=1_000_000, help="images per RVT call on CUDA")
    args = parser.parse_args()
    device = torch.device(args.device)
    ds = load_dataset("fashion-mnist")
    images = ds.split("all").images
    rvt = RandomVortex.from_authors("fashion-mnist").to(device)

    # RVT: resident uint8 batch, one gather
    batch = images.to(device)
    if device.type == "cuda" and args.gpu_batch > len(batch):
        batch = batch.repeat((args.gpu_batch + len(batch) - 1) // len(batch), 1, 1, 1)[: args.gpu_batch]
    rvt_s, rvt_runs = timed(lambda: rvt(batch), device, repeats=5)
    sample = images[: args.sample].numpy()
    t0 = time.perf_counter()
    looped = [vortex_per_pixel(img, rvt.key) for img in sample]
    loop_per_image = (time.perf_counter() - t0) / len(sample)
    assert np.array_equal(np.stack(looped), rvt(images[: args.sample].to(device)).cpu().numpy())

    # scoring: one pass, then the default bootstrap
    def one_pass():
        score_table([rvt], images, n_boot=0, n_boot_value=0, device=device)

    score_s, score_runs = timed(one_pass, device, repeats=3, warmup=1)
    t0 = time.perf_counter()
    score_table([rvt], images, device=device)
    score_default_s = time.perf_counter() - t0

    f = lambda d: np.exp(-d / DEFAULT_KERNEL.scale)  # noqa: E731
    x = to_float(images[: args.sample]).double().numpy()
    t0 = time.perf_counter()
    transformed = np.stack([vortex_per_pixel(img, rvt.key) for img in x])
    content = [(neighbour_information_reference(a[0], f), neighbour_information_reference(b[0], f)) for a, b in zip(x, transformed)]
    flat_o, flat_t = x.reshape(len(x), -1)[:, rvt.index.cpu().numpy()], transformed.reshape(len(x), -1)
    with np.errstate(invalid="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant positions: scipy warns and returns NaN
            rho = [stats.spearmanr(flat_o[:, p], flat_t[:, p]).statistic for p in range(flat_o.shape[1])]
    loop_score_per_image = (time.perf_counter() - t0) / len(x)
    t0 = time.perf_counter()
    structural_retention_reference(rvt.index.cpu().numpy(), 28, 28, f)
    loop_structure_s = time.perf_counter() - t0
    assert len(content) == len(x) and len(rho) == 784

    n_rvt = len(batch)
    results = {
        "rvt": {"images": n_rvt, "seconds": rvt_s, "runs_seconds": rvt_runs, "images_per_s": n_rvt / rvt_s,
                "loop_images_per_s": 1 / loop_per_image, "loop_sample": len(sample),
                "speedup": (n_rvt / rvt_s) * loop_per_image},
        "score": {"images": len(images), "one_pass_seconds": score_s, "runs_seconds": score_runs,
                  "one_pass_images_per_s": len(images) / score_s, "default_bootstrap_seconds": score_default_s,
                  "loop_images_per_s": 1 / loop_score_per_image, "loop_structure_seconds": loop_structure_s,
                  "loop_sample": len(x), "speedup_one_pass": (len(images) / score_s) * loop_score_per_image},
    }  # fmt: skip
    record = make_record("bench_transforms", vars(args), results, device=device)
    path = write_json(OUT / f"bench_transforms_{device.type}.json", record)
    r, s = results["rvt"], results["score"]
    print(f"## {record['environment']['device']}\n")
    print("| task | pixinfo | per-pixel / per-image loop | speed-up |")
    print("|---|---:|---:|---:|")
    print(f"| RVT, authors' Fashion key, {n_rvt:,} uint8 images | {r['images_per_s']:,.0f} images/s ({rvt_s * 1000:.1f} ms) | "
          f"{r['loop_images_per_s']:,.1f} images/s | {r['speedup']:,.0f}x |")
    print(f"| score (R, content, value NMI+Spearman), {len(images):,} images, one pass | {s['one_pass_images_per_s']:,.0f} images/s "
          f"({score_s:.1f} s) | {s['loop_images_per_s']:,.1f} images/s, Spearman only (+ {loop_structure_s:.2f} s for R) | {s['speedup_one_pass']:,.0f}x |")
    print(f"\nscore with the default bootstrap (1000 content resamples, 10 value resamples on 10,000 images): {score_default_s:.1f} s")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
