"""How much an attacker recovered: exact key entries, PSNR/SSIM of the decryptions against the
originals, and the accuracy that a model trained on the originals reaches on the decryptions."""

from __future__ import annotations

from dataclasses import replace
from functools import singledispatch

import numpy as np
import torch
from skimage.metrics import structural_similarity

from pixinfo._checks import check_image_batch, describe
from pixinfo.data import to_float, to_uint8
from pixinfo.errors import ParameterError, ShapeError
from pixinfo.privacy.attacks import RecoveredKey, gather_key
from pixinfo.privacy.layout import alignment_maps
from pixinfo.transforms import GatherTransform, LevelMap, Transform, XorKey

PSNR_CAP = 100.0  # dB reported for an exact decryption (infinite PSNR)


def _second_moments(images: torch.Tensor) -> torch.Tensor:
    """``E[x xᵀ]`` over the images, positions flattened (channels averaged), float64."""
    x = to_float(images).mean(1).reshape(len(images), -1).double()
    return x.T @ x / len(x)


def align_symmetry(key: RecoveredKey, ciphertexts: torch.Tensor, *, prior: torch.Tensor) -> RecoveredKey:
    """Pick the grid symmetry and cyclic shift of a gather key (``alignment_maps``)
    with public plain images ``prior``: for each symmetry the shift whose mean decryption is
    closest to the prior's mean image, then the symmetry whose decrypted second moments
    ``E[x xᵀ]`` are closest to the prior's (mean images of digits and clothes are nearly
    symmetric; their pixel correlations less so). Other keys are returned as is.

    Examples
    --------
    >>> import numpy as np, torch
    >>> x = torch.zeros(2, 1, 2, 2, dtype=torch.uint8); x[:, :, 0, 0] = 255; x[1, :, 0, 1] = 255
    >>> flipped = RecoveredKey(gather_key(np.array([1, 0, 3, 2]), shape=(2, 2)))
    >>> align_symmetry(flipped, x, prior=x).decryption.gather_map((2, 2)).tolist()
    [0, 1, 2, 3]
    """
    if not isinstance(key.decryption, GatherTransform) or not key.found:
        return key
    shape = tuple(ciphertexts.shape[-2:])
    if prior.shape[-2:] != ciphertexts.shape[-2:]:
        raise ShapeError(f"prior: expected images of the ciphertexts' size {shape}, got {describe(prior)}")
    target = to_float(check_image_batch(prior, "prior")).mean((0, 1)).reshape(-1).double()
    mean = to_float(ciphertexts).mean((0, 1)).reshape(-1).double()
    maps = alignment_maps(shape).reshape(8 if shape[0] == shape[1] else 4, -1, shape[0] * shape[1])
    inverse = key.decryption.index.numpy()
    errors = ((mean[torch.as_tensor(inverse[maps])] - target) ** 2).sum(-1)  # (symmetries, shifts)
    best = [m[int(i)] for m, i in zip(maps, errors.argmin(1), strict=True)]
    moments, target_moments = _second_moments(ciphertexts), _second_moments(prior)
    fits = [float(((moments[np.ix_(inverse[m], inverse[m])] - target_moments) ** 2).sum()) for m in best]
    return key.aligned(best[int(np.argmin(fits))])


def _usable(key: RecoveredKey) -> RecoveredKey:
    """What a key is scored as: itself, or when nothing was found its decryption, which is then
    the identity of the scheme's kind (the ciphertext taken as the plaintext)."""
    return key if key.found else replace(key, found=True)


def _check_original(original: object) -> torch.Tensor:
    """Held-out images to score a key on: at least 2 (on one image every position and level is
    constant, and exactness is undefined)."""
    original = check_image_batch(original, "original")
    if len(original) < 2:
        raise ParameterError(f"original must hold at least 2 images (exactness counts the positions that vary "
                             f"across them), got {len(original)}")  # fmt: skip
    return original


def key_exactness(key: RecoveredKey, transform: Transform, original: torch.Tensor) -> dict[str, float]:
    """Share of the key recovered exactly, on positions (levels) that matter for ``original``.

    Gather keys: share of grid positions whose pixel comes back to its place, over positions that
    vary in ``original`` (a source that a non-bijective key destroyed never comes back), and, for
    keys that estimate every encrypted position's source, ``exact_sources``: the share of
    encrypted positions whose value varies whose source is right (constant ones decrypt alike wherever they go), best over the grid's
    symmetries and cyclic shifts (``exact_d4``) and as given (``exact``); ``neighbours`` is the share
    of adjacent pairs in the decryption that were adjacent in the original. XOR keys: share of positions with the right
    key, overall and at background positions (plain level 0 in at least half the images). Level
    maps: share of the plain levels present that map back to themselves.

    Raises
    ------
    ParameterError
        ``original`` holds fewer than 2 images, or (gather keys) no position varies across them,
        or (level maps) one grey level only: exactness is undefined there.
    """
    original = _check_original(original)
    return _exactness(_usable(key).decryption, key=_usable(key), transform=transform, original=original)


