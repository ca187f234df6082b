"""Every committed table in analyses/results/ is what its line of analyses/regenerate.sh writes
from the committed per-run records (nothing is trained): a table edited by hand, or left stale
after a change to an analysis script or after new records landed, fails here.

Markdown tables must match to the letter. CSVs hold full float64 values, and a statistic refitted
on another CPU (another BLAS kernel: AVX2 against AVX-512) can differ in its last bits (seen: the
OLS coefficients at 1e-15 relative), so their numbers are compared to 1e-9 relative, every
other cell exactly.

Figures are not compared (their pixels depend on the matplotlib version and the fonts), but every line
must write its figures again, each a PNG that is committed in paper_figures/, and every figure
committed there must be written by some line (NOT_REGENERATED names the exceptions, and why)."""

import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "analyses" / "results"
FIGURES = ROOT / "paper_figures"
REGENERATED: dict[str, list[str]] = {}  # each line's id: the figures it wrote (filled as the lines run)
# committed figures that their line cannot draw again, and why (each is a gap to close, not a rule)
NOT_REGENERATED: dict[str, str] = {}


def tag(line: list[str]) -> str:
    return line[line.index("--tag") + 1] if "--tag" in line else ""


def line_id(line: list[str]) -> str:
    return f"{Path(line[0]).stem}:{tag(line)}"


def regenerate_lines() -> list[list[str]]:
    """The ``run <script> <args>`` lines of regenerate.sh, each as its argument list."""
    lines = (ROOT / "analyses" / "regenerate.sh").read_text().splitlines()
    return [shlex.split(line)[1:] for line in lines if line.startswith("run analyses/")]


def test_regenerate_sh_names_every_committed_table():
    written = {f"{Path(line[0]).stem}_{tag(line)}" for line in regenerate_lines()}  # <script>_<tag>.md
    for table in RESULTS.glob("*.md"):
        assert table.stem in written, f"{table.name}: no line of regenerate.sh writes it"


@pytest.mark.parametrize("line", regenerate_lines(), ids=line_id)
def test_committed_tables_equal_what_the_records_regenerate(line, tmp_path):
    out, fig = tmp_path / "out", tmp_path / "fig"
    args = [sys.executable, str(ROOT / line[0]), *line[1:], "--from-records", "--in-repo",  # as regenerate.sh runs it
            "--out-dir", str(out), "--figure-dir", str(fig)]  # fmt: skip
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    written = sorted(p for p in out.iterdir() if p.suffix in {".md", ".csv"}) if out.is_dir() else []
    figures = sorted(fig.glob("*.png"))
    if not written and not figures and "left as it is" in done.stderr:
        pytest.skip(done.stderr.strip()[-500:])  # a figure drawn from a dataset that is not installed here
    assert written or figures, f"{line[0]} wrote no table and no figure"
    for figure in figures:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{figure.name}: not a PNG"
        assert (FIGURES / figure.name).exists(), f"{figure.name} is regenerated but not committed"
    REGENERATED[line_id(line)] = [f.name for f in figures]
    for fresh in written:
        committed = RESULTS / fresh.name
        assert committed.exists(), f"{fresh.name} is regenerated but not committed"
        if fresh.suffix == ".csv":
            assert_same_csv(fresh, committed)
        else:
            assert fresh.read_text() == committed.read_text(), f"{fresh.name} differs from what the records regenerate"


def test_every_committed_figure_is_regenerated():
    """Runs after the lines above (file order); needs all of them to have run in this pytest run."""
    missing_lines = [line_id(line) for line in regenerate_lines() if line_id(line) not in REGENERATED]
    if missing_lines:
        pytest.skip(f"needs every line of regenerate.sh to run first; {len(missing_lines)} not run or skipped "
                    f"({', '.join(missing_lines[:3])}{', ...' if len(missing_lines) > 3 else ''})")
    written = {name for names in REGENERATED.values() for name in names}
    for name in NOT_REGENERATED:
        assert (FIGURES / name).exists(), f"{name} is no longer committed: remove it from NOT_REGENERATED"
        assert name not in written, f"{name} is regenerated now: remove it from NOT_REGENERATED"
    for figure in sorted(FIGURES.glob("*.png")):
        if figure.name not in NOT_REGENERATED:
            assert figure.name in written, f"paper_figures/{figure.name}: no line of regenerate.sh writes it"


def assert_same_csv(fresh: Path, committed: Path) -> None:
    if fresh.read_text() == committed.read_text():  # the usual case, and the only one for an empty table
        return
    a, b = pd.read_csv(fresh), pd.read_csv(committed)
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
    except AssertionError as err:
        raise AssertionError(f"{fresh.name} differs from what the records regenerate: {err}") from None


def test_csv_comparison_allows_last_bit_noise_and_nothing_more(tmp_path):
    committed = tmp_path / "committed.csv"
    committed.write_text("scope,estimate\nall,0.5633218016997077\nall,-0.7379008616451694\n")
    noisy = tmp_path / "noisy.csv"
    noisy.write_text("scope,estimate\nall,0.5633218016997101\nall,-0.7379008616451688\n")
    assert_same_csv(noisy, committed)
    for changed in ("all,0.5633218\nall,-0.7379008616451694", "all,0.5633218016997077\nsome,-0.7379008616451694"):
        edited = tmp_path / "edited.csv"
        edited.write_text(f"scope,estimate\n{changed}\n")
        with pytest.raises(AssertionError, match="edited.csv differs"):
            assert_same_csv(edited, committed)
