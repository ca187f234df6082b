"""Predictions recorded before training, against what the training then measured.

Each file of ``analyses/results/runs/predict/before_training/`` (its README says which fitted
predictor wrote it, and when) is the printed output of ``pixinfo predict`` for some transforms on
one dataset. This script reads the predicted loss, its 90% interval and the out-of-domain flag of
every (transform, model family) in the files it is given, finds the runs of the same transform
and family in the study tables, and writes one table per dataset: the prediction, the measured
loss (mean over the seeds), and a * where that mean lies outside the interval. The summary line
counts, per family, the (transform, family) pairs whose mean lies inside the interval or was
flagged, and the share of runs (setting × seed) inside their interval.

    python analyses/before_training.py --files rowcol_sharpen_fashion-mnist.txt rowcol_sharpen_mnist-5k.txt \
        --study cpu_fashion_rowcol_sharpen cpu_mnist5k_rowcol_sharpen --tag rowcol_sharpen
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd
from _experiment import ROOT, RUNS, add_output_arguments, with_folders, write_csv

from pixinfo.files import write_text_atomic
from pixinfo.transforms import build_transform

RECORDED = RUNS / "predict" / "before_training"
RESULTS = ROOT / "analyses" / "results"
HEADER = re.compile(r"^(?P<spec>\S+) on (?P<dataset>\S+) \(")
NUMBER = r"-?[\d.]+"
ROW = re.compile(rf"^\s*(?P<model>.+?)\s+{NUMBER} \[{NUMBER}, {NUMBER}\]\s+(?P<loss>{NUMBER}) "
                 rf"\[(?P<low>{NUMBER}), (?P<high>{NUMBER})\]\s+{NUMBER}\s+(?P<flag>yes|no)\b")  # fmt: skip
NAMES = {"mlp": "MLP", "cnn": "CNN", "vit": "ViT", "lenet": "LeNet"}


def read_predictions(path: Path) -> pd.DataFrame:
    """One row per (transform, model family) of a saved ``pixinfo predict`` output: its dataset,
    spec (as the transform names itself), predicted loss, interval and flag."""
    rows, current = [], None
    for line in path.read_text().splitlines():
        if head := HEADER.match(line):
            current = head.groupdict()
        elif (row := ROW.match(line)) and current is not None:
            rows.append({**current, "model": row["model"], "predicted": float(row["loss"]), "low": float(row["low"]),
                         "high": float(row["high"]), "flagged": row["flag"] == "yes"})  # fmt: skip
    if not rows:
        raise ValueError(f"{path}: no prediction in it (not the output of pixinfo predict?)")
    return pd.DataFrame(rows)


def measured_runs(tags: list[str]) -> pd.DataFrame:
    """The runs of the study tables ``info_vs_accuracy_<tag>.csv``, their spec as the transform
    names itself (so a spec written with its defaults matches one written without)."""
    runs = pd.concat([pd.read_csv(RESULTS / f"info_vs_accuracy_{tag}.csv") for tag in tags], ignore_index=True)
    names = {(d, s): build_transform(s, shape=(1, 28, 28), dataset=d).spec for d, s in
             runs[["dataset", "spec"]].drop_duplicates().itertuples(index=False)}  # fmt: skip
    return runs.assign(spec=[names[(d, s)] for d, s in zip(runs["dataset"], runs["spec"], strict=True)])


def compare(predicted: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Each prediction with its runs' mean loss, seeds, and how many runs lie inside the interval."""
    merged = predicted.merge(runs[["dataset", "spec", "model", "seed", "accuracy_loss"]],
                             on=["dataset", "spec", "model"], how="left", validate="one_to_many")  # fmt: skip
    if merged["accuracy_loss"].isna().any():
        missing = merged.loc[merged["accuracy_loss"].isna(), ["dataset", "spec", "model"]].drop_duplicates()
        raise ValueError(f"no run in the study tables for: {missing.to_dict('records')}")
    merged["run_inside"] = merged["accuracy_loss"].between(merged["low"], merged["high"])
    out = merged.groupby(["dataset", "spec", "model"], sort=False).agg(
        predicted=("predicted", "first"), low=("low", "first"), high=("high", "first"), flagged=("flagged", "first"),
        measured=("accuracy_loss", "mean"), seeds=("seed", "nunique"), runs_inside=("run_inside", "sum"),
        runs=("run_inside", "size")).reset_index()  # fmt: skip
    out["inside"] = out["measured"].between(out["low"], out["high"])
    return out


