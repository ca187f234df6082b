import pytest
import torch

from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms import (
    FixedPermutation,
    Identity,
    Negative,
    NotInvertibleError,
    PerImagePermutation,
    RowColumnScramble,
    check_permutation,
    gather_pixels,
    invert_gather,
    random_permutations,
    row_column_map,
)


def batch(dtype, device, shape=(5, 3, 6, 7)):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
    return (x if dtype == torch.uint8 else x.to(dtype) / 255).to(device)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
@pytest.mark.parametrize(
    "make", [lambda: Identity(), lambda: FixedPermutation((6, 7), seed=3), lambda: Negative()], ids=["identity", "permutation", "negative"]
)
def test_round_trip_keeps_dtype_and_device(make, dtype, device):
    t = make().to(device)
    x = batch(dtype, device)
    y = t(x)
    assert y.dtype == x.dtype and y.device == x.device and y.shape == x.shape
    back = t.inverse()(y)
    if isinstance(t, Negative) and dtype != torch.uint8:
        # 1 - (1 - x) is exact in uint8 and rearrangements, within one ulp in floating point
        torch.testing.assert_close(back, x, rtol=0, atol=torch.finfo(dtype).eps)
    else:
        assert torch.equal(back, x)


def test_fixed_permutation_moves_channels_alike_and_matches_map():
    t = FixedPermutation((6, 7), seed=1)
    x = batch(torch.float32, "cpu")
    y = t(x)
    index = t.gather_map((3, 6, 7))
    for c in range(3):
        assert torch.equal(y[:, c].reshape(5, -1), x[:, c].reshape(5, -1)[:, index])
    assert not torch.equal(y, x)
    assert torch.equal(FixedPermutation((6, 7), seed=1).index, index)  # same seed, same key
    assert not torch.equal(FixedPermutation((6, 7), seed=2).index, index)
    g = torch.Generator().manual_seed(1)
    assert torch.equal(FixedPermutation((6, 7), generator=g).index, index)


def test_fixed_permutation_checks_shape_and_key():
    t = FixedPermutation((6, 7), seed=0)
    with pytest.raises(ShapeError, match="keyed for"):
        t(torch.zeros(1, 1, 7, 6))
    with pytest.raises(ValueError, match="not a permutation"):
        FixedPermutation((2, 2), index=torch.tensor([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="seed"):
        FixedPermutation((2, 2), seed=None)


def test_row_column_scramble_reorders_whole_rows_and_columns_by_its_key():
    x = batch(torch.uint8, "cpu")  # (5, 3, 6, 7)
    t = RowColumnScramble((6, 7), seed=4)
    g = torch.Generator().manual_seed(4)
    rows, columns = random_permutations(1, 6, generator=g)[0], random_permutations(1, 7, generator=g)[0]
    assert torch.equal(t(x), x[..., rows, :][..., columns])  # direct indexing, rows drawn first
    assert torch.equal(t.inverse()(t(x)), x)
    only_rows = RowColumnScramble((6, 7), columns=False, seed=4)
    assert torch.equal(only_rows(x), x[..., rows, :])
    assert torch.equal(RowColumnScramble((6, 7), rows=False, seed=4)(x), x[..., :, random_permutations(
        1, 7, generator=torch.Generator().manual_seed(4))[0]])  # fmt: skip
    assert torch.equal(row_column_map(torch.arange(6), torch.arange(7)), torch.arange(42))
    with pytest.raises(ParameterError, match="rows=true or columns=true"):
        RowColumnScramble((6, 7), rows=False, columns=False)
    with pytest.raises(ValueError, match="not a permutation"):
        row_column_map(torch.tensor([0, 0]), torch.arange(3))


def test_per_image_permutation_has_no_shared_key():
    t = PerImagePermutation(seed=0)
    x = batch(torch.float32, "cpu", (4, 2, 5, 5))
    same = x[:1].expand(4, -1, -1, -1).contiguous()
    y = t(same)
    assert not torch.equal(y[0], y[1])  # one key per image
    for img in y:  # still a rearrangement of the same pixels, channels alike
        assert torch.equal(img.reshape(2, -1).sort(dim=1).values, same[0].reshape(2, -1).sort(dim=1).values)
    assert not torch.equal(t(same), y)  # successive calls draw new keys
    assert torch.equal(PerImagePermutation(seed=0)(same), y)  # reproducible from the seed
    assert t.shared_key is False and t.gather_map((5, 5)) is None
    with pytest.raises(NotInvertibleError):
        t.inverse()


def test_gather_and_invert_helpers():
    g = torch.Generator().manual_seed(0)
    maps = torch.stack([torch.randperm(12, generator=g) for _ in range(3)])
    inv = invert_gather(maps)
    assert torch.equal(torch.gather(maps, 1, inv), torch.arange(12).expand(3, 12))
    x = torch.rand(3, 2, 3, 4)
    assert torch.equal(gather_pixels(gather_pixels(x, maps), inv), x)
    with pytest.raises(ShapeError):
        gather_pixels(x, maps[:2])
    with pytest.raises(ValueError):
        check_permutation(torch.tensor([1, 1, 2]))
