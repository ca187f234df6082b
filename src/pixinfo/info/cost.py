"""Budgets for exact computations: say how long a job would take, and how to bound it, before it starts.

Exact R sums over every ordered pair of pixels: a 28×28 grid has 6·10⁵ pairs, a 1024×1024 grid
1.1·10¹²; at the ~4·10⁷ pairs per second measured on one core of a 2-core AMD EPYC (Zen 1) that is
eight hours. ``check_pair_budget`` refuses such a job with the estimate and the way to bound
it (a kernel cutoff keeps only the pairs within it: O(N·r²) instead of O(N²)).
"""

from __future__ import annotations

import math

from pixinfo._checks import check_finite, check_nonnegative_int, check_positive_int
from pixinfo.errors import WorkTooLargeError

PAIRS_PER_SECOND = 4e7  # exact R, float64, the torch reference on one core of a 2-core AMD EPYC (Zen 1)
FUSED_PAIRS_PER_SECOND = 5e8  # the fused (numba) kernel on one core of the same CPU (224x224: 2.5e9 pairs)
DEFAULT_MAX_PAIRS = 10**11  # about three minutes for the fused kernel at that rate
SUGGESTED_CUTOFF = 8


def pair_count(n_pixels: int, *, cutoff: float | None = None, batch: int = 1) -> int:
    """Ordered pixel pairs ``(p, q)``, ``p != q``, an exact sum visits (an upper bound with a cutoff).

    With a cutoff ``r`` each pixel pairs with at most the ``(2⌊r⌋+1)² - 1`` pixels of the square
    around it, so the count is ``N·((2⌊r⌋+1)² - 1)``, capped at ``N·(N-1)``.

    Examples
    --------
    >>> pair_count(784)
    613872
    >>> pair_count(1024 * 1024, cutoff=8)
    301989888
    """
    n = check_nonnegative_int(n_pixels, "n_pixels")
    batch = check_positive_int(batch, "batch")
    full = n * max(n - 1, 0)
    if cutoff is None:
        return batch * full
    r = math.floor(check_finite(cutoff, "cutoff", low=1))
    return batch * min(full, n * ((2 * r + 1) ** 2 - 1))


def describe_seconds(seconds: float) -> str:
    """A duration in the largest fitting unit.

    Examples
    --------
    >>> describe_seconds(42), describe_seconds(5400), describe_seconds(3 * 86400)
    ('42 s', '90 min', '3.0 days')
    """
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def check_pair_budget(
    n_pixels: int,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    what: str = "exact structural retention",
    cutoff: float | None = None,
    batch: int = 1,
    pairs_per_second: float = PAIRS_PER_SECOND,
) -> int:
    """Refuse an exact pair sum that would run far longer than ``max_pairs`` pairs allow.

    Parameters
    ----------
    n_pixels : int
        Pixels of the grid (``H*W``).
    max_pairs : int
        Most pairs a call may visit before it is refused.
    what : str
        The computation, for the message.
    cutoff : float, optional
        The kernel's cutoff radius (pairs farther apart are skipped).
    batch : int
        Maps evaluated in the call (each visits the pairs).
    pairs_per_second : float
        Throughput the time estimate assumes.

    Returns
    -------
    int
        The pairs the computation visits.

    Raises
    ------
    WorkTooLargeError
        More pairs than ``max_pairs``; the message gives the pair count, the estimated time,
        and the bound to use (a cutoff, or a larger ``max_pairs`` to run it anyway).

    Examples
    --------
    >>> check_pair_budget(28 * 28)
    613872
    >>> check_pair_budget(1024 * 1024)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pixinfo.errors.WorkTooLargeError: exact structural retention on a grid of 1,048,576 pixels ... 7.6 h ...
    """
    max_pairs = check_positive_int(max_pairs, "max_pairs")
    rate = check_finite(pairs_per_second, "pairs_per_second", low=0, low_open=True)
    pairs = pair_count(n_pixels, cutoff=cutoff, batch=batch)
    if pairs <= max_pairs:
        return pairs
    estimate = describe_seconds(pairs / rate)
    message = (f"{what} on a grid of {n_pixels:,} pixels sums over {pairs:.2g} pixel pairs: about {estimate} "
               f"at {rate:.0g} pairs/s, beyond max_pairs={max_pairs:.2g}.")  # fmt: skip
    bounded = pair_count(n_pixels, cutoff=SUGGESTED_CUTOFF, batch=batch)
    if cutoff is None or cutoff > SUGGESTED_CUTOFF:
        message += (f' Bound it with a kernel cutoff, e.g. Kernel("exponential", scale=2, cutoff={SUGGESTED_CUTOFF}): '
                    f"{bounded:.2g} pairs, about {describe_seconds(bounded / rate)}; or")  # fmt: skip
    else:
        message += " Use a smaller cutoff or fewer maps, or"
    raise WorkTooLargeError(message + " pass a larger max_pairs to run it anyway.")
