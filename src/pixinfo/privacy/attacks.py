"""Ciphertext-only attacks: from encrypted images alone (no plaintext, no key) to an estimated inverse.

The attacker knows the scheme (Kerckhoffs: the transform's family and public parameters such as
the block size) but not the key. Each attack returns a [`RecoveredKey`][pixinfo.privacy.attacks.RecoveredKey] whose
[`decrypt`][pixinfo.privacy.attacks.RecoveredKey.decrypt] undoes the estimated key, and whose ``found`` says whether the
ciphertexts showed any key structure at all (keyless transforms must report none).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from scipy.stats import binom

from pixinfo._checks import check_image_batch, check_nonnegative_int, check_rng, check_seed, describe
from pixinfo.data import to_uint8
from pixinfo.errors import ParameterError, ShapeError, UnsupportedSchemeError, ValueRangeError
from pixinfo.privacy.layout import (
    PositionStats,
    d4_maps,
    grid_neighbours,
    grow_layout,
    layout_score,
    position_stats,
    refine_layout,
    repair_layout,
    structure_fraction,
    trusted_segment,
)
from pixinfo.transforms import (
    BlockScramble,
    Compose,
    GatherTransform,
    LevelMap,
    LevelPermutation,
    MonotoneMap,
    Negative,
    PerImagePermutation,
    PerImageXor,
    Transform,
    XorKey,
    invert_gather,
)
from pixinfo.transforms.permutation import Identity, InverseGather

FOUND_FRACTION = 0.5  # share of positions with significant structure above which a key counts as found


@dataclass(frozen=True, init=False)
class RecoveredKey:
    """An estimated key, held as the transform that decrypts with it.

    The attacker's decryption is a pixinfo [`Transform`][pixinfo.transforms.base.Transform]:
    [`inverse`][pixinfo.privacy.attacks.RecoveredKey.inverse] returns it (a value key undone
    ``first``, then ``decryption``, then the ``fill`` of lost pixels), and
    [`decrypt`][pixinfo.privacy.attacks.RecoveredKey.decrypt] applies it. Where the estimate has
    a forward form, [`transform`][pixinfo.privacy.attacks.RecoveredKey.transform] is the estimated
    encryption (the decryption's own inverse).

    Attributes
    ----------
    decryption : Transform
        The estimated decryption: a [`GatherTransform`][pixinfo.transforms.permutation.GatherTransform]
        (output p takes the encrypted pixel believed to hold grid position p), an
        [`XorKey`][pixinfo.transforms.value.XorKey], a [`LevelMap`][pixinfo.transforms.value.LevelMap]
        (encrypted level to plain level), the inverse of an estimated cipher or a learned map.
        When nothing was found, the identity of the scheme's kind (what "no recovery" is scored as).
    found : bool
        False when the ciphertexts showed no structure a shared key would leave.
    confidence : float
        Share of positions with significant structure (see [`structure_fraction`][pixinfo.privacy.layout.structure_fraction]).
    info : dict
        Attack-specific details (e.g. the threat model, the number of images, the solver that won).
    sources : numpy.ndarray or None
        Rearrangements, where the attack estimates it: the plain source of every encrypted position
        (copies of one source share it).
    fill : LinearFill or None
        Rearrangements: predicts the plain positions that no encrypted position holds (a
        non-bijective key), applied after ``decryption``.
    first : RecoveredKey or None
        A key undone before this one (e.g. the block-wise negation of a block cipher).

    Examples
    --------
    >>> import torch
    >>> from pixinfo.transforms import FixedPermutation
    >>> t = FixedPermutation((4, 4), seed=1)
    >>> key = RecoveredKey(t.inverse())
    >>> x = torch.rand(2, 1, 4, 4)
    >>> torch.equal(key.decrypt(t(x)), x), key.transform is t
    (True, True)
    """

    decryption: Transform
    found: bool
    confidence: float
    info: dict[str, Any]
    sources: np.ndarray | None
    fill: Any
    first: RecoveredKey | None

    def __init__(self, decryption: Transform | str, found: bool = True, confidence: float = 1.0,
                 inverse: np.ndarray | None = None, *, bits: int = 8, info: dict[str, Any] | None = None,
                 sources: np.ndarray | None = None, fill: Any = None, first: RecoveredKey | None = None) -> None:  # fmt: skip
        if isinstance(decryption, str):  # the earlier form RecoveredKey(kind, found, confidence, inverse, bits=...)
            decryption = _earlier_form(decryption, inverse, bits)
        if not isinstance(decryption, Transform):
            raise ParameterError(f"decryption: expected a pixinfo Transform, got {type(decryption).__name__}")
        fields = {"decryption": decryption, "found": bool(found), "confidence": float(confidence),
                  "info": dict(info or {}), "sources": sources, "fill": fill, "first": first}  # fmt: skip
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def inverse(self) -> Transform:
        """The attacker's decryption as one transform (the identity when nothing was found)."""
        if not self.found:
            return Identity()
        parts = [*([self.first.inverse()] if self.first is not None else []), self.decryption,
                 *([self.fill] if self.fill is not None else [])]  # fmt: skip
        return parts[0] if len(parts) == 1 else Compose(parts)

    @property
    def transform(self) -> Transform:
        """The estimated encryption: the decryption's own inverse.

        Raises
        ------
        NotInvertibleError
            The estimate has no forward form (a map that merges pixels or levels, a learned map).
        """
        return self.inverse().inverse()

    def decrypt(self, images: torch.Tensor) -> torch.Tensor:
        """The attacker's decryption of ``images`` (same dtype and device; unchanged when nothing was found)."""
        return self.inverse()(images)

    def aligned(self, symmetry: np.ndarray) -> RecoveredKey:
        """A rearrangement key composed with a grid symmetry (output p takes what position symmetry[p] held)."""
        if not isinstance(self.decryption, GatherTransform) or self.sources is not None:
            return self  # not a rearrangement, or a key that places every source (public images or pairs fixed the grid's orientation)
        index = self.decryption.index[torch.as_tensor(symmetry)]
        return replace(self, decryption=gather_key(index.numpy(), shape=self.decryption.grid))


def gather_key(inverse: np.ndarray, *, shape: tuple[int, ...]) -> GatherTransform:
    """The decryption of a rearrangement key: output p takes encrypted pixel ``inverse[p]`` (an
    exact inverse exists when ``inverse`` is a permutation)."""
    index = torch.as_tensor(np.asarray(inverse, dtype=np.int64))
    bijective = bool(len(torch.unique(index)) == len(index))
    return InverseGather(GatherTransform(shape, invert_gather(index))) if bijective else GatherTransform(shape, index, bijective=False)


def unmoved(shape: tuple[int, int]) -> GatherTransform:
    """The rearrangement key that moves nothing: what "no recovery" of a rearrangement decrypts with."""
    return gather_key(np.arange(shape[0] * shape[1]), shape=shape)


def xor_key(key: np.ndarray, *, bits: int = 8) -> XorKey:
    """The decryption of an XOR key ``(C, H, W)`` (its own inverse with 8 bits)."""
    key = torch.as_tensor(np.asarray(key, dtype=np.uint8))
    return XorKey(tuple(key.shape), bits=bits, key=key)


def levels_key(table: np.ndarray) -> LevelMap:
    """The decryption of a grey-level key: encrypted level -> plain level ``table[level]``."""
    return LevelMap(torch.as_tensor(np.asarray(table, dtype=np.int64)))


def _earlier_form(kind: str, inverse: np.ndarray | None, bits: int) -> Transform:
    """The decryption that ``RecoveredKey(kind, found, confidence, inverse)`` described."""
    if inverse is None:
        return Identity()
    if kind == "gather":
        side = int(round(np.sqrt(len(inverse))))
        return gather_key(inverse, shape=(side, len(inverse) // side))
    if kind == "xor":
        return xor_key(inverse, bits=bits)
    if kind == "levels":
        return levels_key(inverse)
    raise ValueRangeError(f"kind: expected 'gather', 'xor' or 'levels' with an array key, got {kind!r}")


def _check_ciphertexts(ciphertexts: object, name: str = "ciphertexts", *, min_images: int = 8) -> torch.Tensor:
    ciphertexts = check_image_batch(ciphertexts, name)
    if ciphertexts.ndim != 4 or len(ciphertexts) < min_images:
        raise ShapeError(f"{name}: expected (B, C, H, W) with B >= {min_images} images, got {describe(ciphertexts)}")
    return ciphertexts


GAMMAS = (0.0, 0.1, 0.3)  # weights of the second-ring correlations tried by the growth
SEEDS = 2  # growth restarts from the pieces with the largest total affinity
REGROW_ROUNDS = 15
# iterated local search after growth: 20,000 iterations take ~1 s on an 8x8 grid and lift a fixed
# permutation of 300 digits from ~47% to ~86% exact; on 28x28 3,000 iterations took 40 s and
# gained nothing, so larger grids are not refined by default
REFINE_ITERATIONS = 20_000
REFINE_MAX_POSITIONS = 256
REFINE_RESTARTS = 2


def _refine_budget(positions: int, refine: int | None) -> int:
    """Iterations of layout refinement: ``refine`` when given, else the default for the grid's size."""
    if refine is None:
        return REFINE_ITERATIONS if positions <= REFINE_MAX_POSITIONS else 0
    return check_nonnegative_int(refine, "refine")


def _regrow(a: np.ndarray, corr: np.ndarray, layout: np.ndarray, shape: tuple[int, int], gamma: float) -> np.ndarray:
    """Grow again from the layout's largest trusted patch until the patch stops growing."""
    size = 0
    for _ in range(REGROW_ROUNDS):
        segment = trusted_segment(a, layout, shape)
        if len(segment) <= size:
            break
        size = len(segment)
        layout = grow_layout((a,) * 4, shape, second=corr, gamma=gamma, fixed=segment)
    return layout


def _pixel_layout(pc: np.ndarray, corr: np.ndarray, shape: tuple[int, int], *, iterations: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Best layout by neighbour agreement among growth restarts and the identity, each regrown
    from its trusted patch and repaired; the winner is then refined by iterated local search."""
    a = np.clip(pc, 0, None)
    adj = grid_neighbours(shape)
    score = lambda layout: layout_score(a, layout, adj)  # noqa: E731
    seeds = np.argsort(-a.sum(1))[:SEEDS]
    grown = [(grow_layout((a,) * 4, shape, second=corr, gamma=g, seed_piece=int(s)), g) for g in GAMMAS for s in seeds]
    layout, gamma = max(grown, key=lambda t: score(t[0]))
    identity = np.arange(len(a))
    candidates = {"growth": _regrow(a, corr, layout, shape, gamma), "identity": identity,
                  "identity regrown": _regrow(a, corr, identity, shape, gamma)}  # fmt: skip
    candidates = {k: repair_layout(a, v, adj) for k, v in candidates.items()}
    scores = {k: score(v) for k, v in candidates.items()}
    best = max(scores, key=scores.get)
    info = {"solver": best, "gamma": gamma, "neighbour_agreement": scores}
    if iterations <= 0:
        return candidates[best], info
    refined = [refine_layout(a, candidates[best], shape, iterations=iterations, seed=rng) for _ in range(REFINE_RESTARTS)]
    layout, refined_score = max(refined, key=lambda t: t[1])
    if refined_score <= scores[best]:
        return candidates[best], info
    return layout, info | {"solver": f"{best} refined", "refined_agreement": refined_score}


def attack_rearrangement(ciphertexts: torch.Tensor, *, shrinkage: float = 0.05, refine: int | None = None,
                         seed: int | np.random.Generator = 0) -> RecoveredKey:
    """Recover a shared pixel rearrangement from ciphertexts alone.

    Encrypted positions that were grid neighbours are found by their partial correlation across
    images; the positions are then placed on the grid by jigsaw-style growth from the strongest
    neighbours (restarts with several weights of the second-ring correlations), grown again from
    the largest trusted patch (``trusted_segment``) until it stops
    growing, and repaired by linear assignment. The identity layout (right for schemes that move
    few pixels: partial permutations, swaps, weak vortices), treated alike, competes; the layout
    whose neighbours agree most wins, and is refined by ``refine`` iterations of iterated local
    search ([`refine_layout`][pixinfo.privacy.layout.refine_layout], two restarts drawn from ``seed``).
    By default grids of at most 256 positions get 20,000 iterations and larger grids none: on
    28x28 images the search was slow and gained nothing.
    The result is defined up to the grid's symmetries (see [`pixinfo.privacy.align_symmetry`][pixinfo.privacy.measures.align_symmetry]).

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import PerImagePermutation
    >>> x = load_dataset("digits").train.images[:300]
    >>> attack_rearrangement(PerImagePermutation(seed=0)(x)).found
    False
    """
    ciphertexts = _check_ciphertexts(ciphertexts)
    shape = tuple(ciphertexts.shape[-2:])
    iterations = _refine_budget(shape[0] * shape[1], refine)
    rng = check_rng(seed)
    stats = position_stats(ciphertexts)
    confidence = structure_fraction(stats.correlation()[np.ix_(stats.varying, stats.varying)], stats.n)
    info: dict[str, Any] = {"n_images": stats.n, "varying_positions": int(stats.varying.sum())}
    if confidence < FOUND_FRACTION:
        return RecoveredKey(unmoved(shape), False, confidence, info=info)
    corr, pc = stats.correlation(), stats.partial_correlation(shrinkage=shrinkage)
    copies = stats.copies  # a non-bijective map repeats sources: keep one copy
    corr[copies], corr[:, copies], pc[copies], pc[:, copies] = 0, 0, 0, 0
    info["copies"] = int(copies.sum())
    layout, more = _pixel_layout(pc, corr, shape, iterations=iterations, rng=rng)
    return RecoveredKey(gather_key(layout, shape=shape), True, confidence, info=info | more)


def _edge_dissimilarity(stats, a_idx: np.ndarray, b_idx: np.ndarray) -> np.ndarray:
    """``D[i, j]`` = Σ_k E(x[a_idx[i, k]] − x[b_idx[j, k]])² over the ciphertexts (from means and covariance)."""
    var, mu, cov = np.diag(stats.cov), stats.mean, stats.cov
    d = np.zeros((len(a_idx), len(b_idx)))
    for k in range(a_idx.shape[1]):
        u, v = a_idx[:, k], b_idx[:, k]
        d += var[u][:, None] + var[v][None] - 2 * cov[np.ix_(u, v)] + (mu[u][:, None] - mu[v][None]) ** 2
    return d


def _within_layout(stats, pieces: np.ndarray, size: int) -> np.ndarray:
    """The shared in-block arrangement (up to a symmetry), from the correlations pooled over blocks."""
    cov = np.mean([stats.cov[np.ix_(p, p)] for p in pieces], axis=0)
    mean = np.mean([stats.mean[p] for p in pieces], axis=0)
    pooled = type(stats)(mean, cov, stats.n)
    if size * size < 5:  # 2×2: the two partners of strongest correlation are the diagonal's ends' neighbours
        order = np.argsort(-pooled.correlation()[0])
        return np.array([0, order[0], order[1], order[2]])
    layout, _ = _pixel_layout(pooled.partial_correlation(), pooled.correlation(), (size, size),
                              iterations=_refine_budget(size * size, None), rng=np.random.default_rng(0))
    return layout


def _jigsaw(stats, pieces: np.ndarray, grid: tuple[int, int], size: int, *, seed: int | None = None) -> tuple[np.ndarray, float]:
    """Place intact blocks (``pieces[j]`` = their positions in block order) by edge compatibility,
    growing from ``seed`` (default: the busiest block: blank ones fit anywhere)."""
    blk = pieces.reshape(len(pieces), size, size)
    right = _edge_dissimilarity(stats, blk[:, :, -1], blk[:, :, 0])
    down = _edge_dissimilarity(stats, blk[:, -1, :], blk[:, 0, :])
    # the typical best match of a piece sets the scale; blank pieces match each other perfectly
    # (dissimilarity 0), so they are left out of it
    nearest = np.concatenate([right.min(1), down.min(1)])
    scale = max(float(np.median(nearest[nearest > 1e-9])) if (nearest > 1e-9).any() else 1.0, 1e-12)
    a_right, a_down = np.exp(-right / scale), np.exp(-down / scale)
    seed = int(np.argmax(np.diag(stats.cov)[pieces].sum(1))) if seed is None else seed
    layout = grow_layout((a_down, a_down.T, a_right, a_right.T), grid, seed_piece=seed)
    g = layout.reshape(grid)
    agreement = float(a_right[g[:, :-1], g[:, 1:]].sum() + a_down[g[:-1], g[1:]].sum())
    return layout, agreement


def attack_blocks(ciphertexts: torch.Tensor, *, size: int, shuffle_within: bool = False, rotate: bool = False,
                  flip: bool = False) -> RecoveredKey:  # fmt: skip
    """Recover a block scramble of ``size``×``size`` blocks (a jigsaw on edge compatibility).

    Blocks stay intact up to a shared in-block permutation, which is solved first from
    correlations pooled over all blocks (they share it); the blocks are then placed by growth on
    the squared differences of facing edges over all ciphertexts, trying each of the in-block
    arrangement's symmetries and keeping the best-fitting assembly. Schemes that also rotate or
    flip blocks are attacked at the pixel level ([`attack_rearrangement`][pixinfo.privacy.attacks.attack_rearrangement]).
    """
    ciphertexts = _check_ciphertexts(ciphertexts)
    h, w = ciphertexts.shape[-2:]
    if not isinstance(size, int) or isinstance(size, bool) or size < 1 or h % size or w % size:
        raise ShapeError(f"size: expected a positive int dividing the image sides {h}x{w}, got {size!r}")
    if rotate or flip or size == 1:
        return attack_rearrangement(ciphertexts)
    stats = position_stats(ciphertexts)
    confidence = structure_fraction(stats.correlation()[np.ix_(stats.varying, stats.varying)], stats.n)
    info: dict[str, Any] = {"n_images": stats.n, "solver": "jigsaw"}
    if confidence < FOUND_FRACTION:
        return RecoveredKey(unmoved((h, w)), False, confidence, info=info)
    grid = (h // size, w // size)
    pieces = np.arange(h * w).reshape(grid[0], size, grid[1], size).transpose(0, 2, 1, 3).reshape(-1, size * size)
    within = _within_layout(stats, pieces, size) if shuffle_within else np.arange(size * size)
    symmetries = d4_maps((size, size)) if shuffle_within else [np.arange(size * size)]
    best = max((_jigsaw(stats, pieces[:, within[g]], grid, size) + (within[g],) for g in symmetries), key=lambda t: t[1])
    layout, agreement, arrangement = best
    placed = pieces[:, arrangement][layout].reshape(grid[0], grid[1], size, size)
    inverse = placed.transpose(0, 2, 1, 3).reshape(h * w)
    return RecoveredKey(gather_key(inverse, shape=(h, w)), True, confidence, info=info | {"edge_agreement": agreement})


def solve_jigsaw(images: torch.Tensor, *, size: int) -> torch.Tensor:
    """Reassemble each block-scrambled image on its own (no shared key needed: a fresh scramble per
    image falls alike): its intact ``size``×``size`` blocks are placed by best-first growth on the
    squared differences of facing edges (the jigsaw-puzzle attacks of Chuman et al., ICASSP 2017),
    starting from the block with the most contrast. Blocks must be intact (no shuffle inside them,
    no rotation); the result may be shifted where blank blocks fit anywhere.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import BlockScramble
    >>> from pixinfo.privacy import image_similarity
    >>> x = load_dataset("digits").test.images[:20]
    >>> y = BlockScramble((8, 8), size=2, seed=0)(x)
    >>> image_similarity(x, solve_jigsaw(y, size=2))["ssim"] > image_similarity(x, y)["ssim"]
    True
    """
    from pixinfo.transforms.blocks import check_block_size

    images = _check_ciphertexts(images, "images", min_images=1)  # one image suffices: no shared key
    h, w, size = check_block_size(tuple(images.shape[-2:]), size)
    grid = (h // size, w // size)
    pieces = np.arange(h * w).reshape(grid[0], size, grid[1], size).transpose(0, 2, 1, 3).reshape(-1, size * size)
    values = to_uint8(images).double().mean(1).reshape(len(images), -1).cpu().numpy()
    out = torch.empty(len(images), h * w, dtype=torch.long)
    for i, x in enumerate(values):
        stats = PositionStats(x, np.zeros((h * w, h * w)), 1)
        layout, _ = _jigsaw(stats, pieces, grid, size, seed=int(np.argmax(x[pieces].std(1))))
        placed = pieces[layout].reshape(grid[0], grid[1], size, size)
        out[i] = torch.as_tensor(placed.transpose(0, 2, 1, 3).reshape(h * w))
    flat = images.flatten(2)
    return torch.gather(flat, 2, out[:, None, :].expand(-1, flat.shape[1], -1).to(flat.device)).reshape(images.shape)


def _level_counts(ciphertexts: torch.Tensor) -> np.ndarray:
    """``(C*H*W, 256)`` counts of each 8-bit level at each position."""
    v = to_uint8(ciphertexts).reshape(len(ciphertexts), -1).long()
    n_pos = v.shape[1]
    flat = (torch.arange(n_pos)[None, :] * 256 + v.cpu()).reshape(-1)
    return torch.bincount(flat, minlength=n_pos * 256).reshape(n_pos, 256).numpy()


def _mode_confidence(counts: np.ndarray, levels: int, *, alpha: float = 0.01) -> float:
    """Share of positions whose most frequent level beats the uniform null over ``levels`` levels."""
    n = int(counts[0].sum())
    threshold = binom.isf(alpha / len(counts), n, 1 / levels)
    return float((counts.max(1) > threshold).mean())


XOR_REFINE_IMAGES = 2000  # ciphertexts used to choose keys by neighbour agreement
XOR_SWEEPS = 3


def _smooth_key(levels: np.ndarray, key: np.ndarray, confident: np.ndarray, shape: tuple[int, int], *, bits: int) -> np.ndarray:
    """Re-choose the key of each non-confident position as the one whose decryptions differ least
    (mean absolute difference) from the decrypted 4-neighbours, in a few sweeps."""
    h, w = shape
    key = key.copy()
    candidates = np.arange(256 if bits == 8 else 2, dtype=np.int16)
    cipher = levels.astype(np.int16) if bits == 8 else (levels >= 128).astype(np.int16)
    todo = np.flatnonzero(~confident[: h * w]) if levels.shape[1] == h * w else np.array([], int)
    for _ in range(XOR_SWEEPS if len(todo) else 0):
        plain = cipher ^ key.astype(np.int16)[None]
        for o in todo:
            r, c = divmod(int(o), w)
            nbrs = [rr * w + cc for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)) if 0 <= rr < h and 0 <= cc < w]
            trial = cipher[:, o, None] ^ candidates[None]  # (images, candidates)
            cost = sum(np.abs(trial - plain[:, q, None]).sum(0) for q in nbrs)
            key[o] = candidates[int(np.argmin(cost))]
            plain[:, o] = cipher[:, o] ^ key[o]
    return key


def attack_xor(ciphertexts: torch.Tensor, *, bits: int = 8) -> RecoveredKey:
    """Recover a fixed XOR key: at each position the most frequent encrypted level is the key
    XOR the most frequent plain level, which is the background level 0 in these datasets. Where
    that level is not frequent (under half the images), the key is re-chosen as the one whose
    decryptions agree best with the decrypted neighbours (smooth images).

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import XorKey, PerImageXor
    >>> x = load_dataset("digits").train.images[:300]
    >>> t = XorKey((1, 8, 8), seed=0)
    >>> k = attack_xor(t(x))
    >>> k.found, bool((k.decryption.key == t.key)[:, :, 0].all())  # left column: always background
    (True, True)
    >>> attack_xor(PerImageXor(seed=0)(x)).found
    False
    """
    ciphertexts = _check_ciphertexts(ciphertexts)
    if bits not in (1, 8) or isinstance(bits, bool):
        raise ValueRangeError(f"bits: expected 8 or 1, got {bits!r}")
    counts = _level_counts(ciphertexts)
    confidence = _mode_confidence(counts[:, [0, 255]] if bits == 1 else counts, 2 if bits == 1 else 256)
    key = counts.argmax(1).astype(np.uint8)
    if bits == 1:
        key = (key >= 128).astype(np.uint8)
    found = confidence >= FOUND_FRACTION
    if found:  # where the background is not the usual level, the key that makes neighbours agree
        levels = to_uint8(ciphertexts[:XOR_REFINE_IMAGES]).reshape(min(len(ciphertexts), XOR_REFINE_IMAGES), -1)
        confident = counts.max(1) >= (0.5 if bits == 8 else 0.9) * len(ciphertexts)
        key = _smooth_key(levels.cpu().numpy(), key, confident, tuple(ciphertexts.shape[-2:]), bits=bits)
    key = key.reshape(ciphertexts.shape[1:])
    return RecoveredKey(xor_key(key if found else np.zeros_like(key), bits=bits), found, confidence,
                        info={"n_images": len(ciphertexts)})  # fmt: skip


def attack_levels(ciphertexts: torch.Tensor, *, scheme: str) -> RecoveredKey:
    """Recover a global grey-level map (``scheme``: "level-permutation", "negative" or "monotone").

    A level permutation is ordered by the co-occurrence of encrypted levels at neighbouring
    pixels (levels close in value have similar neighbours): spectral seriation of the levels'
    neighbour profiles, read from the end holding the most frequent level (the background 0),
    and spread evenly over 0..255. The negative has no key.
    A monotone map keeps the order and only re-spaces the levels; ciphertexts alone do not say
    how, so the estimate is the identity.
    """
    ciphertexts = _check_ciphertexts(ciphertexts)
    identity = np.arange(256)
    if scheme == "negative":
        return RecoveredKey(levels_key(255 - identity), True, 1.0, info={"note": "no key"})
    if scheme == "monotone":
        return RecoveredKey(levels_key(identity), True, 1.0, info={"note": "order kept; spacing unknown: identity"})
    if scheme != "level-permutation":
        raise ValueRangeError(f"scheme: expected 'level-permutation', 'negative' or 'monotone', got {scheme!r}")
    v = to_uint8(ciphertexts).long().cpu()
    pairs = torch.cat([(v[..., :, :-1] * 256 + v[..., :, 1:]).reshape(-1), (v[..., :-1, :] * 256 + v[..., 1:, :]).reshape(-1)])
    co = torch.bincount(pairs, minlength=256 * 256).reshape(256, 256).double().numpy()
    co = co + co.T
    np.fill_diagonal(co, 0)
    freq = torch.bincount(v.reshape(-1), minlength=256).numpy()
    present = np.flatnonzero(freq)
    # levels close in value have similar neighbours: compare their neighbour-level profiles
    profiles = co[present] / np.maximum(co[present].sum(1, keepdims=True), 1)
    profiles = np.sqrt(profiles)  # Hellinger: rare levels count
    affinity = profiles @ profiles.T
    np.fill_diagonal(affinity, 0)
    tables = [_level_table(present[order], freq) for order in _line_orders(affinity)]
    # the smoother decryption wins: least co-occurrence-weighted difference of neighbouring levels
    costs = [float((co * np.abs(t[:, None] - t[None, :])).sum()) for t in tables]
    table = tables[int(np.argmin(costs))]
    confidence = _mode_confidence(freq[None, :], 256)
    return RecoveredKey(levels_key(table), confidence >= FOUND_FRACTION, confidence,
                        info={"levels_seen": len(present), "solver": ["spectral", "growth"][int(np.argmin(costs))]})  # fmt: skip


def _line_orders(affinity: np.ndarray) -> list[np.ndarray]:
    """Two orders of items on a line with high affinity between neighbours: the Fiedler vector of
    the normalised graph Laplacian (spectral seriation) and one-dimensional growth plus repair."""
    n = len(affinity)
    if n < 3:
        return [np.arange(n)]
    d = np.maximum(affinity.sum(1), 1e-12)
    _, vectors = np.linalg.eigh(np.eye(n) - affinity / np.sqrt(np.outer(d, d)))
    grown = repair_layout(affinity, grow_layout((affinity,) * 4, (1, n)), grid_neighbours((1, n)))
    return [np.argsort(vectors[:, 1] / np.sqrt(d), kind="stable"), grown]


def _level_table(line: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """Encrypted level -> plain estimate: the line read from the end nearer the most frequent
    level (the background 0), spread evenly over 0..255; unseen levels map to themselves."""
    if np.flatnonzero(line == freq.argmax())[0] > len(line) / 2:
        line = line[::-1]
    table = np.arange(256)
    table[line] = np.round(np.linspace(0, 255, len(line))).astype(int) if len(line) > 1 else 0
    return table


def attack(transform: Transform, ciphertexts: torch.Tensor, *, public: torch.Tensor | None = None,
           pairs: tuple[torch.Tensor, torch.Tensor] | None = None, seed: int = 0) -> RecoveredKey:  # fmt: skip
    """The attack for ``transform``'s scheme (its family and public options, not its key), under
    the threat model that what the attacker holds defines.

    * nothing but ``ciphertexts``: "blind" (ciphertext-only);
    * ``public`` plain images of the same kind (no pairs): "prior", the attacks of
      `pixinfo.privacy.prior`;
    * ``pairs`` = ``(plain, encrypted)`` images: "known-plaintext", the attacks of
      `pixinfo.privacy.learned` (a rearrangement matched position by
      position, a value key read off the pairs, a one-round chaos cipher's chain undone and its
      byte maps matched, and any other scheme a learned linear inverse).

    The key's ``info["threat"]`` says which. ``seed``: the random restarts of the blind
    rearrangement attack (the other attacks are deterministic).

    Raises
    ------
    UnsupportedSchemeError
        For a scheme no attack is written for (for example a composition).
    """
    if pairs is not None and public is not None:
        raise ParameterError("give public (threat model prior) or pairs (known-plaintext), not both")
    if pairs is not None:
        key = _attack_pairs(transform, *_unpack_pairs(pairs))
    elif public is not None:
        key = _attack_prior(transform, ciphertexts, public)
    else:
        key = _attack_blind(transform, ciphertexts, seed=check_seed(seed))
    return key if "threat" in key.info else replace(key, info={"threat": "blind", **key.info})


def _unsupported(transform: Transform, threat: str) -> UnsupportedSchemeError:
    return UnsupportedSchemeError(f"transform: expected a scheme with a written {threat} attack, got "
                                  f"{type(transform).__name__} ({getattr(transform, 'spec', transform)!r})")  # fmt: skip


def _attack_prior(transform: Transform, ciphertexts: torch.Tensor, public: torch.Tensor) -> RecoveredKey:
    from pixinfo.privacy.prior import (attack_block_cipher_prior, attack_nibbles_prior, attack_rearrangement_prior,
                                       attack_values_prior)  # fmt: skip
    from pixinfo.transforms import EtC, InstaHide, LearnableEncryption, PerImagePixelBased, PixelBased

    if isinstance(transform, EtC) and ciphertexts.shape[1] == 1:
        return attack_block_cipher_prior(ciphertexts, public=public, size=transform.size)
    if isinstance(transform, LearnableEncryption):
        return attack_nibbles_prior(ciphertexts, public=public, size=transform.size)
    if isinstance(transform, (GatherTransform, Identity, PerImagePermutation, InstaHide)):
        return attack_rearrangement_prior(ciphertexts, public=public)
    if isinstance(transform, (XorKey, PerImageXor)):
        return attack_values_prior(ciphertexts, public=public, scheme="xor" if transform.bits == 8 else "xor-1bit")
    if isinstance(transform, (PixelBased, PerImagePixelBased)) and ciphertexts.shape[1] == 1:
        return attack_values_prior(ciphertexts, public=public, scheme="pixel-based")
    if isinstance(transform, (MonotoneMap, LevelPermutation)):
        return attack_values_prior(ciphertexts, public=public, scheme=transform.name)
    if isinstance(transform, Negative):
        return attack_levels(ciphertexts, scheme="negative")
    raise _unsupported(transform, "prior")


def _unpack_pairs(pairs: object) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(pairs, (tuple, list)) or len(pairs) != 2:
        raise ParameterError(f"pairs: expected (plain, encrypted) image batches, got {type(pairs).__name__}")
    return pairs[0], pairs[1]


def _attack_pairs(transform: Transform, plain: torch.Tensor, cipher: torch.Tensor) -> RecoveredKey:
    from pixinfo.privacy.learned import (attack_pairs_chaos, attack_pairs_rearrangement, attack_pairs_values,
                                         learned_inverse)  # fmt: skip
    from pixinfo.transforms import ChaosCipher, PixelBased

    if isinstance(transform, (GatherTransform, Identity, PerImagePermutation)):
        return attack_pairs_rearrangement(plain, cipher)
    if isinstance(transform, ChaosCipher) and transform.rounds == 1:
        return attack_pairs_chaos(plain, cipher)
    if isinstance(transform, XorKey | PixelBased) and getattr(transform, "bits", 8) == 8 and plain.shape[1] == 1:
        return attack_pairs_values(plain, cipher, scheme="xor")
    if isinstance(transform, (MonotoneMap, LevelPermutation)):
        return attack_pairs_values(plain, cipher, scheme="levels")
    if isinstance(transform, Negative):
        return replace(attack_levels(cipher, scheme="negative"), info={"threat": "known-plaintext", "note": "no key"})
    return learned_inverse(plain, cipher)


def _attack_blind(transform: Transform, ciphertexts: torch.Tensor, *, seed: int) -> RecoveredKey:
    if isinstance(transform, BlockScramble):
        opts = transform.options
        return attack_blocks(ciphertexts, size=transform.size, shuffle_within=opts["shuffle_within"],
                             rotate=opts["rotate"], flip=opts["flip"])  # fmt: skip
    if isinstance(transform, (GatherTransform, Identity, PerImagePermutation)):
        return attack_rearrangement(ciphertexts, seed=seed)
    if isinstance(transform, (XorKey, PerImageXor)):
        return attack_xor(ciphertexts, bits=transform.bits)
    if isinstance(transform, (Negative, MonotoneMap, LevelPermutation)):
        return attack_levels(ciphertexts, scheme=transform.name)
    raise _unsupported(transform, "blind")
