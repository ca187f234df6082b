"""Reproduce the Random Vortex accuracy table: origin / vortex (authors' key) / per-image random,
plus a fixed-key permutation and the bijective vortex (the paper never separated "no shared key"
from "pixels moved").

Writes ``<out>.csv`` (every run), ``<out>_summary.csv`` (mean ± sd per cell), ``<out>.md`` (the
table next to the paper's numbers) and a figure. Runs resume from the records in ``--results``.

    python analyses/rvt_accuracy_table.py                       # full: ResNet-18 and ViT, GPU
    python analyses/rvt_accuracy_table.py --quick               # CPU smoke run on digits
    python analyses/rvt_accuracy_table.py --models lenet mlp --datasets mnist-5k --tag cpu
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from _experiment import add_common_arguments, epochs_override, outputs, sweep

from pixinfo.data import available_datasets, load_dataset
from pixinfo.provenance import environment, write_json
from pixinfo.train import summarize
from pixinfo.train.recipes import recipe

COLUMNS = {
    "origin": None,
    "vortex": "vortex:authors",
    "random": "per-image-permutation",
    "fixed permutation": "permutation:seed=0",
    "bijective vortex": "vortex:authors,bijective=true",
}
# best test accuracy over epochs reported by the paper (origin, vortex, random); science.md §3
PAPER = {
    ("resnet18", "mnist"): (99.20, 98.89, 28.99),
    ("resnet18", "fashion-mnist"): (94.12, 92.85, 40.10),
    ("resnet18", "cifar10"): (92.80, 87.56, 42.80),
    ("vit", "mnist"): (99.47, 99.15, 31.84),
    ("vit", "fashion-mnist"): (94.95, 92.61, 56.19),
    ("vit", "cifar10"): (98.50, 92.04, 50.03),
}
PAPER_DATASET = {"mnist-5k": "mnist", "mnist": "mnist", "fashion-mnist": "fashion-mnist", "cifar10": "cifar10"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["resnet18", "vit"])
    p.add_argument("--datasets", nargs="+", help="default: fashion-mnist, mnist-5k, and mnist/cifar10 if present")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--columns", nargs="+", default=list(COLUMNS), choices=list(COLUMNS))
    p.add_argument("--no-progress", action="store_true")
    add_common_arguments(p, experiment="rvt_accuracy_table", quick_help="CPU smoke run: digits, cnn, 1 seed, 3 epochs")
    args = p.parse_args(argv)

    if args.quick:
        args.models, args.datasets, args.seeds, args.epochs = ["cnn"], ["digits"], [0], args.epochs or 3
        args.tag = args.tag or "quick"
        args.columns = ["origin", "random", "fixed permutation"]
    if args.datasets is None:
        status = available_datasets()
        args.datasets = ["fashion-mnist", "mnist-5k"] + [d for d in ("mnist", "cifar10") if status[d].startswith("ok")]
    out, figures, suffix = outputs(args, "rvt_accuracy_table")
    figure = figures / f"rvt_accuracy_table{suffix}.png"

    data = {} if args.from_records or args.workers > 1 or args.ray else {n: load_dataset(n) for n in args.datasets}
    configs = []
    for dataset in args.datasets:
        for model in args.models:
            for column in args.columns:
                for seed in args.seeds:
                    configs.append(recipe(model, dataset, transform=COLUMNS[column], seed=seed,
                                          device=args.device, **epochs_override(args)))  # fmt: skip
    print(f"{len(configs)} runs ({len(args.datasets)} datasets x {len(args.models)} models x "
          f"{len(args.columns)} columns x {len(args.seeds)} seeds)", file=sys.stderr)  # fmt: skip
    runs = sweep(configs, args, data=data, progress=not args.no_progress)
    column_of = {v or "original": k for k, v in COLUMNS.items()}
    runs["column"] = runs["transform"].map(column_of)
    runs.to_csv(out.with_suffix(".csv"), index=False)

    final = summarize(runs, ["dataset", "model", "column"], "final_test_acc")
    best = summarize(runs, ["dataset", "model", "column"], "best_test_acc")
    secs = summarize(runs, ["dataset", "model", "column"], "train_seconds")
    summary = final.merge(best, on=["dataset", "model", "column", "n"], suffixes=("_final", "_best"))
    summary = summary.merge(secs[["dataset", "model", "column", "mean"]].rename(columns={"mean": "train_seconds"}),
                            on=["dataset", "model", "column"])  # fmt: skip
    summary.to_csv(out.parent / f"{out.name}_summary.csv", index=False)
    markdown = to_markdown(summary, runs, args)
    out.with_suffix(".md").write_text(markdown)
    print(markdown)
    plot(summary, figure)
    write_json(out.parent / f"{out.name}_meta.json", {
        "config": vars(args), "configs": [c.to_dict() for c in configs], "environment": environment(),
        "devices": sorted(set(runs["device_name"])), "commits": sorted(set(runs["commit"].astype(str))),
    })  # fmt: skip
    print(f"wrote {out.with_suffix('.md')}, {out.with_suffix('.csv')} and {figure}", file=sys.stderr)
    return 0


def _cell(row) -> str:
    sd = "" if pd.isna(row["std_final"]) else f" ± {row['std_final']:.2f}"
    return f"{row['mean_final']:.2f}{sd} (best {row['mean_best']:.2f})"


def to_markdown(summary: pd.DataFrame, runs: pd.DataFrame, args) -> str:
    columns = [c for c in COLUMNS if c in set(summary["column"])]
    lines = [
        "Final test accuracy (%) after the last epoch, mean ± sd over seeds "
        f"{sorted(set(runs['seed']))}; in brackets the mean of the best epoch, which is what the paper "
        "reports. Paper: best epoch, one run, ResNet-18 / ImageNet-pretrained ViT-B/16 at 224 px.",
        f"Devices: {', '.join(sorted(set(runs['device_name'])))}.",
        "",
        "| dataset | model | " + " | ".join(columns) + " | paper origin / vortex / random | train s/run |",
        "|---|---|" + "---|" * len(columns) + "---|---|",
    ]
    for (dataset, model), group in summary.groupby(["dataset", "model"], sort=False):
        cells = {r["column"]: _cell(r) for _, r in group.iterrows()}
        paper = PAPER.get((model, PAPER_DATASET.get(dataset, "")))
        paper_text = " / ".join(f"{v:.2f}" for v in paper) if paper else "–"
        if paper and dataset == "mnist-5k":
            paper_text += " (full MNIST)"
        lines.append(f"| {dataset} | {model} | " + " | ".join(cells.get(c, "–") for c in columns)
                     + f" | {paper_text} | {group['train_seconds'].mean():.1f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot(summary: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    summary = summary.assign(panel=summary["dataset"] + " / " + summary["model"])
    panels = list(dict.fromkeys(summary["panel"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False, sharey=True)
    palette = dict(zip(COLUMNS, sns.color_palette("deep", len(COLUMNS)), strict=True))
    for ax, panel in zip(axes[0], panels, strict=True):
        part = summary[summary["panel"] == panel]
        part = part.assign(order=part["column"].map(list(COLUMNS).index)).sort_values("order")
        ax.bar(part["column"], part["mean_final"], yerr=part["std_final"].fillna(0), capsize=3,
               color=[palette[c] for c in part["column"]])  # fmt: skip
        ax.set_title(panel, fontsize=9)
        ax.tick_params(axis="x", rotation=60, labelsize=8)
        ax.set_ylim(0, 100)
    axes[0][0].set_ylabel("final test accuracy (%)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
