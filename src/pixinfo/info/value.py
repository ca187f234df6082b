"""Value information retained per position over a dataset.

For each output position ``o`` the dataset gives pairs (original value at the
source of ``o``, transformed value at ``o``). Two statistics per position:

* ``"nmi"``: normalised mutual information ``I / mean(H_x, H_y)`` corrected
  for chance like the adjusted mutual information: the plug-in ``I`` of a
  finite sample is biased upwards (with 256 grey levels and a few thousand
  images an independent pair scores 0.3 and more), so the ``I`` of the same
  values with the pairing shuffled across images is subtracted:
  ``(I − I_shuffled) / (mean(H_x, H_y) − I_shuffled)``. A bijective value
  map (negation, a fixed XOR key) gives exactly 1, an independent one ≈ 0.
* ``"spearman"``: rank correlation with average ranks for ties (negation −1).

Values are quantised to ``levels`` grey levels (uint8 input is used as is
when ``levels == 256``). Positions where either side is constant over the
dataset have no defined statistic and give NaN.
"""

from __future__ import annotations

import math

import torch

from pixinfo._checks import (
    check_gather_index,
    check_image_batch,
    check_same_device,
    describe,
    is_integer,
)
from pixinfo.errors import DeviceError, ShapeError

METHODS = ("nmi", "spearman")
IMPLEMENTATIONS = ("auto", "fused", "reference")


