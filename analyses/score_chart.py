"""The chart of a `make run` (`pixinfo score`) result, redrawn from its committed CSV.

Reads analyses/results/score_<tag>_make_run.csv (the CSV that `pixinfo score` wrote, committed)
and writes paper_figures/score_<tag>.png with pixinfo.plots.plot_scores, the chart `pixinfo
score` draws itself, titled with the dataset and the number of images scored. Nothing is
computed: the chart is a function of the CSV alone (``--from-records`` is accepted for
analyses/regenerate.sh and changes nothing).

Usage: python analyses/score_chart.py --tag mnist5k [--figure-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from _experiment import add_output_arguments, with_folders

from pixinfo.plots import plot_scores

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"mnist-5k": "MNIST-5k", "fashion-mnist": "Fashion-MNIST"}


def title(frame: pd.DataFrame) -> str:
    """``make run: the three measures on MNIST-5k (5,000 images)``."""
    datasets = sorted(set(frame["dataset"]))
    images = sorted(set(frame["n_images"]))
    if len(datasets) != 1 or len(images) != 1:
        raise ValueError(f"expected one dataset and one image count, got {datasets} and {images}")
    return f"make run: the three measures on {NAMES.get(datasets[0], datasets[0])} ({images[0]:,} images)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", required=True, help="the CSV is score_<tag>_make_run.csv, the chart score_<tag>.png")
    parser.add_argument("--csv", type=Path, help="the CSV (default: analyses/results/score_<tag>_make_run.csv)")
    add_output_arguments(parser, experiment="score_chart")
    parser.add_argument("--from-records", action="store_true", help="accepted; the chart is always drawn from the CSV")
    args = with_folders(parser.parse_args(argv))
    csv = args.csv or ROOT / "analyses" / "results" / f"score_{args.tag}_make_run.csv"
    frame = pd.read_csv(csv)
    path = plot_scores(frame, Path(args.figure_dir) / f"score_{args.tag}.png", title=title(frame))
    print(f"wrote {path} from {csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
