"""Attacks with a public prior: ciphertexts plus plain images *of the same kind* (no key, no pairs).

The threat model of every scheme that encrypts a standard kind of image to train on it: the
attacker never sees a plaintext of the encrypted set, but holds public images drawn from the same
distribution (for Fashion-MNIST ciphertexts, other Fashion-MNIST images). A shared key leaves
per-position statistics that can be matched to the public images':

* a shared rearrangement (``attack_rearrangement_prior``) keeps each position's value
  distribution and its correlations with the others, only at another place: positions are matched
  by first-order statistics (linear assignment), then placed by iterated linear assignment of a
  quadratic-assignment objective on the correlations (each position's strongest correlations
  should come back); positions with identical values in every ciphertext are copies of one source
  (non-bijective maps such as the rounding vortex) and are matched once; sources no ciphertext
  position holds are filled by a linear prediction from the public images;
* a shared value key (``attack_values_prior``) keeps each position's (XOR, per-pixel
  negative–positive) or every position's (level permutation, monotone map) value distribution up
  to a relabelling, which is matched to the public images'.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from pixinfo._checks import check_image_batch, check_positive_int, describe
from pixinfo.data import to_uint8
from pixinfo.errors import ShapeError, ValueRangeError
from pixinfo.privacy.attacks import FOUND_FRACTION, RecoveredKey, gather_key, levels_key, unmoved, xor_key
from pixinfo.privacy.layout import position_stats, structure_fraction
from pixinfo.transforms import Transform

BINS = 32  # rank bins of each image statistic (fewer with few ciphertexts: about 30 images a bin)
STRONGEST = 150  # correlations of each position that the placement should bring back
FIRST_ORDER_WEIGHT = 0.1  # weight of the first-order cost beside the correlation objective
ITERATIONS = 60
QUANTILES = np.linspace(0.05, 0.95, 10)
FILL_RIDGE = 1e-2  # ridge of the linear fill, relative to the mean variance of the known positions


class LinearFill(Transform):
    """Predicts the pixels a non-bijective key destroyed from the decrypted ones:
    ``x[lost] = intercept + (x[known] − known_mean) @ weights`` (8-bit scale), fit on public images.

    A transform: on ``(B, C, H, W)`` decryptions (or ``(B, C, N)`` flattened ones) it replaces
    the lost positions by their prediction and keeps the input's shape and dtype.
    """

    name = "linear-fill"

    def __init__(self, lost: np.ndarray, known: np.ndarray, known_mean: np.ndarray, intercept: np.ndarray,
                 weights: np.ndarray) -> None:  # fmt: skip
        super().__init__()
        self.lost, self.known, self.known_mean = np.asarray(lost), np.asarray(known), np.asarray(known_mean)
        self.intercept, self.weights = np.asarray(intercept), np.asarray(weights)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        flat = to_uint8(images).flatten(2)
        x = flat.double()
        w = torch.as_tensor(self.weights, dtype=torch.float64, device=flat.device)
        known = x[..., torch.as_tensor(self.known, device=flat.device)] - torch.as_tensor(self.known_mean, device=flat.device)
        pred = torch.as_tensor(self.intercept, device=flat.device) + known @ w
        out = flat.clone()
        out[..., torch.as_tensor(self.lost, device=flat.device)] = pred.round().clamp(0, 255).to(flat.dtype)
        out = out.reshape(images.shape)
        return out if images.dtype == torch.uint8 else out.to(images.dtype) / 255

    def init_kwargs(self) -> dict[str, Any]:
        return {name: torch.as_tensor(getattr(self, name))
                for name in ("lost", "known", "known_mean", "intercept", "weights")}  # fmt: skip


def _check_pair(ciphertexts: object, public: object) -> tuple[torch.Tensor, torch.Tensor]:
    ciphertexts = check_image_batch(ciphertexts, "ciphertexts")
    public = check_image_batch(public, "public")
    if ciphertexts.ndim != 4 or len(ciphertexts) < 8:
        raise ShapeError(f"ciphertexts: expected (B, C, H, W) with B >= 8 images, got {describe(ciphertexts)}")
    if public.ndim != 4 or len(public) < 8 or public.shape[1:] != ciphertexts.shape[1:]:
        raise ShapeError(f"public: expected (B, C, H, W) plain images, B >= 8, of the ciphertexts' shape "
                         f"{tuple(ciphertexts.shape[1:])}, got {describe(public)}")  # fmt: skip
    return ciphertexts, public


def _flat(images: torch.Tensor) -> np.ndarray:
    """``(B, N)`` float64 8-bit values, channels averaged."""
    return to_uint8(images).double().mean(1).reshape(len(images), -1).cpu().numpy()


def image_statistics(x: np.ndarray) -> np.ndarray:
    """Statistics of each image that a rearrangement keeps (nearly, when it copies a few pixels):
    mean, spread, and the shares of pixels above 0, 100 and 200. ``x``: ``(B, N)`` → ``(B, 5)``."""
    return np.stack([x.mean(1), x.std(1), (x > 0).mean(1), (x > 100).mean(1), (x > 200).mean(1)], 1)


def position_profiles(x: np.ndarray, *, bins: int) -> np.ndarray:
    """First-order profile of every position, ``(N, F)``: its mean within each of ``bins`` rank bins
    of every ``image_statistics`` (ranks, so a small shift between two sets of images does not
    move the bins), ten quantiles of its values and its share of zeros; all on a 0–1 scale."""
    n = len(x)
    parts = []
    for stat in image_statistics(x).T:
        rank = np.argsort(np.argsort(stat, kind="stable"), kind="stable")
        label = rank * bins // n
        sums = np.zeros((bins, x.shape[1]))
        np.add.at(sums, label, x)
        parts.append(2 * sums / np.maximum(np.bincount(label, minlength=bins), 1)[:, None] / 255)
    parts += [np.quantile(x, QUANTILES, axis=0) / 255, (x == 0).mean(0)[None]]
    return np.concatenate(parts, 0).T


def _square_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum((a**2).sum(1)[:, None] - 2 * a @ b.T + (b**2).sum(1)[None], 0)


def _correlation(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(0)
    sd = x.std(0)
    x = x / np.where(sd > 0, sd, 1)
    r = x.T @ x / len(x)
    np.fill_diagonal(r, 0)
    return r


def _merge_copies(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(representative positions, for each position the index of its representative among them):
    positions with the same values in every image are one source."""
    _, first, inverse = np.unique(x.T, axis=0, return_index=True, return_inverse=True)
    reps = np.sort(first)
    return reps, np.searchsorted(reps, first[inverse.reshape(-1)])


