"""Collect experiment records (JSON) into a pandas DataFrame."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def load_records(folder: str | Path, *, kind: str | None = "train") -> list[dict]:
    """Every JSON record under ``folder`` (recursively), optionally only those of ``kind``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no results folder at {folder}")
    records = []
    for path in sorted(folder.rglob("*.json")):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from None
        if isinstance(record, dict) and (kind is None or record.get("kind") == kind):
            record["_path"] = str(path)
            records.append(record)
    return records


def collect_records(folder: str | Path) -> pd.DataFrame:
    """One row per finished training record: its config fields, accuracies, timings and provenance.

    Examples
    --------
    >>> import tempfile
    >>> from pixinfo.train import TrainConfig, train, collect_records
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = train(TrainConfig(dataset="digits", model="mlp", epochs=1), results_dir=d, progress=False)
    ...     frame = collect_records(d)
    >>> frame[["dataset", "model", "epochs"]].values.tolist()
    [['digits', 'mlp', 1]]
    """
    rows = []
    for record in load_records(folder, kind="train"):
        if record.get("status") != "finished":
            continue
        res = record["results"]
        row = {k: v for k, v in record["config"].items() if not isinstance(v, dict)}
        row.update(
            transform=record["config"]["transform"] or "original",
            final_test_acc=res["final_test_acc"],
            best_test_acc=res["best_test_acc"],
            best_epoch=res["best_epoch"],
            train_seconds=res["train_seconds"],
            train_images_per_second=res["train_images_per_second"],
            world_size=res["world_size"],
            transform_key=record.get("transform_key"),
            config_hash=record.get("config_hash"),
            device_name=record["environment"].get("device"),
            commit=record["environment"]["git"].get("commit"),
            path=record["_path"],
        )
        rows.append(row)
    return pd.DataFrame(rows)
