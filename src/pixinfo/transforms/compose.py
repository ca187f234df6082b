"""Composition of transforms: applied left to right."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from pixinfo.transforms.base import Transform, as_transform


class Compose(Transform):
    """``Compose([t1, t2])(x) == t2(t1(x))``; plain callables are wrapped.

    The composed gather map exists when every part has one: output ``o`` of
    ``t2`` takes ``t1``'s output at ``s2(o)``, which took the input at
    ``s1(s2(o))``. The key is shared only if every part's key is.
    """

    name = "compose"

    def __init__(self, transforms: Sequence[Transform | Callable[[torch.Tensor], torch.Tensor]]) -> None:
        super().__init__()
        if not transforms:
            raise ValueError("Compose needs at least one transform")
        self.parts = torch.nn.ModuleList([as_transform(t) for t in transforms])

    @property
    def shared_key(self) -> bool:  # type: ignore[override]
        return all(t.shared_key for t in self.parts)

    @property
    def rearrangement(self) -> bool:  # type: ignore[override]
        return all(t.rearrangement for t in self.parts)

    def replay(self) -> Compose:
        """The parts replayed, in order (a shared-key composition is returned as is)."""
        return self if self.shared_key else Compose([t.replay() for t in self.parts])

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        for t in self.parts:
            images = t(images)
        return images

    @property
    def spec(self) -> str:
        return "+".join(t.spec for t in self.parts)

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor | None:
        total = None
        for t in self.parts:
            m = t.gather_map(shape)
            if m is None:
                return None
            total = m if total is None else total[m.to(total.device)]
        return total

    def inverse(self) -> Compose:
        return Compose([t.inverse() for t in reversed(self.parts)])

    def init_kwargs(self) -> dict[str, Any]:
        return {"transforms": list(self.parts)}
