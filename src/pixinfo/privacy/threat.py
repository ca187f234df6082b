"""Against whom? The threat models under which pixinfo's attacks run and its results are recorded.

* ``blind``: ciphertext-only; the attacker sees encrypted images and knows the scheme (its family
  and public options), nothing else;
* ``prior``: ciphertext-only with public plain images of the same kind (no pair of a plain and an
  encrypted image) — the realistic model for any scheme that encrypts a standard kind of image;
* ``known-plaintext``: ``pairs`` (plain, encrypted) pairs;
* ``chosen-plaintext``: the attacker encrypts images of their choice (one-hot probing of a gather
  map is this: [`pixinfo.info.probe_map`][pixinfo.info.probe.probe_map]).
"""

from __future__ import annotations

from dataclasses import dataclass

from pixinfo._checks import check_choice, check_positive_int

KINDS = ("blind", "prior", "known-plaintext", "chosen-plaintext")


@dataclass(frozen=True)
class ThreatModel:
    """What the attacker holds besides the ciphertexts.

    Examples
    --------
    >>> ThreatModel("prior", public_images=9000).label
    'prior (9000 public images)'
    >>> ThreatModel.parse("blind")
    ThreatModel(kind='blind', public_images=None, pairs=None)
    """

    kind: str = "blind"
    public_images: int | None = None
    pairs: int | None = None

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", KINDS)
        if self.public_images is not None:
            check_positive_int(self.public_images, "public_images")
        if self.pairs is not None:
            check_positive_int(self.pairs, "pairs")

    @property
    def label(self) -> str:
        """How a table names it: the kind and how much the attacker holds."""
        if self.kind == "prior" and self.public_images:
            return f"prior ({self.public_images} public images)"
        if self.kind == "known-plaintext" and self.pairs:
            return f"known-plaintext ({self.pairs} pairs)"
        return self.kind

    def to_dict(self) -> dict:
        return {"kind": self.kind, "public_images": self.public_images, "pairs": self.pairs}

    @classmethod
    def parse(cls, value: object) -> ThreatModel:
        """A ``ThreatModel`` from itself or its kind's name."""
        return value if isinstance(value, ThreatModel) else cls(check_choice(value, "threat", KINDS))
