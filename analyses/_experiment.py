"""What the analysis scripts share: their common command-line options, output paths, where their
per-run records live, how a sweep runs (in-process, on worker processes or on Ray), and "train
or reuse a model with its saved weights".

Per-run records (small JSON files, no weights) live inside the repository under
``analyses/results/runs/<experiment>/`` and are committed, so runs done on any machine add up
and ``--from-records`` regenerates every table and figure from them alone.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from pixinfo.files import save_figure_atomic, write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "analyses" / "results" / "runs"


def add_common_arguments(p: argparse.ArgumentParser, *, experiment: str, quick_help: str) -> None:
    """--epochs, --max-train, --batch-size, --device, --results, --out-dir, --figure-dir, --tag, --quick,
    --from-records, --workers, --ray, --ray-address."""
    p.add_argument("--epochs", nargs="+", type=model_value, action=PerModel, metavar="[MODEL=]N",
                   help="override the recipe's epochs: N for every model, MODEL=N for one (e.g. mlp=5 cnn=2)")
    p.add_argument("--max-train", nargs="+", type=model_value, action=PerModel, metavar="[MODEL=]N",
                   help="train on a seeded subset of N training images (the test set is never shrunk); "
                        "N for every model, MODEL=N for one")  # fmt: skip
    p.add_argument("--batch-size", nargs="+", type=model_value, action=PerModel, metavar="[MODEL=]N",
                   help="override the recipe's training batch size: N for every model, MODEL=N for one")
    p.add_argument("--device", default="auto")
    p.add_argument("--results", help="folder of per-run records; runs resume from it (default: the committed "
                   f"records, analyses/results/runs/{experiment}, with --in-repo or --from-records; else "
                   "<out-dir>/runs, where finished runs of the committed records are copied instead of trained)")
    p.add_argument("--out-dir", help=f"folder of the tables (default: $PIXINFO_RESULTS/{experiment}, "
                   "$PIXINFO_RESULTS defaulting to ./pixinfo-results; analyses/results with --in-repo)")
    p.add_argument("--figure-dir", help="folder of the figures (default: <out-dir>/figures; paper_figures with --in-repo)")
    p.add_argument("--in-repo", action="store_true",
                   help="read and write the repository's committed records, tables and figures")
    p.set_defaults(experiment=experiment)
    p.add_argument("--tag", default="", help="suffix of the output names (e.g. cpu)")
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument("--from-records", action="store_true",
                   help="train nothing: rebuild the tables and figures from the records in --results")  # fmt: skip
    p.add_argument("--workers", type=int, default=1, help="local worker processes (torch threads split among them)")
    p.add_argument("--ray", action="store_true", help="one Ray task per run on a local Ray runtime")
    p.add_argument("--ray-address", help="run on the Ray cluster at this address (implies --ray)")


def apply_preset(args: argparse.Namespace, presets: dict[str, dict]) -> argparse.Namespace:
    """Fill every option left unset (None) from ``presets["quick"]`` with ``--quick``, else from
    ``presets["full"]``; ``--quick`` runs also get the tag "quick" unless one was given."""
    for key, value in presets["quick" if args.quick else "full"].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    args.tag = args.tag or ("quick" if args.quick else "")
    return with_folders(args)


def with_folders(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the folders left unset: the committed ones with ``--in-repo``, else a folder of the
    user's (``$PIXINFO_RESULTS/<experiment>``) for tables, figures and new records; ``--from-records``
    reads the committed records unless ``--results`` names others."""
    committed = RUNS / args.experiment
    if args.in_repo:
        folders = (committed, ROOT / "analyses" / "results", ROOT / "paper_figures")
    else:
        base = Path(os.environ.get("PIXINFO_RESULTS") or "pixinfo-results") / args.experiment
        folders = (committed if getattr(args, "from_records", False) else base / "runs", base, base / "figures")
    for name, folder in zip(("results", "out_dir", "figure_dir"), folders, strict=True):
        if hasattr(args, name) and getattr(args, name) is None:  # scripts without runs have no --results
            setattr(args, name, str(folder))
    return args


def add_output_arguments(p: argparse.ArgumentParser, *, experiment: str) -> None:
    """``--out-dir``, ``--figure-dir`` and ``--in-repo`` of a script that trains nothing (a chart, a
    gallery, a page); ``with_folders`` fills them as for the experiments."""
    p.add_argument("--out-dir", help=f"folder of the tables (default: $PIXINFO_RESULTS/{experiment}; "
                   "analyses/results with --in-repo)")
    p.add_argument("--figure-dir", help="folder of the figures (default: <out-dir>/figures; paper_figures with --in-repo)")
    p.add_argument("--in-repo", action="store_true", help="write the repository's committed tables and figures")
    p.set_defaults(experiment=experiment)