def quantise(images: torch.Tensor, levels: int, *, dtype: torch.dtype = torch.long) -> torch.Tensor:
    """Integer grey levels ``0 .. levels-1`` of uint8 or [0, 1] float images, as ``dtype``.

    One policy for both dtypes: a float image is first put on the uint8 grid (``round(255 x)``,
    as ``pixinfo.data.to_uint8`` does), then ``levels`` equal bins of the 256 grey values are
    taken, so the same images as uint8 and as float get the same levels.

    Examples
    --------
    >>> import torch
    >>> u = torch.tensor([0, 15, 16, 128, 255], dtype=torch.uint8)
    >>> quantise(u, 16).tolist() == quantise(u.float() / 255, 16).tolist() == [0, 0, 1, 8, 15]
    True
    """
    if images.dtype == torch.uint8 and levels == 256:
        return images.to(dtype)
    v = images.long() if images.dtype == torch.uint8 else torch.round(images * 255).long()
    return (v if levels == 256 else (v * levels) // 256).to(dtype)


def _align(values: torch.Tensor, index: torch.Tensor | None) -> torch.Tensor:
    """``values`` (B, C, N) gathered by a shared ``(N,)`` or per-image ``(B, N)`` map."""
    if index is None:
        return values
    b, c, n = values.shape
    index = check_gather_index(index, n)
    if index.ndim == 1:
        return values[:, :, index]
    if index.shape != (b, n):
        raise ShapeError(f"index must be ({n},) or ({b}, {n}), got {describe(index)}")
    return torch.gather(values, 2, index[:, None, :].expand(b, c, n))


def _position_major(values: torch.Tensor, index: torch.Tensor | None) -> torch.Tensor:
    """``_align(values, index)`` transposed to ``(C*N, B)``, contiguous: one row per position.

    A shared map gathers whole rows after a single transpose (cheaper than gathering columns).
    """
    b, c, n = values.shape
    if index is None or index.ndim != 1:
        return _align(values, index).reshape(b, c * n).T.contiguous()
    rows = values.permute(1, 2, 0).contiguous()  # (C, N, B)
    return rows[:, check_gather_index(index, n)].reshape(c * n, b)


def _entropies(keys: torch.Tensor, span: int) -> torch.Tensor:
    """Plug-in entropy (nats) of each column of integer keys ``(n, P)`` in ``[0, span)``.

    Dense histograms when the sample fills them; otherwise only occupied cells
    are counted (sort + run lengths), which is cheaper for few images and 256²
    joint cells.
    """
    n, p = keys.shape
    flat = (keys + torch.arange(p, device=keys.device) * span).reshape(-1)
    if 4 * n >= span:
        counts = torch.bincount(flat, minlength=p * span).double()
        per_column = torch.xlogy(counts, counts).reshape(p, span).sum(1)
    else:
        cells, counts = torch.unique(flat, return_counts=True)
        per_column = torch.zeros(p, dtype=torch.float64, device=keys.device)
        per_column.scatter_add_(0, cells // span, torch.xlogy(counts.double(), counts.double()))
    return math.log(n) - per_column / n


def _shuffles(n: int, n_shuffles: int, generator: torch.Generator) -> torch.Tensor:
    """``(n_shuffles, n)`` permutations of the images, drawn one after another from ``generator``."""
    return torch.stack([torch.randperm(n, generator=generator) for _ in range(n_shuffles)])


def _adjusted_nmi(
    x: torch.Tensor, y: torch.Tensor, levels: int, n_shuffles: int, generator: torch.Generator
) -> torch.Tensor:
    hx, hy = _entropies(x, levels), _entropies(y, levels)
    shuffled = [
        _entropies(x * levels + y[perm], levels * levels)
        for perm in _shuffles(x.shape[0], n_shuffles, generator).to(x.device)
    ]
    return _nmi_from_entropies(hx, hy, _entropies(x * levels + y, levels * levels), torch.stack(shuffled))


def _adjusted_nmi_fused(
    x: torch.Tensor, y: torch.Tensor, levels: int, n_shuffles: int, generator: torch.Generator
) -> torch.Tensor:
    """As ``_adjusted_nmi`` (same shuffles) for position-major ``(P, n)`` levels:
    all histograms of a position in one compiled pass."""
    from pixinfo.info import _fused  # imports numba: only when a fused sum is asked for

    n = x.shape[1]
    entropies = math.log(n) - _fused.value_sums(x, y, levels, _shuffles(n, n_shuffles, generator)) / n
    return _nmi_from_entropies(entropies[:, 0], entropies[:, 1], entropies[:, 2], entropies[:, 3:].T)


def _nmi_from_entropies(
    hx: torch.Tensor, hy: torch.Tensor, hxy: torch.Tensor, shuffled: torch.Tensor
) -> torch.Tensor:
    """Chance-adjusted NMI from the entropies of x, y, (x, y) and of ``S`` shuffled pairings ``(S, P)``."""
    mi = hx + hy - hxy
    chance = (hx + hy - shuffled).sum(0) / shuffled.shape[0]
    out = (mi - chance) / ((hx + hy) / 2 - chance)
    return torch.where((hx > 0) & (hy > 0), out, torch.nan)


def _average_ranks(v: torch.Tensor, levels: int) -> torch.Tensor:
    """Average ranks (ties share their mean rank) of integer levels, per column."""
    n, p = v.shape
    offs = torch.arange(p, device=v.device) * levels
    counts = torch.bincount((v + offs).reshape(-1), minlength=p * levels).reshape(p, levels)
    below = torch.cumsum(counts, 1) - counts
    rank_of_level = below.double() + (counts.double() + 1) / 2
    return torch.gather(rank_of_level, 1, v.T).T


def _spearman(x: torch.Tensor, y: torch.Tensor, levels: int) -> torch.Tensor:
    rx, ry = _average_ranks(x, levels), _average_ranks(y, levels)
    rx = rx - rx.mean(0)
    ry = ry - ry.mean(0)
    return _correlation((rx * ry).sum(0), (rx * rx).sum(0), (ry * ry).sum(0))


def _correlation(sxy: torch.Tensor, sxx: torch.Tensor, syy: torch.Tensor) -> torch.Tensor:
    """``sxy / sqrt(sxx syy)`` from centred sums; NaN where either side is constant."""
    den = torch.sqrt(sxx * syy)
    return torch.where(den > 0, sxy / den.clamp(min=1e-300), torch.nan)


def _spearman_fused(x: torch.Tensor, y: torch.Tensor, levels: int) -> torch.Tensor:
    """As ``_spearman`` for position-major ``(P, n)`` levels, the rank sums in one compiled pass."""
    from pixinfo.info import _fused

    sums = _fused.value_sums(x, y, levels, None)
    return _correlation(sums[:, 0], sums[:, 1], sums[:, 2])


def value_retention(
    original: torch.Tensor,
    transformed: torch.Tensor,
    *,
    index: torch.Tensor | None = None,
    method: str = "nmi",
    levels: int = 256,
    n_shuffles: int = 2,
    seed: int = 0,
    positions_per_chunk: int = 128,
    implementation: str = "auto",
) -> torch.Tensor:
    """Per-position value retention between original and transformed images.

    Parameters
    ----------
    original, transformed : torch.Tensor
        Image batches ``(B, C, H, W)`` of the same shape, uint8 or float in
        [0, 1], on one device. ``B`` images form the sample at each position.
    index : torch.Tensor, optional
        Gather map aligning positions: output ``o`` is compared with original
        position ``index[o]``; ``(H*W,)`` shared by all images or ``(B, H*W)``
        one per image. ``None`` compares equal positions.
    method : {"nmi", "spearman"}
        Chance-adjusted normalised mutual information, or Spearman's rho.
    levels : int
        Grey levels the values are quantised to (2 .. 256).
    n_shuffles : int
        Shuffles averaged for the chance correction of ``"nmi"``.
    seed : int
        Seed of those shuffles.
    positions_per_chunk : int
        Positions histogrammed at once (about ``positions_per_chunk * levels**2``
        counters, plus images × this many keys). Positions of one chunk share
        their shuffles.
    implementation : {"auto", "fused", "reference"}
        ``"fused"``: each position's histograms or ranks in one compiled pass
        (numba, CPU threads, compiled on first use); ``"reference"``:
        vectorised torch (any device). ``"auto"``: fused on the CPU. Both give
        the same statistics to float64 rounding (the same shuffles).

    Returns
    -------
    torch.Tensor
        Shape ``(C, H, W)``, float64, NaN at positions constant on either side.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randint(0, 256, (500, 1, 4, 4), dtype=torch.uint8, generator=g)
    >>> float(value_retention(x, 255 - x, method="spearman").mean())
    -1.0
    >>> round(float(value_retention(x, 255 - x, method="nmi").mean()), 6)
    1.0
    """
    _check_value_inputs(original, transformed, index, method, levels, n_shuffles, implementation)
    levels, n_shuffles = int(levels), int(n_shuffles)  # NumPy integers too
    b, c, h, w = original.shape
    fused = original.device.type == "cpu"
    if implementation == "fused" and not fused:
        raise DeviceError(f"implementation='fused' runs on the CPU, got images on {original.device}")
    fused = fused and implementation != "reference"
    if fused:  # one row of uint8 levels per position, what the fused kernels read
        x = _position_major(quantise(original, levels, dtype=torch.uint8).reshape(b, c, h * w), index)
        y = _position_major(quantise(transformed, levels, dtype=torch.uint8).reshape(b, c, h * w), None)
    else:  # one column per position
        x = _align(quantise(original, levels).reshape(b, c, h * w), index).reshape(b, c * h * w)
        y = quantise(transformed, levels).reshape(b, c * h * w)
    generator = torch.Generator().manual_seed(seed)
    out = []
    for p0 in range(0, c * h * w, positions_per_chunk):
        chunk = slice(p0, p0 + positions_per_chunk)
        xs, ys = (x[chunk], y[chunk]) if fused else (x[:, chunk], y[:, chunk])
        if method == "nmi":
            out.append((_adjusted_nmi_fused if fused else _adjusted_nmi)(xs, ys, levels, n_shuffles, generator))
        else:
            out.append((_spearman_fused if fused else _spearman)(xs, ys, levels))
    return torch.cat(out).reshape(c, h, w)


def _check_value_inputs(
    original: object,
    transformed: object,
    index: torch.Tensor | None,
    method: object,
    levels: object,
    n_shuffles: object,
    implementation: object,
) -> None:
    original = check_image_batch(original, "original")
    transformed = check_image_batch(transformed, "transformed")
    check_same_device(original=original, transformed=transformed)
    if original.shape != transformed.shape:
        raise ShapeError(
            f"original and transformed must have the same shape, got "
            f"{tuple(original.shape)} and {tuple(transformed.shape)}"
        )
    if original.ndim != 4:
        raise ShapeError(f"images must be (B, C, H, W), got {describe(original)}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not is_integer(levels) or not 2 <= levels <= 256:
        raise ValueError(f"levels must be an int in [2, 256], got {levels!r}")
    if not is_integer(n_shuffles) or n_shuffles < 1:
        raise ValueError(f"n_shuffles must be a positive int, got {n_shuffles!r}")
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    if original.shape[0] < 2:
        raise ShapeError(f"value retention needs at least 2 images, got {original.shape[0]}")
    if index is not None:
        check_same_device(original=original, index=index)
