"""The device-resident loader: augmentation order, batching, DDP slices, random state."""

import pytest
import torch

from pixinfo.models import ConfigError
from pixinfo.train import DeviceLoader, TrainConfig, train
from pixinfo.train.augment import _crop, _flip
from pixinfo.transforms import build_transform

N, SHAPE = 12, (1, 6, 6)


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (N, *SHAPE), generator=g, dtype=torch.uint8), torch.arange(N)


@pytest.mark.parametrize("augment", ["after", "before"])
def test_augment_order_is_what_it_says(augment):
    x, y = _data()
    perm = build_transform("permutation:seed=1", shape=SHAPE)
    loader = DeviceLoader(x, y, batch_size=4, seed=5, transform=perm, augment=augment, crop_pad=2, flip=True)
    (got, *_) = list(loader)
    g = torch.Generator().manual_seed(5)
    idx = torch.randperm(N, generator=g)[:4]
    plain = x[idx].float() / 255
    if augment == "before":
        want = perm.apply(_flip(_crop(plain, 2, g), g))
    else:
        want = _flip(_crop(perm.apply(plain), 2, g), g)
    torch.testing.assert_close(got.x, want, rtol=0, atol=0)
    assert got.y.tolist() == idx.tolist()


def test_before_and_after_differ_and_none_turns_augmentation_off():
    x, y = _data()
    perm = build_transform("permutation:seed=1", shape=SHAPE)
    batches = {a: next(iter(DeviceLoader(x, y, batch_size=4, seed=5, transform=perm, augment=a, crop_pad=2)))
               for a in ("after", "before", "none")}  # fmt: skip
    assert not torch.equal(batches["after"].x, batches["before"].x)
    idx = batches["none"].y
    torch.testing.assert_close(batches["none"].x, perm.apply(x[idx].float() / 255), rtol=0, atol=0)


def test_ddp_slices_cover_the_global_batch():
    x, y = _data()
    parts = [next(iter(DeviceLoader(x, y, batch_size=6, seed=1, rank=r, world=3))).y for r in range(3)]
    whole = next(iter(DeviceLoader(x, y, batch_size=6, seed=1))).y
    assert sorted(torch.cat(parts).tolist()) == sorted(whole.tolist())


@pytest.mark.parametrize(
    "kwargs, message",
    [({"batch_size": 0}, "batch_size"), ({"batch_size": 13}, "batch_size"), ({"batch_size": 5, "world": 2}, "divisible")],
)
def test_bad_loader_arguments(kwargs, message):
    x, y = _data()
    with pytest.raises(ValueError, match=message):
        DeviceLoader(x, y, seed=0, **{"batch_size": 4, **kwargs})


def test_augment_order_is_part_of_the_config_and_record(digits):
    a, b = TrainConfig(augment="after"), TrainConfig(augment="before")
    assert a.config_hash() != b.config_hash()
    run = train(TrainConfig(dataset="digits", model="mlp", epochs=1, batch_size=64, augment="none", crop_pad=1),
                results_dir=None, progress=False, data=digits)  # fmt: skip
    assert run.record["config"]["augment"] == "none"


def test_before_with_fixed_per_image_keys_is_refused(digits):
    config = TrainConfig(dataset="digits", epochs=1, transform="per-image-permutation", augment="before")
    with pytest.raises(ConfigError, match="per_image_keys='fresh'"):
        train(config, results_dir=None, progress=False, data=digits)
    with pytest.raises(ConfigError, match="augment must be one of"):
        train(TrainConfig(augment="sometimes"), results_dir=None, progress=False, data=digits)
