"""Known-plaintext attacks that return a key: ``pairs`` (plain, encrypted) images of the attacker's.

* :func:`attack_pairs_rearrangement`: a shared rearrangement, each encrypted position matched to
  the plain position whose values over the pairs are closest (one linear assignment; copies of one
  source merged, lost sources filled from the pairs' plain images);
* :func:`attack_pairs_chaos`: a one-round permutation–diffusion cipher, its chain undone and each
  position's byte map and plain source found by matching the pairs' values;
* :func:`learned_inverse`: any scheme, a linear decryption (ridge regression from encrypted to
  plain pixels, an affine map) learned from the pairs — exact for rearrangements, negations and
  block ciphers built from them, blind to nonlinear value keys (XOR, 4-bit scrambles).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from pixinfo._checks import check_finite, check_image_batch, describe
from pixinfo.data import to_uint8
from pixinfo.errors import ShapeError, ValueRangeError
from pixinfo.privacy.attacks import RecoveredKey, gather_key, levels_key, xor_key
from pixinfo.transforms import Transform
from pixinfo.transforms.chaos import diffuse
from pixinfo.transforms.value import _like
from pixinfo.privacy.prior import _flat, _merge_copies, _square_distances, fill_model

RIDGE = 1e-3  # ridge of the learned inverse, relative to the mean variance of the encrypted pixels


def _check_pairs(plain: object, cipher: object) -> tuple[torch.Tensor, torch.Tensor]:
    plain, cipher = check_image_batch(plain, "plain"), check_image_batch(cipher, "cipher")
    if plain.ndim != 4 or cipher.shape != plain.shape or len(plain) < 1:
        raise ShapeError(f"cipher: expected the encryptions of plain, of its shape {describe(plain)}, got {describe(cipher)}")
    return plain, cipher


def attack_pairs_rearrangement(plain: torch.Tensor, cipher: torch.Tensor) -> RecoveredKey:
    """Recover a shared rearrangement from ``pairs`` = ``len(plain)`` (plain, encrypted) pairs.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import FixedPermutation
    >>> x = load_dataset("digits").train.images[:64]
    >>> t = FixedPermutation((8, 8), seed=0)
    >>> key = attack_pairs_rearrangement(x, t(x))
    >>> torch.equal(key.decrypt(t(x)), x)
    True
    """
    plain, cipher = _check_pairs(plain, cipher)
    p, c = _flat(plain), _flat(cipher)
    reps, rep_of = _merge_copies(c)
    _, source = linear_sum_assignment(_square_distances(c[:, reps].T, p.T))
    inverse = np.empty(p.shape[1], int)
    inverse[source] = reps
    fill = fill_model(p, np.sort(source)) if len(reps) < p.shape[1] else None
    if fill is not None:  # no encrypted pixel holds a lost source: decrypt() predicts it with the fill
        inverse[fill.lost] = reps[0]
    info = {"threat": "known-plaintext", "pairs": len(p)}
    decryption = gather_key(inverse, shape=tuple(plain.shape[-2:]))
    return RecoveredKey(decryption, True, 1.0, info=info, sources=source[rep_of], fill=fill)


class LinearInverse(Transform):
    """A learned decryption, ``plain ≈ cipher @ weights + bias`` on flattened 8-bit values
    (channels kept); it has no inverse."""

    name = "linear-inverse"

    def __init__(self, weights: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.weights, self.bias = np.asarray(weights), np.asarray(bias)

    def init_kwargs(self) -> dict[str, Any]:
        return {"weights": torch.as_tensor(self.weights), "bias": torch.as_tensor(self.bias)}

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        x = to_uint8(images).double().reshape(len(images), -1)
        w, b = torch.as_tensor(self.weights, device=x.device), torch.as_tensor(self.bias, device=x.device)
        out = (x @ w + b).round().clamp(0, 255).to(torch.uint8).reshape(images.shape)
        return out if images.dtype == torch.uint8 else out.to(images.dtype) / 255


def learned_inverse(plain: torch.Tensor, cipher: torch.Tensor, *, ridge: float = RIDGE) -> RecoveredKey:
    """A linear decryption learned from (plain, encrypted) pairs: ridge regression of every plain
    pixel on all encrypted pixels (``ridge`` relative to their mean variance). It needs about as
    many pairs as pixels to pin a rearrangement down; a nonlinear value key stays unlearned.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import Negative
    >>> x = load_dataset("digits").train.images[:300]
    >>> key = learned_inverse(x, Negative()(x))
    >>> float((key.decrypt(Negative()(x)).double() - x.double()).abs().mean()) < 0.5  # levels, of 255
    True
    """
    plain, cipher = _check_pairs(plain, cipher)
    ridge = check_finite(ridge, "ridge", low=0.0)
    p = to_uint8(plain).double().reshape(len(plain), -1).cpu().numpy()
    c = to_uint8(cipher).double().reshape(len(cipher), -1).cpu().numpy()
    pm, cm = p.mean(0), c.mean(0)
    cc = c - cm
    gram = cc.T @ cc
    scale = max(float(np.trace(gram)) / gram.shape[0], 1e-12)
    weights = np.linalg.solve(gram + ridge * scale * np.eye(len(gram)) + 1e-9 * np.eye(len(gram)), cc.T @ (p - pm))
    info = {"threat": "known-plaintext", "pairs": len(p), "solver": "learned linear inverse"}
    return RecoveredKey(LinearInverse(weights, pm - cm @ weights), True, 1.0, info=info)


def attack_pairs_values(plain: torch.Tensor, cipher: torch.Tensor, *, scheme: str) -> RecoveredKey:
    """Recover a shared value key from (plain, encrypted) pairs: "xor" (per position, the most
    frequent ``encrypted ^ plain`` over the pairs; one pair suffices) or "levels" (per encrypted
    level, the plain level it most often came from; levels no pair shows map to themselves).

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import XorKey
    >>> x = load_dataset("digits").train.images[:1]
    >>> t = XorKey((1, 8, 8), seed=0)
    >>> torch.equal(attack_pairs_values(x, t(x), scheme="xor").decryption.key, t.key)
    True
    """
    plain, cipher = _check_pairs(plain, cipher)
    p, c = to_uint8(plain).long().cpu(), to_uint8(cipher).long().cpu()
    info = {"threat": "known-plaintext", "pairs": len(p)}
    if scheme == "xor":
        key = torch.mode(p ^ c, dim=0).values.to(torch.uint8).numpy()
        return RecoveredKey(xor_key(key), True, 1.0, info=info)
    if scheme == "levels":
        counts = torch.bincount((c * 256 + p).reshape(-1), minlength=256 * 256).reshape(256, 256)
        table = np.where(counts.sum(1).numpy() > 0, counts.argmax(1).numpy(), np.arange(256))
        return RecoveredKey(levels_key(table), True, 1.0, info=info)
    raise ValueRangeError(f"scheme: expected 'xor' or 'levels', got {scheme!r}")


class ChainedDiffusionInverse(Transform):
    """The decryption of a one-round permutation–diffusion cipher
    ([`ChaosCipher`][pixinfo.transforms.chaos.ChaosCipher] with ``rounds=1``) from an estimated
    equivalent key: undo the chain (``d_i = c_i ⊕ c_{i−1}``, ``c_{−1} = iv``), undo each position's
    byte map (``q_i = ((d_i ⊕ k_i) − k_i) mod 256``) and put ``q_i`` back at its plain position
    ``sources[i]`` (flat over ``(C, H, W)``; a position no source reaches stays 0). No inverse."""

    name = "chained-diffusion-inverse"

    def __init__(self, sources: np.ndarray, keystream: np.ndarray, iv: int) -> None:
        super().__init__()
        self.sources, self.keystream, self.iv = np.asarray(sources, np.int64), np.asarray(keystream, np.uint8), int(iv)

    def init_kwargs(self) -> dict[str, Any]:
        return {"sources": torch.as_tensor(self.sources), "keystream": torch.as_tensor(self.keystream), "iv": self.iv}

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        c = to_uint8(images).cpu().numpy().reshape(len(images), -1)
        if c.shape[1] != len(self.sources):
            raise ShapeError(f"{self.name} was estimated for {len(self.sources)} values per image, got {c.shape[1]}")
        q = diffuse(c, self.keystream, iv=self.iv, decrypt=True)
        out = np.zeros_like(q)
        out[:, self.sources] = q
        return _like(torch.from_numpy(out.reshape(images.shape)).to(images.device), images)


def _column_hashes(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One 64-bit hash per column of ``values`` (uint8 ``(m, n)``), equal for equal columns."""
    return (values.astype(np.uint64) * weights[:, None]).sum(0, dtype=np.uint64)


