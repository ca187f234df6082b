"""structural_retention: the swap theorem by property tests, and the reference.

The default method on the CPU is the fused numba kernel, so the property tests run against it."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pixinfo.errors import DTypeError, ShapeError, ValueRangeError
from pixinfo.info import Kernel, structural_retention
from pixinfo.info.reference import structural_retention_reference

DEGENERATE = {(1, 2), (2, 1), (1, 3), (3, 1), (2, 2)}


def numpy_f(family, scale, cutoff=None):
    """f written independently of pixinfo's Kernel (science.md §2)."""
    base = {
        "exponential": lambda d: np.exp(-d / scale),
        "power": lambda d: (1 + d) ** (-scale),
        "gaussian": lambda d: np.exp(-(d**2) / (2 * scale**2)),
    }[family]
    if cutoff is None:
        return base
    return lambda d: np.where(d <= cutoff, base(d), 0.0)


kernels = st.one_of(
    st.builds(lambda s: Kernel("exponential", scale=s), st.floats(0.2, 20)),
    st.builds(lambda s: Kernel("power", scale=s), st.floats(0.1, 8)),
    st.builds(lambda s: Kernel("gaussian", scale=s), st.floats(0.4, 20)),
)
grids = st.tuples(st.integers(3, 32), st.integers(3, 32))


def swap(n, a, b):
    index = torch.arange(n)
    index[[a, b]] = index[[b, a]]
    return index


@given(grid=grids, kernel=kernels, data=st.data())
def test_every_swap_strictly_lowers_retention(grid, kernel, data):
    h, w = grid
    a = data.draw(st.integers(0, h * w - 1), label="a")
    b = data.draw(st.integers(0, h * w - 1).filter(lambda v: v != a), label="b")
    r = float(structural_retention(swap(h * w, a, b), shape=grid, kernel=kernel))
    assert r < 1 - 1e-10


@settings(max_examples=40)
@given(
    grid=st.tuples(st.integers(1, 12), st.integers(1, 12)).filter(
        lambda g: g[0] * g[1] >= 4 and g not in DEGENERATE
    ),
    kernel=kernels,
    data=st.data(),
)
def test_swaps_on_thin_and_small_grids(grid, kernel, data):
    """Also 1×N and 2×N grids: only 1×2, 1×3 and 2×2 have an isometric swap."""
    h, w = grid
    a = data.draw(st.integers(0, h * w - 1))
    b = data.draw(st.integers(0, h * w - 1).filter(lambda v: v != a))
    assert float(structural_retention(swap(h * w, a, b), shape=grid, kernel=kernel)) < 1 - 1e-10


@pytest.mark.parametrize("grid,a,b", [((1, 2), 0, 1), ((1, 3), 0, 2), ((2, 2), 0, 3), ((2, 2), 1, 2)])
def test_degenerate_grids_have_isometric_swaps(grid, a, b):
    """Why science.md excludes them: these swaps are flips/transposes, R = 1."""
    r = structural_retention(swap(grid[0] * grid[1], a, b), shape=grid, kernel=Kernel("power", scale=2))
    assert float(r) == pytest.approx(1.0, abs=1e-12)


@given(grid=grids, kernel=kernels, seed=st.integers(0, 2**31 - 1))
def test_any_permutation_at_most_one(grid, kernel, seed):
    h, w = grid
    index = torch.randperm(h * w, generator=torch.Generator().manual_seed(seed))
    assert float(structural_retention(index, shape=grid, kernel=kernel)) <= 1 + 1e-12


def isometries(h, w):
    grid = torch.arange(h * w).reshape(h, w)
    maps = {
        "identity": grid,
        "flip-vertical": grid.flip(0),
        "flip-horizontal": grid.flip(1),
        "rotate-180": grid.flip(0).flip(1),
    }
    if h == w:
        maps["transpose"] = grid.T
        maps["rotate-90"] = grid.rot90(1)
        maps["anti-transpose"] = grid.flip(0).T.flip(0)
    return {name: m.reshape(-1) for name, m in maps.items()}


@given(grid=grids, kernel=kernels, chunk=st.sampled_from([5000, 1 << 23]))
def test_isometries_keep_everything(grid, kernel, chunk):
    for name, index in isometries(*grid).items():
        r = float(structural_retention(index, shape=grid, kernel=kernel, chunk_elements=chunk))
        assert r == pytest.approx(1.0, abs=1e-12), name


@given(
    grid=grids,
    family=st.sampled_from(["exponential", "power", "gaussian"]),
    scale=st.floats(0.5, 5),
    cutoff=st.floats(1, 8),
    seed=st.integers(0, 2**31 - 1),
)
def test_permutation_with_cutoff_at_most_one(grid, family, scale, cutoff, seed):
    kernel = Kernel(family, scale=scale, cutoff=cutoff)
    index = torch.randperm(grid[0] * grid[1], generator=torch.Generator().manual_seed(seed))
    assert float(structural_retention(index, shape=grid, kernel=kernel)) <= 1 + 1e-12


@given(grid=grids, data=st.data())
def test_constant_weight_makes_every_swap_free(grid, data):
    """Strictness comes from the kernel: with a constant f every swap keeps R = 1."""
    h, w = grid
    flat = Kernel.from_function(lambda d: torch.ones_like(d), name="constant")
    a = data.draw(st.integers(0, h * w - 1))
    b = data.draw(st.integers(0, h * w - 1).filter(lambda v: v != a))
    r = float(structural_retention(swap(h * w, a, b), shape=grid, kernel=flat))
    assert r == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=40)
