"""The fused numba kernels (structural_retention, value_retention) against the torch reference."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import pixinfo
from pixinfo.errors import DeviceError
from pixinfo.info import Kernel, structural_retention, value_retention

kernels = st.builds(
    Kernel,
    st.sampled_from(["exponential", "power", "gaussian"]),
    scale=st.floats(0.2, 8),
    cutoff=st.one_of(st.none(), st.floats(1, 12)),
)


def both(index, shape, kernel):
    fused = structural_retention(index, shape=shape, kernel=kernel, method="fused")
    reference = structural_retention(index, shape=shape, kernel=kernel, method="reference")
    return fused, reference


@given(
    grid=st.tuples(st.integers(1, 24), st.integers(1, 24)).filter(lambda g: g[0] * g[1] >= 2),
    kernel=kernels,
    batch=st.integers(1, 3),
    bijective=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_fused_equals_reference_to_rounding(grid, kernel, batch, bijective, seed):
    h, w = grid
    n = h * w
    g = torch.Generator().manual_seed(seed)
    if bijective:
        index = torch.stack([torch.randperm(n, generator=g) for _ in range(batch)])
    else:
        index = torch.randint(0, n, (batch, n), generator=g)
    fused, reference = both(index, grid, kernel)
    assert fused.dtype == torch.float64 and fused.shape == (batch,)
    torch.testing.assert_close(fused, reference, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("side,cutoff", [(64, None), (72, 6.5)])
def test_fused_equals_reference_on_larger_grids(side, cutoff):
    """Big enough to run on every thread (more than SERIAL_PAIRS pairs)."""
    index = torch.randperm(side * side, generator=torch.Generator().manual_seed(side))
    fused, reference = both(index, (side, side), Kernel("exponential", scale=3.0, cutoff=cutoff))
    torch.testing.assert_close(fused, reference, rtol=1e-12, atol=0)


@pytest.mark.parametrize("grid", [(1, 9), (9, 1), (2, 7), (13, 5), (6, 31)])
def test_both_layouts_of_the_output_weights_agree(grid, monkeypatch):
    """Expanded (w, h*w) weights on small grids, one row of S at a time on large ones."""
    from pixinfo.info import _fused, structural

    g = torch.Generator().manual_seed(grid[0] * 100 + grid[1])
    index = torch.randint(0, grid[0] * grid[1], (3, grid[0] * grid[1]), generator=g)
    kernel = Kernel("gaussian", scale=2.5)
    results = []
    for limit in (1 << 40, 0):
        monkeypatch.setattr(_fused, "EXPANDED_BYTES", limit)
        structural._fused_constants.cache_clear()
        assert structural._fused_constants(kernel, *grid).expanded == bool(limit)
        results.append(structural_retention(index, shape=grid, kernel=kernel))
    structural._fused_constants.cache_clear()
    torch.testing.assert_close(results[0], results[1], rtol=1e-13, atol=0)
    want = structural_retention(index, shape=grid, kernel=kernel, method="reference")
    torch.testing.assert_close(results[1], want, rtol=1e-12, atol=0)


def test_result_does_not_depend_on_the_thread_count(monkeypatch):
    from pixinfo.info import _fused

    index = torch.randperm(40 * 40, generator=torch.Generator().manual_seed(1))
    kernel = Kernel("power", scale=1.5)
    monkeypatch.setattr(_fused, "SERIAL_PAIRS", 0)  # every thread torch allows
    many = structural_retention(index, shape=(40, 40), kernel=kernel)
    monkeypatch.setattr(_fused, "SERIAL_PAIRS", 1 << 62)  # one thread
    one = structural_retention(index, shape=(40, 40), kernel=kernel)
    assert float(many) == float(one)


def test_thread_setting_is_restored():
    import numba

    before = numba.get_num_threads()
    structural_retention(torch.randperm(36), shape=(6, 6))
    assert numba.get_num_threads() == before


def test_identity_and_empty_batch():
    for grid in [(5, 6), (8, 8), (10, 10), (28, 28)]:  # exactly 1, not 1 ± rounding
        for method in ("fused", "reference"):
            assert float(structural_retention(torch.arange(grid[0] * grid[1]), shape=grid, method=method)) == 1.0
    empty = structural_retention(torch.zeros(0, 30, dtype=torch.long), shape=(5, 6), method="fused")
    assert empty.shape == (0,)


def test_method_errors_name_the_parameter():
    index = torch.randperm(16)
    with pytest.raises(ValueError, match="method"):
        structural_retention(index, shape=(4, 4), method="numba")
    with pytest.raises(ValueError, match="method='fused'"):
        structural_retention(torch.eye(16, dtype=torch.float64), shape=(4, 4), method="fused")
    with pytest.raises(DeviceError, match="method='fused'"):
        structural_retention(index, shape=(4, 4), method="fused", dtype=torch.float32)


def test_float32_request_keeps_the_reference_path():
    index = torch.randperm(49, generator=torch.Generator().manual_seed(2))
    r32 = structural_retention(index, shape=(7, 7), dtype=torch.float32)
    r64 = structural_retention(index, shape=(7, 7))
    assert float(r32) == pytest.approx(float(r64), rel=1e-5)


def _python(code: str, env: dict[str, str], cwd: Path) -> str:
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_import_is_lazy_and_a_read_only_install_compiles_without_a_cache(tmp_path):
    """Importing pixinfo imports no numba; with no writable cache directory (a file stands
    where numba would write) the kernels are built without a cache, with no error or warning."""
    site = tmp_path / "site"
    shutil.copytree(Path(pixinfo.__file__).parent, site / "pixinfo", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "pixinfo" / "info" / "__pycache__").write_text("not a directory")
    (tmp_path / "cache").write_text("not a directory")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env |= {"PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path / "cache")}
    code = (
        "import sys, pixinfo.info, pixinfo.scoring; print('numba' in sys.modules); "
        "from pixinfo.info import _fused; print(type(_fused.all_pairs._cache).__name__)"
    )
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "NullCache"]


@settings(max_examples=30)
@given(
    n=st.integers(2, 300),
    levels=st.sampled_from([2, 7, 256]),
    channels=st.integers(1, 2),
    alignment=st.sampled_from([None, "shared", "per-image"]),
    chunk=st.sampled_from([1, 5, 128]),
    seed=st.integers(0, 2**31 - 1),
)
def test_fused_value_retention_equals_reference(n, levels, channels, alignment, chunk, seed):
    """Same statistics to rounding, the same shuffles, NaN at the same positions."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, channels, 3, 5), dtype=torch.uint8, generator=g)
    y = torch.where(torch.rand(x.shape, generator=g) < 0.5, 255 - x, x // 3)  # dependent, with ties
    y[:, :, 0, 0] = 9  # a constant position: NaN on both sides
    index = {
        None: None,
        "shared": torch.randint(0, 15, (15,), generator=g),
        "per-image": torch.stack([torch.randperm(15, generator=g) for _ in range(n)]),
    }[alignment]
    for method in ("nmi", "spearman"):
        options = dict(index=index, method=method, levels=levels, n_shuffles=2, seed=seed, positions_per_chunk=chunk)
        fused = value_retention(x, y, implementation="fused", **options)
        reference = value_retention(x, y, implementation="reference", **options)
        torch.testing.assert_close(fused, reference, rtol=1e-11, atol=1e-12, equal_nan=True)


def test_fused_value_retention_on_float_input_and_errors():
    x = torch.rand(50, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    for method in ("nmi", "spearman"):
        got = value_retention(x, x.sqrt(), method=method, levels=16, implementation="fused")
        torch.testing.assert_close(got, value_retention(x, x.sqrt(), method=method, levels=16, implementation="reference"))
    with pytest.raises(ValueError, match="implementation"):
        value_retention(x, x, implementation="numba")
