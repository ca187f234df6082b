import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pixinfo.train import random_crop, random_flip, random_negative, ricap


def test_random_crop_takes_a_window_of_the_padded_image():
    x = torch.rand(16, 2, 6, 7)
    out = random_crop(x, pad=2, generator=torch.Generator().manual_seed(0))
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(16):
        windows = [padded[i, :, dy : dy + 6, dx : dx + 7] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)
    assert not torch.equal(out, x)  # some offset differs from the centre


def test_flip_and_negative_are_per_image():
    x = torch.rand(64, 1, 4, 4)
    g = torch.Generator().manual_seed(0)
    flipped = random_flip(x, generator=g)
    same = [torch.equal(flipped[i], x[i]) for i in range(64)]
    assert all(same[i] or torch.equal(flipped[i], x[i].flip(-1)) for i in range(64))
    assert 10 < sum(same) < 54
    neg = random_negative(x, generator=g, p=1.0)
    assert torch.allclose(neg, 1 - x)


def test_ricap_patches_and_weights():
    x = torch.arange(8, dtype=torch.float32).view(8, 1, 1, 1).expand(8, 1, 10, 10).contiguous() / 8
    y = torch.arange(8)
    mixed, targets, weights = ricap(x, y, beta=0.3, generator=torch.Generator().manual_seed(1),
                                    rng=np.random.default_rng(0))  # fmt: skip
    assert mixed.shape == x.shape and targets.shape == (4, 8)
    assert float(weights.sum()) == pytest.approx(1.0)
    # each pixel of image i comes from one of its four patch images; the area shares match the weights
    for i in range(8):
        values = (mixed[i] * 8).round().long().flatten()
        shares = torch.zeros(8)
        for k in range(4):
            shares[targets[k, i]] += weights[k]
        counts = torch.bincount(values, minlength=8).float() / values.numel()
        assert torch.allclose(counts, shares, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_generator_on_another_device_is_refused():
    with pytest.raises(ValueError, match="generator is on cuda"):
        random_flip(torch.rand(2, 1, 4, 4), generator=torch.Generator(device="cuda"))


def test_augmentations_run_on_the_images_device(device):
    x = torch.rand(8, 1, 6, 6, device=device)
    g = torch.Generator(device=device).manual_seed(0)
    assert random_crop(x, pad=2, generator=g).device == x.device
    mixed, targets, weights = ricap(x, torch.arange(8, device=device), beta=0.3, generator=g,
                                    rng=np.random.default_rng(0))  # fmt: skip
    assert mixed.device == targets.device == weights.device == x.device
