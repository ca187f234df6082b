"""Benchmark of the information measures against O(N²) baselines, measured in the same run.

neighbour_information (FFT) is timed on every image of a dataset (Fashion-MNIST,
70,000 images, when installed) and compared, per image, with
  * the literal reference ``pixinfo.info.reference.neighbour_information_reference``
    (numpy, CPU, builds the N×N weights for each image, as the definition reads), and
  * each of pixinfo's methods, "fft" (Parseval, O(N log N)) and "dense" (the N×N
    weights built once, one batched matrix product, O(N²)), and "auto" (the default).
structural_retention (exact R of random permutations) is timed at 28, 64, 128 and 224 px,
for 64 maps of 28×28 at once and with a cutoff, comparing in the same run, interleaved:
  * the default, the fused numba kernel (method="auto" on the CPU),
  * today's torch implementation (method="reference"), and
  * the dense numpy reference with the kernel matrix F precomputed (one gather F[p][:, p],
    one product; up to --max-dense-side, where its N×N matrices fit in memory).
value_retention (NMI and Spearman on 10,000 images) is timed fused against its reference.
Numba's compile time is excluded (a warm-up call) and reported: first calls in a fresh
process with an empty and with a filled cache directory.

Writes ``analyses/results/bench_information_<device>.json`` with config, versions
and git commit, and prints a Markdown table.

Usage: python analyses/bench_information.py [--device cpu|cuda] [--sides 28 64 128 224] [--note "..."]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from pixinfo.data import load_dataset, to_float, to_uint8
from pixinfo.errors import DatasetNotFoundError
from pixinfo.info import Kernel, neighbour_information, structural_retention, value_retention
from pixinfo.info.reference import neighbour_information_reference, structural_retention_dense, weight_matrix
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


def interleaved(fns: dict, repeats: dict, device: torch.device) -> dict[str, list[float]]:
    """Time each ``fns[name]`` ``repeats[name]`` times, round-robin with a rotating order, one call at a time."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for rnd in range(max(repeats.values())):
        for name in names[rnd % len(names) :] + names[: rnd % len(names)]:
            if len(runs[name]) < repeats[name]:
                runs[name].append(timed(fns[name], device, repeats=1, warmup=0)[1][0])
    return runs


def bench_structure(side: int, kernel: Kernel, device: torch.device, max_dense_side: int, maps: int = 1) -> dict:
    """Fused kernel vs today's implementation (method="reference") vs dense numpy (precomputed F), interleaved."""
    n = side * side
    g = torch.Generator().manual_seed(side)
    index = torch.stack([torch.randperm(n, generator=g) for _ in range(maps)]).to(device).squeeze(0)
    out = {}

    def pixinfo_method(name, method):
        return lambda: out.__setitem__(name, structural_retention(index, shape=(side, side), kernel=kernel, method=method))

    fns = {"fused": pixinfo_method("fused", "auto"), "reference": pixinfo_method("reference", "reference")}
    big = n * n * maps > 2**30
    repeats = {"fused": 3 if big else 5, "reference": 1 if big else 3}
    if side <= max_dense_side and kernel.cutoff is None:
        f_np = lambda d: np.exp(-d / kernel.scale)  # noqa: E731  (the benchmark uses an exponential kernel)
        weights = weight_matrix(side, side, f_np)  # precomputed once, not timed
        norm = float((weights * weights).sum())
        cpu_maps = index.reshape(maps, n).cpu().numpy()
        fns["dense_numpy"] = lambda: out.__setitem__("dense_numpy", [structural_retention_dense(m, weights, norm) for m in cpu_maps])
        repeats["dense_numpy"] = 3
    fns["fused"]()  # warm-up: compiles (or loads) the kernel; the compile is timed in compile_seconds()
    runs = interleaved(fns, repeats, device)
    seconds = {name: statistics.median(t) for name, t in runs.items()}
    fused = out["fused"].double().cpu().reshape(-1)
    row = {
        "side": side, "maps": maps, "cutoff": kernel.cutoff, "pairs": maps * n * (n - 1),
        "seconds": seconds, "runs_seconds": runs, "pairs_per_s": maps * n * (n - 1) / seconds["fused"],
        "R": fused.tolist() if maps > 1 else float(fused),
        "speedup_vs_reference": seconds["reference"] / seconds["fused"],
        "max_rel_diff_vs_reference": float(((fused - out["reference"].double().cpu().reshape(-1)).abs() / fused).max()),
    }  # fmt: skip
    if "dense_numpy" in seconds:
        row["speedup_vs_dense_numpy"] = seconds["dense_numpy"] / seconds["fused"]
        row["max_rel_diff_vs_dense_numpy"] = float((abs(fused.numpy() - np.array(out["dense_numpy"])) / fused.numpy()).max())
    elif kernel.cutoff is None:
        row["dense_numpy_note"] = f"dense N×N reference needs {3 * n * n * 8 / 2**30:.0f} GiB"
    return row


