import math

import pytest
import torch

from pixinfo.info import FAMILIES, Kernel


@pytest.mark.parametrize(
    "family,scale,d,want",
    [
        ("exponential", 2.0, 1.0, math.exp(-0.5)),
        ("power", 2.0, 1.0, 0.25),
        ("gaussian", 1.0, 2.0, math.exp(-2.0)),
    ],
)
def test_formulas(family, scale, d, want):
    assert float(Kernel(family, scale=scale)(torch.tensor(d, dtype=torch.float64))) == pytest.approx(want)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("scale", [0.3, 1.0, 7.0])
def test_positive_and_strictly_decreasing(family, scale):
    # a Gaussian underflows to 0 in float64 beyond about 37 sigma; test where it is representable
    far = 30 * scale if family == "gaussian" else 40
    d = torch.linspace(0.5, far, 200, dtype=torch.float64)
    v = Kernel(family, scale=scale)(d)
    assert bool((v > 0).all())
    assert bool((v[1:] < v[:-1]).all())


def test_cutoff_zeroes_far_pairs_and_tables_are_consistent():
    k = Kernel("power", scale=1.0, cutoff=2)
    t = k.offset_table(4, 4)
    assert t[0, 0] == 0
    assert t[2, 0] == pytest.approx(1 / 3) and t[1, 1] > 0 and t[2, 1] == 0 and t[3, 3] == 0
    f = k.weight_matrix(4, 4)
    assert f.shape == (16, 16) and torch.equal(f, f.T) and bool((f.diagonal() == 0).all())
    assert f[0, 2] == t[0, 2] and f[0, 5] == t[1, 1] and f[0, 15] == 0  # (0,0)-(0,2), (1,1), (3,3)


def test_pair_sums_count_ordered_pairs():
    k = Kernel("exponential", scale=1.5)
    h, w = 3, 5
    pos = [(y, x) for y in range(h) for x in range(w)]
    d = torch.tensor([math.hypot(a[0] - b[0], a[1] - b[1]) for a in pos for b in pos if a != b], dtype=torch.float64)
    s1, s2 = k.pair_sums(h, w)
    assert s1 == pytest.approx(float(k(d).sum()))
    assert s2 == pytest.approx(float((k(d) ** 2).sum()))


@pytest.mark.parametrize(
    "args,kwargs",
    [
        (("cosine",), {"scale": 1.0}),
        (("exponential",), {"scale": 0.0}),
        (("exponential",), {"scale": -1.0}),
        (("power",), {"scale": float("inf")}),
        (("power",), {"scale": float("nan")}),
        (("gaussian",), {"scale": "2"}),
        (("gaussian",), {"scale": True}),
        (("gaussian",), {"scale": 1.0, "cutoff": 0.5}),
        (("gaussian",), {"scale": 1.0, "cutoff": float("inf")}),
    ],
)
def test_invalid_parameters_raise_value_error(args, kwargs):
    with pytest.raises(ValueError):
        Kernel(*args, **kwargs)


def test_from_function_rejects_increasing_or_nonpositive():
    with pytest.raises(ValueError, match="non-increasing"):
        Kernel.from_function(lambda d: d)
    with pytest.raises(ValueError, match="> 0"):
        Kernel.from_function(lambda d: -torch.ones_like(d))
    k = Kernel.from_function(lambda d: 1 / (1 + d), name="inverse")
    assert "inverse" in repr(k)


def test_equality_and_dict():
    assert Kernel("power", scale=2) == Kernel("power", scale=2.0)
    named_alike = [Kernel.from_function(fn, name="exponential") for fn in (lambda d: 1 / (1 + d), lambda d: 2 / (1 + d))]
    assert named_alike[0] != named_alike[1] and named_alike[0] == named_alike[0]
    assert Kernel("power", scale=2) != Kernel("power", scale=2, cutoff=3)
    assert Kernel("gaussian", scale=1, cutoff=2).to_dict() == {"family": "gaussian", "scale": 1.0, "cutoff": 2.0}


def test_cutoff_is_exact_at_the_boundary():
    """A cutoff just below a grid distance excludes it; exactly at it includes it (regression:
    a 1e-9 tolerance once kept distance 2 for cutoff 1.9999999999999991)."""
    d = torch.tensor([2.0, 2.0**0.5], dtype=torch.float64)
    assert Kernel("exponential", scale=1, cutoff=1.9999999999999991)(d)[0] == 0
    assert Kernel("exponential", scale=1, cutoff=2.0)(d)[0] > 0
    assert Kernel("exponential", scale=1, cutoff=2.0**0.5)(d)[1] > 0
