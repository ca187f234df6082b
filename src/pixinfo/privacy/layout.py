"""Layout solvers of the ciphertext-only attacks: position statistics, a structure test, and the
placement of encrypted positions (or blocks) on the grid by jigsaw-style growth and repair.

Everything works from the sufficient statistics of the ciphertexts: per-position means and the
covariance of the positions ([`position_stats`][pixinfo.privacy.layout.position_stats]), so the images are read once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import norm

from pixinfo._checks import check_finite, check_grid_shape, check_image_batch, check_nonnegative_int, check_rng, describe
from pixinfo.errors import ShapeError, WorkTooLargeError

MAX_POSITIONS = 16_384  # a 128x128 grid: one float64 (N, N) matrix of its positions is 2 GiB
MAX_MATRIX_ENTRIES = MAX_POSITIONS**2  # the most entries an (N, N)-sized array of a layout may hold


def check_grid_size(h: int, w: int, *, name: str, what: str, per_position: int = 1) -> int:
    """``N = h * w``, or a [`WorkTooLargeError`][pixinfo.errors.WorkTooLargeError] when ``what`` (``per_position``
    rows of ``N`` entries per position) would exceed ``MAX_MATRIX_ENTRIES`` (2 GiB of float64)."""
    n = h * w
    entries = per_position * n * n
    if entries > MAX_MATRIX_ENTRIES:
        raise WorkTooLargeError(
            f"{name} {h}x{w} gives {n:,} positions: {what} would hold {entries:,} entries "
            f"({entries * 8 / 2**30:,.1f} GiB of float64), over the bound of {MAX_MATRIX_ENTRIES:,} entries "
            f"({MAX_POSITIONS:,} positions for one N x N matrix); attack a smaller grid (e.g. blocks as pieces)")  # fmt: skip
    return n


@dataclass(frozen=True)
class PositionStats:
    """Means ``(N,)``, covariance ``(N, N)`` and correlation of the encrypted positions over ``n`` images."""

    mean: np.ndarray
    cov: np.ndarray
    n: int
    fingerprint: np.ndarray | None = None  # equal exactly for positions with identical values in every image

    @property
    def copies(self) -> np.ndarray:
        """Varying positions whose values repeat an earlier position's in every image (a non-bijective map)."""
        out = np.zeros(len(self.mean), bool)
        if self.fingerprint is None:
            return out
        seen: set[float] = set()
        for p in np.flatnonzero(self.varying):
            out[p] = self.fingerprint[p] in seen
            seen.add(float(self.fingerprint[p]))
        return out

    @property
    def varying(self) -> np.ndarray:
        """Positions whose value changes across the images."""
        return np.diag(self.cov) > 1e-12

    def correlation(self) -> np.ndarray:
        sd = np.sqrt(np.where(self.varying, np.diag(self.cov), 1.0))
        r = self.cov / np.outer(sd, sd)
        r[~self.varying] = 0
        r[:, ~self.varying] = 0
        np.fill_diagonal(r, 0)
        return r

    def partial_correlation(self, *, shrinkage: float = 0.05) -> np.ndarray:
        """Partial correlations from the shrunk precision matrix (zero diagonal)."""
        r = self.correlation()
        np.fill_diagonal(r, 1.0)
        p = np.linalg.inv((1 - shrinkage) * r + shrinkage * np.eye(len(r)))
        d = np.sqrt(np.diag(p))
        pc = -p / np.outer(d, d)
        np.fill_diagonal(pc, 0)
        pc[~self.varying] = 0
        pc[:, ~self.varying] = 0
        return pc


