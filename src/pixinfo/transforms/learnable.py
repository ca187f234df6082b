"""Learnable image encryptions of the privacy-preserving deep-learning literature.

* ``learnable``: Tanaka's block-wise scramble of 4-bit halves ([`LearnableEncryption`][pixinfo.transforms.learnable.LearnableEncryption]);
* ``etc``: the encryption-then-compression block cipher of Kurihara, Kiya et al. ([`EtC`][pixinfo.transforms.learnable.EtC]);
* ``pixel-based`` and ``pixel-based-per-image``: the pixel-wise negative–positive transformation
  and colour shuffle of Sirichotedumrong, Kinoshita and Kiya ([`PixelBased`][pixinfo.transforms.learnable.PixelBased],
  [`PerImagePixelBased`][pixinfo.transforms.learnable.PerImagePixelBased]);
* ``instahide``: InstaHide's mixing of images with random sign flips ([`InstaHide`][pixinfo.transforms.learnable.InstaHide]).

Each is a pure function ([`nibble_scramble`][pixinfo.transforms.learnable.nibble_scramble], [`pixel_based`][pixinfo.transforms.learnable.pixel_based], [`instahide`][pixinfo.transforms.learnable.instahide]) plus a
thin module. All keep the shape ``(B, C, H, W)``, the dtype and the device of their input. The
shared-key ciphers are exact on 8-bit images and ``inverse()`` returns their decryption (an
[`InverseCipher`][pixinfo.transforms.learnable.InverseCipher]); the per-image schemes have no inverse.
"""

from __future__ import annotations

from typing import Any

import torch

from pixinfo._checks import check_finite, check_grid_shape, check_image_batch, check_int, check_tensor, describe
from pixinfo.data import to_float, to_uint8
from pixinfo.errors import DTypeError, ParameterError, ShapeError
from pixinfo.transforms.base import Transform
from pixinfo.transforms.blocks import BlockScramble, check_block_size, merge_blocks, split_blocks
from pixinfo.transforms.functional import (
    check_permutation,
    gather_pixels,
    invert_gather,
    negate,
    random_permutations,
)
from pixinfo.transforms.keying import SEED, PerImageTransform, key_seed, make_generator
from pixinfo.transforms.value import _like

MAX_MIX = 64  # images mixed into one InstaHide image; the paper uses k = 4 to 6
MAX_DRAWS = 10_000  # rounds of InstaHide's rejection sampling before an upper bound counts as unreachable


# -- checks ---------------------------------------------------------------------------------------
def _batch(images: object) -> torch.Tensor:
    images = check_image_batch(images)
    if images.ndim != 4:
        raise ShapeError(f"images must be (B, C, H, W), got {describe(images)}")
    return images


def _channels(shape: tuple[int, ...]) -> int:
    check_grid_shape(shape)
    return int(shape[0]) if len(shape) == 3 else 1


