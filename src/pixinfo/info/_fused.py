"""Fused numba kernels (CPU): exact ``R`` of gather maps, value retention.

Imported lazily by ``pixinfo.info.structural`` on the first call that needs
it, so importing pixinfo neither imports numba nor compiles anything; each
kernel is compiled on its first call (and cached on disk where numba finds a
writable cache directory; a read-only install compiles once per process).

No pair table is ever materialised. Every unordered pair ``o < o'`` is visited
once (the ordered sum is twice that). A source position ``(y, x)`` is coded as
``c = y·(2w−1) + x``, so the source displacement of a pair indexes the signed
offset table ``S[dy + h−1, dx + w−1] = T[|dy|, |dx|]`` directly at
``c(o) − c(o') + (h−1)(2w−1) + (w−1)``: one load, one subtraction and one lookup
per pair; the output weights are read contiguously from rows of ``S``.

The all-pairs work is split into balanced jobs (output position ``k`` with
``n−1−k``: together ``n−1`` pairs), the cutoff work into one job per output
row; each job's partial sum is stored and the partials of a map are added in a
fixed order, so a result does not depend on the number of threads. Only
reassociation and contraction (FMA) are allowed (``fastmath``): the inner sums
vectorise and change by float64 rounding only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np
import torch

_FAST = {"reassoc", "contract"}
_PARALLEL = {"parallel": True, "nogil": True, "fastmath": _FAST, "error_model": "numpy"}
SERIAL_PAIRS = 1 << 21
"""Below this many pairs a call runs on one thread (waking threads costs more)."""
EXPANDED_BYTES = 4 << 20
"""Output weights expanded to ``(w, h*w)`` (one contiguous inner loop) up to this size."""


def _jit(**options) -> Callable:
    """``numba.njit`` with an on-disk cache where numba can write one, without otherwise."""

    def decorate(fn: Callable) -> Callable:
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError:  # "no locator available": no writable cache directory
            return numba.njit(cache=False, **options)(fn)

    return decorate


@_jit(inline="always", fastmath=_FAST, error_model="numpy")
def _pairs_after(o, code, table, weights, expanded, h, w, centre):  # pragma: no cover - compiled
    """``Σ_{o' > o} F[o, o'] · F[s(o), s(o')]`` for one output position ``o``.

    ``weights`` holds the output weights: if ``expanded``, ``(w, h*w)`` with
    ``weights[x, dy*w + x'] = T[dy, |x' − x|]``, so that one contiguous loop runs
    over every ``o' > o``; else the rows ``weights[dy, w−1+dx] = T[dy, |dx|]``
    of ``S``, one loop per output row. Indices are unsigned, so numba adds no
    negative-index test to the inner loops.
    """
    oy = o // w
    base = code[np.uint64(o)] + centre
    acc = 0.0
    if expanded:
        row = weights[np.uint64(o - oy * w)]
        for q in range(o + 1, h * w):
            acc += row[np.uint64(q - oy * w)] * table[np.uint64(base - code[np.uint64(q)])]
        return acc
    shift = w - 1 - (o - oy * w)
    for qy in range(oy, h):
        row = weights[np.uint64(qy - oy)]
        first = qy * w
        for q in range(o + 1 if qy == oy else first, first + w):
            acc += row[np.uint64(q - first + shift)] * table[np.uint64(base - code[np.uint64(q)])]
    return acc


@_jit(**_PARALLEL)
def all_pairs(code, table, weights, expanded, h, w):  # pragma: no cover - compiled
    """Numerators ``Σ_{o≠o'} F[o,o'] F[s(o),s(o')]`` of a batch of maps, over all pairs.

    ``code``: ``(B, n)`` int32 source codes; ``table``: flat ``S``; ``weights``,
    ``expanded``: the output weights (see ``_pairs_after``). Returns ``(B,)`` float64.
    """
    b, n = code.shape
    half = (n + 1) // 2
    centre = (h - 1) * (2 * w - 1) + (w - 1)
    part = np.empty(b * half)
    for job in numba.prange(b * half):
        m = job // half
        k = job - m * half
        acc = _pairs_after(k, code[m], table, weights, expanded, h, w, centre)
        if n - 1 - k != k:
            acc += _pairs_after(n - 1 - k, code[m], table, weights, expanded, h, w, centre)
        part[job] = acc
    return _twice_per_map(part, b, half)


@_jit(**_PARALLEL)
def local_pairs(code, table, offsets, weights, h, w):  # pragma: no cover - compiled
    """Numerators over the pairs within a cutoff only, ``O(n · len(offsets))``.

    ``offsets``: ``(K, 2)`` int64 output offsets ``(dy, dx)`` of one half-plane
    (``dy > 0``, or ``dy == 0 < dx``); ``weights``: their ``T[dy, |dx|]``. One
    job per map and output row.
    """
    b = code.shape[0]
    centre = (h - 1) * (2 * w - 1) + (w - 1)
    part = np.empty(b * h)
    for job in numba.prange(b * h):
        m = job // h
        y = job - m * h
        src = code[m]
        acc = 0.0
        for k in range(offsets.shape[0]):
            dy, dx = offsets[k, 0], offsets[k, 1]
            if y + dy < h:
                step = dy * w + dx
                s = 0.0
                for p in range(y * w + max(0, -dx), y * w + min(w, w - dx)):
                    s += table[np.uint64(centre + src[np.uint64(p)] - src[np.uint64(p + step)])]
                acc += weights[k] * s
        part[job] = acc
    return _twice_per_map(part, b, h)


@_jit(fastmath=_FAST, error_model="numpy")
def _twice_per_map(part, b, jobs):  # pragma: no cover - compiled
    """Twice the sum of each map's ``jobs`` consecutive partials (in a fixed order)."""
    out = np.empty(b)
    for m in range(b):
        out[m] = 2.0 * np.sum(part[m * jobs : (m + 1) * jobs])
    return out


_BLOCK = 16  # positions per job of the value kernels (they share one histogram buffer)


@_jit(inline="always", error_model="numpy")
def _xlogx(keys, cells):  # pragma: no cover - compiled
    """``Σ c·log c`` over the histogram of ``keys``; ``cells`` (all zero) is left all zero."""
    for k in keys:
        cells[k] += 1
    acc = 0.0
    for k in keys:
        c = cells[k]
        if c > 0:
            acc += c * np.log(c)
            cells[k] = 0
    return acc


@_jit(**_PARALLEL)
def count_entropy_sums(x, y, perms, levels):  # pragma: no cover - compiled
    """``Σ c·log c`` of each position's histograms: ``x``, ``y``, ``(x, y)`` and ``(x, y[perm])``.

    ``x``, ``y``: ``(P, n)`` uint8 levels, one row per position; ``perms``: ``(S, n)``
    int64 shuffles of the images. Returns ``(P, 3 + S)``.
    """
    positions, n = x.shape
    shuffles = perms.shape[0]
    out = np.empty((positions, 3 + shuffles))
    for block in numba.prange((positions + _BLOCK - 1) // _BLOCK):
        cells = np.zeros(levels * levels, np.int32)
        for p in range(block * _BLOCK, min(positions, (block + 1) * _BLOCK)):
            xs, ys = x[p], y[p]
            joint = xs.astype(np.int32) * levels
            out[p, 0] = _xlogx(xs, cells)
            out[p, 1] = _xlogx(ys, cells)
            out[p, 2] = _xlogx(joint + ys, cells)
            for s in range(shuffles):
                out[p, 3 + s] = _xlogx(joint + ys[perms[s]], cells)
    return out


@_jit(inline="always", error_model="numpy")
def _centred_ranks(v, levels, middle):  # pragma: no cover - compiled
    """Average rank of each level (ties share their mean rank) minus ``middle``."""
    counts = np.zeros(levels, np.int64)
    for k in v:
        counts[k] += 1
    ranks = np.empty(levels)
    below = 0
    for k in range(levels):
        ranks[k] = below + (counts[k] + 1) / 2 - middle
        below += counts[k]
    return ranks


@_jit(**_PARALLEL)
def rank_sums(x, y, levels):  # pragma: no cover - compiled
    """``(Σ r_x r_y, Σ r_x², Σ r_y²)`` of the centred average ranks of each position, ``(P, 3)``."""
    positions, n = x.shape
    out = np.empty((positions, 3))
    for p in numba.prange(positions):
        rx = _centred_ranks(x[p], levels, (n + 1) / 2)
        ry = _centred_ranks(y[p], levels, (n + 1) / 2)
        sxy = sxx = syy = 0.0
        for i in range(n):
            a, b = rx[x[p, i]], ry[y[p, i]]
            sxy += a * b
            sxx += a * a
            syy += b * b
        out[p, 0], out[p, 1], out[p, 2] = sxy, sxx, syy
    return out


@contextmanager
def _threads(pairs: int) -> Iterator[None]:
    """Run on ``min(torch.get_num_threads(), NUMBA_NUM_THREADS)`` threads (one for small work).

    numba's thread count is per calling thread; it is restored afterwards, and so is torch's: with
    numba's OpenMP threading layer both share one OpenMP runtime, whose first parallel region
    would otherwise leave torch on numba's thread count (a library call never changes torch's).
    """
    torch_before = torch.get_num_threads()
    wanted = 1 if pairs < SERIAL_PAIRS else min(torch_before, numba.config.NUMBA_NUM_THREADS)
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, wanted))
    try:
        yield
    finally:
        numba.set_num_threads(before)
        if torch.get_num_threads() != torch_before:
            torch.set_num_threads(torch_before)


@dataclass(frozen=True)
class GridConstants:
    """Read-only inputs of ``all_pairs`` or ``local_pairs`` for one kernel on one grid.

    ``signed``: the flat signed table ``S[dy + h−1, dx + w−1] = T[|dy|, |dx|]``.
    All pairs: ``weights`` are the output weights, ``expanded`` says which
    layout (see ``_pairs_after``). Within a cutoff: ``offsets`` ``(K, 2)`` and
    ``weights`` ``(K,)`` their ``T[dy, |dx|]``.
    """

    h: int
    w: int
    signed: np.ndarray
    weights: np.ndarray
    expanded: bool = False
    offsets: np.ndarray | None = None


def grid_constants(table: np.ndarray, offsets: list[tuple[int, int]] | None) -> GridConstants:
    """``GridConstants`` from the ``(h, w)`` float64 offset table ``T`` and the half-plane
    offsets within a cutoff (None: all pairs)."""
    h, w = table.shape
    rows = np.concatenate([table[:, :0:-1], table], axis=1)  # rows[dy, w-1+dx] = T[dy, |dx|]
    signed = np.concatenate([rows[:0:-1], rows], axis=0).reshape(-1)
    half = None
    if offsets is not None:
        half = np.array(offsets, dtype=np.int64).reshape(-1, 2)
        weights, expanded = table[half[:, 0], np.abs(half[:, 1])], False
    elif h * w * w * 8 <= EXPANDED_BYTES:  # weights[x0, dy*w + x] = T[dy, |x - x0|]
        weights = np.stack([rows[:, w - 1 - x0 : 2 * w - 1 - x0].reshape(-1) for x0 in range(w)])
        expanded = True
    else:
        weights, expanded = rows, False
    arrays = [np.ascontiguousarray(a) for a in (signed, weights, half) if a is not None]
    for a in arrays:
        a.setflags(write=False)
    return GridConstants(h, w, arrays[0], arrays[1], expanded, arrays[2] if half is not None else None)


def numerator(flat: torch.Tensor, grid: GridConstants) -> torch.Tensor:
    """Float64 numerators of ``(B, n)`` gather maps on the CPU.

    numpy (not torch) prepares the codes: it adds no thread pool of its own.
    """
    h, w = grid.h, grid.w
    src = flat.detach().numpy()
    code = np.ascontiguousarray((src // w) * (2 * w - 1) + src % w, dtype=np.int32)
    b, n = code.shape
    if grid.offsets is None:
        with _threads(b * n * (n - 1) // 2):
            out = all_pairs(code, grid.signed, grid.weights, grid.expanded, h, w)
    else:
        with _threads(b * n * len(grid.offsets)):
            out = local_pairs(code, grid.signed, grid.offsets, grid.weights, h, w)
    return torch.from_numpy(out)


def value_sums(x: torch.Tensor, y: torch.Tensor, levels: int, perms: torch.Tensor | None) -> torch.Tensor:
    """Per-position sums of ``(P, n)`` uint8 levels (one row per position): ``count_entropy_sums``
    with the ``(S, n)`` shuffles ``perms``, or ``rank_sums`` when ``perms`` is None. ``(P, k)`` float64."""
    xs = np.ascontiguousarray(x.detach().numpy(), dtype=np.uint8)
    ys = np.ascontiguousarray(y.detach().numpy(), dtype=np.uint8)
    positions, n = xs.shape
    if perms is None:
        with _threads(positions * n):
            return torch.from_numpy(rank_sums(xs, ys, levels))
    order = np.ascontiguousarray(perms.detach().numpy(), dtype=np.int64)
    with _threads(positions * n * (3 + len(order))):
        return torch.from_numpy(count_entropy_sums(xs, ys, order, levels))