def position_stats(images: torch.Tensor, *, batch: int = 8192) -> PositionStats:
    """Per-position mean and covariance of a batch ``(B, C, H, W)`` (channels averaged), in float64.

    Examples
    --------
    >>> import torch
    >>> s = position_stats(torch.tensor([[[[0, 255]]], [[[255, 0]]]], dtype=torch.uint8))
    >>> s.correlation().round(3).tolist()
    [[0.0, -1.0], [-1.0, 0.0]]
    """
    images = check_image_batch(images)
    if images.ndim != 4 or len(images) < 2:
        raise ShapeError(f"images must be (B, C, H, W) with B >= 2, got {describe(images)}")
    check_grid_size(*images.shape[-2:], name="images of shape", what="the (N, N) covariance of the positions")
    b, n_pos = len(images), images.shape[-1] * images.shape[-2]
    total = np.zeros(n_pos)
    gram = np.zeros((n_pos, n_pos))
    weights = torch.rand(b, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fingerprint = np.zeros(n_pos)
    scale = 255.0 if images.dtype == torch.uint8 else 1.0
    for i in range(0, b, batch):
        x = images[i : i + batch].detach().cpu().to(torch.float32).mean(1).reshape(-1, n_pos) / scale
        total += x.sum(0).double().numpy()
        fingerprint += (weights[i : i + batch] @ x.double()).numpy()
        gram += (x.T @ x).double().numpy()
    mean = total / b
    cov = gram / b - np.outer(mean, mean)
    return PositionStats(mean, (cov + cov.T) / 2, b, fingerprint)


def structure_fraction(corr: np.ndarray, n: int, *, alpha: float = 0.01) -> float:
    """Share of positions whose strongest partner stands out (Bonferroni) from their typical correlation.

    Under "no shared key" every pair of positions is alike (each image has its own key), so the
    share is near 0; a shared rearrangement of natural images gives near 1.
    """
    m = len(corr)
    if m < 3:
        return 0.0
    z = norm.isf(alpha / (m * (m - 1)))
    # a correlation every pair shares (each image's brightness, kept by a per-image permutation)
    # is no key structure: a position counts when its strongest partner stands out from its median
    off = np.where(np.eye(m, dtype=bool), np.nan, corr)
    excess = np.nanmax(np.abs(off - np.nanmedian(off, axis=1, keepdims=True)), axis=1)
    return float((excess > z / np.sqrt(max(n - 3, 1))).mean())


_STEPS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # down, up, right, left
# second ring: diagonal cells (distance √2) count for, straight cells at distance 2 against
_SECOND = tuple(((dr, dc), 1.0) for dr in (1, -1) for dc in (1, -1)) + tuple(
    ((dr, dc), -1.0) for dr, dc in ((2, 0), (-2, 0), (0, 2), (0, -2))
)


def grow_layout(
    affinity: tuple[np.ndarray, ...],
    shape: tuple[int, int],
    *,
    seed_piece: int | None = None,
    second: np.ndarray | None = None,
    gamma: float = 0.0,
    fixed: dict[int, tuple[int, int]] | None = None,
) -> np.ndarray:
    """Place pieces on an H×W grid by best-first growth; returns ``layout[p]`` = piece at grid position p.

    ``affinity`` holds four ``(N, N)`` matrices for a piece b placed down, up, right and left of a
    piece a (``affinity[k][a, b]``); for undirected pixel affinities pass the same matrix four
    times. Growth starts from ``fixed`` (pieces already placed, at (row, col)) or from
    ``seed_piece`` (default: the piece with the largest total affinity) on a canvas twice the
    grid, always fills the free cell with the most placed neighbours whose best candidate beats
    the runner-up by the largest margin, and never lets the placed region outgrow H×W. With
    ``second`` (e.g. correlations), a piece also gains ``gamma · second`` towards placed pieces
    diagonal to the cell and loses it towards those two cells away in a straight line: it
    tells a neighbour's perpendicular partners from its opposite one.
    """
    h, w = shape
    n = h * w
    ch, cw = 2 * h + 1, 2 * w + 1
    score = np.zeros((n, ch * cw))
    count = np.zeros(ch * cw, int)
    free = np.ones(ch * cw, bool)
    unplaced = np.ones(n, bool)
    cell_of = np.zeros(n, int)
    rows, cols = np.divmod(np.arange(ch * cw), cw)
    ext = [ch, -1, cw, -1]

    def add(piece: int, r: int, c: int, steps, values, *, direct: bool) -> None:
        for ((dr, dc), weight), value in zip(steps, values, strict=True):
            if 0 <= r + dr < ch and 0 <= c + dc < cw:
                score[:, (r + dr) * cw + c + dc] += weight * value[piece]
                count[(r + dr) * cw + c + dc] += direct

    def place(piece: int, cell: int) -> None:
        unplaced[piece], free[cell], cell_of[piece] = False, False, cell
        r, c = divmod(cell, cw)
        ext[:] = [min(ext[0], r), max(ext[1], r), min(ext[2], c), max(ext[3], c)]
        add(piece, r, c, [(s, 1.0) for s in _STEPS], affinity, direct=True)
        if second is not None and gamma:
            add(piece, r, c, [(s, gamma * g) for s, g in _SECOND], [second] * len(_SECOND), direct=False)

    if fixed:
        r0 = h - (min(r for r, _ in fixed.values()) + max(r for r, _ in fixed.values())) // 2
        c0 = w - (min(c for _, c in fixed.values()) + max(c for _, c in fixed.values())) // 2
        for piece, (r, c) in fixed.items():
            place(int(piece), (r + r0) * cw + c + c0)
    else:
        place(int(np.argmax(affinity[0].sum(1))) if seed_piece is None else int(seed_piece), h * cw + w)
    while unplaced.any():
        fits = (np.maximum(rows, ext[1]) - np.minimum(rows, ext[0]) < h) & (np.maximum(cols, ext[3]) - np.minimum(cols, ext[2]) < w)
        allowed = free & (count > 0) & fits
        cells = np.flatnonzero(allowed & (count >= min(count[allowed].max(), 2)))
        pieces = np.flatnonzero(unplaced)
        sub = score[np.ix_(pieces, cells)]
        top = -np.partition(-sub, 1, axis=0)[:2] if len(pieces) > 1 else np.vstack([sub, sub - 1])
        j = int(np.argmax(top[0] - top[1]))
        place(int(pieces[int(np.argmax(sub[:, j]))]), int(cells[j]))
    r, c = np.divmod(cell_of, cw)
    layout = np.empty(n, int)
    layout[(r - ext[0]) * w + (c - ext[2])] = np.arange(n)
    return layout


def trusted_segment(affinity: np.ndarray, layout: np.ndarray, shape: tuple[int, int], *, top: int = 4) -> dict[int, tuple[int, int]]:
    """The largest patch of a layout that is very likely right: grid squares whose four sides all
    join mutual strong partners (each among the other's ``top`` strongest), connected through
    shared sides. A single false partnership cannot close a square, so seams between wrongly
    joined patches are cut. Returns piece -> (row, col) (empty when no square is trusted)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    h, w = shape
    partners = np.argsort(-affinity, 1)[:, :top]
    strong = np.zeros(affinity.shape, bool)
    np.put_along_axis(strong, partners, True, 1)
    mutual = strong & strong.T & (affinity > 0)
    g = layout.reshape(h, w)
    ok = (mutual[g[:-1, :-1], g[:-1, 1:]] & mutual[g[1:, :-1], g[1:, 1:]]
          & mutual[g[:-1, :-1], g[1:, :-1]] & mutual[g[:-1, 1:], g[1:, 1:]])  # fmt: skip
    grid = np.arange(h * w).reshape(h, w)
    corners = [grid[:-1, :-1][ok], grid[:-1, 1:][ok], grid[1:, 1:][ok], grid[1:, :-1][ok]]
    if not len(corners[0]):
        return {}
    a = np.concatenate(corners)
    b = np.concatenate(corners[1:] + corners[:1])
    _, labels = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(h * w, h * w)), directed=False)
    in_square = np.zeros(h * w, bool)
    in_square[a] = True
    counts = np.bincount(labels[in_square], minlength=labels.max() + 1)
    biggest = np.flatnonzero(in_square & (labels == counts.argmax()))
    return {int(layout[p]): divmod(int(p), w) for p in biggest}


def grid_neighbours(shape: tuple[int, int]) -> np.ndarray:
    """``(N, N)`` 0/1 matrix of 4-neighbour grid positions."""
    h, w = check_grid_shape(shape)
    check_grid_size(h, w, name="shape", what="grid_neighbours' (N, N) matrix")
    r, c = np.divmod(np.arange(h * w), w)
    return ((np.abs(r[:, None] - r[None]) + np.abs(c[:, None] - c[None])) == 1).astype(float)


def layout_score(affinity: np.ndarray, layout: np.ndarray, adjacency: np.ndarray) -> float:
    """Neighbour agreement of a layout: the affinity summed over grid-adjacent pairs (each once)."""
    return float((affinity[np.ix_(layout, layout)] * adjacency).sum() / 2)


def repair_layout(affinity: np.ndarray, layout: np.ndarray, adjacency: np.ndarray, *, rounds: int = 4, top: int = 6) -> np.ndarray:
    """Re-place the pieces that disagree with their grid neighbours by one linear assignment per round.

    A position is suspect when fewer than half of its grid neighbours hold one of its piece's
    ``top`` strongest partners; suspects are re-assigned among the suspect positions to maximise
    the affinity to their trusted (non-suspect) neighbours. A round that lowers
    ``layout_score`` is undone.
    """
    layout = layout.copy()
    partners = np.argsort(-affinity, 1)[:, :top]
    strong = np.zeros_like(affinity, bool)
    np.put_along_axis(strong, partners, True, 1)
    degree = adjacency.sum(1)
    for _ in range(rounds):
        agree = (strong[np.ix_(layout, layout)] * adjacency).sum(1)
        suspect = np.flatnonzero(agree * 2 < degree)
        if len(suspect) < 2:
            break
        keep = np.setdiff1d(np.arange(len(layout)), suspect)
        gain = affinity[layout[suspect]][:, layout[keep]] @ adjacency[np.ix_(keep, suspect)]
        rows, cols = linear_sum_assignment(-gain)
        new = layout.copy()
        new[suspect[cols]] = layout[suspect[rows]]
        if layout_score(affinity, new, adjacency) <= layout_score(affinity, layout, adjacency):
            break
        layout = new
    return layout


def neighbour_lists(shape: tuple[int, int]) -> np.ndarray:
    """``(H*W, 4)`` grid neighbours of each position (down, up, right, left; -1 off the grid)."""
    h, w = shape
    r, c = np.divmod(np.arange(h * w), w)
    out = np.full((h * w, len(_STEPS)), -1, np.int64)
    for k, (dr, dc) in enumerate(_STEPS):
        ok = (0 <= r + dr) & (r + dr < h) & (0 <= c + dc) & (c + dc < w)
        out[ok, k] = ((r + dr) * w + c + dc)[ok]
    return out


def refine_layout(
    affinity: np.ndarray,
    layout: np.ndarray,
    shape: tuple[int, int],
    *,
    iterations: int = 20_000,
    temperature: float = 0.3,
    seed: int | np.random.Generator = 0,
) -> tuple[np.ndarray, float]:
    """Raise a layout's neighbour agreement (``layout_score``) by iterated local search.

    Each iteration mirrors, half-turns, transposes or cyclically shifts a random rectangle of the
    grid (whole misplaced patches move at once), then swaps pairs of pieces while a swap gains,
    and keeps the result when the score rises, or falls by less than an annealed tolerance.
    ``temperature`` is in units of the typical strongest affinity of a piece (the mean of each
    row's maximum), falling linearly to 0. Returns the best layout met and its score.

    Examples
    --------
    >>> a = grid_neighbours((3, 3))  # the grid's own adjacency: the identity layout scores best
    >>> start = np.random.default_rng(0).permutation(9)
    >>> layout, score = refine_layout(a, start, (3, 3), iterations=200)
    >>> score == layout_score(a, np.arange(9), a)
    True
    """
    from pixinfo.privacy import _anneal

    h, w = check_grid_shape(shape)
    iterations = check_nonnegative_int(iterations, "iterations")
    temperature = check_finite(temperature, "temperature", low=0)
    a = np.ascontiguousarray(affinity, dtype=np.float64)
    layout = np.asarray(layout, dtype=np.int64)
    if a.shape != (h * w, h * w) or layout.shape != (h * w,):
        raise ShapeError(f"affinity and layout: expected ({h * w}, {h * w}) and ({h * w},) for a {h}x{w} grid, "
                         f"got {a.shape} and {layout.shape}")  # fmt: skip
    rng = check_rng(seed)
    draws = rng.integers(0, 2**31, size=(iterations, 5))
    strongest = a.max(1)
    unit = float(strongest[strongest > 0].mean()) if (strongest > 0).any() else 1.0
    best, score = _anneal.iterated_search(a, neighbour_lists(shape), layout.copy(), h, w, draws, rng.random(iterations),
                                          temperature * unit)  # fmt: skip
    return best, float(score)


def d4_maps(shape: tuple[int, int]) -> list[np.ndarray]:
    """Gather maps of the grid's symmetries (8 for a square grid, 4 otherwise), identity first.

    Examples
    --------
    >>> [m.tolist() for m in d4_maps((1, 2))]
    [[0, 1], [1, 0], [0, 1], [1, 0]]
    """
    h, w = shape
    idx = np.arange(h * w).reshape(h, w)
    if h == w:
        return [np.rot90(idx, k).ravel() if f == 0 else np.rot90(idx, k).T.ravel() for k in range(4) for f in (0, 1)]
    return [idx.ravel(), idx[:, ::-1].ravel(), idx[::-1].ravel(), idx[::-1, ::-1].ravel()]


def alignment_maps(shape: tuple[int, int]) -> np.ndarray:
    """``(K, H*W)`` gather maps of every grid symmetry combined with every cyclic shift.

    Positions that never vary (the blank border of MNIST-like images) cannot tell an attacker
    where the content sits, so a recovered layout is defined up to these maps; the identity is
    row 0.

    Examples
    --------
    >>> alignment_maps((2, 2)).shape
    (32, 4)
    """
    h, w = check_grid_shape(shape)
    k = 8 if h == w else 4  # the grid's symmetries
    check_grid_size(h, w, name="shape", what=f"alignment_maps' ({k} N, N) maps", per_position=k)
    grids = [g.reshape(h, w) for g in d4_maps((h, w))]
    return np.stack([np.roll(g, (dr, dc), axis=(0, 1)).ravel() for g in grids for dr in range(h) for dc in range(w)])