def bench_value(images: torch.Tensor, device: torch.device, n_images: int) -> dict:
    """value_retention (NMI and Spearman, the vortex-aligned positions) fused vs reference, interleaved."""
    from pixinfo.transforms import RandomVortex

    vortex = RandomVortex.from_authors("fashion-mnist").to(device)
    x = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:n_images]].to(device)
    y = to_uint8(vortex(to_float(x)))
    out = {}

    def call(method, implementation):
        key = f"{method}-{implementation}"
        return lambda: out.__setitem__(key, value_retention(x, y, index=vortex.index, method=method, implementation=implementation))

    fns = {f"{m}-{i}": call(m, i) for m in ("nmi", "spearman") for i in ("fused", "reference")}
    fns["nmi-fused"](), fns["spearman-fused"]()  # warm-up
    runs = interleaved(fns, dict.fromkeys(fns, 3), device)
    seconds = {name: statistics.median(t) for name, t in runs.items()}
    diff = {m: float((out[f"{m}-fused"] - out[f"{m}-reference"]).abs().nan_to_num().max()) for m in ("nmi", "spearman")}
    return {"images": n_images, "positions": int(y[0].numel()), "seconds": seconds, "runs_seconds": runs,
            "max_abs_diff_fused_vs_reference": diff}  # fmt: skip


COMPILE_PROBE = """
import json, time, torch
from pixinfo.info import Kernel, structural_retention, value_retention
t = {}
x = torch.randint(0, 256, (50, 1, 4, 4), dtype=torch.uint8)
for name, call in [
    ("import_numba", lambda: __import__("pixinfo.info._fused")),
    ("all_pairs", lambda: structural_retention(torch.randperm(64), shape=(8, 8))),
    ("cutoff_pairs", lambda: structural_retention(torch.randperm(64), shape=(8, 8), kernel=Kernel("power", scale=2, cutoff=3))),
    ("value_nmi", lambda: value_retention(x, x, method="nmi")),
    ("value_spearman", lambda: value_retention(x, x, method="spearman")),
]:
    t0 = time.perf_counter(); call(); t[name] = time.perf_counter() - t0
print(json.dumps(t))
"""


def compile_seconds() -> dict:
    """First-call seconds of each numba kernel in a fresh process: cold (empty cache dir) and warm (cache hit)."""
    result = {}
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold_cache", "warm_cache"):
            env = os.environ | {"NUMBA_CACHE_DIR": cache}
            run = subprocess.run([sys.executable, "-c", COMPILE_PROBE], env=env, capture_output=True, text=True, check=True)
            result[label] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--reference-images", type=int, default=200)
    parser.add_argument("--sides", type=int, nargs="+", default=[28, 64, 128, 224])
    parser.add_argument("--max-dense-side", type=int, default=64, help="largest grid timed with the dense numpy reference")
    parser.add_argument("--batch-maps", type=int, default=64, help="maps of the batched 28x28 row")
    parser.add_argument("--cutoff", type=float, default=5.0, help="cutoff of the local (cutoff) rows")
    parser.add_argument("--cutoff-sides", type=int, nargs="*", default=[64, 224])
    parser.add_argument("--value-images", type=int, default=10000)
    parser.add_argument("--note", default="", help="what else ran on the machine (recorded and printed)")
    args = parser.parse_args()
    device = torch.device(args.device)
    kernel = Kernel("exponential", scale=2.0)
    try:
        dataset = load_dataset(args.dataset)
    except DatasetNotFoundError as err:
        print(f"{err}\nfalling back to mnist-5k")
        dataset = load_dataset("mnist-5k")
    images = dataset.split("all").images
    load_before = os.getloadavg()
    compile_s = compile_seconds() if device.type == "cpu" else {}
    content = bench_content(images, kernel, device, args.reference_images)
    structure = [bench_structure(s, kernel, device, args.max_dense_side) for s in args.sides]
    structure.append(bench_structure(28, kernel, device, args.max_dense_side, maps=args.batch_maps))
    local = Kernel("exponential", scale=2.0, cutoff=args.cutoff)
    structure += [bench_structure(s, local, device, args.max_dense_side) for s in args.cutoff_sides]
    value = bench_value(images, device, args.value_images)
    machine = {"load_average_before": load_before, "load_average_after": os.getloadavg(), "note": args.note}
    config = vars(args) | {"dataset": dataset.name, "kernel": kernel.to_dict()}
    results = {"neighbour_information": content, "structural_retention": structure, "value_retention": value,
               "numba_first_call_seconds": compile_s, "machine": machine}  # fmt: skip
    record = make_record("bench_information", config, results, device=device)
    path = write_json(OUT / f"bench_information_{device.type}.json", record)
    report(record, dataset.name)
    print(f"\nwrote {path}")
    assert math.isfinite(content["speedup_auto_vs_reference"])


