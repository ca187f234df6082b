"""Augmentation order: crops and flips of *encrypted* images (the paper's pipeline, "after"),
of plain images that are then encrypted ("before"), or no augmentation ("none").

Two questions:

* Does the MLP recover its fixed-permutation accuracy when augmentation no longer scrambles the
  key? A fully connected net is blind to a fixed pixel order, so with "before" (or "none") the
  fixed permutation should cost nothing.
* How much of the vortex's cost is augmentation of encrypted images rather than the vortex?

Writes ``<out>.csv`` (every run), ``<out>.md`` (mean ± sd per cell, and each transform's cost
against the untransformed model under the same augmentation) and a figure. Records of runs that
another experiment already finished (the accuracy table's "after" column) are reused.

    python analyses/augmentation_order.py --workers 2                 # MLP, Fashion-MNIST, 3 seeds
    python analyses/augmentation_order.py --models mlp cnn --seeds 0  # add the CNN
    python analyses/augmentation_order.py --quick                     # CPU smoke run, MNIST-5k
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from _experiment import (add_common_arguments, add_partial_argument, apply_preset, check_model_values, devices_note,
                         missing_runs, outputs, recipe_overrides, save_figure, sweep, training_note, write_csv,
                         write_table)

from pixinfo.train.recipes import recipe

TRANSFORMS = {
    "origin": None,
    "fixed permutation": "permutation:seed=0",
    "vortex": "vortex:authors",
    "bijective vortex": "vortex:authors,bijective=true",
}
ORDERS = ("after", "before", "none")
PRESETS = {
    "full": dict(models=["mlp"], dataset="fashion-mnist", seeds=[0, 1, 2], columns=list(TRANSFORMS), orders=list(ORDERS),
                 overrides={}),
    # 28 px images (the authors' vortex key exists for them), 1,000 training images, 2 epochs
    "quick": dict(models=["mlp"], dataset="mnist-5k", seeds=[0], columns=list(TRANSFORMS), orders=list(ORDERS),
                  overrides={"epochs": 2, "max_train": 1000}),
}


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    overrides = {model: {**args.overrides, **recipe_overrides(args, model)} for model in args.models}
    configs = make_configs(args.models, args.dataset, args.seeds, overrides, device=args.device,
                           columns=args.columns, orders=args.orders)
    print(f"{len(configs)} runs", file=sys.stderr)
    runs = sweep(configs, args, progress=not args.no_progress, missing=missing_runs(args))
    runs["column"] = runs["transform"].map({v or "original": k for k, v in TRANSFORMS.items()})
    out, figures, suffix = outputs(args, "augmentation_order")
    write_csv(runs, out.with_suffix(".csv"))
    table = summary_table(runs)
    write_table(out, describe(runs) + table.to_markdown(index=False, disable_numparse=True) + "\n", args, runs,
                configs=configs)
    plot(runs, figures / f"augmentation_order{suffix}.png")
    return 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", help="default: mlp")
    p.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2")
    p.add_argument("--columns", nargs="+", choices=list(TRANSFORMS),
                   help="default: all (origin always runs: every cost is against it)")
    p.add_argument("--orders", nargs="+", choices=ORDERS, help="default: all")
    p.add_argument("--no-progress", action="store_true")
    add_partial_argument(p, holds="each cell says how many runs it holds")
    add_common_arguments(p, experiment="augmentation_order", quick_help="CPU smoke run: MNIST-5k, 1,000 training images, mlp, 1 seed, 2 epochs")
    args = apply_preset(p.parse_args(argv), PRESETS)
    check_model_values(p, args, args.models)
    return args


def make_configs(models, dataset, seeds, overrides, *, device, columns=tuple(TRANSFORMS), orders=ORDERS):
    """Seed-major, so that an interrupted sweep has whole seeds. Origin runs 'after' and 'none'
    ('before' is the same thing without a transform), as far as ``orders`` needs them: 'before'
    is compared with origin 'after'. ``columns``: transforms besides origin (always run);
    ``overrides``: recipe changes per model."""
    origin_orders = [o for o in ("after", "none") if o in orders or (o == "after" and "before" in orders)]
    configs = []
    for seed in seeds:
        for model in models:
            for column, spec in TRANSFORMS.items():
                if spec and column not in columns:
                    continue
                for order in [o for o in ORDERS if o in orders] if spec else origin_orders:
                    configs.append(recipe(model, dataset, transform=spec, augment=order, seed=seed,
                                          device=device, **overrides[model]))  # fmt: skip
    return configs


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, model, transform): mean ± sd final accuracy (%) per order, and the
    transform's cost against origin under the same order."""
    acc = runs.assign(acc=100 * runs["final_test_acc"])
    stats = acc.groupby(["dataset", "model", "column", "augment"], sort=False)["acc"].agg(["mean", "std", "count"])
    origin = stats.xs("origin", level="column")["mean"].rename("origin")
    origin = origin.reset_index()
    origin = pd.concat([origin, origin[origin["augment"] == "after"].assign(augment="before")])
    stats = stats.reset_index().merge(origin, on=["dataset", "model", "augment"], how="left")
    stats["cell"] = [
        f"{m:.2f} ± {s:.2f} (n={n}, cost {o - m:+.2f})" if n > 1 else f"{m:.2f} (n=1, cost {o - m:+.2f})"
        for m, s, n, o in zip(stats["mean"], stats["std"].fillna(0), stats["count"], stats["origin"], strict=True)
    ]
    wide = stats.pivot(index=["dataset", "model", "column"], columns="augment", values="cell")
    wide = wide.reindex(columns=[o for o in ORDERS if o in wide.columns]).fillna("–").reset_index()
    order = {c: i for i, c in enumerate(TRANSFORMS)}
    return wide.sort_values(["dataset", "model", "column"], key=lambda s: s.map(order) if s.name == "column" else s)


def describe(runs: pd.DataFrame) -> str:
    devices = devices_note(runs)
    return (f"Final test accuracy (%) after {sorted(set(runs['epochs']))} epochs{training_note(runs)}, "
            f"mean ± sd over seeds "
            f"{sorted(set(runs['seed']))}; cost = origin's accuracy under the same augmentation minus this "
            f"cell's ('before' is compared with origin 'after'){partial_note(runs)}. Devices: {devices}.\n\n")  # fmt: skip


def partial_note(runs: pd.DataFrame) -> str:
    """A clause for the table's introduction when its cells hold unequal numbers of runs (a
    ``--partial`` table of a sweep in progress), else ""."""
    counts = runs.groupby(["dataset", "model", "column", "augment"]).size()
    if counts.nunique() <= 1:
        return ""
    return f"; cells hold the runs finished so far, n = {counts.min()} to {counts.max()}"


def plot(runs: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    panels = list(dict.fromkeys(runs["dataset"] + " / " + runs["model"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False, sharey=True)
    for ax, panel in zip(axes[0], panels, strict=True):
        part = runs[runs["dataset"] + " / " + runs["model"] == panel]
        sns.barplot(part.assign(acc=100 * part["final_test_acc"]), x="column", y="acc", hue="augment",
                    order=[c for c in TRANSFORMS if c in set(part["column"])], hue_order=list(ORDERS),
                    errorbar="sd", capsize=0.1, ax=ax)  # fmt: skip
        ax.set(title=panel, xlabel="", ylabel="final test accuracy (%)")
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
