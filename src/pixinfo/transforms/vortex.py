"""Random Vortex Transformation (Cao et al., arXiv 2411.16207), faithful to the authors' MATLAB.

A key is a list of vortices (centre row, centre col, radius r, r+1 rotation values
``degree``). Applying vortex ``(c1, c2, r)`` to the MATLAB matrix ``M`` of an image
(1-based): on the patch ``P = M[c1-r : c1+r, c2-r : c2+r]`` with ``Mid = (2r+1)/2``,
each destination ``(a, b)`` with radius ``ρ = |(a-Mid, b-Mid)| <= r`` and angle
``θ = atan2(b-Mid, a-Mid)`` takes the source ``P(round(ρ cos θ' + Mid), round(ρ sin θ' + Mid))``
with ``θ' = θ + (r - k) · degree[k] / D``, ``k = round(ρ)`` (MATLAB rounding, half away
from zero; ``degree`` 1-based). Vortices are applied in order to the current image and
move all channels alike. Rounding makes the map non-bijective; the **bijective** variant
rotates each ring ``k`` by a whole number of positions instead.

The authors' MNIST/Fashion scripts build ``M`` in the image's orientation; their CIFAR
script reshapes column-major without a transpose, so there ``M`` is the image transposed
(``transposed=True`` in the key).

The whole composed map is computed once per key (vectorised over pixels) and applied
as one gather.
"""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pixinfo._checks import check_bool, check_finite, check_grid_shape, check_int
from pixinfo.errors import ParameterError
from pixinfo.transforms.permutation import GatherTransform, make_generator

# the authors' key generator: five random-function families, vortex i (1-based) uses family (i mod 5) + 1
VORTEX_FAMILIES = (
    lambda w, x: w[0] * np.sin(w[1] * x + w[2]) + w[3] * np.cos(w[4] * x + w[5]),
    lambda w, x: w[0] * x + w[1] * x**3 + w[2] * np.exp(2 * x) + w[3] * np.cos(w[4] * x + w[5]),
    lambda w, x: w[0] * np.sqrt(x) + w[1] * x**2 + w[2] * np.exp(x) + w[3] * np.sin(w[4] * x + w[5]),
    lambda w, x: w[0] * x**5 + w[1] * np.log(x + 1) + w[2] * np.exp(x) + w[3] * np.cos(w[4] * x + w[5]),
    lambda w, x: w[0] * 2.0**x + w[1] * (2 * x) + w[2] * np.log10(x + 1) + w[3] * np.sin(w[4] * x + w[5]),
)

# name -> (packaged key file, vortices the authors' script applies)
AUTHORS_KEYS = {
    "mnist": ("rvt_mnist_result.json", 10),
    "fashion-mnist": ("rvt_fashion.json", 10),
    "cifar10": ("rvt_cifar.json", 2),  # the script asks for 5, the released key holds 2
    "mnist-sensitivity1": ("rvt_mnist_sensitivity1.json", 10),
    "mnist-sensitivity2": ("rvt_mnist_sensitivity2.json", 10),
    "mnist-sensitivity3": ("rvt_mnist_sensitivity3.json", 5),
}
MAX_VORTICES = 10_000  # a generated key with more vortices than this is a typo, not a key
AUTHORS_SHAPES = {"mnist": (28, 28), "fashion-mnist": (28, 28), "cifar10": (32, 32)}
# which authors' key `vortex:authors` means on each dataset
DATASET_AUTHORS_KEY = {"mnist": "mnist", "mnist-5k": "mnist", "fashion-mnist": "fashion-mnist", "cifar10": "cifar10"}


def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB's ``round``: halves away from zero (numpy rounds halves to even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


@dataclass(frozen=True)
class Vortex:
    center_row: int
    center_col: int
    radius: int
    degree: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.radius > 0 and len(self.degree) < self.radius + 1:
            raise ValueError(
                f"a vortex of radius {self.radius} needs {self.radius + 1} degree values, got {len(self.degree)}"
            )


