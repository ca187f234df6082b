"""Does computing in bf16 rather than fp32 change the study's accuracy losses?

Settings of the information-vs-accuracy study (info_vs_accuracy.py), with its untransformed runs,
trained twice with everything else alike (recipe, epochs, training subset, seeds, device): once
in each of two precisions (``--precisions``, the trainer's ``precision``). Each run's accuracy
loss is taken against the untransformed run of the same model, seed and precision, as in the
study; the table sets the two precisions' losses side by side per setting, model and seed. The
records live with the study's (analyses/results/runs/info_vs_accuracy/) and resume from there.

    python analyses/precision_check.py --tag cpu_fashion                 # train what is missing, then the table
    python analyses/precision_check.py --tag cpu_fashion --from-records  # the committed table
    python analyses/precision_check.py --quick                           # CPU, digits, a minute
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd
from _experiment import (add_common_arguments, add_partial_argument, apply_preset, check_model_values,
                         devices_note, outputs, training_by_model, write_csv, write_table)
from info_vs_accuracy import dataset_rows

from pixinfo.train.config import PRECISIONS

SETTINGS = ["vortex strength 1.0", "vortex bijective", "block 4 + within", "swaps 100", "partial 0.5",
            "fixed permutation", "xor 8-bit", "level permutation"]  # fmt: skip
PRESETS = {
    "full": dict(datasets=["fashion-mnist"], models=["mlp", "cnn"], seeds=[0, 1], settings=SETTINGS,
                 precisions=["fp32", "bf16"], epochs={"mlp": 5, "cnn": 2}, max_train={"cnn": 10000}),
    "quick": dict(datasets=["digits"], models=["mlp"], seeds=[0], settings=["fixed permutation", "xor 8-bit"],
                  precisions=["fp32", "bf16"], epochs=2),
}  # fmt: skip
PAIR = ["dataset", "setting", "model", "seed"]


def parse(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", help="default: fashion-mnist")
    p.add_argument("--models", nargs="+", help="default: mlp cnn")
    p.add_argument("--seeds", nargs="+", type=int, help="default: 0 1")
    p.add_argument("--settings", nargs="+", metavar="LABEL", help=f"settings of the study (default: {SETTINGS})")
    p.add_argument("--precisions", nargs=2, choices=PRECISIONS, metavar="PRECISION",
                   help=f"the two precisions compared, the reference first (of {PRECISIONS}; default: fp32 bf16)")
    p.add_argument("--no-progress", action="store_true")
    add_partial_argument(p, holds="the table says how many pairs it holds")
    add_common_arguments(p, experiment="info_vs_accuracy", quick_help="CPU: digits, mlp, two settings, 2 epochs")
    args = p.parse_args(argv)
    check_model_values(p, args, args.models or PRESETS["quick" if args.quick else "full"]["models"])
    args = apply_preset(args, PRESETS)
    if len(set(args.precisions)) != 2:
        p.error(f"--precisions: two different precisions, got {args.precisions}")
    return args


def runs_in(precision: str, args) -> pd.DataFrame:
    """The study's rows (:func:`info_vs_accuracy.dataset_rows`) of every dataset, trained in ``precision``."""
    study = argparse.Namespace(**{**vars(args), "precision": precision, "augment": ["after"], "key_seeds": [0],
                                  "max_images": 5000, "kinds": "study"})  # fmt: skip
    return pd.concat([dataset_rows(name, study)[0] for name in args.datasets], ignore_index=True)


def paired(runs: dict[str, pd.DataFrame], args) -> pd.DataFrame:
    """One row per (dataset, setting, model, seed) trained in both precisions: each one's accuracy
    loss, untransformed accuracy and training time, and the loss difference (second − first); in
    the order of ``--datasets``, ``--models``, ``--settings`` and ``--seeds``."""
    (a, ra), (b, rb) = runs.items()
    keep = [*PAIR, "accuracy_loss", "untransformed_acc", "train_seconds"]
    pairs = ra[keep].merge(rb[keep], on=PAIR, suffixes=(f"_{a}", f"_{b}"))
    pairs["difference"] = pairs[f"accuracy_loss_{b}"] - pairs[f"accuracy_loss_{a}"]
    order = {"dataset": args.datasets, "model": args.models, "setting": args.settings, "seed": args.seeds}
    return pairs.sort_values(PAIR, key=lambda c: c.map(order[c.name].index), ignore_index=True)


