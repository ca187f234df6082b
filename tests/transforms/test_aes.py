"""AES on image bytes: known-answer vectors of NIST SP 800-38A, the two block layouts, what ECB
and a fixed IV leak, fresh IVs per image, and typed errors."""

import pytest
import torch

from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms import AES, PerImageAES, build_transform, load_transform

KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")  # SP 800-38A, F.1.1 and F.2.1
PLAIN = [bytes.fromhex("6bc1bee22e409f96e93d7e117393172a"), bytes.fromhex("ae2d8a571e03ac9c9eb76fac45af8e51")]
ECB = [bytes.fromhex("3ad77bb40d7a3660a89ecaf32466ef97"), bytes.fromhex("f5d3d58503b9699de785895a96fdbaaf")]
CBC_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
CBC = [bytes.fromhex("7649abac8119b246cee98e9b12e9197d"), bytes.fromhex("5086cb9b507219ee95db113a917678b2")]


def _tensor(b: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(b), dtype=torch.uint8)


def _image(data: bytes, shape) -> torch.Tensor:
    return _tensor(data).reshape(1, *shape)


def _bytes(images: torch.Tensor) -> bytes:
    return images.contiguous().numpy().tobytes()


@pytest.mark.parametrize("mode, expected", [("ecb", ECB), ("cbc", CBC)])
def test_known_answers_in_raster_order(mode, expected):
    t = AES((1, 4, 8), mode=mode, key=_tensor(KEY), iv=_tensor(CBC_IV))
    x = _image(b"".join(PLAIN), (1, 4, 8))  # 32 bytes: two blocks, each two rows of 8 pixels
    assert _bytes(t(x)) == b"".join(expected)
    assert torch.equal(t.inverse()(t(x)), x)


def test_tiles_are_the_blocks_of_the_tiles_layout():
    t = AES((1, 4, 8), layout="tiles", key=_tensor(KEY), iv=_tensor(CBC_IV))
    tiles = [_tensor(p).reshape(4, 4) for p in PLAIN]
    x = torch.cat(tiles, dim=1).reshape(1, 1, 4, 8)  # the left tile is block 1, the right block 2
    y = t(x)[0, 0]
    assert _bytes(y[:, :4]) == ECB[0] and _bytes(y[:, 4:]) == ECB[1]


def test_ecb_leaks_equal_blocks_and_a_fixed_iv_leaks_a_common_beginning():
    x = torch.zeros(2, 1, 8, 8, dtype=torch.uint8)
    x[1, 0, 6:] = 200  # the second image differs only in its last block (rows 6-7)
    ecb = AES((1, 8, 8), seed=0)(x)
    assert torch.equal(ecb[0, 0, 0:2], ecb[0, 0, 2:4]) and torch.equal(ecb[0, :, :6], ecb[1, :, :6])
    cbc = AES((1, 8, 8), mode="cbc", seed=0)(x)
    assert not torch.equal(cbc[0, 0, 0:2], cbc[0, 0, 2:4])  # chained: equal blocks encrypt apart
    assert torch.equal(cbc[0, :, :6], cbc[1, :, :6]) and not torch.equal(cbc[0, :, 6:], cbc[1, :, 6:])


def test_a_fresh_iv_per_image_hides_equal_images_and_replays():
    x = torch.zeros(3, 1, 8, 8, dtype=torch.uint8)
    for mode in ("cbc", "ctr"):
        t = PerImageAES(mode=mode, seed=5)
        twin = t.replay()
        y = t(x)
        assert not torch.equal(y[0], y[1]) and not t.shared_key
        assert torch.equal(twin(x), y) and not torch.equal(t(x), y)


def test_ctr_is_a_keystream_xor():
    x = torch.randint(0, 256, (2, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    t = PerImageAES(mode="ctr", seed=1)
    stream = t.replay()(torch.zeros_like(x))  # the same key and nonces, applied to zeros
    assert torch.equal(t(x), x ^ stream)


def test_dtype_device_and_spec_round_trip(tmp_path):
    t = build_transform("aes:mode=cbc,layout=tiles,seed=3", shape=(3, 8, 8))
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    y = t(x)
    assert y.dtype == torch.float64 and torch.equal(torch.round(y * 255) / 255, y)
    assert torch.equal(load_transform(t.save_key(tmp_path / "k.json"))(x), y)
    assert torch.equal(build_transform(t.spec, shape=(3, 8, 8))(x), y)


@pytest.mark.parametrize("make, error, words", [
    (lambda: AES((1, 5, 5)), ShapeError, "multiple of 16"),
    (lambda: AES((1, 6, 8), layout="tiles"), ShapeError, "multiples of 4"),
    (lambda: AES((1, 8, 8), layout="diagonal"), ParameterError, "layout"),
    (lambda: AES((1, 8, 8), mode="ctr"), ParameterError, "mode"),
    (lambda: AES((1, 8, 8), key=torch.zeros(8, dtype=torch.uint8)), ParameterError, "key"),
    (lambda: PerImageAES(mode="ecb"), ParameterError, "mode"),
])  # fmt: skip
def test_bad_parameters_raise_typed_errors(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_images_of_another_shape_are_refused():
    with pytest.raises(ShapeError, match="keyed for"):
        AES((1, 8, 8), seed=0)(torch.zeros(1, 1, 4, 16, dtype=torch.uint8))
