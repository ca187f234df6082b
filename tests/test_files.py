"""pixinfo.files: figures are written whole, like every other file."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402

from pixinfo.files import save_figure_atomic  # noqa: E402


def test_figure_replaces_the_old_file_and_is_closed(tmp_path):
    path = tmp_path / "fig.png"
    path.write_bytes(b"old")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_figure_atomic(fig, path, dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
    assert not plt.fignum_exists(fig.number)


def test_format_follows_the_suffix(tmp_path):
    fig, _ = plt.subplots()
    path = save_figure_atomic(fig, tmp_path / "fig.svg")
    assert b"<svg" in path.read_bytes()[:400]


def test_seaborn_grid(tmp_path):
    grid = sns.FacetGrid(data=pd.DataFrame({"x": [1, 2], "c": ["a", "b"]}), col="c")
    save_figure_atomic(grid, tmp_path / "grid.png", dpi=30)
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
    assert not plt.fignum_exists(grid.figure.number)


def test_a_failed_render_keeps_the_old_file(tmp_path):
    path = tmp_path / "fig.png"
    path.write_bytes(b"old")
    fig, _ = plt.subplots()
    with pytest.raises(ValueError):
        save_figure_atomic(fig, path, format="no-such-format")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
    assert not plt.fignum_exists(fig.number)
