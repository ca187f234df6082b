"""Known-plaintext attack: how many (plain, encrypted) pairs of natural images determine the key."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pixinfo._checks import check_image_batch, describe, is_integer
from pixinfo.data import to_uint8
from pixinfo.errors import ParameterError, ShapeError, UnsupportedSchemeError, ValueRangeError
from pixinfo.transforms import Negative, PointwiseTransform, Transform, XorKey


def _hashes(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One 63-bit hash per column of ``values`` (k, N) (random weights: collisions are negligible)."""
    return (values.astype(np.uint64) * weights[: len(values), None]).sum(0, dtype=np.uint64)


def _gather_determined(plain: np.ndarray, cipher: np.ndarray, ks: Sequence[int], varying: np.ndarray) -> list[float]:
    """Share of encrypted positions (whose source varies) matched by exactly one plain position after k pairs."""
    weights = np.random.default_rng(0).integers(1, 2**62, size=len(plain), dtype=np.uint64) | np.uint64(1)
    out = []
    for k in ks:
        hp, hc = _hashes(plain[:k], weights), _hashes(cipher[:k], weights)
        values, counts = np.unique(hp, return_counts=True)
        where = np.searchsorted(values, hc).clip(0, len(values) - 1)
        unique = (values[where] == hc) & (counts[where] == 1)
        out.append(float(unique[varying].mean()) if varying.any() else 0.0)  # nothing varies: nothing determined
    return out


def _rearranging_map(transform: Transform, plain: torch.Tensor, encrypted: torch.Tensor) -> np.ndarray:
    """The gather map of a transform that only rearranges pixels (checked on ``plain``: every
    encrypted value is the plain value its map names), else an UnsupportedSchemeError."""
    source = transform.gather_map(tuple(plain.shape[1:]))
    reason = "has no gather map" if source is None else None
    if source is not None:
        b, c = plain.shape[:2]
        src = source.to(plain.device).long()
        same = encrypted.shape[:2] == (b, c) and encrypted[0].numel() == plain[0].numel()
        if not (same and torch.equal(plain.reshape(b, c, -1).gather(-1, src.expand(b, c, src.shape[-1])),
                                     encrypted.reshape(b, c, -1))):  # fmt: skip
            reason = "changes pixel values, not only their positions"
    if reason:
        name = getattr(transform, "spec", type(transform).__name__)
        raise UnsupportedSchemeError(
            f"known_plaintext handles keys that only rearrange pixels (gather maps and compositions of them), "
            f"XOR, negative and level maps; the transform {name!r} ({type(transform).__name__}) {reason}, "
            f"so matching plain and encrypted values cannot determine its key")  # fmt: skip
    return source.cpu().numpy()


def known_plaintext(*, transform: Transform, plain: torch.Tensor, ks: Sequence[int] = (1, 2, 4, 8, 16, 32, 64)) -> dict:
    """Share of the key determined by the first k pairs (``plain[:k]``, ``transform(plain[:k])``).

    Gather maps: an encrypted position's source is determined once its k-vector of values matches
    exactly one plain position's (scored over positions whose source varies in ``plain``). XOR:
    one pair gives the key (``key = encrypted ^ plain``; 1-bit: of the thresholded bits). Level
    maps: the levels seen so far, over the levels present in ``plain``. Keyless transforms have no
    key to determine (share 0). Plaintexts that determine nothing (one plain image or constant
    images for a gather map: no position varies; a single grey level for a level map) give share 0
    and ``k_needed`` None.

    Raises
    ------
    UnsupportedSchemeError
        A shared-key transform that is none of these: one without a gather map (``translate``,
        ``learnable``) or one that changes values as well as positions (a composition with a value
        map, ``pixel-based``, ``etc``), whose plain and encrypted values cannot be matched.

    Returns
    -------
    dict
        ``k`` (the ks), ``determined`` (share per k) and ``k_needed`` (the first k with share 1,
        None if none).

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import FixedPermutation
    >>> x = load_dataset("digits").train.images
    >>> known_plaintext(transform=FixedPermutation((8, 8), seed=0), plain=x, ks=(1, 16, 1437))["determined"]
    [0.05, 0.8666666666666667, 1.0]
    """
    plain = check_image_batch(plain, "plain")
    if plain.ndim != 4 or not len(plain):
        raise ShapeError(f"plain: expected a non-empty (B, C, H, W) batch, got {describe(plain)}")
    if (isinstance(ks, (str, bytes)) or not isinstance(ks, (Sequence, np.ndarray)) or not len(ks)
            or not all(is_integer(k) for k in ks)):  # fmt: skip
        raise ParameterError(f"ks must be a non-empty sequence of integers in [1, {len(plain)}] (pair counts; "
                             f"fractions are not truncated), got {ks!r}")
    ks = [int(k) for k in ks]
    if min(ks) < 1 or max(ks) > len(plain):
        raise ValueRangeError(f"ks: expected ints in [1, {len(plain)}] (the number of plain images), got {ks}")
    v = to_uint8(plain)
    if not transform.shared_key:
        shares = [0.0] * len(ks)
    elif isinstance(transform, (XorKey, Negative)):
        shares = [1.0] * len(ks)
    elif isinstance(transform, PointwiseTransform):
        present = torch.bincount(v.reshape(-1).long().cpu(), minlength=256) > 0  # one grey level: nothing varies
        shares = [float((torch.bincount(v[:k].reshape(-1).long().cpu(), minlength=256) > 0).sum() / present.sum())
                  if present.sum() > 1 else 0.0 for k in ks]  # fmt: skip
    else:
        encrypted = to_uint8(transform(v))
        source = _rearranging_map(transform, v, encrypted)
        flat = v.double().mean(1).reshape(len(v), -1).cpu().numpy().round(3) * 1000
        cipher = encrypted.double().mean(1).reshape(len(v), -1).cpu().numpy().round(3) * 1000
        varying = (flat.max(0) != flat.min(0))[source]
        shares = _gather_determined(flat, cipher, ks, varying)
    needed = next((k for k, s in zip(ks, shares, strict=True) if s >= 1.0), None)
    return {"k": ks, "determined": shares, "k_needed": needed}
