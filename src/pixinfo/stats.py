"""Statistics for "does information loss predict accuracy loss?".

* [`correlate`][pixinfo.stats.correlate]: Pearson, Spearman and Kendall correlations with percentile bootstrap
  intervals that resample *clusters* (e.g. transform settings), per group and pooled, with
  Holm-adjusted p-values across every test in the table.
* [`fit_loss_model`][pixinfo.stats.fit_loss_model]: OLS of accuracy loss on the information measures with model-family
  interactions, cluster-robust standard errors, R² and the partial R² of each measure.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from pixinfo.stats import correlate
>>> x = np.arange(20.0)
>>> frame = pd.DataFrame({"x": x, "y": 2 * x + 1})
>>> table = correlate(frame, x="x", y="y", n_boot=200)
>>> table[["method", "estimate", "ci_low"]].round(3).values.tolist()
[['pearson', 1.0, 1.0], ['spearman', 1.0, 1.0], ['kendall', 1.0, 1.0]]
"""

from __future__ import annotations

import re

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from pixinfo.estimate import percentile_interval

METHODS = ("pearson", "spearman", "kendall")
MIN_ROWS = 3  # per group: fewer give zero-width bootstrap intervals
MIN_CLUSTERS = 2  # per group, when resampling clusters


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of ``a`` and ``b`` (NaN where a row is constant)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(1) / den
    r[den == 0] = np.nan
    return np.clip(r, -1.0, 1.0)


