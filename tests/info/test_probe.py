"""probe_map recovers maps of black-box transforms."""

import pytest
import torch
import torch.nn.functional as F

from pixinfo.errors import ShapeError
from pixinfo.info import Kernel, probe_map, structural_retention


def test_recovers_a_roll_and_a_keyed_permutation():
    roll = probe_map(lambda x: torch.roll(x, 3, dims=-1), shape=(2, 5, 7))
    want = torch.roll(torch.arange(35).reshape(5, 7), 3, dims=-1).reshape(-1)
    assert roll.shared_key and roll.linear and torch.equal(roll.index, want)
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(0))

    def keyed(x):
        return x.reshape(*x.shape[:-2], 64)[..., perm].reshape(x.shape)

    found = probe_map(keyed, shape=(8, 8), batch_size=10)
    assert torch.equal(found.index, perm)


def test_value_maps_have_the_identity_map():
    neg = probe_map(lambda x: 1 - x, shape=(3, 4, 4))
    assert torch.equal(neg.index, torch.arange(16)) and neg.linear
    key = torch.randint(0, 256, (1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    xor = probe_map(lambda x: x ^ key, shape=(1, 4, 4), dtype=torch.uint8)
    assert torch.equal(xor.index, torch.arange(16)) and xor.linear is False


def test_blur_gives_an_influence_matrix():
    weights = torch.ones(1, 1, 3, 3) / 9

    def blur(x):
        return F.conv2d(x, weights, padding=1)

    probed = probe_map(blur, shape=(1, 6, 6))
    assert probed.index is None and probed.linear
    a = probed.influence
    assert a.shape == (36, 36)
    torch.testing.assert_close(a.sum(1), torch.ones(36, dtype=torch.float64))
    assert float(a[0, 0]) == pytest.approx(1 / 4) and float(a[7, 0]) == pytest.approx(1 / 9)
    r = structural_retention(a, shape=(6, 6), kernel=Kernel("exponential", scale=1))
    assert 0 < float(r) < 1


def test_transforms_without_a_shared_key_are_detected():
    assert not probe_map(lambda x: torch.rand_like(x), shape=(3, 3)).shared_key

    def per_position_in_batch(x):  # deterministic per call, but each image gets its own key
        g = torch.Generator().manual_seed(0)
        maps = torch.stack([torch.randperm(9, generator=g) for _ in range(len(x))])
        return torch.gather(x.reshape(len(x), 1, 9), 2, maps[:, None]).reshape(x.shape)

    result = probe_map(per_position_in_batch, shape=(3, 3))
    assert not result.shared_key and result.index is None and result.influence is None


def test_large_gather_uses_streaming_path():
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(1))

    def negated_perm(x):
        return 1 - x.reshape(*x.shape[:-2], 100)[..., perm].reshape(x.shape)

    found = probe_map(negated_perm, shape=(10, 10), max_dense=10, batch_size=32)
    assert torch.equal(found.index, perm) and found.linear
    with pytest.raises(ValueError, match="max_dense"):
        probe_map(lambda x: F.avg_pool2d(x, 3, 1, 1), shape=(1, 10, 10), max_dense=10)


def test_shape_changing_transform_rejected():
    with pytest.raises(ShapeError):
        probe_map(lambda x: x[..., :-1], shape=(4, 4))
    with pytest.raises(TypeError):
        probe_map("not callable", shape=(4, 4))


def test_probes_on_the_requested_device(device):
    seen = []

    def spy(x):
        seen.append(x.device.type)
        return torch.flip(x, dims=(-1,))

    result = probe_map(spy, shape=(4, 4), device=device)
    assert set(seen) == {device.type}
    assert torch.equal(result.index.cpu(), torch.arange(16).reshape(4, 4).flip(1).reshape(-1))
