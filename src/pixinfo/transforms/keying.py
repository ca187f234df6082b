"""Where keys come from: the default seed, the generator a key is drawn from, and the base of
transforms that draw a fresh key for every image ([`PerImageTransform`][pixinfo.transforms.keying.PerImageTransform]).

Every keyed transform draws its key from a seed or a ``torch.Generator``; pixinfo never draws a
key unseeded. A shared-key transform draws once, at construction. A per-image transform draws
at every call, continuing its generator, and [`replay`][pixinfo.transforms.keying.PerImageTransform.replay]
gives a twin whose generator starts where this one's started, so the keys every image got can
be drawn again.
"""

from __future__ import annotations

from typing import Any

import torch

from pixinfo._checks import check_seed
from pixinfo.errors import ParameterError
from pixinfo.transforms.base import Transform


class _DefaultSeed(int):
    """The default seed of keyed transforms: 0, and distinguishable from a seed a caller gave."""


SEED = _DefaultSeed(0)


def key_seed(seed: int | None, generator: torch.Generator | None, *key: object) -> int | None:
    """The seed a transform's spec names: ``seed``, or None when no seed was given and a
    ``generator`` or an explicit ``key`` decided the key (a spec naming seed 0 would rebuild
    another key)."""
    if seed is None or (seed is SEED and (generator is not None or any(k is not None for k in key))):
        return None
    return int(check_seed(seed))


def make_generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator:
    """The generator keys are drawn from: ``generator`` if given, else one seeded with ``seed``."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise ParameterError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    if seed is None:
        raise ParameterError("give a seed or a torch.Generator: pixinfo never draws keys unseeded")
    return torch.Generator().manual_seed(check_seed(seed))


class PerImageTransform(Transform):
    """Base of transforms that draw a fresh key for every image (``shared_key`` is False).

    The keys come from ``self.generator`` (``seed`` or ``generator``), which every call
    continues: a run is reproducible from the seed while every image gets its own key.
    Subclasses call ``super().__init__(seed=..., generator=...)`` and list ``seed`` in their
    ``init_kwargs``.

    Examples
    --------
    >>> import torch
    >>> from pixinfo.transforms import PerImagePermutation
    >>> t = PerImagePermutation(seed=4)
    >>> x = torch.rand(3, 1, 5, 5)
    >>> first = t(x)
    >>> twin = t.replay()
    >>> torch.equal(twin(x), first), torch.equal(t(x), first)
    (True, False)
    """

    shared_key = False

    def __init__(self, *, seed: int | None = SEED, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.seed = key_seed(seed, generator)
        self.generator = make_generator(seed, generator)
        self._start = self.generator.get_state()

    def replay(self) -> Transform:
        """A twin whose key stream starts where this transform's started: applied to the same
        batches in the same order, it gives every image the key this transform gave it."""
        generator = torch.Generator(device=self.generator.device)
        generator.set_state(self._start)
        options: dict[str, Any] = {k: v for k, v in self.init_kwargs().items() if k != "seed"}
        twin = type(self)(**options, generator=generator)
        twin.seed = self.seed
        return twin

    def params(self) -> dict[str, Any]:
        return {"seed": self.seed} if self.seed is not None else {}

    def init_kwargs(self) -> dict[str, Any]:
        return {"seed": self.seed}
