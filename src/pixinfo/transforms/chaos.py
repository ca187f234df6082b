"""Chaos-based image encryption: the permutation–diffusion scheme of the image-encryption
literature (Fridrich, "Symmetric ciphers based on two-dimensional chaotic maps", 1998; Chen, Mao
and Chui, "A symmetric image encryption scheme based on 3D chaotic cat maps", 2004), with one key
for every image.

Each round first permutes the pixels of every channel of a square ``N × N`` image with a keyed
generalised Arnold cat map, pixel ``(i, j)`` going to ``(i + a j, b i + (a b + 1) j) mod N`` (a
bijection: the matrix has determinant 1; ``a = b = 1`` is Arnold's map), and then diffuses the
8-bit levels along the image's raster (channels in turn) with a keystream of the logistic map
``x ← r x (1 − x)``: ``c_i = k_i ⊕ ((p_i + k_i) mod 256) ⊕ c_{i−1}`` from ``c_{−1} = iv``
(Chen, Mao and Chui's diffusion), so a change in one pixel changes every later level. The
keystream byte is ``⌊10^14 x⌋ mod 256`` after 1,000 discarded iterations; the key is
``(a, b, iv)`` and ``(x0, r)``, drawn from ``seed``. ``permute=False`` keeps the diffusion alone
(any image shape). The keystream is the same for every image, as in the papers: images that begin
alike encrypt alike up to their first differing level. A black pixel adds nothing to the chain
(``k ⊕ (0 + k) = 0``), so in the first round a run of black pixels stays a run of one level: the
scheme as published.

Float input in [0, 1] is quantised to ``round(255 x)`` first, as pixinfo's value transforms do;
the output keeps the input's shape, dtype and device. Decryption is exact.

Examples
--------
>>> import torch
>>> t = ChaosCipher((1, 8, 8), seed=0)
>>> x = torch.randint(0, 256, (2, 1, 8, 8), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
>>> y = t(x)
>>> torch.equal(t.inverse()(y), x), len(t(torch.zeros_like(x)).unique())
(True, 1)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from pixinfo._checks import check_grid_shape, check_int
from pixinfo.data import to_uint8
from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms.keying import SEED, key_seed, make_generator
from pixinfo.transforms.learnable import Cipher, _check_keyed
from pixinfo.transforms.value import _like

TRANSIENT = 1000  # logistic-map iterations discarded before the keystream starts
MAX_ROUNDS = 16


def cat_map(n: int, *, a: int, b: int) -> np.ndarray:
    """Where the generalised cat map sends each pixel of an ``n × n`` grid: entry ``i n + j`` is
    the raster index of ``((i + a j) mod n, (b i + (a b + 1) j) mod n)``."""
    n = check_int(n, "n", low=1)
    i, j = np.divmod(np.arange(n * n), n)
    return ((i + a * j) % n) * n + (b * i + (a * b + 1) * j) % n


def logistic_keystream(length: int, *, x0: float, r: float) -> np.ndarray:
    """``length`` keystream bytes ``⌊10^14 x⌋ mod 256`` of the logistic map ``x ← r x (1 − x)``
    from ``x0``, after ``TRANSIENT`` discarded iterations (float64: the same bytes on every
    IEEE-754 machine)."""
    if not (0 < x0 < 1 and 0 < r <= 4):
        raise ParameterError(f"the logistic map needs 0 < x0 < 1 and 0 < r <= 4, got x0={x0!r}, r={r!r}")
    x, out = float(x0), np.empty(length, dtype=np.uint8)
    for _ in range(TRANSIENT):
        x = r * x * (1.0 - x)
    for i in range(length):
        x = r * x * (1.0 - x)
        out[i] = int(math.floor(x * 1e14)) % 256
    return out


def diffuse(levels: np.ndarray, keystream: np.ndarray, *, iv: int, decrypt: bool = False) -> np.ndarray:
    """Chen, Mao and Chui's diffusion of each row of ``levels`` (uint8 ``(B, L)``) with the
    ``keystream`` (uint8 ``(L,)``): ``c_i = k_i ⊕ ((p_i + k_i) mod 256) ⊕ c_{i−1}``, ``c_{−1} = iv``;
    its exact inverse with ``decrypt``."""
    k = keystream.astype(np.uint8)
    if not decrypt:
        d = k ^ (levels + k)  # uint8 arithmetic wraps mod 256
        return np.bitwise_xor.accumulate(d, axis=1) ^ np.uint8(iv)
    previous = np.concatenate([np.full((len(levels), 1), iv, dtype=np.uint8), levels[:, :-1]], axis=1)
    return (levels ^ previous ^ k) - k


class ChaosCipher(Cipher, spec="chaos"):
    """Chaos-based encryption: cat-map permutation, logistic-map diffusion, one key for every image.

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        Image shape; square when ``permute``.
    rounds : int
        Rounds of permutation and diffusion (1 to ``MAX_ROUNDS``).
    permute : bool
        Permute with the cat map in each round; False keeps the diffusion alone.
    seed, generator
        Source of the key.
    key : torch.Tensor, optional
        An explicit key: float64 ``(5,)`` holding ``a, b, iv, x0, r`` (``a``, ``b`` in [1, N),
        ``iv`` a level, ``0 < x0 < 1``, ``0 < r <= 4``).
    """

    def __init__(self, shape: tuple[int, ...], *, rounds: int = 1, permute: bool = True, seed: int | None = SEED,
                 generator: torch.Generator | None = None, key: torch.Tensor | None = None) -> None:  # fmt: skip
        super().__init__()
        h, w = check_grid_shape(shape)
        c = int(shape[0]) if len(shape) == 3 else 1
        if permute and h != w:
            raise ShapeError(f"the cat map permutes square images, got {(h, w)}; use permute=False")
        self.rounds = check_int(rounds, "rounds", low=1, high=MAX_ROUNDS)
        self.permute = bool(permute)
        self.seed = key_seed(seed, generator, key)
        self.register_buffer("key", _chaos_key(key, make_generator(seed, generator) if key is None else None, h))
        self.grid, self._shape = (h, w), (c, h, w)

    def _run(self, images: torch.Tensor, decrypt: bool) -> torch.Tensor:
        _check_keyed(self, images, self._shape)
        a, b, iv, x0, r = self.key.tolist()
        c, h, w = self._shape
        levels = to_uint8(images).cpu().numpy().reshape(len(images), c, h * w)
        stream = logistic_keystream(self.rounds * c * h * w, x0=x0, r=r).reshape(self.rounds, c * h * w)
        moves = cat_map(h, a=int(a), b=int(b)) if self.permute else None
        for k in range(self.rounds) if not decrypt else reversed(range(self.rounds)):
            if moves is not None and not decrypt:
                levels = _scatter(levels, moves)
            flat = diffuse(levels.reshape(len(levels), -1), stream[k], iv=int(iv), decrypt=decrypt)
            levels = flat.reshape(len(levels), c, h * w)
            if moves is not None and decrypt:
                levels = levels[..., moves]
        out = torch.from_numpy(np.ascontiguousarray(levels.reshape(len(images), c, h, w))).to(images.device)
        return _like(out, images)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return self._run(images, decrypt=False)

    def decrypt(self, images: torch.Tensor) -> torch.Tensor:
        return self._run(images, decrypt=True)

    def params(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "permute": self.permute} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self._shape), "rounds": self.rounds, "permute": self.permute, "seed": self.seed,
                "key": self.key}  # fmt: skip


def _scatter(levels: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """Level ``p`` of the last axis moved to ``moves[p]``."""
    out = np.empty_like(levels)
    out[..., moves] = levels
    return out


def _chaos_key(key: torch.Tensor | None, generator: torch.Generator | None, n: int) -> torch.Tensor:
    """``(a, b, iv, x0, r)`` as float64: drawn from ``generator``, or ``key`` checked."""
    if key is None:
        u = torch.rand(2, generator=generator, dtype=torch.float64)
        ints = torch.randint(0, 1 << 30, (3,), generator=generator)
        a, b = (1 + int(ints[0]) % max(n - 1, 1), 1 + int(ints[1]) % max(n - 1, 1))
        return torch.tensor([a, b, int(ints[2]) % 256, 0.01 + 0.98 * float(u[0]), 3.99 + 0.01 * float(u[1])],
                            dtype=torch.float64)  # fmt: skip
    ok = isinstance(key, torch.Tensor) and key.dtype == torch.float64 and tuple(key.shape) == (5,)
    if ok:
        a, b, iv, x0, r = key.tolist()
        ok = all(float(v).is_integer() for v in (a, b, iv)) and 0 <= iv < 256 and 0 < x0 < 1 and 0 < r <= 4
    if not ok:
        raise ParameterError(f"key must be a float64 tensor (a, b, iv, x0, r) with integer a, b and iv in [0, 255], "
                             f"0 < x0 < 1 and 0 < r <= 4, got {key!r}")  # fmt: skip
    return key
