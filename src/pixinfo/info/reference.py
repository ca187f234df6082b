"""Straightforward O(N²) reference implementations of the measures.

They follow the measures' definitions literally (dense distance matrix, no tables, no FFT)
and exist to check the fast implementations and to serve as the baseline of
``analyses/bench_information.py``. Memory grows as N² per image.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def distance_matrix(h: int, w: int) -> np.ndarray:
    """Euclidean grid distances between all pairs of positions (row-major)."""
    yy, xx = np.divmod(np.arange(h * w), w)
    return np.hypot(yy[:, None] - yy[None, :], xx[:, None] - xx[None, :])


def weight_matrix(h: int, w: int, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``F[p, q] = f(d(p, q))`` with a zero diagonal."""
    d = distance_matrix(h, w)
    out = np.asarray(f(np.where(d > 0, d, 1.0)), dtype=np.float64)
    np.fill_diagonal(out, 0.0)
    return out


def structural_retention_reference(
    index: np.ndarray, h: int, w: int, f: Callable[[np.ndarray], np.ndarray]
) -> float:
    """``Σ_{o≠o'} f(d(o,o')) f(d(s(o),s(o'))) / Σ_{p≠q} f(d(p,q))²``."""
    weights = weight_matrix(h, w, f)
    return structural_retention_dense(index, weights)


def structural_retention_dense(index: np.ndarray, weights: np.ndarray, norm: float | None = None) -> float:
    """``<F, S F Sᵀ> / ||F||²`` with a precomputed ``F`` (and optionally ``||F||²``): one gather, one product."""
    s = np.asarray(index)
    if norm is None:
        norm = float((weights * weights).sum())
    return float((weights * weights[np.ix_(s, s)]).sum() / norm)


def neighbour_information_reference(
    image: np.ndarray, f: Callable[[np.ndarray], np.ndarray]
) -> float:
    """Moran's I of one ``(H, W)`` channel with weights ``f`` (NaN if constant)."""
    v = np.asarray(image, dtype=np.float64)
    h, w = v.shape
    weights = weight_matrix(h, w, f)
    z = v.reshape(-1) - v.mean()
    den = float(z @ z)
    if den == 0:
        return float("nan")
    return float(h * w / weights.sum() * (z @ weights @ z) / den)
