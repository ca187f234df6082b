"""Reproduce Hosseini & Poovendran's Table I (negative images) and test two mitigations.

For each dataset and seed, trains the paper's CNN (conv32-conv64-pool-FC200-FC200) as
* "DNN": regular training;
* "robust DNN (ε)": FGSM adversarial training, ε ∈ {0.05, 0.1, 0.2, 0.5};
* "negative augmentation": half of every batch negated (a mitigation the paper only discusses);
* "per-image normalisation": each input standardised to zero mean / unit sd inside the model;
then measures accuracy on test images, on negatives of the test and training images, on other
meaning-preserving transforms (180° rotation, flips, half contrast, 2-pixel shift; none of them
trained on), and under PGD (L∞, ε = 0.1, 20 steps) on test images.

    python analyses/negative_images.py                    # MNIST-5k and Fashion-MNIST (+ MNIST/GTSRB if present)
    python analyses/negative_images.py --quick            # CPU smoke run on digits
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch
from _experiment import (add_common_arguments, apply_preset, check_model_values, devices_note, outputs,
                         recipe_overrides, save_figure, trained_model, training_note, with_local_datasets, write_csv,
                         write_table)

from pixinfo.adversarial import LinfPGD
from pixinfo.adversarial.semantic import SEMANTIC_TRANSFORMS, semantic_accuracy
from pixinfo.data import load_dataset
from pixinfo.models import model_device
from pixinfo.errors import MissingRecordError
from pixinfo.runs import RunSpec, RunStore
from pixinfo.train import summarize
from pixinfo.train.recipes import recipe

EPSILONS = (0.05, 0.1, 0.2, 0.5)
# Table I: accuracy on test images, and on negatives of the training images (Hosseini & Poovendran, arXiv 1703.06857)
PAPER = {
    ("mnist", "DNN"): (99.20, 6.68),
    ("gtsrb", "DNN"): (95.63, 4.39),
    **{("mnist", f"robust DNN (ε={e})"): (None, v) for e, v in zip(EPSILONS, (6.72, 3.89, 6.24, 16.69), strict=True)},
    **{("gtsrb", f"robust DNN (ε={e})"): (None, v) for e, v in zip(EPSILONS, (7.07, 8.44, 11.12, 13.54), strict=True)},
}
PAPER_DATASET = {"mnist-5k": "mnist", "mnist": "mnist", "gtsrb": "gtsrb"}
TRANSFORMS = list(SEMANTIC_TRANSFORMS)
PGD_SETTINGS = {"eps": 0.1, "steps": 20}


KINDS = ("regular", "robust", "negative-augmentation", "per-image")


def variants(epsilons=EPSILONS, kinds=KINDS) -> dict[str, dict]:
    """Table rows: name -> config changes, for the chosen kinds of training."""
    out = {"DNN": {}} if "regular" in kinds else {}
    if "robust" in kinds:
        out.update({f"robust DNN (ε={e})": {"robust_eps": e} for e in epsilons})
    if "negative-augmentation" in kinds:
        out["negative augmentation"] = {"negative_p": 0.5}
    if "per-image" in kinds:
        out["per-image normalisation"] = {"normalization": "per-image"}
    return out


def evaluate(model, ds, *, max_images: int, pgd_images: int, seed: int) -> dict[str, float]:
    report = semantic_accuracy(model, ds, transforms=TRANSFORMS, splits=("test", "train"), max_images=max_images,
                               seed=seed)  # fmt: skip
    row = {f"{t} ({s})": 100 * report.accuracy(t, s) for s in ("test", "train") for t in ["identity", *TRANSFORMS]}
    device = model_device(model)
    x = ds.test.images[:pgd_images].float().div(255).to(device)
    y = ds.test.labels[:pgd_images].to(device)
    pgd = LinfPGD(steps=PGD_SETTINGS["steps"], seed=seed)
    row[f"PGD ε={PGD_SETTINGS['eps']} (test)"] = 100 * pgd(model, x, y, epsilons=PGD_SETTINGS["eps"]).robust_accuracy
    return row, report


def evaluation_settings(args, seed: int) -> dict:
    return {"max_images": args.max_images, "pgd_images": args.pgd_images, "seed": seed,
            "transforms": TRANSFORMS, "pgd": PGD_SETTINGS}  # fmt: skip


def evaluation_spec(config, settings: dict) -> RunSpec:
    """A model's evaluation, kept next to its training record as ``<record>.eval-<settings digest>.json``."""
    return RunSpec("semantic-evaluation", f"{config.stem}.eval", settings)


