"""The chaos-based cipher: the cat map against its definition and Arnold's map's known periods,
the keystream and the diffusion against a direct loop, exact decryption, the published leaks and
the refusals."""

import math

import numpy as np
import pytest
import torch

from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms import ChaosCipher, build_transform, cat_map, diffuse, load_transform, logistic_keystream

# periods of Arnold's cat map (a = b = 1) modulo n (Dyson and Falk, "Period of a discrete cat
# mapping", Amer. Math. Monthly 99, 1992; OEIS A004146)
ARNOLD_PERIODS = {2: 3, 3: 4, 4: 3, 5: 10, 6: 12, 7: 8, 8: 6, 10: 30, 11: 5, 28: 24}


def test_cat_map_is_the_matrix_map_on_the_grid():
    n, a, b = 7, 3, 5
    moves = cat_map(n, a=a, b=b)
    for i in range(n):
        for j in range(n):
            assert moves[i * n + j] == ((i + a * j) % n) * n + (b * i + (a * b + 1) * j) % n
    assert sorted(moves) == list(range(n * n))  # determinant 1: a bijection


@pytest.mark.parametrize("n, period", sorted(ARNOLD_PERIODS.items()))
def test_arnolds_cat_map_returns_every_pixel_after_its_known_period(n, period):
    moves = cat_map(n, a=1, b=1)
    position = np.arange(n * n)
    for step in range(1, period + 1):
        position = moves[position]
        assert np.array_equal(position, np.arange(n * n)) == (step == period)


def test_keystream_is_the_logistic_map_after_its_transient():
    x0, r = 0.3141, 3.995
    x = x0
    for _ in range(1000):
        x = r * x * (1 - x)
    expected = []
    for _ in range(50):
        x = r * x * (1 - x)
        expected.append(math.floor(x * 1e14) % 256)
    assert logistic_keystream(50, x0=x0, r=r).tolist() == expected
    with pytest.raises(ParameterError, match="0 < x0 < 1"):
        logistic_keystream(5, x0=1.0, r=3.9)


def test_diffusion_is_the_published_recurrence_and_inverts():
    rng = np.random.default_rng(0)
    p = rng.integers(0, 256, (3, 40), dtype=np.uint8)
    k = rng.integers(0, 256, 40, dtype=np.uint8)
    c = diffuse(p, k, iv=77)
    for row in range(3):
        previous = 77
        for i in range(40):
            previous = int(k[i]) ^ ((int(p[row, i]) + int(k[i])) % 256) ^ previous
            assert c[row, i] == previous
    assert np.array_equal(diffuse(c, k, iv=77, decrypt=True), p)


def test_decryption_is_exact_and_a_change_spreads_to_every_later_level():
    t = ChaosCipher((1, 12, 12), rounds=2, seed=3)
    x = torch.randint(1, 256, (4, 1, 12, 12), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    y = t(x)
    assert torch.equal(t.inverse()(y), x) and torch.equal(t.decrypt(y), x)
    assert torch.equal(t(x.float() / 255), y.float() / 255)  # floats: the same levels, in their dtype
    diffusion = ChaosCipher((1, 12, 12), permute=False, seed=3)
    changed = x.clone()
    changed[:, 0, 5, 5] ^= 1
    differ = (diffusion(changed) != diffusion(x)).reshape(4, -1)
    assert not differ[:, :65].any() and differ[:, 65:].float().mean() > 0.95  # raster position 5 * 12 + 5 = 65


def test_the_published_leaks_one_key_for_every_image_and_black_runs():
    t = build_transform("chaos:seed=0", shape=(1, 8, 8))
    x = torch.randint(1, 256, (2, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    x[1] = x[0]
    assert torch.equal(t(x)[0], t(x)[1]) and t.shared_key
    black = torch.zeros(1, 1, 8, 8, dtype=torch.uint8)
    assert len(ChaosCipher((1, 8, 8), rounds=1, seed=0)(black).unique()) == 1  # k ^ (0 + k) = 0 adds nothing
    assert len(ChaosCipher((1, 8, 8), rounds=2, seed=0)(black).unique()) > 8  # a second round spreads it


def test_keys_replay_and_round_trip_through_files(tmp_path):
    x = torch.randint(0, 256, (2, 3, 6, 6), dtype=torch.uint8, generator=torch.Generator().manual_seed(4))
    t = ChaosCipher((3, 6, 6), rounds=3, seed=9)
    assert torch.equal(t(x), build_transform(t.spec, shape=(3, 6, 6))(x))
    assert not torch.equal(t(x), ChaosCipher((3, 6, 6), rounds=3, seed=10)(x))
    back = load_transform(t.save_key(tmp_path / "chaos.json"))
    assert back.spec == t.spec and torch.equal(back(x), t(x))
    explicit = ChaosCipher((3, 6, 6), rounds=3, key=t.key.clone())
    assert torch.equal(explicit(x), t(x)) and "seed" not in explicit.spec


@pytest.mark.parametrize("make, error, match", [
    (lambda: ChaosCipher((1, 6, 8)), ShapeError, "square"),
    (lambda: ChaosCipher((1, 6, 6), rounds=0), ParameterError, "rounds"),
    (lambda: ChaosCipher((1, 6, 6), key=torch.zeros(5, dtype=torch.float64)), ParameterError, "key must be"),
    (lambda: ChaosCipher((1, 6, 6), key=torch.tensor([1.5, 1, 0, 0.5, 3.9], dtype=torch.float64)), ParameterError,
     "integer a, b"),
    (lambda: ChaosCipher((1, 6, 6))(torch.zeros(1, 1, 8, 8)), ShapeError, "keyed for"),
])  # fmt: skip
def test_bad_input_is_refused_naming_what_was_expected(make, error, match):
    with pytest.raises(error, match=match):
        make()
    assert ChaosCipher((1, 6, 8), permute=False).grid == (6, 8)  # the diffusion alone takes any shape