def _kendall_weighted(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of ``x`` and ``y`` (1-D) with each row taken ``weights[b, i]`` times, for
    each row ``b`` of ``weights`` (a bootstrap resample's counts; NaN where it is constant), in the
    arithmetic of ``scipy.stats.kendalltau``: (concordant − discordant) / sqrt(pairs untied in x)
    / sqrt(pairs untied in y), clipped to [−1, 1]. Every pair's signs are computed once; a
    resample's counts weight them (a row and its copies tie, and add nothing)."""
    sx, sy = np.sign(x[:, None] - x[None]), np.sign(y[:, None] - y[None])
    w = np.asarray(weights, dtype=np.float64)

    def pairs(m: np.ndarray) -> np.ndarray:  # each unordered pair once (the sums count (i, j) and (j, i))
        return np.rint(((w @ m) * w).sum(1)).astype(np.int64) // 2

    con_minus_dis, untied_x, untied_y = pairs(sx * sy), pairs(np.abs(sx)), pairs(np.abs(sy))
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = con_minus_dis / np.sqrt(untied_x) / np.sqrt(untied_y)
    tau[(untied_x == 0) | (untied_y == 0)] = np.nan
    return np.clip(tau, -1.0, 1.0)


def _correlations(method: str, x: np.ndarray, y: np.ndarray, samples: list[np.ndarray]) -> tuple[float, np.ndarray]:
    """The correlation of ``x`` with ``y`` (1-D) and of each resample of them (``samples``: row
    indices, of any lengths)."""
    if method == "kendall":  # tau-b: ties handled
        counts = np.zeros((len(samples) + 1, len(x)))
        counts[0] = 1
        for b, s in enumerate(samples, start=1):
            counts[b] = np.bincount(s, minlength=len(x))
        tau = _kendall_weighted(x, y, counts)
        return float(tau[0]), tau[1:]
    rows = _pearson_rows if method == "pearson" else lambda a, b: _pearson_rows(sps.rankdata(a, axis=1),
                                                                               sps.rankdata(b, axis=1))
    boot = np.empty(len(samples))
    lengths = np.array([len(s) for s in samples])
    for n in np.unique(lengths):  # resamples of one length at a time (clusters of unequal size differ)
        which = np.flatnonzero(lengths == n)
        idx = np.stack([samples[i] for i in which])
        boot[which] = rows(x[idx], y[idx])
    return float(rows(x[None], y[None])[0]), boot


def _p_value(method: str, x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    test = {"pearson": sps.pearsonr, "spearman": sps.spearmanr, "kendall": sps.kendalltau}[method]
    return float(test(x, y).pvalue)


def correlate(
    frame: pd.DataFrame,
    *,
    x: str | Sequence[str],
    y: str,
    by: str | Sequence[str] | None = None,
    cluster: str | Sequence[str] | None = None,
    methods: Sequence[str] = METHODS,
    n_boot: int = 2000,
    ci: float = 0.95,
    pooled: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Correlations of ``x`` and ``y`` with bootstrap confidence intervals, as a tidy table.

    Parameters
    ----------
    frame : DataFrame
    x : str or list of str
        Column(s) correlated with ``y``, one set of tests each (rows with NaN in x or y dropped).
    y : str
    by : str or list of str, optional
        Group columns: one set of rows per group, plus a pooled ``"all"`` row set when
        ``pooled`` is true.
    cluster : str or list of str, optional
        Resampling unit of the bootstrap: whole clusters (e.g. ``"transform"``) are drawn with
        replacement, so repeated seeds of one setting are not counted as independent evidence.
        Default: rows.
    methods : sequence of {"pearson", "spearman", "kendall"}
        Spearman and Kendall (tau-b) handle tied ranks.
    n_boot : int
        Bootstrap resamples; intervals are percentile intervals of level ``ci``.

    Returns
    -------
    DataFrame
        One row per x, group and method: ``x``, ``y``, ``group``, ``method``, ``estimate``, ``ci_low``,
        ``ci_high``, ``p_value`` (the usual test, which treats rows as independent),
        ``p_holm`` (Holm-adjusted over every row of the table), ``n``, ``n_clusters``.

    Raises
    ------
    ParameterError
        A group (or the pooled rows) has fewer than 3 rows, or, with ``cluster``, fewer than 2
        clusters: its bootstrap interval would have zero width; or ``x`` or ``y`` holds an infinite
        value (rows with NaN are left out).
    """
    from statsmodels.stats.multitest import multipletests

    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; choose from {METHODS}")
    xs_names = [x] if isinstance(x, str) else list(x)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    cl_cols = [cluster] if isinstance(cluster, str) else list(cluster or [])
    missing = [c for c in [*xs_names, y, *by_cols, *cl_cols] if c not in frame.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the frame (it has {list(frame.columns)})")
    if not 0 < ci < 1 or n_boot < 1:
        raise ValueError(f"need 0 < ci < 1 and n_boot >= 1, got ci={ci}, n_boot={n_boot}")
    rng = np.random.default_rng(seed)
    rows = []
    for x_name in xs_names:
        _check_finite_columns(frame.dropna(subset=[x_name, y]), [x_name, y])
    for x_name in xs_names:
        rows += _correlate_one(frame.dropna(subset=[x_name, y]), x_name, y, by_cols, cl_cols, methods, n_boot, ci,
                               pooled, rng)  # fmt: skip
    table = pd.DataFrame(rows)
    p = table["p_value"].to_numpy()
    ok = np.isfinite(p)
    table["p_holm"] = np.nan
    if ok.any():
        table.loc[ok, "p_holm"] = multipletests(p[ok], method="holm")[1]
    return table


def _check_finite_columns(data: pd.DataFrame, columns: Sequence[str]) -> None:
    """Every value of ``columns`` is a finite number (rows with NaN were dropped before): an infinite
    measure or accuracy would be silently kept as the largest rank, or break the fit."""
    from pixinfo.errors import ParameterError

    for c in dict.fromkeys(columns):
        try:
            values = data[c].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"column {c!r} must hold numbers, got dtype {data[c].dtype}") from None
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise ParameterError(f"column {c!r} must hold finite numbers (rows with NaN are left out), got "
                                 f"{values[bad[0]]} in row {data.index[bad[0]]!r} ({len(bad)} such rows)")


def _check_resamplable(n: int, n_clusters: int, group: str, x: str, y: str, cl_cols: list[str]) -> None:
    """A bootstrap interval needs resamples that can differ: at least 3 rows (with 2, every resample
    correlates 2 points, +-1 or undefined) and, when clustered, at least 2 clusters (with 1, every
    resample is the same data); otherwise the interval would have zero width."""
    from pixinfo.errors import ParameterError

    if n < MIN_ROWS:
        raise ParameterError(f"frame must have at least {MIN_ROWS} rows with finite {x!r} and {y!r} in every group "
                             f"(fewer give zero-width intervals), got {n} row{'s' * (n != 1)} in group {group!r}")
    if cl_cols and n_clusters < MIN_CLUSTERS:
        raise ParameterError(f"cluster {cl_cols} must give at least {MIN_CLUSTERS} clusters in every group (with one, "
                             f"every resample is the same data: a zero-width interval), got {n_clusters} cluster "
                             f"in group {group!r}")


def _correlate_one(data, x, y, by_cols, cl_cols, methods, n_boot, ci, pooled, rng) -> list[dict]:
    groups: list[tuple[str, pd.DataFrame]] = []
    if by_cols:
        for key, part in data.groupby(by_cols, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            groups.append((" / ".join(map(str, key)), part))
        if pooled:
            groups.append(("all", data))
    else:
        groups.append(("all", data))
    rows = []
    for name, part in groups:
        xs, ys = part[x].to_numpy(float), part[y].to_numpy(float)
        labels = part[cl_cols].astype(str).agg("|".join, axis=1).to_numpy() if cl_cols else np.arange(len(part))
        uniq, inverse = np.unique(labels, return_inverse=True)
        _check_resamplable(len(xs), len(uniq), name, x, y, cl_cols)
        members = [np.flatnonzero(inverse == k) for k in range(len(uniq))]
        draws = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
        samples = [np.concatenate([members[k] for k in d]) for d in draws] if cl_cols else list(draws)
        for method in methods:
            est, boot = _correlations(method, xs, ys, samples)
            finite = boot[np.isfinite(boot)]
            lo, hi = percentile_interval(finite, level=ci)
            rows.append({"x": x, "y": y, "group": name, "method": method, "estimate": float(est),
                         "ci_low": float(lo), "ci_high": float(hi), "p_value": _p_value(method, xs, ys),
                         "n": len(xs), "n_clusters": len(uniq), "n_boot_finite": len(finite)})  # fmt: skip
    return rows


@dataclass
class LossModel:
    """A fitted OLS model: coefficients with cluster-robust errors, R², partial R² per measure."""

    coefficients: pd.DataFrame
    r2: float
    partial_r2: dict[str, float]
    n: int
    n_clusters: int
    formula: str
    summary: str


def fit_loss_model(
    frame: pd.DataFrame,
    *,
    y: str,
    measures: Sequence[str],
    family: str | None = None,
    cluster: str | Sequence[str] | None = None,
) -> LossModel:
    """OLS of ``y`` on ``measures`` (each interacted with ``family`` when given).

    Standard errors are cluster-robust by ``cluster`` (e.g. transform setting; HC1 when None).
    The partial R² of a measure is (SSE without it − SSE with it) / SSE without it, where
    "without it" drops the measure and its interactions. Rows with NaN in ``y`` or a measure are
    left out; an infinite value raises [`ParameterError`][pixinfo.errors.ParameterError].
    """
    import statsmodels.formula.api as smf

    cols = [y, *measures] + ([family] if family else [])
    cl_cols = [cluster] if isinstance(cluster, str) else list(cluster or [])
    missing = [c for c in cols + cl_cols if c not in frame.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the frame")
    data = frame.dropna(subset=cols).copy()
    _check_finite_columns(data, [y, *measures])
    q = {c: f"Q({c!r})" for c in cols}  # formula quoting: any column name, any family level
    terms = {m: (f"{q[m]} * C({q[family]})" if family else q[m]) for m in measures}

    def formula(keep):
        rhs = " + ".join(terms[m] for m in keep)
        if family and not keep:
            rhs = f"C({q[family]})"
        elif family:
            rhs += f" + C({q[family]})"
        return f"{q[y]} ~ {rhs or '1'}"

    if cl_cols:
        groups = pd.factorize(data[cl_cols].astype(str).agg("|".join, axis=1))[0]
        fit_kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
        n_clusters = int(groups.max()) + 1
    else:
        fit_kw, n_clusters = {"cov_type": "HC1"}, len(data)
    full = smf.ols(formula(list(measures)), data).fit(**fit_kw)
    partial = {}
    for m in measures:
        reduced = smf.ols(formula([k for k in measures if k != m]), data).fit()
        partial[m] = float((reduced.ssr - full.ssr) / reduced.ssr) if reduced.ssr > 0 else float("nan")
    def readable(name: str) -> str:  # Q('structural_loss') -> structural_loss; nothing else is touched
        return re.sub(r"Q\((['\"])(.*?)\1\)", r"\2", name)

    ci = full.conf_int()
    coef = pd.DataFrame({"term": [readable(t) for t in full.params.index], "estimate": full.params.to_numpy(),
                         "std_error": full.bse.to_numpy(), "p_value": full.pvalues.to_numpy(),
                         "ci_low": ci[0].to_numpy(), "ci_high": ci[1].to_numpy()})  # fmt: skip
    return LossModel(coef, float(full.rsquared), partial, int(full.nobs), n_clusters, readable(full.model.formula),
                     readable(str(full.summary())))  # fmt: skip


__all__ = ["METHODS", "LossModel", "correlate", "fit_loss_model"]