def main(argv=None) -> int:
    args = parse(argv)
    base, _, _ = outputs(args, "precision_check")
    runs = {p: runs_in(p, args) for p in args.precisions}
    pairs = paired(runs, args)
    if pairs.empty:
        raise SystemExit(f"no setting has finished runs in both {' and '.join(args.precisions)} yet")
    write_csv(pairs, f"{base}.csv")
    write_table(base, to_markdown(pairs, pd.concat(runs.values(), ignore_index=True), args.precisions), args,
                pd.concat(runs.values(), ignore_index=True))  # fmt: skip
    return 0


def to_markdown(pairs: pd.DataFrame, runs: pd.DataFrame, precisions: list[str]) -> str:
    a, b = precisions
    diff = pairs["difference"]
    seed_gap = pairs.groupby(["dataset", "setting", "model"])[f"accuracy_loss_{a}"].agg(lambda v: v.max() - v.min())
    intro = (f"Accuracy loss (points) of {len(pairs)} transformed runs trained in both {a} and {b}: "
             f"{pairs[['dataset', 'setting']].drop_duplicates().shape[0]} settings of the information-vs-accuracy "
             f"study on {', '.join(sorted(set(pairs['dataset'])))} × models {sorted(set(pairs['model']))} × seeds "
             f"{sorted(set(pairs['seed']))}, {training_by_model(runs)}; devices {devices_note(runs)}. Each loss is "
             f"against the untransformed run of the same model, seed and precision; difference = {b} − {a}.")
    summary = (f"Over the {len(pairs)} pairs: mean difference {diff.mean():+.2f} points, mean |difference| "
               f"{diff.abs().mean():.2f}, largest |difference| {diff.abs().max():.2f} "
               f"({pairs.loc[diff.abs().idxmax(), ['setting', 'model', 'seed']].astype(str).str.cat(sep=', ')})"
               + (f"; for scale, a setting's {a} loss differs between seeds by {seed_gap.mean():.2f} points on "
                  f"average (largest {seed_gap.max():.2f})" if pairs["seed"].nunique() > 1 else "") + ". Per model:")
    mean = pairs.groupby(["dataset", "setting", "model"], sort=False).agg(
        **{a: (f"accuracy_loss_{a}", "mean"), b: (f"accuracy_loss_{b}", "mean"), "difference": ("difference", "mean"),
           "per seed": ("difference", lambda v: ", ".join(f"{d:+.2f}" for d in v))})  # fmt: skip
    cells = mean.reset_index()
    for c in (a, b, "difference"):
        cells[c] = cells[c].map("{:.2f}".format)
    heading = f"Mean over seeds per setting and model (per seed: the differences, seeds {sorted(set(pairs['seed']))}):"
    return "\n\n".join([intro, summary, per_model(pairs, a, b).to_markdown(index=False, disable_numparse=True),
                        heading, cells.to_markdown(index=False, disable_numparse=True)]) + "\n"  # fmt: skip


def per_model(pairs: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Per model: the pairs, their mean and largest |difference|, the reference precision's spread
    across seeds, and the untransformed test accuracy in each precision."""
    rows = []
    for model, part in pairs.groupby("model", sort=False):
        base = part.drop_duplicates(["dataset", "seed"])
        seeds = part.groupby(["dataset", "setting"])[f"accuracy_loss_{a}"].agg(lambda v: v.max() - v.min())
        rows.append({"model": model, "pairs": str(len(part)), "mean difference": f"{part['difference'].mean():+.2f}",
                     "mean abs difference": f"{part['difference'].abs().mean():.2f}",
                     "largest abs difference": f"{part['difference'].abs().max():.2f}",
                     f"{a} loss: mean spread across seeds": f"{seeds.mean():.2f}",
                     **{f"untransformed acc. {p} (%)": f"{base[f'untransformed_acc_{p}'].mean():.2f}"
                        for p in (a, b)}})  # fmt: skip
    return pd.DataFrame(rows)


if __name__ == "__main__":
    sys.exit(main())