def _key(value: object, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    value = check_tensor(value, name)
    if tuple(value.shape) != tuple(shape):
        raise ShapeError(f"{name} must have shape {tuple(shape)}, got {describe(value)}")
    return value


def _mask(value: object, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    value = _key(value, name, shape)
    if value.dtype != torch.bool and (value.is_floating_point() or bool(((value != 0) & (value != 1)).any())):
        raise DTypeError(f"{name} must be a bool (or 0/1 integer) tensor, got {describe(value)}")
    return value.bool()


def _channel_map(value: object, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    """A ``(..., C, H, W)`` map whose entries at each pixel are a permutation of ``0..C-1``."""
    value = _key(value, name, shape)
    return check_permutation(value.movedim(-3, -1)).movedim(-1, -3).contiguous()


def _check_keyed(t: Transform, images: torch.Tensor, shape: tuple[int, ...]) -> None:
    if tuple(images.shape[-len(shape) :]) != tuple(shape):
        raise ShapeError(f"{t.spec} was keyed for {tuple(shape)} images, got {tuple(images.shape[1:])}")


# -- ciphers and their inverses -------------------------------------------------------------------
class Cipher(Transform):
    """A keyed encryption with an exact decryption: subclasses implement ``decrypt``, and
    ``inverse`` returns it as a transform ([`InverseCipher`][pixinfo.transforms.learnable.InverseCipher])."""

    def decrypt(self, images: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self) -> Transform:
        return InverseCipher(self)


class InverseCipher(Transform):
    """The decryption of a [`Cipher`][pixinfo.transforms.learnable.Cipher], keeping what it inverts: its spec is
    ``inverse(<spec of the cipher>)``, its saved key holds the cipher's key, and its own
    inverse is the cipher again.

    Examples
    --------
    >>> t = PixelBased((1, 4, 4), seed=2)
    >>> inv = t.inverse()
    >>> inv.spec, inv.inverse() is t
    ('inverse(pixel-based:fraction=0.5,seed=2)', True)
    """

    name = "inverse"

    def __init__(self, of: Cipher) -> None:
        super().__init__()
        if not isinstance(of, Cipher):
            raise ParameterError(f"of must be a pixinfo Cipher (a transform with decrypt), got {type(of).__name__}")
        self.of = of

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return self.of.decrypt(images)

    @property
    def spec(self) -> str:
        return f"inverse({self.of.spec})"

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor | None:
        index = self.of.gather_map(shape)
        return None if index is None else invert_gather(index)

    def inverse(self) -> Transform:
        return self.of

    def init_kwargs(self) -> dict[str, Any]:
        return {"of": self.of}


# -- Tanaka 2018 ----------------------------------------------------------------------------------
def nibble_scramble(images: torch.Tensor, *, size: int, order: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
    """One step of Tanaka's learnable image encryption on 4-bit halves ([`LearnableEncryption`][pixinfo.transforms.learnable.LearnableEncryption]).

    The images are quantised to 8-bit levels (``round(255 x)`` for floats) and cut into
    ``size``×``size`` blocks of ``d = size*size*C`` values in (row, column, channel) order.
    Each block becomes ``2d`` halves: half ``i < d`` is the lower 4 bits of value ``i``, half
    ``d + i`` its upper 4 bits. The halves at ``flips`` are negated (``h → 15 - h``), the halves
    are shuffled (half ``j`` takes half ``order[j]``, the same in every block) and the halves at
    ``flips`` are negated again; output value ``i`` of the block is ``16 * half[d + i] + half[i]``.
    The output has the input's shape, dtype (levels / 255 for floats) and device. With the
    inverse order and the same flips the step decrypts.

    Parameters
    ----------
    images : (B, C, H, W) uint8 or float in [0, 1]
    size : int
        Block side; must divide H and W.
    order : (2*size*size*C,) int64 permutation
    flips : (2*size*size*C,) bool

    Examples
    --------
    >>> x = torch.tensor([[[[0x1F]]]], dtype=torch.uint8)  # low half 15, high half 1
    >>> swap, none = torch.tensor([1, 0]), torch.tensor([False, False])
    >>> hex(int(nibble_scramble(x, size=1, order=swap, flips=none)))
    '0xf1'
    >>> hex(int(nibble_scramble(x, size=1, order=torch.tensor([0, 1]), flips=torch.tensor([True, False]))))
    '0x1f'
    """
    images = _batch(images)
    _, c, h, w = images.shape
    size = check_block_size((h, w), size)[2]
    d = size * size * c
    order, flips = _key(order, "order", (2 * d,)), _mask(flips, "flips", (2 * d,))
    levels = to_uint8(images)
    order, flips = check_permutation(order).to(levels.device), flips.to(levels.device)
    blocks = split_blocks(levels, size)
    halves = torch.cat([blocks & 15, blocks >> 4], dim=-1)
    halves = torch.where(flips, 15 - halves, halves)[..., order]
    halves = torch.where(flips, 15 - halves, halves)
    packed = (halves[..., d:] << 4) | halves[..., :d]
    return _like(merge_blocks(packed, (c, h, w), size), images)


class LearnableEncryption(Cipher, spec="learnable"):
    """Tanaka's learnable encryption: 4-bit halves flipped and shuffled within size×size blocks (one key).

    Tanaka, "Learnable Image Encryption", ICCE-TW 2018 (arXiv:1804.00490); reference code
    ``BlockScramble.py`` of github.com/mastnk/ICCE-TW2018, which this transform reproduces
    given its key. Every 8-bit value of a block is split into its upper and lower 4 bits, so a
    block of ``size*size*C`` values gives ``2*size*size*C`` halves; a keyed subset of them is
    negated (``h → 15 - h``) and all are shuffled, with one key for every block.

    Layout (the reference code's): the shuffled halves are packed back two to a byte, so the
    output keeps the input's shape ``(B, C, H, W)`` and dtype; see [`nibble_scramble`][pixinfo.transforms.learnable.nibble_scramble].
    Float images are quantised to 8-bit levels first (``round(255 x)``; the reference
    truncates) and come back as levels / 255. The key is one permutation ``key`` of the
    ``2*size*size*C`` halves; as in the reference, the halves negated are those whose key
    entry exceeds ``size*size*C``, negated before and after the shuffle, so decryption is the
    same step with the inverse permutation. Exact inverse on 8-bit images.

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        The key depends on C (one channel when C is not given); H and W must be multiples of
        ``size`` (images of any such H and W can then be encrypted).
    size : int
        Block side M (the paper's M = 4).
    seed, generator
        Source of the key.
    key : torch.Tensor, optional
        An explicit key: a permutation ``(2*size*size*C,)``.

    Examples
    --------
    >>> t = LearnableEncryption((3, 8, 8), size=4, seed=0)
    >>> x = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    >>> y = t(x)
    >>> y.shape, y.dtype, torch.equal(t.inverse()(y), x)
    (torch.Size([2, 3, 8, 8]), torch.uint8, True)
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        size: int = 4,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        key: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        h, w, size = check_block_size(shape, size)
        c = _channels(shape)
        d = size * size * c
        named_seed = key_seed(seed, generator, key)
        if key is None:
            key = random_permutations(1, 2 * d, generator=make_generator(seed, generator))[0]
        key = check_permutation(_key(key, "key", (2 * d,)))
        self.register_buffer("key", key)
        self.register_buffer("flips", key > d, persistent=False)  # the reference's rev = key > key.size / 2
        self.image_shape, self.size, self.seed = (c, h, w), size, named_seed

    def _check_channels(self, images: torch.Tensor) -> None:
        if images.ndim != 4 or images.shape[1] != self.image_shape[0]:
            raise ShapeError(f"{self.spec} was keyed for {self.image_shape[0]}-channel images, got {describe(images)}")

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        self._check_channels(images)
        return nibble_scramble(images, size=self.size, order=self.key, flips=self.flips)

    def decrypt(self, images: torch.Tensor) -> torch.Tensor:
        self._check_channels(images)
        return nibble_scramble(images, size=self.size, order=invert_gather(self.key), flips=self.flips)

    def params(self) -> dict[str, Any]:
        return {"size": self.size} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.image_shape), "size": self.size, "seed": self.seed, "key": self.key}


# -- negative-positive transformation and colour shuffling ------------------------------------------
def pixel_based(images: torch.Tensor, *, mask: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
    """Negative–positive transformation, then colour-component shuffling.

    Values where ``mask`` is True become ``255 - x`` (``1 - x`` for floats); then output channel
    ``c`` of each pixel takes channel ``channels[c]`` of the same pixel. ``mask`` broadcasts
    against the images (``(C, H, W)``, ``(1, H, W)`` or one per image ``(B, C, H, W)``);
    ``channels`` is ``(C, H, W)`` or ``(B, C, H, W)``, a permutation of the channels at every
    pixel. [`pixel_based_inverse`][pixinfo.transforms.learnable.pixel_based_inverse] undoes it exactly.

    Examples
    --------
    >>> x = torch.tensor([[[[10]], [[20]], [[30]]]], dtype=torch.uint8)  # one RGB pixel
    >>> mask, channels = torch.tensor([[[True]], [[False]], [[False]]]), torch.tensor([[[2]], [[0]], [[1]]])
    >>> y = pixel_based(x, mask=mask, channels=channels)
    >>> y.flatten().tolist(), torch.equal(pixel_based_inverse(y, mask=mask, channels=channels), x)
    ([30, 245, 20], True)
    """
    images = _batch(images)
    mask = mask.to(images.device)
    channels = channels.to(images.device)
    if channels.shape[-3:] != images.shape[-3:]:
        raise ShapeError(f"channels must end in {tuple(images.shape[-3:])} (C, H, W), got {describe(channels)}")
    flipped = torch.where(mask, negate(images), images)
    return torch.gather(flipped, 1, channels.expand_as(images))


def pixel_based_inverse(images: torch.Tensor, *, mask: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
    """The exact inverse of [`pixel_based`][pixinfo.transforms.learnable.pixel_based] with the same keys: channels put back, then the
    masked values negated again."""
    images = _batch(images)
    back = invert_gather(channels.movedim(-3, -1)).movedim(-1, -3).to(images.device)
    unshuffled = torch.gather(images, 1, back.expand_as(images))
    return torch.where(mask.to(images.device), negate(unshuffled), unshuffled)


def pixel_based_keys(
    n: int, shape: tuple[int, int, int], *, fraction: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` keys of [`pixel_based`][pixinfo.transforms.learnable.pixel_based] for ``(C, H, W)`` images: a mask ``(n, C, H, W)`` that
    is True at exactly ``round(fraction * C*H*W)`` uniformly chosen values, and a uniform
    channel permutation at every pixel ``(n, C, H, W)``."""
    c, h, w = shape
    mask = random_permutations(n, c * h * w, generator=generator) < int(round(fraction * c * h * w))
    channels = random_permutations(n * h * w, c, generator=generator).reshape(n, h, w, c).permute(0, 3, 1, 2)
    return mask.reshape(n, c, h, w), channels.contiguous()


class PixelBased(Cipher, spec="pixel-based"):
    """Pixel-based encryption: a keyed fraction of values negated, then each pixel's channels shuffled.

    Sirichotedumrong, Kinoshita and Kiya, "Pixel-based image encryption without key management
    for privacy-preserving deep neural networks", IEEE Access 7 (2019) 177844. Step 1, the
    negative–positive transformation, maps each value (each colour component of each pixel)
    ``x → 255 - x`` (``1 - x`` for floats) where the key says so; here exactly
    ``round(fraction * C*H*W)`` values, a uniformly drawn subset (the paper draws each bit with
    probability 0.5). Step 2 shuffles the colour components of every pixel with a keyed
    permutation (a no-op for grey images). One key for every image: the paper's
    "same key" setting; [`PerImagePixelBased`][pixinfo.transforms.learnable.PerImagePixelBased] is its key-management-free setting, with
    an independent key per image. Exact inverse. Pixels do not move: the gather map is the
    identity.

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        Image shape the key is drawn for.
    fraction : float
        Share of the values negated, in [0, 1].
    seed, generator
        Source of the key.
    mask, channels : torch.Tensor, optional
        An explicit key: a bool mask ``(C, H, W)`` and the channel permutation of every pixel
        ``(C, H, W)`` (output channel c takes channel ``channels[c]``).

    Examples
    --------
    >>> t = PixelBased((3, 4, 4), seed=0)
    >>> x = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    >>> int(t.mask.sum()), torch.equal(t.inverse()(t(x)), x)
    (24, True)
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        fraction: float = 0.5,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        mask: torch.Tensor | None = None,
        channels: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        h, w = check_grid_shape(shape)
        full = (_channels(shape), h, w)
        self.fraction = check_finite(fraction, "fraction", low=0, high=1)
        named_seed = key_seed(seed, generator, mask, channels)
        if mask is None and channels is None:
            keys = pixel_based_keys(1, full, fraction=self.fraction, generator=make_generator(seed, generator))
            mask, channels = (k[0] for k in keys)
        elif mask is None or channels is None:
            raise ParameterError("give both mask and channels (the key), or neither")
        self.register_buffer("mask", _mask(mask, "mask", full))
        self.register_buffer("channels", _channel_map(channels, "channels", full))
        self.grid, self.seed = (h, w), named_seed

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        _check_keyed(self, images, tuple(self.mask.shape))
        return pixel_based(images, mask=self.mask, channels=self.channels)

    def decrypt(self, images: torch.Tensor) -> torch.Tensor:
        _check_keyed(self, images, tuple(self.mask.shape))
        return pixel_based_inverse(images, mask=self.mask, channels=self.channels)

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        h, w = check_grid_shape(shape)
        return torch.arange(h * w)

    def params(self) -> dict[str, Any]:
        return {"fraction": self.fraction} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.mask.shape), "fraction": self.fraction, "seed": self.seed,
                "mask": self.mask, "channels": self.channels}  # fmt: skip


class PerImagePixelBased(PerImageTransform, spec="pixel-based-per-image"):
    """Pixel-based encryption with a fresh key for every image (no key management): no shared key.

    The setting of Sirichotedumrong, Kinoshita and Kiya (IEEE Access 2019) that names the
    paper: training and test images are each encrypted with their own random key, as
    [`PixelBased`][pixinfo.transforms.learnable.PixelBased] does with one key. Successive calls continue the module's seeded
    generator, so a run is reproducible from ``seed``. No inverse (the keys are not kept).

    Examples
    --------
    >>> t = PerImagePixelBased(seed=0)
    >>> x = torch.full((2, 1, 4, 4), 100, dtype=torch.uint8)
    >>> y = t(x)
    >>> sorted(y.unique().tolist()), torch.equal(y[0], y[1])
    ([100, 155], False)
    """

    def __init__(
        self, *, fraction: float = 0.5, seed: int | None = SEED, generator: torch.Generator | None = None
    ) -> None:
        super().__init__(seed=seed, generator=generator)
        self.fraction = check_finite(fraction, "fraction", low=0, high=1)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        b, c, h, w = _batch(images).shape
        mask, channels = pixel_based_keys(b, (c, h, w), fraction=self.fraction, generator=self.generator)
        return pixel_based(images, mask=mask, channels=channels)

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        h, w = check_grid_shape(shape)
        return torch.arange(h * w)

    def params(self) -> dict[str, Any]:
        return {"fraction": self.fraction} | super().params()

    def init_kwargs(self) -> dict[str, Any]:
        return {"fraction": self.fraction} | super().init_kwargs()


# -- encryption-then-compression ------------------------------------------------------------------
def blockwise(values: torch.Tensor, shape: tuple[int, int], size: int) -> torch.Tensor:
    """Per-block values ``(n_blocks, K)`` spread over their ``size``×``size`` blocks: ``(K, H, W)``.

    Examples
    --------
    >>> blockwise(torch.tensor([[1], [2]]), (2, 4), 2).tolist()
    [[[1, 1, 2, 2], [1, 1, 2, 2]]]
    """
    nb, k = values.shape
    h, w = shape
    spread = values[None, :, None, :].expand(1, nb, size * size, k).reshape(1, nb, size * size * k)
    return merge_blocks(spread, (k, h, w), size)[0]


class EtC(Cipher, spec="etc"):
    """Encryption-then-compression: blocks permuted, rotated/flipped, negated and colour-shuffled.

    The block-based EtC cipher of Kurihara, Kikuchi, Imaizumi, Shiota and Kiya ("An
    encryption-then-compression system for JPEG/Motion JPEG standard", IEICE Trans.
    Fundamentals E98-A(11), 2015), used for privacy-preserving deep learning by Kiya's group
    and surveyed, with the other learnable encryptions, in MDPI Information 14(6):311 (2023).
    Four keyed steps on ``size``×``size`` blocks:
    (1) block permutation, (2) block rotation by a multiple of 90° and mirroring (the
    [`BlockScramble`][pixinfo.transforms.blocks.BlockScramble] with ``rotate`` and ``flip``, whose key it holds),
    (3) the negative–positive transformation of whole blocks (every value ``x → 255 - x``,
    ``1 - x`` for floats, in a keyed half of the blocks on average) and (4) colour-component
    shuffling, one keyed permutation of the channels per block (a no-op for grey images).
    Steps 3 and 4 are keyed by the block's output position. Exact inverse; the gather map is
    the block scramble's.

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        Both sides must be multiples of ``size``.
    size : int
        Block side (16 for JPEG in the original; 4 here by default, for small images).
    seed, generator
        Source of the key.
    block_perm, rotations, flips, negatives, channel_perms : torch.Tensor, optional
        An explicit key: the block scramble's (``(n_blocks,)`` each), the negated blocks
        (bool ``(n_blocks,)``) and each block's channel permutation ``(n_blocks, C)``.

    Examples
    --------
    >>> t = EtC((3, 8, 8), size=4, seed=0)
    >>> x = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    >>> torch.equal(t.inverse()(t(x)), x), t.gather_map((8, 8)).shape
    (True, torch.Size([64]))
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        size: int = 4,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        block_perm: torch.Tensor | None = None,
        rotations: torch.Tensor | None = None,
        flips: torch.Tensor | None = None,
        negatives: torch.Tensor | None = None,
        channel_perms: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        h, w, size = check_block_size(shape, size)
        c, nb = _channels(shape), (h // size) * (w // size)
        keys = (block_perm, rotations, flips, negatives, channel_perms)
        named_seed = key_seed(seed, generator, *keys)
        if all(k is None for k in keys):
            g = make_generator(seed, generator)
            self.scramble = BlockScramble((h, w), size=size, rotate=True, flip=True, generator=g)
            negatives = torch.randint(0, 2, (nb,), generator=g)
            channel_perms = random_permutations(nb, c, generator=g)
        elif any(k is None for k in keys):
            raise ParameterError("give all of block_perm, rotations, flips, negatives and channel_perms, or none")
        else:
            within = torch.arange(size * size)
            self.scramble = BlockScramble((h, w), size=size, rotate=True, flip=True, block_perm=block_perm,
                                          within_perm=within, rotations=rotations, flips=flips)  # fmt: skip
        self.register_buffer("negatives", _mask(negatives, "negatives", (nb,)))
        self.register_buffer("channel_perms", check_permutation(_key(channel_perms, "channel_perms", (nb, c))))
        self.register_buffer("mask", blockwise(self.negatives[:, None], (h, w), size), persistent=False)
        self.register_buffer("channels", blockwise(self.channel_perms, (h, w), size), persistent=False)
        self.grid, self.size, self.seed = (h, w), size, named_seed

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        _check_keyed(self, images, tuple(self.channels.shape))
        return pixel_based(self.scramble.apply(images), mask=self.mask, channels=self.channels)

    def decrypt(self, images: torch.Tensor) -> torch.Tensor:
        _check_keyed(self, images, tuple(self.channels.shape))
        back = pixel_based_inverse(images, mask=self.mask, channels=self.channels)
        return gather_pixels(back, invert_gather(self.scramble.index))

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        return self.scramble.gather_map(shape)

    def params(self) -> dict[str, Any]:
        return {"size": self.size} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        key = self.scramble.block_key
        return {"shape": list(self.channels.shape), "size": self.size, "seed": self.seed,
                "block_perm": key["block_perm"], "rotations": key["rotations"], "flips": key["flips"],
                "negatives": self.negatives, "channel_perms": self.channel_perms}  # fmt: skip


# -- InstaHide ------------------------------------------------------------------------------------
def instahide_coefficients(n: int, k: int, *, upper: float, generator: torch.Generator) -> torch.Tensor:
    """``(n, k)`` float64 mixing coefficients as InstaHide's reference code draws them: the
    absolute values of k standard normals, normalised to sum 1, drawn again until none
    exceeds ``upper``.

    Examples
    --------
    >>> lams = instahide_coefficients(100, 4, upper=0.65, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(lams.sum(1), torch.ones(100, dtype=torch.float64))), bool(lams.max() <= 0.65)
    (True, True)
    """
    k = check_int(k, "k", low=2, high=MAX_MIX)
    upper = check_finite(upper, "upper", low=1 / k, low_open=True, high=1)
    lams = torch.empty(n, k, dtype=torch.float64)
    todo = torch.arange(n)
    for _ in range(MAX_DRAWS):
        if not len(todo):
            return lams
        draw = torch.randn(len(todo), k, generator=generator, dtype=torch.float64).abs()
        draw = draw / draw.sum(1, keepdim=True)
        ok = draw.max(1).values <= upper
        lams[todo[ok]] = draw[ok]
        todo = todo[~ok]
    if len(todo):
        raise ParameterError(f"upper must leave room above 1/k = {1 / k:.4g}: no coefficients at most {upper} "
                             f"came up in {MAX_DRAWS} draws; raise upper")  # fmt: skip
    return lams


def instahide(images: torch.Tensor, *, k: int = 4, upper: float = 0.65, generator: torch.Generator) -> torch.Tensor:
    """InstaHide (inside-dataset): each image mixed with k - 1 images of its batch, then sign-flipped.

    As in the reference code (github.com/Hazelsuko07/InstaHide, ``mixup_data``): the images
    are centred, ``x → 2x - 1`` in [-1, 1]; image ``i`` becomes
    ``λ_i0 x_i + Σ_j λ_ij x_{π_j(i)}`` with coefficients from [`instahide_coefficients`][pixinfo.transforms.learnable.instahide_coefficients]
    and ``π_1, …, π_{k-1}`` fresh uniform permutations of the batch (a partner may repeat or be
    the image itself, so any batch size works); then every value is multiplied by an
    independent random sign. The result, in [-1, 1], is brought back to [0, 1] by ``(y + 1) / 2``
    (the signed values kept whole; rounded to 8 bits for uint8 input). All keys come from
    ``generator`` (CPU) and are fresh for every call and image.

    Examples
    --------
    >>> x = torch.rand(3, 1, 4, 4)
    >>> y = instahide(x, k=2, generator=torch.Generator().manual_seed(0))
    >>> y.shape, bool(y.min() >= 0 and y.max() <= 1)
    (torch.Size([3, 1, 4, 4]), True)
    """
    images = _batch(images)
    x = to_float(images) * 2 - 1
    lams = instahide_coefficients(len(x), k, upper=upper, generator=generator).to(x.device, x.dtype)
    mixed = lams[:, 0, None, None, None] * x
    for j in range(1, lams.shape[1]):
        partners = torch.randperm(len(x), generator=generator).to(x.device)
        mixed = mixed + lams[:, j, None, None, None] * x[partners]
    signs = torch.randint(0, 2, tuple(x.shape), generator=generator).to(x.device, x.dtype) * 2 - 1
    out = ((mixed * signs + 1) / 2).clamp(0, 1)
    return torch.round(out * 255).to(torch.uint8) if images.dtype == torch.uint8 else out


class InstaHide(PerImageTransform, spec="instahide"):
    """InstaHide: each image mixed with k - 1 others of its batch, then multiplied by random signs.

    Huang, Song, Li and Arora, "InstaHide: Instance-hiding schemes for private distributed
    learning", ICML 2020 (arXiv:2010.02772; code github.com/Hazelsuko07/InstaHide), the
    inside-dataset variant (partners from the private batch, no public images). See
    [`instahide`][pixinfo.transforms.learnable.instahide] for the mixing and for how the output comes back to [0, 1] (``(y+1)/2``
    of the signed mixture). Coefficients and masks are fresh for every call and every image:
    no shared key and no inverse; successive calls continue the module's seeded generator,
    so a run is replayable from ``seed``.

    Parameters
    ----------
    k : int
        Images mixed into each output (2 to 64; the paper's k = 4).
    upper : float
        Bound on every mixing coefficient (in (1/k, 1]; the reference's 0.65).
    seed, generator
        Source of the coefficients, partners and sign masks.

    Examples
    --------
    >>> x = torch.rand(4, 1, 8, 8)
    >>> torch.equal(InstaHide(seed=1)(x), InstaHide(seed=1)(x)), torch.equal(InstaHide(seed=1)(x), InstaHide(seed=2)(x))
    (True, False)
    """

    def __init__(
        self, *, k: int = 4, upper: float = 0.65, seed: int | None = SEED, generator: torch.Generator | None = None
    ) -> None:
        super().__init__(seed=seed, generator=generator)
        self.k = check_int(k, "k", low=2, high=MAX_MIX)
        self.upper = check_finite(upper, "upper", low=1 / self.k, low_open=True, high=1)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return instahide(images, k=self.k, upper=self.upper, generator=self.generator)

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "upper": self.upper} | super().params()

    def init_kwargs(self) -> dict[str, Any]:
        return {"k": self.k, "upper": self.upper} | super().init_kwargs()