@singledispatch
def _exactness(decryption: Transform, *, key: RecoveredKey, transform: Transform, original: torch.Tensor) -> dict[str, float]:
    """A cipher's key: the share of the estimated encryption's key entries that equal the true
    ones (NaN where the estimate has no forward form or is keyed unlike ``transform``)."""
    if not decryption.has_inverse:
        return {"exact": float("nan")}
    mine, true = decryption.inverse().state_dict(), transform.state_dict()
    if type(decryption.inverse()) is not type(transform) or mine.keys() != true.keys() or any(
            mine[k].shape != true[k].shape for k in mine):  # fmt: skip
        return {"exact": float("nan")}
    right = torch.cat([(mine[k].cpu() == true[k].cpu()).reshape(-1) for k in mine])
    return {"exact": float(right.double().mean())}


@_exactness.register
def _(decryption: GatherTransform, *, key: RecoveredKey, transform: Transform, original: torch.Tensor) -> dict[str, float]:
    source = transform.gather_map(tuple(original.shape[1:]))
    if source is None:  # no shared map (a fresh one per image): nothing to recover
        return {"exact": 0.0, "exact_d4": 0.0, "neighbours": 0.0}
    v = to_uint8(original)
    source, inverse = source.cpu().numpy(), decryption.index.numpy()
    varying = (v.amax(0) != v.amin(0)).any(0).reshape(-1).cpu().numpy()
    if not varying.any():  # every layout decrypts constant images alike: exactness would read 1.0
        raise ParameterError(f"original has no position that varies across its {len(v)} images, so the share "
                             "of positions recovered is undefined; score on images that differ")  # fmt: skip
    hits = _gather_hits(inverse, source, varying, alignment_maps(tuple(v.shape[-2:])))
    out = {"exact": float(hits[0]), "exact_d4": float(hits.max()),
           "neighbours": _neighbour_recovery(source[inverse], varying, tuple(v.shape[-2:]))}  # fmt: skip
    if key.sources is not None:  # per encrypted position whose value varies: is its source right?
        c = to_uint8(transform(original))
        moving = (c.amax(0) != c.amin(0)).any(0).reshape(-1).cpu().numpy()
        out["exact_sources"] = float((key.sources == source)[moving].mean()) if moving.any() else 1.0
    return out


@_exactness.register
def _(decryption: XorKey, *, key: RecoveredKey, transform: Transform, original: torch.Tensor) -> dict[str, float]:
    if not transform.shared_key:  # a one-time pad: no key to recover
        return {"exact": 0.0, "exact_background": 0.0}
    # the effective XOR key is the encryption of a black image (a per-pixel negative: 255)
    true_key = to_uint8(transform(torch.zeros(1, *original.shape[1:], dtype=torch.uint8)))[0].cpu()
    true_key = (true_key >= 128).to(torch.uint8) if decryption.bits == 1 else true_key
    mask = 1 if decryption.bits == 1 else 255
    right = (decryption.key.cpu() & mask) == (true_key & mask)
    background = ((to_uint8(original) == 0).double().mean(0) >= 0.5).cpu()
    return {"exact": float(right.double().mean()), "exact_background": float(right[background].double().mean())}


@_exactness.register
def _(decryption: LevelMap, *, key: RecoveredKey, transform: Transform, original: torch.Tensor) -> dict[str, float]:
    forward = to_uint8(transform(torch.arange(256, dtype=torch.uint8).reshape(1, 1, 1, 256))).reshape(-1).long().numpy()
    present = np.flatnonzero(torch.bincount(to_uint8(original).reshape(-1).long().cpu(), minlength=256).numpy())
    if len(present) < 2:
        raise ParameterError(f"original holds one grey level only ({int(present[0])}), so the share of levels "
                             "recovered is undefined; score on images that differ")  # fmt: skip
    return {"exact": float((decryption.table.numpy()[forward[present]] == present).mean())}


def _neighbour_recovery(placed: np.ndarray, varying: np.ndarray, shape: tuple[int, int]) -> float:
    """Share of grid-adjacent pairs of the decryption (both sources varying) that were grid neighbours
    in the original: unchanged by symmetries and shifts, so it credits correct local patches."""
    h, w = shape
    grid = placed.reshape(h, w)
    pairs = [(grid[:, :-1], grid[:, 1:]), (grid[:-1], grid[1:])]
    good = total = 0
    for a, b in pairs:
        keep = varying[a] & varying[b]
        (ra, ca), (rb, cb) = np.divmod(a, w), np.divmod(b, w)
        good += int(((np.abs(ra - rb) + np.abs(ca - cb)) == 1)[keep].sum())
        total += int(keep.sum())
    return good / max(total, 1)


