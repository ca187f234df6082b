"""Charts of pixinfo's results (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path

from pixinfo.info.registry import MEASURES as REGISTRY

# the charted measures, (column, label): the retained shares in [0, 1] (signed ones are left out)
MEASURES = tuple((m.name, m.label) for m in REGISTRY if not m.signed)


def plot_scores(frame, path: str | Path, *, title: str | None = None) -> Path:
    """A PNG bar chart of the unsigned registered measures per transform (rows of [`pixinfo.scoring.to_frame`][pixinfo.scoring.to_frame]),
    with their 95% intervals as error bars; written whole.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> frame = pd.DataFrame({"transform": ["identity"], "structural_retention": [1.0],
    ...     "structural_retention_low": [1.0], "structural_retention_high": [1.0], "content_retention": [1.0],
    ...     "content_retention_low": [0.9], "content_retention_high": [1.1], "value_nmi": [1.0],
    ...     "value_nmi_low": [1.0], "value_nmi_high": [1.0]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = plot_scores(frame, pathlib.Path(d) / "s.png")
    ...     p.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from pixinfo.files import save_figure_atomic

    labels = list(frame["transform"])
    y = np.arange(len(labels))
    height = 0.8 / len(MEASURES)
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(labels) + 1.8))
    for k, (column, name) in enumerate(MEASURES):
        values = frame[column].to_numpy(float)
        low = np.nan_to_num(values - frame[f"{column}_low"].to_numpy(float), nan=0.0)
        high = np.nan_to_num(frame[f"{column}_high"].to_numpy(float) - values, nan=0.0)
        ax.barh(y + (k - 1) * height, np.nan_to_num(values, nan=0.0), height, xerr=[low.clip(0), high.clip(0)],
                label=name, capsize=2)  # fmt: skip
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.axvline(1, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("retained (1: everything a network could use is kept)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1 - 0.6 / len(labels)), ncol=len(MEASURES))
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save_figure_atomic(fig, Path(path), format="png", dpi=120)
