"""value_retention: NMI (chance-adjusted) and Spearman per position."""

import numpy as np
import pytest
import torch
from scipy import stats

from pixinfo.errors import ShapeError
from pixinfo.info import value_retention


def images(n=2000, shape=(1, 4, 4), seed=0):
    return torch.randint(0, 256, (n, *shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def test_bijective_value_maps_keep_all_information():
    x = images()
    g = torch.Generator().manual_seed(1)
    key = torch.randint(0, 256, x.shape[1:], dtype=torch.uint8, generator=g)
    level_map = torch.randperm(256, generator=g).to(torch.uint8)
    for name, y in {"negative": 255 - x, "xor-fixed": x ^ key, "level-permutation": level_map[x.long()]}.items():
        nmi = value_retention(x, y, method="nmi")
        torch.testing.assert_close(nmi, torch.ones_like(nmi), msg=name)


def test_spearman_signs():
    x = images()
    torch.testing.assert_close(value_retention(x, 255 - x, method="spearman"), -torch.ones(1, 4, 4, dtype=torch.float64))
    monotone = torch.sqrt(x.double() / 255)  # float in [0, 1], strictly increasing in x
    rho = value_retention(x, monotone, method="spearman", levels=256)
    assert float(rho.min()) > 0.999


def test_one_time_pad_keeps_nothing():
    x = images(4000)
    pad = images(4000, seed=7)
    nmi = value_retention(x, x ^ pad, method="nmi")
    rho = value_retention(x, x ^ pad, method="spearman")
    assert abs(float(nmi.mean())) < 0.01
    assert abs(float(rho.mean())) < 0.02


def test_raw_plugin_nmi_would_be_biased():
    """Why the chance correction exists: the uncorrected NMI of independent 8-bit data is large."""
    from sklearn.metrics import normalized_mutual_info_score

    x, y = images(2000)[:, 0, 0, 0].numpy(), images(2000, seed=9)[:, 0, 0, 0].numpy()
    assert normalized_mutual_info_score(x, y) > 0.3
    assert abs(float(value_retention(torch.from_numpy(x).reshape(-1, 1, 1, 1), torch.from_numpy(y).reshape(-1, 1, 1, 1))[0, 0, 0])) < 0.05


def test_nmi_agrees_with_sklearn_adjusted_mutual_information():
    from sklearn.metrics import adjusted_mutual_info_score

    g = torch.Generator().manual_seed(4)
    x = torch.randint(0, 8, (3000, 1, 1, 3), generator=g)
    noise = torch.randint(0, 8, x.shape, generator=g)
    keep = torch.rand(x.shape, generator=g) < torch.tensor([0.2, 0.5, 0.8]).reshape(1, 1, 1, 3)
    y = torch.where(keep, x, noise)
    got = value_retention((x * 32).to(torch.uint8), (y * 32).to(torch.uint8), n_shuffles=20)
    for p in range(3):
        want = adjusted_mutual_info_score(x[:, 0, 0, p].numpy(), y[:, 0, 0, p].numpy())
        assert float(got[0, 0, p]) == pytest.approx(want, abs=0.01)


def test_spearman_matches_scipy_with_ties():
    g = torch.Generator().manual_seed(5)
    x = torch.randint(0, 5, (300, 2, 3, 3), generator=g).to(torch.uint8) * 60
    y = ((x.long() + torch.randint(0, 3, x.shape, generator=g) * 40).clamp(max=255)).to(torch.uint8)
    got = value_retention(x, y, method="spearman")
    for c in range(2):
        for i in range(3):
            for j in range(3):
                want = stats.spearmanr(x[:, c, i, j].numpy(), y[:, c, i, j].numpy()).statistic
                assert float(got[c, i, j]) == pytest.approx(want, abs=1e-12)


def test_alignment_by_shared_and_per_image_maps():
    x = images(2000, (1, 3, 3))
    g = torch.Generator().manual_seed(2)
    perm = (torch.arange(9) + 1 + torch.randint(0, 8, (1,), generator=g)) % 9  # a cyclic shift: no fixed point
    moved = x.reshape(-1, 1, 9)[..., perm].reshape(x.shape)
    assert float(value_retention(x, moved, index=perm).min()) == pytest.approx(1.0)
    assert abs(float(value_retention(x, moved).mean())) < 0.1  # positions no longer match
    maps = torch.stack([torch.randperm(9, generator=g) for _ in range(2000)])
    per_image = torch.gather(x.reshape(-1, 1, 9), 2, maps[:, None]).reshape(x.shape)
    assert float(value_retention(x, per_image, index=maps, method="spearman").min()) == pytest.approx(1.0)


def test_constant_positions_are_nan_and_float_input_is_quantised():
    x = images(500).float() / 255
    x[:, :, 0, 0] = 0.0
    out = value_retention(x, 1 - x)
    assert torch.isnan(out[0, 0, 0]) and torch.isfinite(out.reshape(-1)[1:]).all()


def test_levels_reduce_resolution():
    x = images(3000)
    coarse = value_retention(x, x // 64 * 64, levels=4)  # equal after quantising to 4 levels
    torch.testing.assert_close(coarse, torch.ones_like(coarse))
    assert float(value_retention(x, x // 64 * 64).mean()) < 0.5


def test_runs_on_input_device(device):
    x = images(500).to(device)
    out = value_retention(x, 255 - x, method="spearman")
    assert out.device.type == device.type


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"method": "pearson"}, ValueError),
        ({"levels": 1}, ValueError),
        ({"levels": 512}, ValueError),
        ({"n_shuffles": 0}, ValueError),
        ({"index": torch.arange(15)}, ShapeError),
        ({"index": torch.zeros(3, 16, dtype=torch.long)}, ShapeError),
    ],
)
def test_bad_options(kwargs, error):
    x = images(10)
    with pytest.raises(error):
        value_retention(x, x, **kwargs)


def test_shape_mismatch_and_too_few_images():
    with pytest.raises(ShapeError):
        value_retention(images(10), images(10, (1, 4, 5)))
    with pytest.raises(ShapeError):
        value_retention(images(1), images(1))
    with pytest.raises(ShapeError):
        value_retention(images(10)[0], images(10)[0])


def test_numpy_input_rejected():
    with pytest.raises(TypeError):
        value_retention(np.zeros((2, 1, 2, 2)), np.zeros((2, 1, 2, 2)))


@pytest.mark.parametrize("n,span", [(50, 4096), (5000, 64)], ids=["sparse-path", "dense-path"])
def test_entropy_paths_match_scipy(n, span):
    from pixinfo.info.value import _entropies

    keys = torch.randint(0, span, (n, 3), generator=torch.Generator().manual_seed(n))
    keys[:, 2] = 7  # a constant column has zero entropy
    got = _entropies(keys, span)
    for p in range(3):
        want = stats.entropy(np.bincount(keys[:, p].numpy(), minlength=span))
        assert float(got[p]) == pytest.approx(want, abs=1e-12)


def test_uint8_and_float_copies_give_the_same_levels_and_nmi():
    """Regression: uint8 was binned (v·L)//256 but floats round(v·(L−1)), so the same images
    as uint8 and float gave an identity NMI of 0.886 at levels=16."""
    import torch

    from pixinfo.info import value_retention

    g = torch.Generator().manual_seed(0)
    u = torch.randint(0, 256, (400, 1, 4, 4), generator=g, dtype=torch.uint8)
    f = u.float() / 255
    a = value_retention(u, u, levels=16)
    b = value_retention(f, u, levels=16)
    torch.testing.assert_close(b, a)
    assert float(a.mean()) > 0.99