def with_local_datasets(embedded: list[str], optional: list[str]) -> list[str]:
    """``embedded`` plus those of ``optional`` whose files are present locally."""
    from pixinfo.data import available_datasets

    status = available_datasets()
    return [*embedded, *(d for d in optional if status[d].startswith("ok"))]


def write_table(out: Path, markdown: str, args: argparse.Namespace, runs, *, configs=(), **extra) -> None:
    """``<out>.md`` (also printed) and ``<out>_meta.json``: the options, the run configs, the
    environment, and the devices and commits of the runs (``runs``: their record rows)."""
    from pixinfo.provenance import environment, write_json

    write_text_atomic(out.with_suffix(".md"), markdown)
    print(markdown)
    write_json(out.parent / f"{out.name}_meta.json", {
        "config": vars(args), "configs": [c.to_dict() for c in configs], "environment": environment(),
        "devices": sorted(set(runs["device_name"])), "commits": sorted(set(runs["commit"].astype(str))), **extra,
    })  # fmt: skip


def save_figure(fig, path: Path, *, dpi: int = 130, **savefig_kwargs) -> None:
    """Write a matplotlib figure or seaborn grid whole (its folder created) and close it."""
    save_figure_atomic(fig, path, dpi=dpi, **savefig_kwargs)


def write_csv(frame: pd.DataFrame, path: Path | str) -> None:
    """``frame`` as CSV without its index, written whole."""
    write_text_atomic(path, frame.to_csv(index=False))


