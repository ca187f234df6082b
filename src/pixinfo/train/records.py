"""Collect experiment records (JSON) into a pandas DataFrame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pixinfo._checks import check_choice
from pixinfo.models import ConfigError


def load_records(folder: str | Path, *, kind: str | None = "train") -> list[dict]:
    """Every JSON record under ``folder`` (recursively), optionally only those of ``kind``.

    Raises
    ------
    FileNotFoundError
        No folder at ``folder``.
    CorruptFileError
        A ``.json`` file under it is truncated or not JSON (the message names it).
    """
    from pixinfo.files import read_json

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no results folder at {folder}")
    records = []
    for path in sorted(folder.rglob("*.json")):
        record = read_json(path, kind="record")
        if isinstance(record, dict) and (kind is None or record.get("kind") == kind):
            record["_path"] = str(path)
            records.append(record)
    return records


def _field(record: dict, where: str | Path, *keys: str, obj: bool = False):
    """``record[k1][k2]...``, or a [`CorruptFileError`][pixinfo.errors.CorruptFileError] naming the
    file ``where`` and the field that is missing or not a JSON object (``obj``: the value must be one)."""
    from pixinfo.errors import CorruptFileError

    hint = "an older or damaged record: delete it or train the run again"
    value: object = record
    for i, key in enumerate(keys):
        if key not in value:
            raise CorruptFileError(f"{where}: the finished train record has no field {'.'.join(keys[: i + 1])!r} ({hint})")
        value = value[key]
        if (obj or i < len(keys) - 1) and not isinstance(value, dict):
            raise CorruptFileError(f"{where}: field {'.'.join(keys[: i + 1])!r} must be a JSON object, got "
                                   f"{type(value).__name__} ({hint})")  # fmt: skip
    return value


def collect_records(folder: str | Path) -> pd.DataFrame:
    """One row per finished training record: its config fields, accuracies, timings and provenance.

    ``path`` is the record's file relative to ``folder`` (so a table built from it is the same on
    every checkout).

    Raises
    ------
    CorruptFileError
        A record is truncated or not JSON, or a finished one lacks a field (or holds one of the
        wrong kind); the message names the file and the field.

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
        where = record["_path"]
        res = _field(record, where, "results", obj=True)
        config = _field(record, where, "config", obj=True)
        row = {k: v for k, v in config.items() if not isinstance(v, dict)}
        row.update(
            transform=_field(record, where, "config", "transform") or "original",
            final_test_acc=_field(record, where, "results", "final_test_acc"),
            best_test_acc=_field(record, where, "results", "best_test_acc"),
            best_epoch=_field(record, where, "results", "best_epoch"),
            final_test_acc_no_flip=res.get("final_test_acc_no_flip"),  # with test-time flips: the logits without
            train_seconds=_field(record, where, "results", "train_seconds"),
            train_images_per_second=_field(record, where, "results", "train_images_per_second"),
            n_train=res.get("n_train"),  # absent from records made before it was recorded
            n_test=res.get("n_test"),
            world_size=_field(record, where, "results", "world_size"),
            precision_used=res.get("precision"),
            transform_key=record.get("transform_key"),
            config_hash=record.get("config_hash"),
            device_name=_field(record, where, "environment", obj=True).get("device"),
            commit=_field(record, where, "environment", "git", obj=True).get("commit"),
            path=Path(record["_path"]).relative_to(folder).as_posix(),  # the same on every checkout
        )
        rows.append(row)
    return pd.DataFrame(rows)


def run_configs(configs, *, results_dir: str | Path, reuse: bool = True, resume: bool = True,
                save_model: bool = False, progress: bool = True, data=None, executor=None,
                from_records: bool = False, missing: str = "raise", reuse_from=()) -> pd.DataFrame:  # fmt: skip
    """Train every config (reusing finished records of identical configs) and return their rows.

    Parameters
    ----------
    data : dict, optional
        Dataset name -> loaded [`Dataset`][pixinfo.data._types.Dataset], so an in-process sweep loads each
        dataset once (worker processes load their own).
    executor : pixinfo.train.executors.Executor, optional
        Where the runs go (default: in this process).
    from_records : bool
        Train nothing: build the rows from the finished records in ``results_dir`` alone, and
        raise [`ConfigError`][pixinfo.errors.ConfigError] naming the configs that have none.
    missing : {"raise", "skip"}
        With ``from_records``, what becomes of configs without a finished record: the error above,
        or left out of the rows (the runs of a sweep that has not finished yet).
    reuse_from : sequence of paths
        Other results folders (e.g. other experiments'): a finished record of the same config
        there is copied into ``results_dir`` instead of training the run again, so that
        ``results_dir`` alone still regenerates the tables. Ignored with ``from_records``.
    """
    from pixinfo.train.executors import InProcess, RunOptions
    from pixinfo.train.trainer import find_record, record_path

    configs = list(configs)
    missing = check_choice(missing, "missing", ("raise", "skip"))
    if from_records:
        absent = [c for c in configs if find_record(c, results_dir) is None]
        if absent and missing == "raise":
            names = ", ".join(record_path(results_dir, c).name for c in absent[:5])
            raise ConfigError(f"--from-records: {len(absent)} of {len(configs)} runs have no finished record in "
                              f"{results_dir} (e.g. {names}); run without --from-records to train them")  # fmt: skip
    else:
        if reuse:
            adopt_records(configs, results_dir, reuse_from)
        executor = executor or InProcess(progress=progress)
        options = RunOptions(str(results_dir), reuse=reuse, resume=resume, save_model=save_model)
        executor.run(configs, options, data)
    paths = {record_path(results_dir, c).relative_to(results_dir).as_posix() for c in configs}
    frame = collect_records(results_dir)
    return frame[frame["path"].isin(paths)].reset_index(drop=True)


def adopt_records(configs, results_dir: str | Path, folders) -> int:
    """Copy into ``results_dir`` the finished records of ``configs`` found in ``folders`` (first
    folder first) where ``results_dir`` has none; how many were copied.

    A copied record is the same file, written whole; a config's record is only ever taken from
    a folder where ``find_record`` accepts it (finished, same config hash)
    and only if it holds a final test accuracy: a record migrated from a stand-in table keeps only
    what its experiment's row held (``"migrated_from"``), and adopting one without an accuracy would
    give another experiment a run with no result.
    """
    from pixinfo.files import write_text_atomic
    from pixinfo.train.trainer import find_record, record_path

    copied = 0
    target = Path(results_dir)
    for config in configs:
        if find_record(config, target) is not None:
            continue
        for folder in folders:
            if Path(folder).resolve() == target.resolve() or not _adoptable(find_record(config, folder)):
                continue
            target.mkdir(parents=True, exist_ok=True)
            write_text_atomic(record_path(target, config), record_path(folder, config).read_text())
            copied += 1
            break
    return copied


def _adoptable(record: dict | None) -> bool:
    """A finished record that holds the result every experiment reads: its final test accuracy."""
    return record is not None and isinstance(record.get("results", {}).get("final_test_acc"), (int, float))


def summarize(frame: pd.DataFrame, by: list[str], value: str = "final_test_acc") -> pd.DataFrame:
    """Mean, standard deviation (ddof=1) and count of ``value`` per group, in percent for accuracies."""
    scale = 100.0 if value.endswith("acc") else 1.0
    out = frame.groupby(by, sort=False)[value].agg(["mean", "std", "count"]).reset_index()
    out["mean"] *= scale
    out["std"] *= scale
    return out.rename(columns={"count": "n"})