@dataclass(frozen=True)
class VortexKey:
    """The vortices of a key, the grid it is for and its conventions."""

    vortices: tuple[Vortex, ...]
    shape: tuple[int, int]
    divisor: float
    transposed: bool = False
    source: str = "generated"
    info: dict = field(default_factory=dict, compare=False)
    origin: dict = field(default_factory=dict, compare=False)  # data: {"authors": name} or {"seed": n}

    def __post_init__(self) -> None:
        h, w = self.shape
        mh, mw = (w, h) if self.transposed else (h, w)
        for i, v in enumerate(self.vortices):
            if v.radius > 0 and not (
                1 <= v.center_row - v.radius and v.center_row + v.radius <= mh
                and 1 <= v.center_col - v.radius and v.center_col + v.radius <= mw
            ):  # fmt: skip
                raise ValueError(f"vortex {i + 1} ({v}) does not fit a {mh}x{mw} matrix")

    def head(self, n: int) -> VortexKey:
        """The first ``n`` vortices (the authors' scripts use a prefix of the stored list)."""
        if not 0 <= n <= len(self.vortices):
            raise ValueError(f"the key holds {len(self.vortices)} vortices, asked for {n}")
        return VortexKey(self.vortices[:n], self.shape, self.divisor, self.transposed, self.source, self.info,
                         self.origin)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "shape": list(self.shape),
            "swirl_divisor": self.divisor,
            "transposed": self.transposed,
            "source": self.source,
            "origin": self.origin,
            "info": self.info,
            "vortices": [
                {"center_row": v.center_row, "center_col": v.center_col, "radius": v.radius, "degree": list(v.degree)}
                for v in self.vortices
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VortexKey:
        vortices = tuple(
            Vortex(int(v["center_row"]), int(v["center_col"]), int(v["radius"]), tuple(float(x) for x in v["degree"]))
            for v in d["vortices"]
        )
        return cls(
            vortices, tuple(d["shape"]), float(d["swirl_divisor"]), bool(d.get("transposed", False)),
            d.get("source", "key file"), dict(d.get("info", {})), dict(d.get("origin", {})),
        )  # fmt: skip

    def save(self, path: str | Path) -> Path:
        """Write the key as JSON to ``path``, whole (temporary file + ``os.replace``)."""
        from pixinfo.files import write_text_atomic

        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> VortexKey:
        """A key saved by ``save``; ``CorruptFileError`` naming the path if it is not one."""
        from pixinfo.errors import CorruptFileError
        from pixinfo.files import read_json

        d = read_json(path, kind="vortex key file")
        try:
            return cls.from_dict(d)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise CorruptFileError(f"{path} is not a vortex key ({type(err).__name__}: {err})") from None


def authors_key(name: str, n_vortices: int | None = None) -> VortexKey:
    """A key released with the paper; by default as many vortices as the authors' script applies."""
    if name not in AUTHORS_KEYS:
        raise ParameterError(f"no authors' key named {name!r}; choose one of {sorted(AUTHORS_KEYS)}")
    if n_vortices is not None:
        check_int(n_vortices, "n_vortices", low=0)
    filename, used = AUTHORS_KEYS[name]
    raw = json.loads(resources.files("pixinfo.transforms").joinpath("keys", filename).read_text())
    base = name.split("-sensitivity")[0]
    key = VortexKey.from_dict(
        {
            "shape": AUTHORS_SHAPES[base],
            "swirl_divisor": raw["swirl_divisor"],
            "transposed": base == "cifar10",
            "source": f"authors={name}",
            "origin": {"authors": name},
            "info": {
                "origin": raw["source"],
                "stored_vortices": len(raw["vortices"]),
                "script_vortices": raw["vortices_used_by_authors_script"],
            },
            "vortices": raw["vortices"],
        }
    )
    return key.head(min(used if n_vortices is None else n_vortices, len(key.vortices)))


def generate_vortex_key(
    shape: tuple[int, ...],
    n_vortices: int = 10,
    *,
    scale: float = 800.0,
    divisor: float = 1000.0,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> VortexKey:
    """Draw a key as the authors' script does (their defaults: 800/1000 for MNIST and
    Fashion, 1000/10000 for CIFAR).

    Centre ``round(U·(H, W))``, radius ``min(|c1-H|, |c2-W|, c1, c2) - 1``; for ``r > 0``
    six weights uniform in [-2, 0) and ``degree = scale · g(k/r)``, ``k = 0..r``, with
    family ``g`` chosen by the vortex index. Random numbers come from ``generator``
    (or ``seed``), not MATLAB's stream.
    """
    h, w = check_grid_shape(shape)
    n_vortices = check_int(n_vortices, "n_vortices", low=0, high=MAX_VORTICES)
    scale = check_finite(scale, "scale")
    divisor = check_finite(divisor, "divisor", low=0, low_open=True)
    generator = make_generator(seed, generator)
    vortices = []
    for i in range(1, n_vortices + 1):
        u = torch.rand(2, generator=generator, dtype=torch.float64).numpy()
        c1, c2 = (int(v) for v in matlab_round(u * np.array([h, w])))
        r = min(abs(c1 - h), abs(c2 - w), c1, c2) - 1
        if r <= 0:
            degree: tuple[float, ...] = (1.0,)
        else:
            weights = 2 * torch.rand(6, generator=generator, dtype=torch.float64).numpy() - 2
            x = np.arange(r + 1) / r
            degree = tuple(float(v) for v in scale * VORTEX_FAMILIES[i % 5](weights, x))
        vortices.append(Vortex(c1, c2, r, degree))
    source = f"generated with seed {seed}" if seed is not None else "generated from a generator"
    origin = {"seed": int(seed)} if seed is not None else {}
    return VortexKey(tuple(vortices), (h, w), float(divisor), False, source, {"scale": scale}, origin)


def _patch_polar(r: int) -> tuple[np.ndarray, ...]:
    """1-based patch coordinates inside the circle, their radius, angle and ring."""
    mid = (2 * r + 1) / 2
    a, b = np.meshgrid(np.arange(1, 2 * r + 2), np.arange(1, 2 * r + 2), indexing="ij")
    xo, yo = a - mid, b - mid
    rho = np.sqrt(xo * xo + yo * yo)
    inside = rho <= r
    a, b, xo, yo, rho = a[inside], b[inside], xo[inside], yo[inside], rho[inside]
    theta = np.arctan2(yo, xo)
    ring = matlab_round(rho).astype(np.int64)  # 1..r: offsets are half-integers
    return a, b, rho, theta, ring, mid


def _single_vortex_sources(v: Vortex, divisor: float, strength: float, bijective: bool) -> tuple[np.ndarray, ...]:
    """Destination and source patch coordinates (1-based) of one vortex."""
    r = v.radius
    a, b, rho, theta, ring, mid = _patch_polar(r)
    swirl = np.asarray(v.degree, dtype=np.float64) / divisor
    turn = strength * (r - ring) * swirl[ring - 1]  # degree is 1-based in MATLAB
    if not bijective:
        src_a = matlab_round(rho * np.cos(theta + turn) + mid).astype(np.int64)
        src_b = matlab_round(rho * np.sin(theta + turn) + mid).astype(np.int64)
        if src_a.min() < 1 or src_b.min() < 1 or max(src_a.max(), src_b.max()) > 2 * r + 1:
            raise ValueError(f"vortex {v} maps outside its patch")
        return a, b, src_a, src_b
    src_a, src_b = a.copy(), b.copy()
    for k in np.unique(ring):
        members = np.flatnonzero(ring == k)
        members = members[np.argsort(theta[members], kind="stable")]
        m = len(members)
        shift = int(matlab_round(np.array(turn[members[0]] * m / (2 * math.pi)))) % m
        src = np.roll(members, -shift)  # position j takes the pixel at j + shift
        src_a[members], src_b[members] = a[src], b[src]
    return a, b, src_a, src_b


def vortex_map(key: VortexKey, *, strength: float = 1.0, bijective: bool = False) -> torch.Tensor:
    """The composed gather map ``(H*W,)`` of a key: output ``o`` takes input ``map[o]``."""
    strength = check_finite(strength, "strength")
    bijective = check_bool(bijective, "bijective")
    h, w = key.shape
    mh, mw = (w, h) if key.transposed else (h, w)
    total = np.arange(h * w)
    for v in key.vortices:
        if v.radius <= 0:
            continue  # the MATLAB patch is empty or a single untouched pixel
        a, b, sa, sb = _single_vortex_sources(v, key.divisor, strength, bijective)
        off_r, off_c = v.center_row - v.radius - 2, v.center_col - v.radius - 2  # 1-based patch -> 0-based matrix
        dst_i, dst_j = off_r + a, off_c + b
        src_i, src_j = off_r + sa, off_c + sb
        if key.transposed:  # matrix (i, j) is image (j, i)
            dst, src = dst_j * w + dst_i, src_j * w + src_i
        else:
            dst, src = dst_i * mw + dst_j, src_i * mw + src_j
        step = np.arange(h * w)
        step[dst] = src
        total = total[step]  # apply this vortex after the previous ones
    return torch.from_numpy(total)


class RandomVortex(GatherTransform, spec="vortex"):
    """The Random Vortex Transformation with a fixed key (one key for every image).

    Parameters
    ----------
    key : VortexKey
    strength : float
        Multiplies every rotation (0: identity, 1: the key as drawn). For sweeps.
    bijective : bool
        Rotate each integer ring by whole positions: an exactly invertible variant.

    Examples
    --------
    >>> rvt = RandomVortex.from_authors("fashion-mnist")
    >>> len(rvt.key.vortices), round(rvt.unique_source_fraction, 2)
    (10, 0.84)
    >>> import torch
    >>> x = torch.rand(2, 1, 28, 28)
    >>> b = RandomVortex.from_authors("fashion-mnist", bijective=True)
    >>> torch.equal(b.inverse()(b(x)), x)
    True
    """

    def __init__(self, key: VortexKey | dict, *, strength: float = 1.0, bijective: bool = False) -> None:
        if isinstance(key, dict):
            key = VortexKey.from_dict(key)
        if not isinstance(key, VortexKey):
            raise TypeError(f"key must be a VortexKey, got {type(key).__name__}")
        super().__init__(key.shape, vortex_map(key, strength=strength, bijective=bijective), bijective=bijective)
        self.key = key
        self.strength = float(strength)

    @classmethod
    def from_authors(cls, name: str, *, n_vortices: int | None = None, **options) -> RandomVortex:
        """The authors' key for ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"`` (or a
        sensitivity key), with as many vortices as their script applies unless ``n_vortices``."""
        return cls(authors_key(name, n_vortices), **options)

    @classmethod
    def generate(cls, shape: tuple[int, ...], n_vortices: int = 10, *, seed: int | None = None,
                 generator: torch.Generator | None = None, scale: float = 800.0, divisor: float = 1000.0,
                 **options) -> RandomVortex:  # fmt: skip
        key = generate_vortex_key(shape, n_vortices, scale=scale, divisor=divisor, seed=seed, generator=generator)
        return cls(key, **options)

    # -- specs: vortex:authors (the dataset's key), vortex:authors=NAME, vortex:seed=N[,n=..] --
    spec_summary = ("Random Vortex Transformation: vortex:authors (the dataset's key), vortex:authors=NAME, "
                    "or vortex:seed=N")  # fmt: skip

    @classmethod
    def spec_options(cls) -> dict[str, Any]:
        """``strength`` and ``bijective`` (any key); ``n`` (vortices: the authors' script's count
        for their keys), and for a generated key the generator's ``scale`` and ``divisor``."""
        generate = inspect.signature(cls.generate).parameters
        return {**super().spec_options(), "n": generate["n_vortices"].default,
                **{k: generate[k].default for k in ("scale", "divisor")}}  # fmt: skip

    @classmethod
    def from_spec(cls, shape: tuple[int, ...], *args: Any, dataset: str | None = None, authors: str | None = None,
                  seed: int | None = None, **options: Any) -> RandomVortex:  # fmt: skip
        dataset_key = args == ("authors",) and authors is None
        options = cls.check_spec_options(() if dataset_key else args, options)
        if dataset_key:
            if dataset not in DATASET_AUTHORS_KEY:
                raise ParameterError(
                    f"`vortex:authors` picks the authors' key of the dataset, and there is none for {dataset!r}; use "
                    f"vortex:authors=NAME with NAME in {sorted(AUTHORS_KEYS)} on images of that size, or vortex:seed=N"
                )
            authors = DATASET_AUTHORS_KEY[dataset]
        n = options.pop("n", None)
        generator_options = {k: options.pop(k) for k in ("scale", "divisor") if k in options}
        if authors is not None:
            if seed is not None or generator_options:
                raise ParameterError("vortex: an authors' key takes no seed, scale or divisor (they make a new key)")
            return cls.from_authors(authors, n_vortices=n, **options)
        if seed is None:
            raise ParameterError("vortex: a generated key needs seed=N (or use vortex:authors)")
        return cls.generate(shape, *([] if n is None else [n]), seed=seed, **generator_options, **options)

    @property
    def unique_source_fraction(self) -> float:
        """Distinct source pixels / all pixels (1 for a bijective map)."""
        return float(torch.unique(self.index).numel() / self.index.numel())

    def init_kwargs(self) -> dict[str, Any]:
        return {"key": self.key.to_dict(), "strength": self.strength, "bijective": self.bijective}

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.key.origin) if self.key.origin else {"key": "file"}
        out["n"] = len(self.key.vortices)
        if "seed" in self.key.origin:  # what else decides a generated key, so the spec rebuilds it
            if self.key.info.get("scale", 800.0) != 800.0:
                out["scale"] = self.key.info["scale"]
            if self.key.divisor != 1000.0:
                out["divisor"] = self.key.divisor
        if self.strength != 1.0:
            out["strength"] = self.strength
        if self.bijective:
            out["bijective"] = True
        return out
