"""AES on an image's bytes: the block cipher as a user would apply it to pixel data.

AES-128 (from the ``cryptography`` package: ``pip install 'pixinfo[cipher]'``) encrypts an image's
8-bit levels 16 bytes at a time. Which bytes form a block is the ``layout``: ``"rows"``, the
image's bytes in ``(C, H, W)`` raster order (what encrypting ``image.tobytes()`` does), or
``"tiles"``, each 4 × 4 tile of a channel (tiles in raster order, each tile's pixels in raster
order). The ciphertext bytes are the output levels, so an image keeps its shape and dtype (float
input in [0, 1] is quantised to ``round(255 x)`` first, as pixinfo's value transforms do).

* [`AES`][pixinfo.transforms.aes.AES]: one key for every image, ``mode="ecb"`` (every block
  alone: equal plaintext blocks, such as blank background, encrypt alike) or ``mode="cbc"`` with
  one fixed IV (blocks chained within each image: images that begin alike encrypt alike up to
  their first differing block). Exact decryption.
* [`PerImageAES`][pixinfo.transforms.aes.PerImageAES]: the key is fixed but every image gets a
  fresh IV (``"cbc"``) or nonce (``"ctr"``), as a correct use of AES does: the ciphertexts of
  any two images are unrelated, as with a one-time pad. No shared key, no inverse.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pixinfo._checks import check_choice, check_grid_shape
from pixinfo.data import to_uint8
from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms.keying import SEED, PerImageTransform, key_seed, make_generator
from pixinfo.transforms.learnable import Cipher, _check_keyed

BLOCK = 16  # bytes in an AES block
TILE = 4  # a "tiles" block is a TILE × TILE tile of one channel
LAYOUTS = ("rows", "tiles")


def _aes(key: bytes, mode: str, iv: bytes | None = None):
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
        from cryptography.hazmat.primitives.ciphers import algorithms, modes
    except ImportError as e:  # pragma: no cover - the extra is installed with the tests
        raise ImportError("the AES transforms need the 'cryptography' package: pip install 'pixinfo[cipher]'") from e
    chosen = {"ecb": lambda: modes.ECB(), "cbc": lambda: modes.CBC(iv), "ctr": lambda: modes.CTR(iv)}[mode]()
    return _Cipher(algorithms.AES(key), chosen)


def check_layout(shape: tuple[int, ...], layout: str) -> tuple[int, int, int]:
    """``(C, H, W)`` of ``shape`` if its images split into whole AES blocks under ``layout``."""
    check_choice(layout, "layout", LAYOUTS)
    h, w = check_grid_shape(shape)
    c = int(shape[0]) if len(shape) == 3 else 1
    if layout == "rows" and (c * h * w) % BLOCK:
        raise ShapeError(f"layout='rows' needs C*H*W a multiple of {BLOCK} bytes, got shape {(c, h, w)} "
                         f"({c * h * w} bytes); use layout='tiles' or pad the images")  # fmt: skip
    if layout == "tiles" and (h % TILE or w % TILE):
        raise ShapeError(f"layout='tiles' needs H and W multiples of {TILE}, got {(h, w)}")
    return c, h, w


def _to_blocks(levels: np.ndarray, layout: str) -> np.ndarray:
    """(B, C, H, W) uint8 → (B, n_blocks, 16), each row one AES block's bytes."""
    b, c, h, w = levels.shape
    if layout == "rows":
        return levels.reshape(b, -1, BLOCK)
    tiles = levels.reshape(b, c, h // TILE, TILE, w // TILE, TILE).transpose(0, 1, 2, 4, 3, 5)
    return tiles.reshape(b, -1, BLOCK)


def _from_blocks(blocks: np.ndarray, shape: tuple[int, int, int, int], layout: str) -> np.ndarray:
    b, c, h, w = shape
    if layout == "rows":
        return blocks.reshape(shape)
    tiles = blocks.reshape(b, c, h // TILE, w // TILE, TILE, TILE).transpose(0, 1, 2, 4, 3, 5)
    return tiles.reshape(shape)


def aes_images(images: torch.Tensor, *, key: bytes, mode: str, layout: str = "rows",
               ivs: np.ndarray | None = None, decrypt: bool = False) -> torch.Tensor:  # fmt: skip
    """AES-128 of every image of a ``(B, C, H, W)`` batch, block by block under ``layout``.

    ``mode`` ``"ecb"`` needs no IV; ``"cbc"`` and ``"ctr"`` take ``ivs``, uint8 ``(B, 16)`` (one
    IV or nonce per image; the chain restarts at every image). ``decrypt`` inverts ``"ecb"`` and
    ``"cbc"`` with the same key and IVs. Output: the input's dtype and device.
    """
    check_choice(mode, "mode", ("ecb", "cbc", "ctr"))
    levels = to_uint8(images).cpu().numpy()
    check_layout(tuple(levels.shape[1:]), layout)
    blocks = _to_blocks(levels, layout)
    if mode == "ecb":  # every block alone: the whole batch in one call
        run = _aes(key, "ecb")
        step = run.decryptor() if decrypt else run.encryptor()
        out = np.frombuffer(step.update(blocks.tobytes()) + step.finalize(), dtype=np.uint8)
    else:
        if ivs is None or ivs.shape != (len(levels), BLOCK):
            raise ParameterError(f"mode={mode!r} needs ivs of shape ({len(levels)}, {BLOCK}), "
                                 f"got {None if ivs is None else ivs.shape}")  # fmt: skip
        parts = []
        for image, iv in zip(blocks, ivs, strict=True):
            run = _aes(key, mode, iv.tobytes())
            step = run.decryptor() if decrypt else run.encryptor()
            parts.append(step.update(image.tobytes()) + step.finalize())
        out = np.frombuffer(b"".join(parts), dtype=np.uint8)
    levels = torch.from_numpy(_from_blocks(out.reshape(blocks.shape), levels.shape, layout).copy())
    levels = levels.to(images.device)
    return levels if images.dtype == torch.uint8 else levels.to(images.dtype) / 255


def _key_bytes(key: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    if key is None:
        return torch.randint(0, 256, (BLOCK,), generator=generator, dtype=torch.uint8)
    if not isinstance(key, torch.Tensor) or key.dtype != torch.uint8 or tuple(key.shape) != (BLOCK,):
        raise ParameterError(f"key must be a uint8 tensor of shape ({BLOCK},), got {key!r}")
    return key


class AES(Cipher, spec="aes"):
    """AES-128 with one key (and, for CBC, one IV) for every image: ECB or CBC over 16-byte blocks.

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        Image shape; its images must split into whole blocks under ``layout``.
    mode : {"ecb", "cbc"}
        ECB encrypts every block alone; CBC chains the blocks of each image from a fixed IV.
    layout : {"rows", "tiles"}
        Which bytes form a block: 16 consecutive bytes in raster order, or a 4 × 4 tile.
    seed, generator
        Source of the key (and IV).
    key, iv : torch.Tensor, optional
        An explicit key: uint8 ``(16,)`` each.

    Examples
    --------
    >>> t = AES((1, 8, 8), seed=0)
    >>> x = torch.zeros(2, 1, 8, 8, dtype=torch.uint8)
    >>> y = t(x)
    >>> torch.equal(y[0, 0, 0, :8], y[0, 0, 2, :8]), torch.equal(t.inverse()(y), x)
    (True, True)
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        mode: str = "ecb",
        layout: str = "rows",
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        key: torch.Tensor | None = None,
        iv: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.mode = check_choice(mode, "mode", ("ecb", "cbc"))
        self.layout = layout
        c, h, w = check_layout(tuple(shape), layout)
        named_seed = key_seed(seed, generator, key, iv)
        draw = make_generator(seed, generator) if key is None or iv is None else None
        self.register_buffer("key", _key_bytes(key, draw))
        self.register_buffer("iv", _key_bytes(iv, draw))
        self.grid, self.seed, self._shape = (h, w), named_seed, (c, h, w)

    def _run(self, images: torch.Tensor, decrypt: bool) -> torch.Tensor:
        _check_keyed(self, images, self._shape)
        ivs = None if self.mode == "ecb" else np.tile(self.iv.numpy(), (len(images), 1))
        return aes_images(images, key=self.key.numpy().tobytes(), mode=self.mode, layout=self.layout, ivs=ivs,
                          decrypt=decrypt)  # fmt: skip

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return self._run(images, decrypt=False)

    def decrypt(self, images: torch.Tensor) -> torch.Tensor:
        return self._run(images, decrypt=True)

    def params(self) -> dict[str, Any]:
        return {"mode": self.mode, "layout": self.layout} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self._shape), "mode": self.mode, "layout": self.layout, "seed": self.seed,
                "key": self.key, "iv": self.iv}  # fmt: skip


class PerImageAES(PerImageTransform, spec="aes-per-image"):
    """AES-128 with a fresh IV (CBC) or nonce (CTR) for every image: ciphertexts unrelated across images.

    The key is drawn once from ``seed``; the IVs continue the transform's generator, so a run is
    replayable ([`replay`][pixinfo.transforms.keying.PerImageTransform.replay]). Without the
    IVs nothing can be decrypted, and with a fresh IV the output carries nothing a network can
    learn across images: pixinfo treats it as keyed per image (``shared_key`` False).

    Parameters
    ----------
    mode : {"cbc", "ctr"}
        CBC chains each image's blocks from its IV; CTR XORs the image with its own keystream.
    layout : {"rows", "tiles"}
        Which bytes form a block (see the module).
    seed, generator
        Source of the key and of the IVs.
    """

    def __init__(self, *, mode: str = "cbc", layout: str = "rows", seed: int | None = SEED,
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(seed=seed, generator=generator)
        self.mode = check_choice(mode, "mode", ("cbc", "ctr"))
        self.layout = check_choice(layout, "layout", LAYOUTS)
        self._key = _key_bytes(None, self.generator).numpy().tobytes()  # a replay draws it again, then the IVs

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        ivs = torch.randint(0, 256, (len(images), BLOCK), generator=self.generator, dtype=torch.uint8).numpy()
        return aes_images(images, key=self._key, mode=self.mode, layout=self.layout, ivs=ivs)

    def params(self) -> dict[str, Any]:
        return {"mode": self.mode, "layout": self.layout} | super().params()

    def init_kwargs(self) -> dict[str, Any]:
        return {"mode": self.mode, "layout": self.layout} | super().init_kwargs()
