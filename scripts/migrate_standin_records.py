"""One-off migration: per-run records of the MNIST-5k CPU stand-ins, rebuilt from the
per-run rows of the committed tables, because the original JSON records (in the git-ignored
``results/``) were not kept.

Each migrated record says so (``"migrated_from"``) and holds only what the table row held: the
config, final and best test accuracy, best epoch and timings; no per-epoch history. The
untransformed runs of the information-vs-accuracy sweep were not rows of its table; their final
accuracy is recovered exactly from ``accuracy_loss`` (final of the original minus final of the
transformed, same model and seed) and their other results are missing (``null``).

    python scripts/migrate_standin_records.py
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd

from pixinfo.info import DEFAULT_KERNEL
from pixinfo.provenance import write_json
from pixinfo.train import TrainConfig, record_path
from pixinfo.train.trainer import run_name

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "analyses" / "results"
FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def _clean(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    return v.item() if hasattr(v, "item") else v


def config_of(row) -> TrainConfig:
    d = {k: _clean(row[k]) for k in row.index if k in FIELDS and k not in ("model_options", "dataset_options")}
    if d.get("max_train") is not None:
        d["max_train"] = int(d["max_train"])
    if d.get("transform") == "original":
        d["transform"] = None
    return TrainConfig(**d)


def record_of(config: TrainConfig, row, source: str, results: dict) -> dict:
    return {
        "kind": "train", "status": "finished", "migrated_from": source, "config": config.to_dict(),
        "config_hash": config.config_hash(), "run_name": run_name(config),
        "transform_key": _clean(row.get("transform_key")), "results": results,
        "environment": {"device": _clean(row.get("device_name")), "git": {"commit": _clean(row.get("commit"))}},
    }  # fmt: skip


def results_of(row) -> dict:
    return {"final_test_acc": float(row["final_test_acc"]), "best_test_acc": float(row["best_test_acc"]),
            "best_epoch": int(row["best_epoch"]), "history": [], "train_seconds": float(row["train_seconds"]),
            "train_images_per_second": float(row["train_images_per_second"]),
            "world_size": int(row["world_size"]), "precision": "fp32"}  # fmt: skip


def migrate_rvt() -> int:
    source = "analyses/results/rvt_accuracy_table_cpu_mnist5k.csv"
    frame = pd.read_csv(ROOT / source)
    out = RESULTS / "runs" / "rvt_accuracy_table"
    for _, row in frame.iterrows():
        config = config_of(row)
        write_json(record_path(out, config), record_of(config, row, source, results_of(row)))
    return len(frame)


def migrate_info_vs_accuracy() -> int:
    source = "analyses/results/info_vs_accuracy_cpu_mnist5k.csv"
    frame = pd.read_csv(ROOT / source)
    out = RESULTS / "runs" / "info_vs_accuracy"
    originals = {}
    for _, row in frame.iterrows():
        config = config_of(row)
        write_json(record_path(out, config), record_of(config, row, source, results_of(row)))
        base = dataclasses.replace(config, transform=None)
        originals.setdefault(base.config_hash(), (base, []))[1].append(float(row["final_test_acc"]) + float(row["accuracy_loss"]) / 100)
    for config, values in originals.values():
        assert max(values) - min(values) < 1e-9, (config, values)  # every row implies the same original accuracy
        results = {"final_test_acc": round(values[0], 6), "best_test_acc": None, "best_epoch": None, "history": [],
                   "train_seconds": None, "train_images_per_second": None, "world_size": 1, "precision": "fp32"}  # fmt: skip
        row = pd.Series({"device_name": frame["device_name"].iloc[0], "commit": frame["commit"].iloc[0]})
        write_json(record_path(out, config), record_of(config, row, source + " (from accuracy_loss)", results))
    measures = frame.drop_duplicates(["dataset", "spec"])[["dataset", "spec", "structural_retention",
                                                           "content_retention", "value_nmi", "value_spearman",
                                                           "n_images"]].copy()  # fmt: skip
    # the settings the stand-in's measure() used: 5000 images, seed 0, 200 content resamples, default kernel
    measures.insert(2, "max_images", 5000)
    measures.insert(3, "seed", 0)
    measures.insert(4, "n_boot", 200)
    measures.insert(5, "kernel", repr(DEFAULT_KERNEL))
    measures.to_csv(out / "measures.csv", index=False)
    return len(frame) + len(originals)


def migrate_negative_images() -> int:
    """Training records (timings only) and evaluation rows of the negative-images stand-ins."""
    import sys

    sys.path.insert(0, str(ROOT / "analyses"))
    import negative_images as neg

    from pixinfo.train.recipes import recipe

    out, n = RESULTS / "runs" / "negative_images", 0
    for tag in ("cpu_mnist5k", "cpu_fashion"):
        source = f"analyses/results/negative_images_{tag}.csv"
        meta = json.loads((RESULTS / f"negative_images_{tag}_meta.json").read_text())["config"]
        args = type("Args", (), {"max_images": meta["max_images"], "pgd_images": meta["pgd_images"]})
        changes = neg.variants(meta["epsilons"])
        for _, row in pd.read_csv(ROOT / source).iterrows():
            config = recipe(meta["model"], row["dataset"], seed=int(row["seed"]), device=meta["device"],
                            epochs=meta["epochs"], **changes[row["training"]])  # fmt: skip
            results = {"final_test_acc": None, "best_test_acc": None, "best_epoch": None, "history": [],
                       "train_seconds": float(row["train_seconds"]), "train_images_per_second": None,
                       "world_size": 1, "precision": "fp32"}  # fmt: skip
            path = write_json(record_path(out, config), record_of(config, row, source, results))
            metrics = {k: float(row[k]) for k in row.index if k.endswith(")")}
            settings = neg.evaluation_settings(args, int(row["seed"]))
            write_json(neg.evaluation_path(path, settings), {"settings": settings, "row": metrics,
                                                             "migrated_from": source})  # fmt: skip
            n += 1
    return n


def migrate_fooling_images() -> int:
    """One record per setup holding its rows of every table (no gallery images: those were not kept)."""
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT / "analyses"))
    import fooling_images as fool

    from pixinfo.provenance import make_record

    n = 0
    for tag in ("cpu_mnist5k", "cpu_fashion"):
        meta = json.loads((RESULTS / f"fooling_images_{tag}_meta.json").read_text())["config"]
        args = SimpleNamespace(**{**meta, "results": str(RESULTS / "runs" / "fooling_images")})
        for setup in meta["setups"]:
            arch, dataset = setup.split(":")
            label = f"{arch} / {dataset}"
            result = {"label": label, "gallery": None}
            for name in fool.SECTIONS:
                path = RESULTS / f"fooling_{name}_{tag}.csv"
                frame = pd.read_csv(path) if path.stat().st_size > 1 else pd.DataFrame()
                if "setup" in frame:
                    frame = frame[frame["setup"].str.startswith(label)]
                result[name] = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
            options = {k: meta[k] for k in fool.RESULT_OPTIONS}
            record = make_record("fooling_images", {"setup": setup, **options}, result)
            record["migrated_from"] = f"analyses/results/fooling_*_{tag}.csv"
            write_json(fool.setup_record_path(setup, args), record)
            n += 1
    return n


if __name__ == "__main__":
    print(json.dumps({"rvt_accuracy_table": migrate_rvt(), "info_vs_accuracy": migrate_info_vs_accuracy(),
                      "negative_images": migrate_negative_images(), "fooling_images": migrate_fooling_images()}))