def model_evaluation(config, ds, args, seed: int) -> tuple[dict, dict]:
    """(evaluation, training record) of one config: ``evaluate`` once per trained model and
    evaluation setting (the row and the confusion matrix on negatives of test images are kept
    next to the run's record, so that a rerun with more seeds or strengths only evaluates the new
    models), or with ``--from-records`` read from the committed records alone."""
    from pixinfo.train import find_record

    store, settings = RunStore(args.results), evaluation_settings(args, seed)
    spec = evaluation_spec(config, settings)
    if args.from_records:
        record = find_record(config, args.results)
        if record is None:
            raise MissingRecordError(f"no finished training record {store.path(config)}")
        return store.get_or_run(spec, dict, from_records=True, require=("row",)), record
    model, run = trained_model(config, args, data=ds)

    def compute() -> dict:
        row, report = evaluate(model, ds, max_images=args.max_images, pgd_images=args.pgd_images, seed=seed)
        return {"settings": settings, "row": row, "confusion_negative_test": report.confusion[("test", "negative")].tolist()}

    return store.get_or_run(spec, compute, require=("row",)), run.record


PRESETS = {
    "full": dict(datasets=None, seeds=[0, 1, 2], epochs=None, pgd_images=1000),
    "quick": dict(datasets=["digits"], seeds=[0], epochs=3, pgd_images=200),
}
# the table's columns: header -> evaluation metric
TABLE_COLUMNS = {
    "test": "identity (test)", "negatives of test": "negative (test)", "negatives of train": "negative (train)",
    "rot180": "rot180 (test)", "hflip": "hflip (test)", "contrast 50%": "contrast50 (test)",
    "shift 2px": "translate2 (test)", "PGD ε=0.1": "PGD ε=0.1 (test)",
}  # fmt: skip


def main(argv=None) -> int:
    args = parse(argv)
    out, figures, suffix = outputs(args, "negative_images")
    runs, kept = collect(args)
    write_csv(runs, out.with_suffix(".csv"))
    metrics = [c for c in runs.columns if c.endswith(")") and c not in ("dataset", "training")]
    summary = pd.concat([summarize(runs, ["dataset", "training"], m).assign(metric=m) for m in metrics])
    write_csv(summary, out.parent / f"{out.name}_summary.csv")
    write_table(out, to_markdown(summary, runs), args, runs)
    plot(summary, runs, kept, args.datasets, figures, suffix)
    return 0