@given(
    grid=st.tuples(st.integers(1, 9), st.integers(1, 9)).filter(lambda g: g[0] * g[1] >= 2),
    family=st.sampled_from(["exponential", "power", "gaussian"]),
    scale=st.floats(0.3, 6),
    cutoff=st.one_of(st.none(), st.floats(1, 5)),
    bijective=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
    chunk=st.sampled_from([1, 5, 97, 1 << 20]),
    method=st.sampled_from(["auto", "fused", "reference"]),
)
def test_matches_brute_force_reference(grid, family, scale, cutoff, bijective, seed, chunk, method):
    h, w = grid
    g = torch.Generator().manual_seed(seed)
    index = torch.randperm(h * w, generator=g) if bijective else torch.randint(0, h * w, (h * w,), generator=g)
    kernel = Kernel(family, scale=scale, cutoff=cutoff)
    got = float(structural_retention(index, shape=grid, kernel=kernel, chunk_elements=chunk, method=method))
    want = structural_retention_reference(index.numpy(), h, w, numpy_f(family, scale, cutoff))
    assert got == pytest.approx(want, rel=1e-10, abs=1e-12)


def test_batched_over_leading_dims():
    g = torch.Generator().manual_seed(0)
    maps = torch.stack([torch.randperm(49, generator=g) for _ in range(6)]).reshape(2, 3, 49)
    kernel = Kernel("power", scale=1.5)
    batched = structural_retention(maps, shape=(7, 7), kernel=kernel)
    assert batched.shape == (2, 3)
    single = torch.stack([structural_retention(m, shape=(7, 7), kernel=kernel) for m in maps.reshape(6, 49)])
    torch.testing.assert_close(batched.reshape(-1), single)


def test_non_bijective_map_can_exceed_one():
    """The theorem covers permutations only: a 2x zoom (sources at half the distance) raises R."""
    h = w = 16
    ys, xs = np.divmod(np.arange(h * w), w)
    zoom = torch.from_numpy((ys // 2) * w + xs // 2)
    r = float(structural_retention(zoom, shape=(h, w), kernel=Kernel("exponential", scale=2)))
    want = structural_retention_reference(zoom.numpy(), h, w, numpy_f("exponential", 2))
    assert r == pytest.approx(want, rel=1e-10)
    assert r > 1


def test_soft_map_generalises_gather():
    g = torch.Generator().manual_seed(3)
    index = torch.randperm(30, generator=g)
    one_hot = torch.nn.functional.one_hot(index, 30).double()
    kernel = Kernel("exponential", scale=1.5)
    hard = structural_retention(index, shape=(5, 6), kernel=kernel)
    soft = structural_retention(one_hot, shape=(5, 6), kernel=kernel)
    torch.testing.assert_close(soft, hard)


def test_soft_map_matches_formula_for_blur():
    h = w = 5
    n = h * w
    ys, xs = np.divmod(np.arange(n), w)
    near = (np.abs(ys[:, None] - ys[None]) <= 1) & (np.abs(xs[:, None] - xs[None]) <= 1)
    a = near / near.sum(1, keepdims=True)
    f = Kernel("gaussian", scale=1.0).weight_matrix(h, w).numpy()
    want = (f * (a @ f @ a.T)).sum() / (f * f).sum()
    got = structural_retention(torch.from_numpy(a), shape=(h, w), kernel=Kernel("gaussian", scale=1.0))
    assert float(got) == pytest.approx(want, rel=1e-12)
    assert float(got) < 1


def test_runs_on_the_index_device(device):
    index = torch.randperm(64, generator=torch.Generator().manual_seed(0)).to(device)
    r = structural_retention(index, shape=(8, 8))
    assert r.device.type == device.type
    want = structural_retention_reference(index.cpu().numpy(), 8, 8, numpy_f("exponential", 2.0))
    assert float(r) == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize(
    "index,shape,error",
    [
        (torch.arange(16.0).long()[:15], (4, 4), ShapeError),
        (torch.arange(16).int().float().numpy(), (4, 4), DTypeError),
        (torch.arange(16).to(torch.int16), (4, 4), DTypeError),
        (torch.arange(16) + 1, (4, 4), ValueRangeError),
        (torch.arange(16) - 1, (4, 4), ValueRangeError),
        (torch.arange(16), (4,), ShapeError),
        (torch.arange(16), (0, 16), ShapeError),
        (torch.zeros(2, 16, 15), (4, 4), ShapeError),
    ],
)
def test_bad_input_raises_typed_errors(index, shape, error):
    with pytest.raises(error):
        structural_retention(index, shape=shape)


@pytest.mark.parametrize("cutoff", [1.9999999999999991, 2.0, 2.0**0.5, 5.0**0.5 - 1e-15])
def test_cutoff_boundary_matches_reference(cutoff):
    index = torch.randperm(36, generator=torch.Generator().manual_seed(0))
    got = float(structural_retention(index, shape=(6, 6), kernel=Kernel("exponential", scale=1.0, cutoff=cutoff)))
    want = structural_retention_reference(index.numpy(), 6, 6, numpy_f("exponential", 1.0, cutoff))
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, "float64"])
def test_integer_accumulation_dtype_is_refused(dtype):
    """Regression: ``dtype=torch.int64`` silently returned R = 0."""
    from pixinfo.errors import DTypeError

    with pytest.raises(DTypeError, match="accumulation dtype"):
        structural_retention(torch.randperm(64), shape=(8, 8), dtype=dtype)
