"""Compiled kernels of [`pixinfo.privacy.layout.refine_layout`][pixinfo.privacy.layout.refine_layout]: iterated local search over
grid layouts (rectangle moves, then best-swap descent) with annealed acceptance.

A layout ``L`` puts piece ``L[p]`` at grid position ``p``; its score is the affinity summed over
grid-adjacent pairs (``nbr``: each position's up to four neighbours, -1 where there is none).
All randomness comes in as arrays drawn by the caller, so the kernels hold no random state.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _swap_gain(a, nbr, layout, r, s):
    """Change of the score when the pieces at positions r and s trade places."""
    pr, ps = layout[r], layout[s]
    gain = 0.0
    for k in range(nbr.shape[1]):
        q = nbr[r, k]
        if q >= 0 and q != s:
            gain += a[ps, layout[q]] - a[pr, layout[q]]
        q = nbr[s, k]
        if q >= 0 and q != r:
            gain += a[pr, layout[q]] - a[ps, layout[q]]
    return gain


@numba.njit(cache=True)
def score(a, nbr, layout):
    """The affinity summed over grid-adjacent pairs, each pair once."""
    total = 0.0
    for p in range(len(layout)):
        for k in range(nbr.shape[1]):
            q = nbr[p, k]
            if q > p:
                total += a[layout[p], layout[q]]
    return total


@numba.njit(cache=True)
def descend(a, nbr, layout, dirty):
    """Best-swap descent in place: each dirty position takes the partner swap that gains most;
    a swap makes both positions and their neighbours dirty again. Ends when no dirty position gains."""
    n = len(layout)
    moved = True
    while moved:
        moved = False
        for r in range(n):
            if not dirty[r]:
                continue
            dirty[r] = False
            best, partner = 1e-12, -1
            for s in range(n):
                if s != r:
                    g = _swap_gain(a, nbr, layout, r, s)
                    if g > best:
                        best, partner = g, s
            if partner < 0:
                continue
            layout[r], layout[partner] = layout[partner], layout[r]
            moved = True
            dirty[r] = True
            dirty[partner] = True
            for k in range(nbr.shape[1]):
                if nbr[r, k] >= 0:
                    dirty[nbr[r, k]] = True
                if nbr[partner, k] >= 0:
                    dirty[nbr[partner, k]] = True


@numba.njit(cache=True)
def _rectangle_move(src, out, dirty, w, r0, c0, bh, bw, op):
    """``out`` = ``src`` with one rectangle mirrored, rotated by a half turn, cyclically shifted by
    one cell along an axis, or transposed (square rectangles only); its cells become dirty."""
    out[:] = src
    for i in range(bh):
        for j in range(bw):
            si, sj = i, j
            if op == 0:
                sj = bw - 1 - j
            elif op == 1:
                si = bh - 1 - i
            elif op == 2:
                si, sj = bh - 1 - i, bw - 1 - j
            elif op == 3:
                sj = (j + 1) % bw
            elif op == 4:
                si = (i + 1) % bh
            elif op == 5:
                sj = (j + bw - 1) % bw
            elif op == 6:
                si = (i + bh - 1) % bh
            else:
                si, sj = j, i
            out[(r0 + i) * w + c0 + j] = src[(r0 + si) * w + c0 + sj]
            dirty[(r0 + i) * w + c0 + j] = True


@numba.njit(cache=True)
def iterated_search(a, nbr, layout, h, w, draws, uniforms, temperature):
    """Descend, then per draw: a rectangle move and descent, kept when the score rises or (annealed,
    temperature falling linearly to 0) falls by less than ``-temperature * log(uniform)``.
    Returns the best layout met and its score."""
    n = len(layout)
    current = layout.copy()
    dirty = np.ones(n, np.bool_)
    descend(a, nbr, current, dirty)
    current_score = score(a, nbr, current)
    best, best_score = current.copy(), current_score
    candidate = current.copy()
    steps = draws.shape[0]
    for it in range(steps):
        bh, bw = 1 + draws[it, 0] % h, 1 + draws[it, 1] % w
        op = draws[it, 4] % (8 if bh == bw else 7)
        _rectangle_move(current, candidate, dirty, w, draws[it, 2] % (h - bh + 1), draws[it, 3] % (w - bw + 1), bh, bw, op)
        descend(a, nbr, candidate, dirty)
        s = score(a, nbr, candidate)
        t = temperature * (1.0 - it / steps)
        if s >= current_score - 1e-12 or (t > 0 and s > current_score + t * np.log(uniforms[it])):
            current[:] = candidate
            current_score = s
            if s > best_score:
                best[:] = current
                best_score = s
    return best, best_score