def parse(argv) -> argparse.Namespace:
    """The command line, with the preset's values wherever an option was not given."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", help="default: mnist-5k fashion-mnist, and mnist/gtsrb if present")
    p.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2")
    p.add_argument("--model", default="cnn")
    p.add_argument("--max-images", type=int, default=10000, help="images per split for the semantic evaluation")
    p.add_argument("--pgd-images", type=int, help="test images attacked by PGD (default 1000)")
    p.add_argument("--epsilons", nargs="+", type=float, default=list(EPSILONS), help="FGSM training strengths")
    p.add_argument("--trainings", nargs="+", choices=KINDS, default=list(KINDS),
                   help="kinds of training to run (e.g. split the work over processes; the table covers these)")
    add_common_arguments(p, experiment="negative_images", quick_help="CPU smoke run: digits, 1 seed, 3 epochs")
    args = p.parse_args(argv)
    apply_preset(args, PRESETS)
    check_model_values(p, args, [args.model])
    if args.datasets is None:
        args.datasets = with_local_datasets(["mnist-5k", "fashion-mnist"], ["mnist", "gtsrb"])
    return args


def collect(args) -> tuple[pd.DataFrame, dict]:
    """One row per (dataset, training, seed) with every metric; the regular DNN's confusion
    matrices on negatives (first seed) for the figure."""
    rows, kept = [], {}
    for dataset in args.datasets:
        ds = None if args.from_records else load_dataset(dataset)
        for name, change in variants(args.epsilons, args.trainings).items():
            for seed in args.seeds:
                config = recipe(args.model, dataset, seed=seed, device=args.device, **change,
                                **recipe_overrides(args, args.model))
                evaluation, record = model_evaluation(config, ds, args, seed)
                row = evaluation["row"]
                rows.append({"dataset": dataset, "training": name, "seed": seed, **row,
                             "train_seconds": record["results"]["train_seconds"],
                             "max_train": record["config"].get("max_train"),
                             "n_train": record["results"].get("n_train"),
                             "device_name": record["environment"]["device"],
                             "precision_used": record["results"].get("precision"),
                             "commit": record["environment"]["git"]["commit"]})  # fmt: skip
                print(f"{dataset:14s} {name:26s} seed {seed}: test {row['identity (test)']:.2f}  "
                      f"negatives {row['negative (test)']:.2f}", file=sys.stderr)  # fmt: skip
                if seed == args.seeds[0] and name == "DNN" and evaluation.get("confusion_negative_test"):
                    kept[(dataset, name)] = evaluation["confusion_negative_test"]
    return pd.DataFrame(rows), kept


def _paper(dataset: str, training: str) -> str:
    paper = PAPER.get((PAPER_DATASET.get(dataset, ""), training))
    if paper is None:
        return "–"
    text = " / ".join("–" if v is None else f"{v:.2f}" for v in paper)
    return text + (" (full MNIST)" if dataset == "mnist-5k" else "")


def to_markdown(summary: pd.DataFrame, runs: pd.DataFrame) -> str:
    cells = summary.assign(cell=[f"{m:.2f}" + ("" if pd.isna(s) else f" ± {s:.2f}")
                                 for m, s in zip(summary["mean"], summary["std"], strict=True)])  # fmt: skip
    rows = list(dict.fromkeys(zip(runs["dataset"], runs["training"], strict=True)))
    table = cells.pivot(index=["dataset", "training"], columns="metric", values="cell")
    table = table.reindex(index=rows, columns=list(TABLE_COLUMNS.values())).fillna("–")
    table.columns = list(TABLE_COLUMNS)
    table["paper test / negatives"] = [_paper(d, t) for d, t in table.index]
    intro = (f"Accuracy (%), mean ± sd over seeds {sorted(set(runs['seed']))}, models trained"
             f"{training_note(runs) or ' on all training images'}; devices: "
             f"{devices_note(runs)}. Paper (Table I): test / negatives of training images.\n\n")
    return intro + table.reset_index().to_markdown(index=False, disable_numparse=True) + "\n"


def plot(summary, runs, kept, datasets, figures: Path, suffix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    figures.mkdir(parents=True, exist_ok=True)
    # examples: originals and negatives
    fig, axes = plt.subplots(2 * len(datasets), 8, figsize=(8, 2.1 * len(datasets)), squeeze=False)
    for d, name in enumerate(datasets):
        imgs = load_dataset(name).test.images[:8]
        for j in range(8):
            for r, img in enumerate((imgs[j], 255 - imgs[j])):
                ax = axes[2 * d + r][j]
                ax.imshow(img.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", vmin=0, vmax=255)
                ax.set_axis_off()
        axes[2 * d][0].set_title(f"{name}: originals (top), negatives (bottom)", loc="left", fontsize=8)
    fig.tight_layout()
    save_figure(fig, figures / f"negative_images_examples{suffix}.png", dpi=120)
    # accuracy bars
    part = summary[summary["metric"].isin(["identity (test)", "negative (test)", "rot180 (test)", "contrast50 (test)"])]
    g = sns.catplot(data=part, x="training", y="mean", hue="metric", col="dataset", kind="bar", height=3.4,
                    aspect=1.6, legend_out=True)  # fmt: skip
    g.set_xticklabels(rotation=40, ha="right", fontsize=7)
    g.set_axis_labels("", "accuracy (%)")
    save_figure(g, figures / f"negative_images_accuracy{suffix}.png", dpi=120)
    # confusion matrix on negatives for the regular DNN (first seed), where a record holds it
    if not any((name, "DNN") in kept for name in datasets):
        return  # records migrated from tables hold no matrix: no blank figure
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.6 * len(datasets), 3.3), squeeze=False)
    for ax, name in zip(axes[0], datasets, strict=True):
        if (name, "DNN") not in kept:  # regular training not among --trainings, or a migrated record
            ax.set_axis_off()
            continue
        m = torch.tensor(kept[(name, "DNN")]).float()
        m = m / m.sum(1, keepdim=True).clamp_min(1)
        sns.heatmap(m.numpy(), ax=ax, cmap="viridis", vmin=0, vmax=1, cbar=False, square=True)
        ax.set_title(f"{name}: DNN on negatives", fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    save_figure(fig, figures / f"negative_images_confusion{suffix}.png", dpi=120)


if __name__ == "__main__":
    sys.exit(main())
