"""Work too large to finish: an exact pair sum far beyond the machine says how long and how to bound it."""

import pytest

from pixinfo.errors import WorkTooLargeError
from pixinfo.info.cost import DEFAULT_MAX_PAIRS, check_pair_budget, describe_seconds, pair_count


def test_small_grids_pass_and_return_their_pair_count():
    assert check_pair_budget(28 * 28) == 784 * 783
    assert check_pair_budget(32 * 32, batch=64) == 64 * 1024 * 1023
    assert pair_count(1) == 0 and pair_count(0) == 0


def test_exact_r_on_a_megapixel_grid_says_how_long_and_how_to_bound_it():
    with pytest.raises(WorkTooLargeError) as err:
        check_pair_budget(1024 * 1024)
    message = str(err.value)
    assert "1,048,576 pixels" in message and "1.1e+12 pixel pairs" in message and " h " in message
    assert "cutoff=8" in message and "max_pairs" in message


def test_a_cutoff_bounds_the_work():
    bounded = check_pair_budget(1024 * 1024, cutoff=8)
    assert bounded == 1024 * 1024 * (17 * 17 - 1) < DEFAULT_MAX_PAIRS
    assert pair_count(9, cutoff=100) == 9 * 8  # never more than all pairs


def test_a_large_cutoff_or_many_maps_are_named_in_the_advice():
    with pytest.raises(WorkTooLargeError, match="smaller cutoff or fewer maps"):
        check_pair_budget(1024 * 1024, cutoff=8, batch=1000)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_pixels": -1}, "n_pixels must be an integer >= 0"),
        ({"n_pixels": 10, "max_pairs": 0}, "max_pairs must be an integer >= 1"),
        ({"n_pixels": 10, "cutoff": 0.5}, "cutoff must be a finite number >= 1"),
        ({"n_pixels": 10, "pairs_per_second": 0}, "pairs_per_second must be a finite number > 0"),
        ({"n_pixels": 10, "batch": 0}, "batch must be an integer >= 1"),
    ],
)
def test_budget_arguments_are_checked(kwargs, match):
    n = kwargs.pop("n_pixels")
    with pytest.raises(ValueError, match=match):
        check_pair_budget(n, **kwargs)


def test_durations_read_in_the_largest_unit():
    assert [describe_seconds(s) for s in (5, 600, 3 * 3600, 10 * 86400)] == ["5 s", "10 min", "3.0 h", "10.0 days"]


def test_structural_retention_refuses_an_exact_1024_grid_at_once():
    """exact R on 1024x1024 would run for many minutes silently; it says so instead."""
    import time

    import torch

    from pixinfo.errors import WorkTooLargeError
    from pixinfo.info import Kernel, structural_retention

    start = time.perf_counter()
    with pytest.raises(WorkTooLargeError, match="cutoff"):
        structural_retention(torch.arange(1024 * 1024), shape=(1024, 1024))
    assert time.perf_counter() - start < 5
    bounded = structural_retention(torch.arange(64 * 64), shape=(64, 64), kernel=Kernel("exponential", scale=2, cutoff=4),
                                   max_pairs=10**6)  # fmt: skip
    assert float(bounded) == 1.0
