"""Benchmark of the information measures against O(N²) baselines, measured in the same run.

neighbour_information (FFT) is timed on every image of a dataset (Fashion-MNIST,
70,000 images, when installed) and compared, per image, with
  * the literal reference ``pixinfo.info.reference.neighbour_information_reference``
    (numpy, CPU, builds the N×N weights for each image, as the definition reads), and
  * each of pixinfo's methods, "fft" (Parseval, O(N log N)) and "dense" (the N×N
    weights built once, one batched matrix product, O(N²)), and "auto" (the default).
structural_retention is timed for random permutations of growing grids and compared
with the dense numpy reference where its N×N matrices fit in memory.

Writes ``analyses/results/bench_information_<device>.json`` with config, versions
and git commit, and prints a Markdown table.

Usage: python analyses/bench_information.py [--device cpu|cuda] [--sides 28 64 128 224]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from pixinfo.data import load_dataset, to_float
from pixinfo.errors import DatasetNotFoundError
from pixinfo.info import Kernel, neighbour_information, structural_retention
from pixinfo.info.reference import neighbour_information_reference, structural_retention_reference
from pixinfo.provenance import make_record, write_json

OUT = Path(__file__).resolve().parent / "results"


def timed(fn, device: torch.device, *, repeats: int = 3, warmup: int = 1) -> tuple[float, list[float]]:
    """Median seconds per call over ``repeats`` calls after warm-up, and every call's time.

    Each call is timed on its own (CUDA events on a GPU), so one disturbed call
    does not move the median.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            times.append(start.elapsed_time(end) / 1000)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def bench_content(images: torch.Tensor, kernel: Kernel, device: torch.device, n_reference: int) -> dict:
    x = to_float(images).to(device)
    n, _, h, w = x.shape
    names = ("auto", "fft", "dense")
    runs: dict[str, list[float]] = {m: [] for m in names}
    for rep in range(5):  # round-robin, rotating the order, so no method always runs first
        for method in names[rep % 3 :] + names[: rep % 3]:
            _, (seconds,) = timed(lambda: neighbour_information(x, kernel=kernel, method=method), device, repeats=1)
            runs[method].append(seconds)
    methods = {}
    for method in names:
        seconds = statistics.median(runs[method])
        methods[method] = {"seconds_all": seconds, "images_per_s": n / seconds, "runs_seconds": runs[method]}
    # literal reference on a sample (CPU numpy: the definition, weights built per image)
    sample = x[:n_reference, 0].double().cpu().numpy()
    f_np = lambda d: np.exp(-d / kernel.scale)  # noqa: E731  (the benchmark uses an exponential kernel)
    t0 = time.perf_counter()
    ref_vals = [neighbour_information_reference(img, f_np) for img in sample]
    ref_per_s = len(sample) / (time.perf_counter() - t0)
    fast_vals = neighbour_information(x[:n_reference], kernel=kernel)[:, 0].double().cpu().numpy()
    return {
        "images": n,
        "shape": [h, w],
        "methods": methods,
        "reference_images_per_s": ref_per_s,
        "reference_sample": len(sample),
        "speedup_auto_vs_reference": methods["auto"]["images_per_s"] / ref_per_s,
        "max_abs_diff_vs_reference": float(np.nanmax(np.abs(np.array(ref_vals) - fast_vals))),
    }


def bench_structure(side: int, kernel: Kernel, device: torch.device, max_reference_side: int) -> dict:
    n = side * side
    index = torch.randperm(n, generator=torch.Generator().manual_seed(side)).to(device)
    value = {}

    def run():
        value["r"] = float(structural_retention(index, shape=(side, side), kernel=kernel))

    repeats = 3 if side <= 128 or device.type == "cuda" else 1
    fast_s, runs = timed(run, device, repeats=repeats, warmup=1 if side <= 128 or device.type == "cuda" else 0)
    row = {
        "side": side,
        "pairs": n * (n - 1),
        "seconds": fast_s,
        "runs_seconds": runs,
        "pairs_per_s": n * (n - 1) / fast_s,
        "R": value["r"],
    }
    if side <= max_reference_side:
        f_np = lambda d: np.exp(-d / kernel.scale)  # noqa: E731
        cpu_index = index.cpu().numpy()
        t0 = time.perf_counter()
        ref = structural_retention_reference(cpu_index, side, side, f_np)
        row["reference_seconds"] = time.perf_counter() - t0
        row["speedup_vs_reference"] = row["reference_seconds"] / fast_s
        row["abs_diff_vs_reference"] = abs(ref - value["r"])
    else:
        row["reference_seconds"] = None
        row["reference_note"] = f"dense N×N reference needs {3 * n * n * 8 / 2**30:.0f} GiB"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--reference-images", type=int, default=200)
    parser.add_argument("--sides", type=int, nargs="+", default=[28, 64, 128, 224])
    parser.add_argument("--max-reference-side", type=int, default=64)
    args = parser.parse_args()
    device = torch.device(args.device)
    kernel = Kernel("exponential", scale=2.0)
    try:
        dataset = load_dataset(args.dataset)
    except DatasetNotFoundError as err:
        print(f"{err}\nfalling back to mnist-5k")
        dataset = load_dataset("mnist-5k")
    images = dataset.split("all").images
    content = bench_content(images, kernel, device, args.reference_images)
    structure = [bench_structure(s, kernel, device, args.max_reference_side) for s in args.sides]
    config = vars(args) | {"dataset": dataset.name, "kernel": kernel.to_dict()}
    record = make_record("bench_information", config, {"neighbour_information": content, "structural_retention": structure}, device=device)
    path = write_json(OUT / f"bench_information_{device.type}.json", record)

    print(f"## {record['environment']['device']}\n")
    print(f"neighbour_information on all {content['images']:,} {dataset.name} images:")
    print("| method | images/s | time for all |")
    print("|---|---:|---:|")
    for method, row in content["methods"].items():
        print(f"| pixinfo, method={method} | {row['images_per_s']:,.0f} | {row['seconds_all']:.2f} s |")
    ref_all = content["images"] / content["reference_images_per_s"]
    print(f"| literal O(N²) reference, per image ({content['reference_sample']} timed) | "
          f"{content['reference_images_per_s']:,.1f} | {ref_all:,.0f} s (extrapolated) |")
    print(f"\nspeed-up of the default (auto) over the literal reference: {content['speedup_auto_vs_reference']:,.0f}x; "
          f"max |difference| {content['max_abs_diff_vs_reference']:.1e}\n")
    print("structural_retention of one random permutation (exact, all pairs):")
    print("| grid | pairs | pixinfo | dense numpy reference | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for row in structure:
        ref = f"{row['reference_seconds']:.3f} s" if row["reference_seconds"] is not None else row["reference_note"]
        speed = f"{row['speedup_vs_reference']:.1f}x" if row["reference_seconds"] is not None else "-"
        print(f"| {row['side']}x{row['side']} | {row['pairs']:.2e} | {row['seconds']:.3f} s | {ref} | {speed} |")
    print(f"\nwrote {path}")
    assert math.isfinite(content["speedup_auto_vs_reference"])


if __name__ == "__main__":
    main()
