"""What the analysis scripts share: their common command-line options, output paths, and
"train or reuse a model with its saved weights"."""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def add_common_arguments(p: argparse.ArgumentParser, *, results: str, quick_help: str) -> None:
    """--epochs, --device, --results, --out-dir, --figure-dir, --tag, --quick."""
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--device", default="auto")
    p.add_argument("--results", default=results, help="folder of per-run records (runs resume from it)")
    p.add_argument("--out-dir", default=str(ROOT / "analyses" / "results"), help="folder of the tables")
    p.add_argument("--figure-dir", default=str(ROOT / "paper_figures"))
    p.add_argument("--tag", default="", help="suffix of the output names (e.g. cpu)")
    p.add_argument("--quick", action="store_true", help=quick_help)


def outputs(args: argparse.Namespace, name: str) -> tuple[Path, Path, str]:
    """(table base path without suffix, figure folder, name suffix), folders created."""
    suffix = f"_{args.tag}" if args.tag else ""
    out_dir, figures = Path(args.out_dir), Path(args.figure_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    return out_dir / f"{name}{suffix}", figures, suffix


def epochs_override(args: argparse.Namespace) -> dict:
    return {"epochs": args.epochs} if args.epochs else {}


def trained_model(config, args: argparse.Namespace, *, data=None):
    """Train ``config`` (or reuse its finished record and saved model); the model on the run's device."""
    from pixinfo.train import resolve_device, train

    run = train(config, results_dir=args.results, reuse=True, resume=True, save_model=True, progress=False, data=data)
    return run.model.to(resolve_device(config.device)), run
