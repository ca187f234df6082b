"""The figures of the documentation's four task pages, drawn by running the pages' own code.

For each page (score your transform, train on it, study several, assess one) this runs every
```python block of docs/how-to/<page>.md in order, in one namespace (as tests/test_docs.py does),
inside a fresh temporary folder: the working directory, Python's temporary folder (the pages write
their files under ``tempfile.mkdtemp()``) and ``$PIXINFO_CACHE`` all point into it, so nothing
outside is read or written. The one figure the page's code writes there is copied to
``<figure-dir>/tutorial_<page>.png``, which the page shows. What the code prints goes to stdout,
page by page: the pages' ```text blocks are copied from it.

The pages train small models on the embedded 8x8 digits and attack one transform (about half a
minute in all on one CPU core); nothing is read from the committed records (``--from-records`` is
accepted for analyses/regenerate.sh and changes nothing). Training accuracies, and so the
training and study figures, can differ in their last digits on other hardware.

Usage: python analyses/tutorial_figures.py [--pages study assess] [--figure-dir DIR | --in-repo]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "how-to"
# page -> the file name of the figure its code writes (the only one of that name it writes)
FIGURES = {
    "score-your-transform": "scores.png",
    "train-encrypted": "accuracy.png",
    "study": "scatter.png",
    "assess": "scores.png",
}


def figure_name(page: str) -> str:
    """``tutorial_<page>.png``, hyphens as underscores: ``tutorial_score_your_transform.png``."""
    return f"tutorial_{page.replace('-', '_')}.png"


def blocks(page: str) -> list[str]:
    """The ```python blocks of ``docs/how-to/<page>.md``, in order."""
    found = re.findall(r"```python\n(.*?)```", (DOCS / f"{page}.md").read_text(), flags=re.S)
    if not found:
        raise SystemExit(f"docs/how-to/{page}.md has no python code")
    return found


@contextlib.contextmanager
def inside(folder: Path):
    """The working directory, ``tempfile``'s folder and ``$PIXINFO_CACHE`` in ``folder``, restored after."""
    before = (Path.cwd(), tempfile.tempdir, os.environ.get("PIXINFO_CACHE"))
    os.chdir(folder)
    tempfile.tempdir = str(folder)
    os.environ["PIXINFO_CACHE"] = str(folder / "cache")
    try:
        yield
    finally:
        os.chdir(before[0])
        tempfile.tempdir = before[1]
        if before[2] is None:
            os.environ.pop("PIXINFO_CACHE", None)
        else:
            os.environ["PIXINFO_CACHE"] = before[2]


def run_page(page: str, figure_dir: Path) -> Path:
    """Run ``page``'s code in a temporary folder and copy its figure to ``figure_dir``; returns the copy."""
    code = blocks(page)
    with tempfile.TemporaryDirectory(prefix="tutorial-") as tmp, inside(Path(tmp)):
        namespace: dict = {"__name__": f"docs_{page}"}
        for block in code:
            exec(compile(block, f"docs/how-to/{page}.md", "exec"), namespace)  # noqa: S102 - our own documentation
        written = sorted(Path(tmp).rglob(FIGURES[page]))
        if len(written) != 1:
            raise SystemExit(f"docs/how-to/{page}.md: expected its code to write one {FIGURES[page]}, found "
                             f"{[str(p.relative_to(tmp)) for p in written]}")  # fmt: skip
        target = figure_dir / figure_name(page)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(written[0], partial)
        partial.replace(target)  # written whole
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", nargs="+", choices=list(FIGURES), default=list(FIGURES),
                        help="pages of docs/how-to to run (default: all four)")  # fmt: skip
    parser.add_argument("--figure-dir", type=Path, help="folder of the figures (default: "
                        "$PIXINFO_RESULTS/tutorial_figures/figures, $PIXINFO_RESULTS defaulting to ./pixinfo-results; "
                        "paper_figures with --in-repo)")  # fmt: skip
    parser.add_argument("--in-repo", action="store_true", help="write the committed figures, in paper_figures/")
    parser.add_argument("--out-dir", type=Path, help="unused: this script writes no table")
    parser.add_argument("--from-records", action="store_true", help="accepted; the pages' code always runs")
    args = parser.parse_args(argv)
    if args.figure_dir is None:
        base = Path(os.environ.get("PIXINFO_RESULTS") or "pixinfo-results") / "tutorial_figures" / "figures"
        args.figure_dir = ROOT / "paper_figures" if args.in_repo else base
    args.figure_dir = args.figure_dir.resolve()  # the pages run in another working directory
    args.figure_dir.mkdir(parents=True, exist_ok=True)
    for page in args.pages:
        start = time.perf_counter()
        print(f"===== docs/how-to/{page}.md", flush=True)
        target = run_page(page, args.figure_dir)
        print(f"===== wrote {target} ({time.perf_counter() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