def outputs(args: argparse.Namespace, name: str) -> tuple[Path, Path, str]:
    """(table base path without suffix, figure folder, name suffix), folders created."""
    suffix = f"_{args.tag}" if args.tag else ""
    out_dir, figures = Path(args.out_dir), Path(args.figure_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    return out_dir / f"{name}{suffix}", figures, suffix


def model_value(text: str) -> tuple[str | None, int]:
    """``type`` of a per-model option: ``"N"`` → (None, N), ``"MODEL=N"`` → (MODEL, N); N ≥ 1."""
    from pixinfo.models import MODELS

    model, sep, number = text.rpartition("=")
    if sep and model not in MODELS:
        raise argparse.ArgumentTypeError(f"unknown model {model!r} in {text!r}; models: {', '.join(sorted(MODELS))}")
    try:
        value = int(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or MODEL=N with an integer N, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer N >= 1, got {text!r}")
    return (model or None, value)


class PerModel(argparse.Action):
    """Store ``[MODEL=]N`` values as ``{MODEL or None: N}``; a model (or the plain N) given twice is an error."""

    def __call__(self, parser, namespace, values, option_string=None):
        given: dict[str | None, int] = {}
        for model, value in values:
            if model in given:
                parser.error(f"argument {option_string}: {model or 'a plain N'} given twice")
            given[model] = value
        setattr(namespace, self.dest, given)


def for_model(value, model: str) -> int | None:
    """A per-model option's value for ``model``: its ``MODEL=N``, else the plain N, else None
    (``value``: what :class:`PerModel` stored, a preset's int, or None)."""
    if value is None or isinstance(value, int):
        return value
    return value.get(model, value.get(None))


def check_model_values(parser: argparse.ArgumentParser, args: argparse.Namespace, models) -> None:
    """Refuse a ``MODEL=N`` of ``--epochs``, ``--max-train`` or ``--batch-size`` for a model the run
    does not train."""
    for option in ("epochs", "max_train", "batch_size"):
        value = getattr(args, option)
        unused = sorted(m for m in value if m is not None and m not in models) if isinstance(value, dict) else []
        if unused:
            parser.error(f"argument --{option.replace('_', '-')}: {', '.join(unused)} not among the models "
                         f"trained ({', '.join(models)})")


def recipe_overrides(args: argparse.Namespace, model: str) -> dict:
    """The recipe changes given on the command line for ``model``: ``--epochs``, ``--max-train``,
    ``--batch-size`` and, in a script that has it, ``--precision``."""
    given = {"epochs": for_model(args.epochs, model), "max_train": for_model(args.max_train, model),
             "batch_size": for_model(args.batch_size, model), "precision": getattr(args, "precision", None)}
    return {k: v for k, v in given.items() if v is not None}


def training_note(runs: pd.DataFrame) -> str:
    """For a table's introduction: "" when every run used all training images in its recipe's
    batches, else " on a seeded subset of N training images" and/or :func:`batch_note` (``runs``:
    record rows with ``max_train`` and, where the record has it, ``n_train``; a run whose
    ``max_train`` was at least its dataset's size, so that it trained on fewer images than that,
    used all of them)."""
    n_train = runs["n_train"] if "n_train" in runs else pd.Series(float("nan"), index=runs.index)
    sizes = [None if pd.isna(m) or (not pd.isna(n) and n < m) else int(m)
             for m, n in zip(pd.Series(list(runs["max_train"]), dtype=object), n_train, strict=True)]  # fmt: skip
    subsets = sorted({n for n in sizes if n is not None})
    subset = "" if not subsets else (f" on a seeded subset of {' / '.join(f'{n:,}' for n in subsets)} training images"
                                     + (" (some runs on all)" if None in sizes else ""))  # fmt: skip
    return subset + batch_note(runs)


def batch_note(runs: pd.DataFrame) -> str:
    """" in batches of N" when some of ``runs`` (record rows with ``model`` and ``batch_size``)
    trained with a batch size other than their model's recipe (``--batch-size``), else ""."""
    from pixinfo.train.recipes import RECIPES

    if "batch_size" not in runs or "model" not in runs:
        return ""
    changed = [m in RECIPES and b != RECIPES[m]["batch_size"] for m, b in zip(runs["model"], runs["batch_size"], strict=True)]
    if not any(changed):
        return ""
    return f" in batches of {' / '.join(str(int(b)) for b in sorted(set(runs['batch_size'])))}"


def devices_note(runs: pd.DataFrame) -> str:
    """The devices of ``runs`` (record rows with ``device_name`` and, where recorded,
    ``precision_used``), each with the precision its runs computed in, and how many runs each
    when they differ: e.g. "cpu: x86_64, 1 torch threads, fp32 (15 runs); cpu: …, bf16 (2 runs)"."""
    precisions = list(runs["precision_used"]) if "precision_used" in runs else [None] * len(runs)
    counts = Counter(f"{device}, {p if isinstance(p, str) else 'precision not recorded'}"
                     for device, p in zip(runs["device_name"].astype(str), precisions, strict=True))  # fmt: skip
    if len(counts) == 1:
        return next(iter(counts))
    return "; ".join(f"{part} ({counts[part]} runs)" for part in sorted(counts))


def training_by_model(runs: pd.DataFrame) -> str:
    """"epochs [E] on …" (:func:`training_note`) when every model was trained alike, else that
    phrase per model, e.g. "cnn: epochs [2] on a seeded subset of 10,000 training images; mlp:
    epochs [5]"."""
    parts = {m: f"epochs {sorted(set(g['epochs']))}{training_note(g)}" for m, g in runs.groupby("model")}
    if len(set(parts.values())) == 1:
        return next(iter(parts.values()))
    return "; ".join(f"{m}: {text}" for m, text in parts.items())


def add_partial_argument(p: argparse.ArgumentParser, *, holds: str) -> None:
    """``--partial``: build the table of a sweep in progress from the records finished so far
    (``holds``: how the table says how many runs each part holds); see :func:`missing_runs`."""
    p.add_argument("--partial", action="store_true",
                   help=f"with --from-records, leave out the runs that have no record yet (a sweep in progress: {holds})")


def missing_runs(args: argparse.Namespace) -> str:
    """What :func:`sweep` does with a config that has no record: "skip" with ``--partial``, else "raise"."""
    return "skip" if args.partial else "raise"


def sweep(configs, args: argparse.Namespace, *, data=None, progress: bool = True, missing: str = "raise"):
    """Run (or with ``--from-records`` only read) every config; their record rows as a DataFrame.

    A run that another experiment already finished (same config, a record under ``RUNS``) is
    copied into ``--results`` rather than trained again. With ``--from-records``, ``missing="skip"``
    leaves out configs that have no record yet instead of refusing them."""
    from pixinfo.train import run_configs
    from pixinfo.train.executors import make_executor

    executor = make_executor(workers=args.workers, ray=args.ray, ray_address=args.ray_address, progress=progress)
    return run_configs(configs, results_dir=args.results, data=data, executor=executor,
                       from_records=args.from_records, progress=progress,
                       missing=missing,
                       reuse_from=sorted(p for p in RUNS.glob("*") if p.is_dir()))  # fmt: skip


def trained_model(config, args: argparse.Namespace, *, data=None):
    """Train ``config`` (or reuse its finished record and saved model); the model on the run's device."""
    from pixinfo.train import resolve_device, train

    run = train(config, results_dir=args.results, reuse=True, resume=True, save_model=True, progress=False, data=data)
    return run.model.to(resolve_device(config.device)), run