def report(record: dict, dataset: str) -> None:
    """The Markdown tables of the docs' Benchmarks page."""
    res = record["results"]
    content = res["neighbour_information"]
    print(f"## {record['environment']['device']}\n")
    print(f"machine: load average {res['machine']['load_average_before']} before, "
          f"{res['machine']['load_average_after']} after; {res['machine']['note'] or 'no note given'}\n")
    print(f"neighbour_information on all {content['images']:,} {dataset} images:")
    print("| method | images/s | time for all |")
    print("|---|---:|---:|")
    for method, row in content["methods"].items():
        print(f"| pixinfo, method={method} | {row['images_per_s']:,.0f} | {row['seconds_all']:.2f} s |")
    ref_all = content["images"] / content["reference_images_per_s"]
    print(f"| literal O(N²) reference, per image ({content['reference_sample']} timed) | "
          f"{content['reference_images_per_s']:,.1f} | {ref_all:,.0f} s (extrapolated) |")
    print(f"\nspeed-up of the default (auto) over the literal reference: {content['speedup_auto_vs_reference']:,.0f}x; "
          f"max |difference| {content['max_abs_diff_vs_reference']:.1e}\n")
    print("structural_retention of random permutations (exact), medians of interleaved calls:")
    print("| grid | maps | cutoff | pairs | fused (default) | today's (method=\"reference\") | dense numpy, F precomputed | "
          "speed-up vs today's | vs dense | max rel. diff |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in res["structural_retention"]:
        sec = row["seconds"]
        dense = f"{sec['dense_numpy']:.4f} s" if "dense_numpy" in sec else row.get("dense_numpy_note", "-")
        vs_dense = f"{row['speedup_vs_dense_numpy']:.1f}x" if "dense_numpy" in sec else "-"
        cut = "-" if row["cutoff"] is None else f"{row['cutoff']:g}"
        print(f"| {row['side']}x{row['side']} | {row['maps']} | {cut} | {row['pairs']:.2e} | {sec['fused']:.4f} s | "
              f"{sec['reference']:.3f} s | {dense} | {row['speedup_vs_reference']:.1f}x | {vs_dense} | "
              f"{row['max_rel_diff_vs_reference']:.1e} |")
    value = res["value_retention"]
    print(f"\nvalue_retention on {value['images']:,} images x {value['positions']} positions (vortex-aligned):")
    print("| statistic | fused (default) | reference | speed-up | max abs diff |")
    print("|---|---:|---:|---:|---:|")
    for m in ("nmi", "spearman"):
        f, r = value["seconds"][f"{m}-fused"], value["seconds"][f"{m}-reference"]
        print(f"| {m} | {f:.3f} s | {r:.3f} s | {r / f:.1f}x | {value['max_abs_diff_fused_vs_reference'][m]:.1e} |")
    for label, times in res["numba_first_call_seconds"].items():
        print(f"\nnumba first calls, {label.replace('_', ' ')} (excluded from the timings above): "
              + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))


if __name__ == "__main__":
    main()
