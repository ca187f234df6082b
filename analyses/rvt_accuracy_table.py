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
from _experiment import (add_common_arguments, apply_preset, check_model_values, devices_note, outputs,
                         recipe_overrides, save_figure, sweep, training_note, with_local_datasets,
                         write_csv, write_table)

from pixinfo.data import load_dataset
from pixinfo.train import summarize
from pixinfo.train.recipes import recipe

COLUMNS = {
    "origin": None,
    "vortex": "vortex:authors",
    "random": "per-image-permutation",
    "fixed permutation": "permutation:seed=0",
    "bijective vortex": "vortex:authors,bijective=true",
}
# best test accuracy over epochs reported by the paper (origin, vortex, random); Cao et al., arXiv 2411.16207
PAPER = {
    ("resnet18", "mnist"): (99.20, 98.89, 28.99),
    ("resnet18", "fashion-mnist"): (94.12, 92.85, 40.10),
    ("resnet18", "cifar10"): (92.80, 87.56, 42.80),
    ("vit", "mnist"): (99.47, 99.15, 31.84),
    ("vit", "fashion-mnist"): (94.95, 92.61, 56.19),
    ("vit", "cifar10"): (98.50, 92.04, 50.03),
}
PAPER_DATASET = {"mnist-5k": "mnist", "mnist": "mnist", "fashion-mnist": "fashion-mnist", "cifar10": "cifar10"}


PRESETS = {
    "full": dict(models=["resnet18", "vit"], datasets=None, seeds=[0, 1, 2], columns=list(COLUMNS), epochs=None),
    "quick": dict(models=["cnn"], datasets=["digits"], seeds=[0], columns=["origin", "random", "fixed permutation"],
                  epochs=3),
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    out, figures, suffix = outputs(args, "rvt_accuracy_table")
    data = {} if args.from_records or args.workers > 1 or args.ray else {n: load_dataset(n) for n in args.datasets}
    configs = [recipe(model, dataset, transform=COLUMNS[column], seed=seed, device=args.device,
                      **recipe_overrides(args, model))
               for dataset in args.datasets for model in args.models for column in args.columns
               for seed in args.seeds]  # fmt: skip
    print(f"{len(configs)} runs ({len(args.datasets)} datasets x {len(args.models)} models x "
          f"{len(args.columns)} columns x {len(args.seeds)} seeds)", file=sys.stderr)  # fmt: skip
    runs = sweep(configs, args, data=data, progress=not args.no_progress)
    runs["column"] = runs["transform"].map({v or "original": k for k, v in COLUMNS.items()})
    write_csv(runs, out.with_suffix(".csv"))
    summary = summarize_runs(runs)
    write_csv(summary, out.parent / f"{out.name}_summary.csv")
    write_table(out, to_markdown(summary, runs), args, runs, configs=configs)
    plot(summary, figures / f"rvt_accuracy_table{suffix}.png")
    print(f"wrote {out.with_suffix('.md')}, {out.with_suffix('.csv')} and the figure", file=sys.stderr)
    return 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, with the preset's values wherever an option was not given."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", help="default: resnet18 vit")
    p.add_argument("--datasets", nargs="+", help="default: fashion-mnist, mnist-5k, and mnist/cifar10 if present")
    p.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2")
    p.add_argument("--columns", nargs="+", choices=list(COLUMNS), help="default: all")
    p.add_argument("--no-progress", action="store_true")
    add_common_arguments(p, experiment="rvt_accuracy_table", quick_help="CPU smoke run: digits, cnn, 1 seed, 3 epochs")
    args = p.parse_args(argv)
    apply_preset(args, PRESETS)
    check_model_values(p, args, args.models)
    if args.datasets is None:
        args.datasets = with_local_datasets(["fashion-mnist", "mnist-5k"], ["mnist", "cifar10"])
    return args


def summarize_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model, column): final and best accuracy (mean, sd, n) and seconds per run."""
    by = ["dataset", "model", "column"]
    final, best = summarize(runs, by, "final_test_acc"), summarize(runs, by, "best_test_acc")
    seconds = summarize(runs, by, "train_seconds")[[*by, "mean"]].rename(columns={"mean": "train_seconds"})
    return final.merge(best, on=[*by, "n"], suffixes=("_final", "_best")).merge(seconds, on=by)


def _cell(row) -> str:
    sd = "" if pd.isna(row["std_final"]) else f" ± {row['std_final']:.2f}"
    return f"{row['mean_final']:.2f}{sd} (best {row['mean_best']:.2f})"


def _paper(dataset: str, model: str) -> str:
    """The paper's figures for this model and dataset; for a model the paper did not train, its
    ResNet-18's on the same dataset, marked as such."""
    name = PAPER_DATASET.get(dataset, "")
    paper, stand_in = PAPER.get((model, name)), ""
    if not paper and (paper := PAPER.get(("resnet18", name))):
        stand_in = "ResNet-18: "
    if not paper:
        return "–"
    return stand_in + " / ".join(f"{v:.2f}" for v in paper) + (" (full MNIST)" if dataset == "mnist-5k" else "")


def to_markdown(summary: pd.DataFrame, runs: pd.DataFrame) -> str:
    columns = [c for c in COLUMNS if c in set(summary["column"])]
    rows = list(dict.fromkeys(zip(summary["dataset"], summary["model"], strict=True)))
    cells = summary.assign(cell=summary.apply(_cell, axis=1))
    table = cells.pivot(index=["dataset", "model"], columns="column", values="cell").reindex(index=rows, columns=columns)
    table = table.fillna("–")
    table["paper origin / vortex / random"] = [_paper(d, m) for d, m in table.index]
    seconds = summary.groupby(["dataset", "model"])["train_seconds"].mean()
    table["train s/run"] = [f"{seconds[r]:.1f}" for r in table.index]
    intro = (f"Final test accuracy (%) after the last epoch{training_note(runs)}, mean ± sd over seeds "
             f"{sorted(set(runs['seed']))}; in brackets the mean of the best epoch, which is what the paper "
             "reports. Paper: best epoch, one run, ResNet-18 / ImageNet-pretrained ViT-B/16 at 224 px.\n"
             f"Devices: {devices_note(runs)}.{flip_note(runs)}\n\n")  # fmt: skip
    return intro + table.reset_index().to_markdown(index=False, disable_numparse=True) + "\n"


def flip_note(runs: pd.DataFrame) -> str:
    """What test-time flips added, per (dataset, model, column) whose runs used them (their records
    hold the accuracy of the un-flipped images from the same forward pass), else ""."""
    if "final_test_acc_no_flip" not in runs or runs["final_test_acc_no_flip"].isna().all():
        return ""
    flipped = runs.dropna(subset=["final_test_acc_no_flip"])
    means = flipped.groupby(["dataset", "model", "column"], sort=False)[["final_test_acc", "final_test_acc_no_flip"]]
    parts = [f"{d} / {m} / {c} {100 * plain:.2f} ({100 * (acc - plain):+.2f} from the flips)"
             for (d, m, c), (acc, plain) in means.mean().iterrows()]  # fmt: skip
    return ("\nTest-time flips (the logits of each test image and its mirror image averaged): final accuracy "
            "without them, from the same forward pass: " + "; ".join(parts) + ".")


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
    save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