def _gather_hits(inverse: np.ndarray, source: np.ndarray, varying: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Share of varying positions back in place, for the key aligned by each of ``maps``."""
    if not varying.any():  # constant images decrypt alike under every layout
        return np.ones(len(maps))
    return ((source[inverse][maps] == np.arange(len(source)))[:, varying]).mean(1)


def image_similarity(original: torch.Tensor, decrypted: torch.Tensor) -> dict[str, float]:
    """Mean PSNR (dB, capped at 100) and SSIM (scikit-image, 8-bit range) over the images.

    Examples
    --------
    >>> import torch
    >>> x = torch.randint(0, 256, (3, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    >>> image_similarity(x, x)
    {'psnr': 100.0, 'ssim': 1.0}
    """
    a, b = to_uint8(original).cpu(), to_uint8(decrypted).cpu()
    if a.shape != b.shape or a.ndim != 4:
        raise ShapeError(f"decrypted must match original's (B, C, H, W) shape {tuple(a.shape)}, got {describe(b)}")
    mse = ((a.double() - b.double()) ** 2).mean((1, 2, 3)).numpy()
    with np.errstate(divide="ignore"):
        psnr = np.minimum(10 * np.log10(255.0**2 / mse), PSNR_CAP)
    an, bn = a.numpy(), b.numpy()
    win = min(7, *a.shape[-2:]) // 2 * 2 + 1 if min(a.shape[-2:]) >= 3 else None
    ssim = [structural_similarity(x, y, data_range=255, channel_axis=0, win_size=win) for x, y in zip(an, bn, strict=True)]
    return {"psnr": float(np.mean(psnr)), "ssim": float(np.mean(ssim))}


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, *, batch: int = 2048) -> float:
    """Top-1 accuracy of ``model`` (float images in [0, 1]) on ``images``, in eval mode, without gradients."""
    from pixinfo.models import evaluating, model_device

    device = model_device(model)
    right = 0
    with torch.no_grad(), evaluating(model):
        for i in range(0, len(images), batch):
            out = model(to_float(images[i : i + batch]).to(device))
            right += int((out.argmax(1).cpu() == labels[i : i + batch].cpu()).sum())
    return right / max(len(images), 1)


def recovery_measures(
    *,
    key: RecoveredKey,
    transform: Transform,
    original: torch.Tensor,
    labels: torch.Tensor | None = None,
    model: torch.nn.Module | None = None,
    prior: torch.Tensor | None = None,
) -> dict[str, float]:
    """Every measure of one attack on held-out ``original`` images (encrypted here with ``transform``).

    Decryptions are scored twice for gather keys: aligned by the symmetry and cyclic shift that
    fit the truth best (``_d4``: an attacker with no prior, scored up to the grid's symmetries
    and shifts) and by those a public ``prior`` picks (``_prior``; see [`align_symmetry`][pixinfo.privacy.measures.align_symmetry]). For other keys
    both are the same. ``accuracy_*`` needs ``model`` (trained on originals) and ``labels``;
    ``accuracy_original`` is its accuracy on ``original``.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import Identity
    >>> x = load_dataset("digits").test.images[:50]
    >>> key = RecoveredKey(gather_key(np.arange(64), shape=(8, 8)))
    >>> m = recovery_measures(key=key, transform=Identity(), original=x)
    >>> m["exact_d4"], m["ssim_d4"], m["psnr_prior"]
    (1.0, 1.0, 100.0)
    """
    original = check_image_batch(original, "original")
    if prior is not None and check_image_batch(prior, "prior").shape[1:] != original.shape[1:]:
        raise ShapeError(f"prior: expected images of shape {tuple(original.shape[1:])} like original, got {describe(prior)}")
    ciphertexts = transform(original)
    out: dict[str, float] = {"found": float(key.found), "confidence": key.confidence}
    out |= key_exactness(key, transform, original)
    usable = _usable(key)
    variants = {"d4": usable, "prior": usable}
    if isinstance(usable.decryption, GatherTransform):
        maps = alignment_maps(tuple(original.shape[-2:]))
        v = to_uint8(original)
        varying = (v.amax(0) != v.amin(0)).any(0).reshape(-1).cpu().numpy()
        source = transform.gather_map(tuple(original.shape[1:]))
        if source is not None:
            hits = _gather_hits(usable.decryption.index.numpy(), source.cpu().numpy(), varying, maps)
            variants["d4"] = usable.aligned(maps[int(np.argmax(hits))])
        variants["prior"] = align_symmetry(usable, ciphertexts, prior=prior) if prior is not None else usable
        out["exact_prior"] = key_exactness(variants["prior"], transform, original)["exact"]
    if model is not None and labels is not None:
        out["accuracy_original"] = accuracy(model, original, labels)
    for name, k in variants.items():
        decrypted = k.decrypt(ciphertexts)
        out |= {f"{m}_{name}": v for m, v in image_similarity(original, decrypted).items()}
        if model is not None and labels is not None:
            out[f"accuracy_{name}"] = accuracy(model, decrypted, labels)
    return out
