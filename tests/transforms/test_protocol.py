"""The transform protocol, checked on every transform the registry builds: a shared key means a
deterministic ``apply``, a per-image key can be replayed, a rearrangement's gather map reproduces
``apply``, and a declared inverse undoes it."""

import pytest
import torch

from pixinfo.errors import NotInvertibleError
from pixinfo.transforms import FunctionTransform, Transform, build_transform, gather_pixels
from pixinfo.transforms.base import spec_classes

SHAPE = (3, 8, 8)
SEED = 3
SPECS = {"vortex": f"vortex:seed={SEED},n=2"}  # a generated vortex key needs its seed and count


def _registered() -> list[str]:
    """pixinfo's own registered spec names (other packages' transforms may need other shapes)."""
    return [name for name, cls in spec_classes().items() if cls.__module__.startswith("pixinfo.transforms")]


def _build(name: str) -> Transform:
    seeded = "seed" in spec_classes()[name].spec_options()
    return build_transform(SPECS.get(name, f"{name}:seed={SEED}" if seeded else name), shape=SHAPE)


def _levels(n: int = 4) -> torch.Tensor:
    """8-bit levels as floats in [0, 1]: the values every transform's inverse keeps."""
    x = torch.randint(0, 256, (n, *SHAPE), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return x.double() / 255


def test_every_built_in_transform_is_covered():
    names = set(_registered())
    assert {"identity", "permutation", "per-image-permutation", "vortex", "xor", "instahide", "etc"} <= names


@pytest.mark.parametrize("name", _registered())
def test_key_protocol(name):
    t, x = _build(name), _levels()
    if t.shared_key:  # apply is a deterministic function of its input
        assert torch.equal(t(x), t(x)) and t.replay() is t, name
    else:  # a fresh key per image, drawn again by the replay
        twin = t.replay()
        first = t(x)
        assert torch.equal(twin(x), first) and not torch.equal(t(x), first), name
        assert not t.has_inverse, name


@pytest.mark.parametrize("name", _registered())
def test_gather_protocol(name):
    t, x = _build(name), _levels()
    index = t.gather_map(SHAPE)
    maps = t.sample_gather_maps(len(x), SHAPE, generator=torch.Generator().manual_seed(SEED))
    if index is not None:
        assert index.shape == (SHAPE[1] * SHAPE[2],) and maps is None, name
    if t.rearrangement and index is not None:  # the map reproduces apply
        assert torch.equal(gather_pixels(x, index), t(x)), name
    if maps is not None:  # per-image maps drawn as apply draws them, from the transform's seed
        assert t.rearrangement and not t.shared_key and index is None, name
        assert torch.equal(gather_pixels(x, maps), t(x)), name
    if t.grid is not None:
        assert tuple(t.grid) == SHAPE[-2:], name


@pytest.mark.parametrize("name", _registered())
def test_inverse_protocol(name):
    t, x = _build(name), _levels()
    if not t.has_inverse:
        with pytest.raises(NotInvertibleError):
            t.inverse()
        return
    torch.testing.assert_close(t.inverse()(t(x)), x, rtol=0, atol=1e-9, msg=name)


def test_a_user_function_has_every_default():
    t = FunctionTransform(lambda x: x.flip(-1))
    assert t.gather_map((8, 8)) is None and t.sample_gather_maps(2, (8, 8), generator=torch.Generator()) is None
    assert t.shared_key and not t.rearrangement and t.grid is None and t.replay() is t and not t.has_inverse
