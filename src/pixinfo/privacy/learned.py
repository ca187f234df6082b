"""Known-plaintext attacks that return a key: ``pairs`` (plain, encrypted) images of the attacker's.

* :func:`attack_pairs_rearrangement`: a shared rearrangement, each encrypted position matched to
  the plain position whose values over the pairs are closest (one linear assignment; copies of one
  source merged, lost sources filled from the pairs' plain images);
* :func:`learned_inverse`: any scheme, a linear decryption (ridge regression from encrypted to
  plain pixels, an affine map) learned from the pairs — exact for rearrangements, negations and
  block ciphers built from them, blind to nonlinear value keys (XOR, 4-bit scrambles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from pixinfo._checks import check_finite, check_image_batch, describe
from pixinfo.data import to_uint8
from pixinfo.errors import ShapeError, ValueRangeError
from pixinfo.privacy.attacks import RecoveredKey
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
    return RecoveredKey("gather", True, 1.0, inverse, info=info, sources=source[rep_of], fill=fill)


@dataclass(frozen=True)
class LinearInverse:
    """``plain ≈ cipher @ weights + bias`` on flattened 8-bit values (channels kept)."""

    weights: np.ndarray
    bias: np.ndarray

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
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
    decryptor = LinearInverse(weights, pm - cm @ weights)
    info = {"threat": "known-plaintext", "pairs": len(p), "solver": "learned linear inverse"}
    return RecoveredKey("cipher", True, 1.0, None, info=info, decryptor=decryptor)


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
    >>> torch.equal(torch.as_tensor(attack_pairs_values(x, t(x), scheme="xor").inverse), t.key)
    True
    """
    plain, cipher = _check_pairs(plain, cipher)
    p, c = to_uint8(plain).long().cpu(), to_uint8(cipher).long().cpu()
    info = {"threat": "known-plaintext", "pairs": len(p)}
    if scheme == "xor":
        key = torch.mode(p ^ c, dim=0).values.to(torch.uint8).numpy()
        return RecoveredKey("xor", True, 1.0, key, bits=8, info=info)
    if scheme == "levels":
        counts = torch.bincount((c * 256 + p).reshape(-1), minlength=256 * 256).reshape(256, 256)
        table = np.where(counts.sum(1).numpy() > 0, counts.argmax(1).numpy(), np.arange(256))
        return RecoveredKey("levels", True, 1.0, table, info=info)
    raise ValueRangeError(f"scheme: expected 'xor' or 'levels', got {scheme!r}")