def _lookup(hashes: np.ndarray, order: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``targets``: the index of a column whose hash equals it (``hashes`` sorted by
    ``order``), and whether there is one."""
    at = np.searchsorted(hashes, targets).clip(0, len(hashes) - 1)
    return order[at], hashes[at] == targets


def attack_pairs_chaos(plain: torch.Tensor, cipher: torch.Tensor) -> RecoveredKey:
    """Recover an equivalent key of a one-round permutation–diffusion cipher (one key for every
    image; [`ChaosCipher`][pixinfo.transforms.chaos.ChaosCipher] with ``rounds=1``) from
    (plain, encrypted) pairs.

    The chain comes off each ciphertext alone (``d_i = c_i ⊕ c_{i−1}``); what is left at position
    ``i`` is one byte map of one plain value, ``d_i = k_i ⊕ ((p_{s(i)} + k_i) mod 256)``, so for each
    of the 256 key bytes the attack hashes every plain position's values over the pairs through that
    map and looks ``d_i``'s column up (the first position also tries the 256 IVs). Positions whose
    plain values never vary over the pairs (a blank border) match many sources and keep one; a
    position nothing matches keeps its own place and key byte 0.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import ChaosCipher
    >>> x = load_dataset("digits").train.images[:64]
    >>> t = ChaosCipher((1, 8, 8), seed=0)
    >>> key = attack_pairs_chaos(x, t(x))
    >>> torch.equal(key.decrypt(t(x)), x)
    True
    """
    plain, cipher = _check_pairs(plain, cipher)
    p = to_uint8(plain).cpu().numpy().reshape(len(plain), -1)
    c = to_uint8(cipher).cpu().numpy().reshape(len(cipher), -1)
    m, n = p.shape
    weights = np.random.default_rng(0).integers(1, 1 << 62, m, dtype=np.uint64) | np.uint64(1)
    levels = np.arange(256, dtype=np.uint8)
    chained = _column_hashes(c[:, 1:] ^ c[:, :-1], weights)  # d_i for i >= 1
    first = _column_hashes(c[:, :1] ^ levels, weights)  # d_0 under each of the 256 IVs
    sources, keystream, iv, found = np.arange(n), np.zeros(n, np.uint8), 0, np.zeros(n, bool)
    for k in range(256):
        hashes = _column_hashes((np.uint8(k) ^ (levels + np.uint8(k)))[p], weights)
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        source, hit = _lookup(ordered, order, chained)
        new = hit & ~found[1:]
        sources[1:][new], keystream[1:][new], found[1:][new] = source[new], k, True
        if not found[0]:
            source, hit = _lookup(ordered, order, first)
            if hit.any():
                guess = int(np.flatnonzero(hit)[0])
                sources[0], keystream[0], iv, found[0] = source[guess], k, guess, True
    info = {"threat": "known-plaintext", "pairs": m, "solver": "per-position byte map after the chain",
            "matched": float(found.mean())}  # fmt: skip
    return RecoveredKey(ChainedDiffusionInverse(sources, keystream, iv), bool(found.any()), float(found.mean()),
                        info=info)  # fmt: skip
