"""The registry of pixinfo's measures: one entry per measure a [`Score`][pixinfo.scoring.Score]
holds, with its labels, its direction and the loss it gives. Scoring, charts, tables and the
accuracy-cost predictor read names and labels from here.

Examples
--------
>>> [m.name for m in MEASURES]
['structural_retention', 'content_retention', 'value_nmi', 'value_spearman']
>>> measure("value_spearman").loss_of(-1.0), measure("structural_retention").label
(0.0, 'structural R')
"""

from __future__ import annotations

from dataclasses import dataclass

from pixinfo.errors import ParameterError


@dataclass(frozen=True)
class Measure:
    """One measure of a transform.

    Attributes
    ----------
    name : str
        Its field of [`Score`][pixinfo.scoring.Score] and column of the score frame (with
        ``_low`` / ``_high`` for its interval).
    label : str
        How tables and charts name it (``"structural R"``).
    short : str
        A symbol for narrow columns (``"R"``).
    description : str
        One line: what it measures.
    higher_is_better : bool
        True when a larger value means more kept for a network to learn from.
    signed : bool
        True when its sign carries no loss (a rank correlation of −1 is a reversal that keeps
        everything): the loss is then ``1 − |value|``, else ``1 − value``; charts of retained
        shares in [0, 1] leave signed measures out.
    loss : str
        The name of the loss it gives (a feature of the accuracy-cost predictor).
    loss_description : str
        One line: what the loss says.
    """

    name: str
    label: str
    short: str
    description: str
    higher_is_better: bool
    signed: bool
    loss: str
    loss_description: str

    def loss_of(self, value: float) -> float:
        """The loss a value of this measure gives: ``1 − |value|`` if signed, else ``1 − value``."""
        return 1 - abs(value) if self.signed else 1 - value


MEASURES: tuple[Measure, ...] = (
    Measure("structural_retention", "structural R", "R",
            "the neighbour structure the transform's pixel map keeps (Cao et al.'s R)", True, False,
            "structural_loss", "1 − R: the neighbour structure the transform's map destroys"),
    Measure("content_retention", "content retention", "I(TX)/I(X)",
            "the share of the images' neighbour information (kernel-weighted Moran's I) kept", True, False,
            "content_loss", "1 − I(T X) / I(X): the share of the images' neighbour information lost"),
    Measure("value_nmi", "value NMI", "NMI",
            "normalised mutual information between each pixel's values before and after", True, False,
            "value_loss", "1 − NMI between each pixel's values before and after"),
    Measure("value_spearman", "value Spearman", "ρ",
            "Spearman rank correlation between each pixel's values before and after", True, True,
            "value_order_loss", "1 − |Spearman ρ| between each pixel's values before and after"),
)  # fmt: skip


def measure(name: str) -> Measure:
    """The registered measure called ``name`` (or whose loss is called ``name``).

    Raises
    ------
    ParameterError
        No measure or loss has that name.
    """
    for m in MEASURES:
        if name in (m.name, m.loss):
            return m
    known = [m.name for m in MEASURES] + [m.loss for m in MEASURES]
    raise ParameterError(f"name: expected one of {known}, got {name!r}")