def _signed(v: float) -> str:
    return f"{v:.1f}".replace("-", "−")


def table(rows: pd.DataFrame) -> str:
    """One dataset's pairs as the prediction page shows them: a row per transform, per family its
    prediction [interval] and its measured mean (* outside the interval)."""
    models = list(dict.fromkeys(rows["model"]))
    head = ["transform"] + [f"{NAMES.get(m, m)} {part}" for m in models for part in ("predicted [90%]", "measured")]
    head.append(f"out of domain ({' / '.join(NAMES.get(m, m) for m in models)})")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for spec, part in rows.groupby("spec", sort=False):
        cells = [f"`{spec}`"]
        by_model = part.set_index("model")
        for m in models:
            r = by_model.loc[m]
            cells += [f"{_signed(r.predicted)} [{_signed(r.low)}, {_signed(r.high)}]",
                      _signed(r.measured) + ("" if r.inside else " *")]  # fmt: skip
        cells.append(" / ".join("yes" if by_model.loc[m, "flagged"] else "no" for m in models))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(rows: pd.DataFrame) -> str:
    """Per family: pairs inside or flagged, runs inside, and the mean miss (unit: the setting)."""
    parts = []
    for (dataset, model), part in rows.groupby(["dataset", "model"], sort=False):
        ok = int((part["inside"] | part["flagged"]).sum())
        miss = (part["measured"] - part["predicted"]).abs().mean()
        parts.append(f"{dataset} {NAMES.get(model, model)}: {ok} of {len(part)} inside or flagged, "
                     f"{int(part['runs_inside'].sum())} of {int(part['runs'].sum())} runs inside, mean miss {miss:.2f}")
    return "; ".join(parts) + "."


def to_markdown(rows: pd.DataFrame, files: list[str]) -> str:
    seeds = ", ".join(f"{d} {sorted(set(g['seeds']))}" for d, g in rows.groupby("dataset", sort=False))
    intro = (f"Predicted before training ({', '.join(files)} in analyses/results/runs/predict/before_training/; "
             "its README names the fitted predictor) against the loss measured afterwards (points, mean over "
             f"the seeds; seeds per setting: {seeds}). * marks a mean outside the 90% interval. Mean miss: "
             "|measured − predicted|, the unit being the setting.")
    blocks = [intro] + [f"{dataset}:\n\n{table(part)}" for dataset, part in rows.groupby("dataset", sort=False)]
    return "\n\n".join([*blocks, summary(rows)]) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", nargs="+", required=True, metavar="NAME",
                   help=f"saved outputs of pixinfo predict, in {RECORDED.relative_to(ROOT)}")
    p.add_argument("--study", nargs="+", required=True, metavar="TAG",
                   help="tags of the study tables (info_vs_accuracy_<TAG>.csv) holding the trained runs")
    p.add_argument("--tag", required=True, help="suffix of the output names")
    p.add_argument("--from-records", action="store_true", help="(always: built from the committed files)")
    add_output_arguments(p, experiment="before_training")
    args = with_folders(p.parse_args(argv))
    files = [RECORDED / name for name in args.files]
    if missing := [f.name for f in files if not f.is_file()]:
        p.error(f"no such file in {RECORDED}: {', '.join(missing)}")
    predicted = pd.concat([read_predictions(f) for f in files], ignore_index=True)
    rows = compare(predicted, measured_runs(args.study))
    out = Path(args.out_dir) / f"before_training_{args.tag}"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out.with_suffix(".csv"))
    markdown = to_markdown(rows, [f.name for f in files])
    write_text_atomic(out.with_suffix(".md"), markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