def match_positions(cipher: np.ndarray, public: np.ndarray, *, bins: int, strongest: int = STRONGEST,
                    first_order_weight: float = FIRST_ORDER_WEIGHT, iterations: int = ITERATIONS) -> tuple[np.ndarray, dict]:  # fmt: skip
    """The plain source of every distinct ciphertext column: ``cipher`` ``(n, K)`` distinct columns,
    ``public`` ``(m, N)`` plain images, K ≤ N. Returns ``(source (K,), info)``."""
    first = _square_distances(position_profiles(cipher, bins=bins), position_profiles(public, bins=bins))
    rows, cols = linear_sum_assignment(first)
    source = np.empty(cipher.shape[1], int)
    source[rows] = cols
    info = {"first_order_sources": source.copy()}
    cc, cp = _correlation(cipher), _correlation(public)
    top = min(strongest, max(cipher.shape[1] - 1, 1))
    kth = -np.partition(-cc, top - 1, axis=1)[:, top - 1 : top]
    weight = (cc >= kth).astype(float)
    weighted = weight * cc
    scale = None
    for step in range(iterations):
        placed = cp[source]  # (K, N): correlation of each placed source with every plain position
        # −(weighted squared error of each position's strongest correlations, were it at p)
        fit = 2 * weighted @ placed - weight @ placed**2
        if scale is None:  # the first step sets the two costs' relative scale
            scale = float(np.std(fit) / max(np.std(first), 1e-12))
        rows, cols = linear_sum_assignment(first_order_weight * scale * first - fit)
        new = np.empty_like(source)
        new[rows] = cols
        changed = int((new != source).sum())
        source = new
        if changed == 0:
            break
    return source, info | {"iterations": step + 1}


def fill_model(public: np.ndarray, known: np.ndarray) -> LinearFill:
    """Ridge regression of the positions not in ``known`` on those in ``known``, from public images."""
    lost = np.setdiff1d(np.arange(public.shape[1]), known)
    mean = public.mean(0)
    xk, xl = public[:, known] - mean[known], public[:, lost] - mean[lost]
    gram = xk.T @ xk / len(xk)
    ridge = FILL_RIDGE * max(float(np.trace(gram)) / max(len(known), 1), 1e-12)
    weights = np.linalg.solve(gram + ridge * np.eye(len(known)), xk.T @ xl / len(xk))
    return LinearFill(lost, known, mean[known], mean[lost], weights)


