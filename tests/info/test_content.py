"""neighbour_information: FFT result against the plain O(N²) definition."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pixinfo.errors import DTypeError, ShapeError, ValueRangeError
from pixinfo.info import Kernel, neighbour_information
from pixinfo.info.reference import neighbour_information_reference
from tests.info.test_structural import numpy_f

families = st.sampled_from(["exponential", "power", "gaussian"])


@settings(max_examples=50)
@given(
    h=st.integers(2, 12),
    w=st.integers(2, 12),
    c=st.integers(1, 3),
    family=families,
    scale=st.floats(0.3, 6),
    cutoff=st.one_of(st.none(), st.floats(1, 6)),
    seed=st.integers(0, 2**31 - 1),
    method=st.sampled_from(["fft", "dense"]),
)
def test_equals_brute_force(h, w, c, family, scale, cutoff, seed, method):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(2, c, h, w, generator=g, dtype=torch.float64)
    kernel = Kernel(family, scale=scale, cutoff=cutoff)
    got = neighbour_information(images, kernel=kernel, method=method)
    assert got.shape == (2, c)
    f = numpy_f(family, scale, cutoff)
    want = np.array([[neighbour_information_reference(images[b, ch].numpy(), f) for ch in range(c)] for b in range(2)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-11)


@settings(max_examples=30)
@given(h=st.integers(2, 16), w=st.integers(2, 16), seed=st.integers(0, 2**31 - 1), family=families)
def test_invariant_to_negation(h, w, seed, family):
    x = torch.rand(3, 1, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    kernel = Kernel(family, scale=1.5)
    torch.testing.assert_close(neighbour_information(1 - x, kernel=kernel), neighbour_information(x, kernel=kernel))


@pytest.mark.parametrize("method", ["fft", "dense", "auto"])
def test_float32_agrees_with_reference_on_real_images(method):
    from pixinfo.data import load_dataset, to_float

    x = to_float(load_dataset("mnist-5k").test.images[:20])
    got = neighbour_information(x, batch_size=7, method=method)[:, 0]
    want = [neighbour_information_reference(img[0].double().numpy(), numpy_f("exponential", 2.0)) for img in x]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("side", [31, 33, 40])
def test_methods_agree_around_the_auto_switch(side):
    x = torch.rand(3, 2, side, side - 3, generator=torch.Generator().manual_seed(side), dtype=torch.float64)
    kernel = Kernel("power", scale=1.5)
    fft = neighbour_information(x, kernel=kernel, method="fft")
    torch.testing.assert_close(neighbour_information(x, kernel=kernel, method="dense"), fft)
    torch.testing.assert_close(neighbour_information(x, kernel=kernel), fft)


def test_smooth_images_score_high_and_scrambling_destroys_it():
    ramp = torch.linspace(0, 1, 16 * 16, dtype=torch.float64).reshape(1, 1, 16, 16)
    checker = ((torch.arange(16)[:, None] + torch.arange(16)[None]) % 2).double().reshape(1, 1, 16, 16)
    kernel = Kernel("exponential", scale=1.0)
    i_ramp = float(neighbour_information(ramp, kernel=kernel))
    assert i_ramp > 0.5
    # nearest neighbours differ, diagonal ones agree: negative overall
    assert float(neighbour_information(checker, kernel=kernel)) < -0.1
    perm = torch.randperm(256, generator=torch.Generator().manual_seed(0))
    scrambled = ramp.reshape(1, 1, -1)[..., perm].reshape(1, 1, 16, 16)
    assert abs(float(neighbour_information(scrambled, kernel=kernel))) < 0.1


def test_constant_channel_is_nan_and_leading_dims_kept():
    x = torch.rand(2, 3, 4, 5, 6)
    x[1, 2, 3] = 0.25
    out = neighbour_information(x)
    assert out.shape == (2, 3, 4)
    assert torch.isnan(out[1, 2, 3]) and torch.isfinite(out[0]).all()


@pytest.mark.parametrize("method", ["fft", "dense"])
def test_input_decides_device_and_dtype(device, method):
    x = torch.rand(4, 2, 9, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    want = np.array([[neighbour_information_reference(c.numpy(), numpy_f("exponential", 2.0)) for c in img] for img in x])
    got = neighbour_information(x.to(device), method=method)
    assert got.device.type == device.type and got.dtype == torch.float64
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-9)
    got32 = neighbour_information(x.float().to(device), method=method)
    assert got32.dtype == torch.float32
    np.testing.assert_allclose(got32.cpu().double().numpy(), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "images,error",
    [
        (torch.zeros(1, 4, 4, dtype=torch.uint8), DTypeError),
        (torch.zeros(4, 4), ShapeError),
        (torch.full((1, 1, 4, 4), 1.5), ValueRangeError),
        (torch.full((1, 1, 4, 4), -0.1), ValueRangeError),
        (torch.full((1, 1, 4, 4), float("nan")), ValueRangeError),
        (np.zeros((1, 1, 4, 4)), DTypeError),
    ],
)
def test_bad_input(images, error):
    with pytest.raises(error):
        neighbour_information(images)
    with pytest.raises(ValueError, match="method"):
        neighbour_information(torch.rand(1, 1, 4, 4), method="direct")