def attack_rearrangement_prior(ciphertexts: torch.Tensor, *, public: torch.Tensor, bins: int | None = None,
                               iterations: int = ITERATIONS) -> RecoveredKey:  # fmt: skip
    """Recover a shared pixel rearrangement (bijective or not) from ciphertexts and public plain
    images of the same kind (threat model "prior"; see the module docstring).

    ``bins`` (default: ``min(32, max(4, m // 30))``, ``m`` the smaller of the numbers of
    ciphertexts and public images: about 30 images a bin) rank bins per image statistic; ``iterations`` caps the quadratic-assignment refinement. The key's
    ``sources`` holds the estimated source of every encrypted position; sources
    no encrypted position holds are filled by ``LinearFill`` (``info["filled"]`` counts them).

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import FixedPermutation, PerImagePermutation
    >>> ds = load_dataset("digits")
    >>> t = FixedPermutation((8, 8), seed=0)
    >>> key = attack_rearrangement_prior(t(ds.train.images[:1000]), public=ds.test.images)
    >>> float((key.sources == t.gather_map((8, 8)).numpy())[ds.train.images.double().std(0).flatten() > 0].mean()) > 0.75
    True
    >>> attack_rearrangement_prior(PerImagePermutation(seed=0)(ds.train.images[:1000]), public=ds.test.images).found
    False
    """
    ciphertexts, public = _check_pair(ciphertexts, public)
    n = len(ciphertexts)
    bins = check_positive_int(bins, "bins") if bins is not None else min(BINS, max(4, min(n, len(public)) // 30))
    stats = position_stats(ciphertexts)
    confidence = structure_fraction(stats.correlation()[np.ix_(stats.varying, stats.varying)], stats.n)
    info = {"threat": "prior", "n_images": n, "n_public": len(public), "bins": bins}
    if confidence < FOUND_FRACTION:
        return RecoveredKey(unmoved(tuple(ciphertexts.shape[-2:])), False, confidence, info=info)
    cipher, plain = _flat(ciphertexts), _flat(public)
    reps, rep_of = _merge_copies(cipher)
    if len(reps) > plain.shape[1]:
        raise ShapeError(f"ciphertexts: more distinct positions ({len(reps)}) than the grid has ({plain.shape[1]})")
    source, more = match_positions(cipher[:, reps], plain, bins=bins, iterations=iterations)
    sources = source[rep_of]
    inverse = np.empty(plain.shape[1], int)
    inverse[source] = reps
    fill = fill_model(plain, np.sort(source)) if len(reps) < plain.shape[1] else None
    if fill is not None:  # no encrypted pixel holds a lost source: decrypt() predicts it with the fill
        inverse[fill.lost] = reps[0]
    info |= {"copies": int(plain.shape[1] - len(reps)), "filled": 0 if fill is None else len(fill.lost),
             "iterations": more["iterations"]}  # fmt: skip
    decryption = gather_key(inverse, shape=tuple(ciphertexts.shape[-2:]))
    return RecoveredKey(decryption, True, confidence, info=info, sources=sources, fill=fill)


def _histograms(levels: np.ndarray) -> np.ndarray:
    """``(N, 256)`` share of each 8-bit level at each position; ``levels``: ``(B, N)`` ints."""
    n, positions = levels.shape
    flat = (np.arange(positions)[None] * 256 + levels).reshape(-1)
    return np.bincount(flat, minlength=positions * 256).reshape(positions, 256) / n


def _xor_key(cipher: np.ndarray, plain: np.ndarray, *, candidates: np.ndarray) -> tuple[np.ndarray, float]:
    """Per position, the XOR key among ``candidates`` whose decryption's value distribution is
    closest (Hellinger) to the public images'; and the share of positions where that key fits
    clearly (cost under half the median over candidates: a fresh key per image fits none)."""
    hc, hp = np.sqrt(_histograms(cipher)), np.sqrt(_histograms(plain))
    levels = np.arange(256)
    cost = np.stack([((hc[:, levels ^ k] - hp) ** 2).sum(1) for k in candidates], 1)
    best = cost.min(1)
    varying = (hc > 0).sum(1) > 1
    clear = best < 0.5 * np.median(cost, axis=1)
    confidence = float(clear[varying].mean()) if varying.any() else 0.0
    return candidates[cost.argmin(1)].astype(np.uint8), confidence


def _level_table(cipher: np.ndarray, plain: np.ndarray, *, monotone: bool) -> np.ndarray:
    """Encrypted level → plain level. A monotone map: quantile matching of the overall value
    distributions. A level permutation: linear assignment of levels by where they occur (each
    level's share at every position, Hellinger distance), weighted by their overall frequency."""
    fc, fp = np.bincount(cipher.reshape(-1), minlength=256), np.bincount(plain.reshape(-1), minlength=256)
    if monotone:
        mid = (np.cumsum(fc) - fc / 2) / fc.sum()
        cdf = np.cumsum(fp) / fp.sum()
        return np.minimum(np.searchsorted(cdf, mid), 255)
    pc = np.sqrt(_histograms(cipher).T / np.maximum(fc, 1)[:, None] * len(cipher))  # (256, N) where each level occurs
    pp = np.sqrt(_histograms(plain).T / np.maximum(fp, 1)[:, None] * len(plain))
    share = np.sqrt(fc / fc.sum())[:, None] - np.sqrt(fp / fp.sum())[None]
    _, table = linear_sum_assignment(_square_distances(pc, pp) + pc.shape[1] * share**2)
    return table


def attack_values_prior(ciphertexts: torch.Tensor, *, public: torch.Tensor, scheme: str) -> RecoveredKey:
    """Recover a shared value key from ciphertexts and public plain images of the same kind.

    ``scheme``: "xor" (a fixed 8-bit key per position), "xor-1bit" (the key of images thresholded
    at 128), "pixel-based" (per-pixel negative–positive: XOR with 0 or 255), "level-permutation" or
    "monotone" (one map of the 256 levels for every position). A key per image leaves no value
    distribution to match: ``found`` is then False.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import XorKey
    >>> ds = load_dataset("digits")
    >>> t = XorKey((1, 8, 8), seed=0)
    >>> key = attack_values_prior(t(ds.train.images), public=ds.test.images, scheme="xor")
    >>> float((key.decryption.key == t.key).double().mean()) > 0.5
    True
    """
    ciphertexts, public = _check_pair(ciphertexts, public)
    cipher = to_uint8(ciphertexts).long().reshape(len(ciphertexts), -1).cpu().numpy()
    plain = to_uint8(public).long().reshape(len(public), -1).cpu().numpy()
    info = {"threat": "prior", "n_images": len(cipher), "n_public": len(plain)}
    if scheme in ("xor", "xor-1bit", "pixel-based"):
        bits = 1 if scheme == "xor-1bit" else 8
        candidates = np.arange(256) if scheme == "xor" else np.array([0, 255])
        if bits == 1:  # the scheme thresholds first: so do the public images
            cipher, plain = (cipher >= 128) * 255, (plain >= 128) * 255
        key, confidence = _xor_key(cipher, plain, candidates=candidates)
        key = (key >= 128).astype(np.uint8) if bits == 1 else key
        found = confidence >= FOUND_FRACTION
        key = key.reshape(ciphertexts.shape[1:])
        return RecoveredKey(xor_key(key if found else np.zeros_like(key), bits=bits), found, confidence, info=info)
    if scheme in ("level-permutation", "monotone"):
        table = _level_table(cipher, plain, monotone=scheme == "monotone")
        return RecoveredKey(levels_key(table), True, 1.0, info=info)
    raise ValueRangeError(f"scheme: expected 'xor', 'xor-1bit', 'pixel-based', 'level-permutation' or 'monotone', "
                          f"got {scheme!r}")


def _block_histograms(levels: torch.Tensor, size: int, bins: int = 16) -> np.ndarray:
    """``(n_blocks, bins)`` value distribution of each block position, pooled over images and pixels."""
    from pixinfo.transforms.blocks import split_blocks

    blocks = split_blocks(levels, size).long() * bins // 256  # (B, n_blocks, size*size*C)
    nb = blocks.shape[1]
    flat = (torch.arange(nb)[None, :, None] * bins + blocks).reshape(-1)
    counts = torch.bincount(flat, minlength=nb * bins).reshape(nb, bins).double().numpy()
    return counts / counts.sum(1, keepdims=True)


def attack_block_cipher_prior(ciphertexts: torch.Tensor, *, public: torch.Tensor, size: int) -> RecoveredKey:
    """Recover a block cipher of the encryption-then-compression kind (blocks permuted, rotated,
    mirrored and negated as a whole; grey images) from ciphertexts and public plain images.

    A negated block's value distribution is the mirror image of a plain block's: each encrypted
    block is negated back when its mirrored distribution lies closer (Hellinger) to some public
    block position's than its own does; the rest is a rearrangement
    (:func:`attack_rearrangement_prior`), which places rotated and mirrored blocks pixel by pixel.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import EtC
    >>> ds = load_dataset("digits")
    >>> t = EtC((8, 8), size=2, seed=0)
    >>> key = attack_block_cipher_prior(t(ds.train.images), public=ds.test.images, size=2)
    >>> negated = key.first.decryption.key[0].reshape(4, 2, 4, 2).permute(0, 2, 1, 3).reshape(16, 4)[:, 0]
    >>> negated.tolist() == (t.negatives * 255).tolist()
    True
    """
    ciphertexts, public = _check_pair(ciphertexts, public)
    from pixinfo.transforms.blocks import check_block_size, merge_blocks

    c, h, w = ciphertexts.shape[1:]
    if c != 1:
        raise ShapeError(f"ciphertexts: expected grey images (C = 1), got {describe(ciphertexts)}")
    size = check_block_size((h, w), size)[2]
    hc, hp = np.sqrt(_block_histograms(to_uint8(ciphertexts).cpu(), size)), np.sqrt(_block_histograms(to_uint8(public).cpu(), size))
    as_is, mirrored = _square_distances(hc, hp).min(1), _square_distances(hc[:, ::-1], hp).min(1)
    negated = torch.as_tensor(mirrored < as_is)
    nb = len(negated)
    mask = merge_blocks(negated[None, :, None].expand(1, nb, size * size).to(torch.uint8) * 255, (1, h, w), size)[0]
    undo = RecoveredKey(xor_key(mask.numpy()), True, 1.0, info={"negated_blocks": int(negated.sum())})
    key = attack_rearrangement_prior(undo.decrypt(ciphertexts), public=public)
    return replace(key, first=undo, info=key.info | {"negated_blocks": int(negated.sum())}) if key.found else key


def attack_nibbles_prior(ciphertexts: torch.Tensor, *, public: torch.Tensor, size: int) -> RecoveredKey:
    """Recover the key of Tanaka's learnable encryption (4-bit halves flipped and shuffled within
    ``size``×``size`` blocks, one key for every block) from ciphertexts and public plain images.

    Each encrypted half-slot of a block is matched to the plain half-slot (negated or not) whose
    distribution over the 16 values, at every block position of the image, is closest (Hellinger,
    summed over block positions): one linear assignment over the ``2*size*size*C`` slots.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import LearnableEncryption
    >>> ds = load_dataset("digits")
    >>> t = LearnableEncryption((1, 8, 8), size=4, seed=0)
    >>> key = attack_nibbles_prior(t(ds.train.images), public=ds.test.images, size=4)
    >>> float((key.transform.key == t.key).double().mean()) > 0.5
    True
    """
    ciphertexts, public = _check_pair(ciphertexts, public)
    from pixinfo.transforms import LearnableEncryption
    from pixinfo.transforms.blocks import check_block_size, split_blocks

    c, h, w = ciphertexts.shape[1:]
    size = check_block_size((h, w), size)[2]

    def halves(images: torch.Tensor) -> np.ndarray:  # (n_blocks, slots, 16) value shares
        b = split_blocks(to_uint8(images).cpu(), size).long()
        x = torch.cat([b & 15, b >> 4], dim=-1)  # (B, n_blocks, 2d)
        cells = x.shape[1] * x.shape[2]
        counts = torch.bincount((torch.arange(cells).reshape(x.shape[1:]) * 16 + x).reshape(-1), minlength=cells * 16)
        return np.sqrt(counts.reshape(*x.shape[1:], 16).double().numpy() / len(x))

    hc, hp = halves(ciphertexts), halves(public)
    plain_both = np.concatenate([hp, hp[..., ::-1]], axis=1)  # slot i as is, then negated (15 - h)
    cost = sum(_square_distances(hc[k], plain_both[k]) for k in range(hc.shape[0]))  # (2d, 4d)
    d2 = hc.shape[1]
    best = np.minimum(cost[:, :d2], cost[:, d2:])
    _, order = linear_sum_assignment(best)
    decryption = LearnableEncryption((c, h, w), size=size, key=torch.as_tensor(order)).inverse()
    info = {"threat": "prior", "n_images": len(ciphertexts), "n_public": len(public)}
    return RecoveredKey(decryption, True, 1.0, info=info)
