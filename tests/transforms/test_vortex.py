"""Random Vortex Transformation against a per-pixel port of the authors' MATLAB loops."""

import json
import math
from importlib import resources

import numpy as np
import pytest
import torch

from pixinfo.errors import ShapeError
from pixinfo.info import structural_retention
from pixinfo.transforms import (
    NotInvertibleError,
    RandomVortex,
    VortexKey,
    generate_vortex_key,
    load_transform,
    matlab_round,
)


def mround(v):
    """MATLAB round: half away from zero."""
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def matlab_reference(matrix, vortices, divisor, strength=1.0):
    """mnist_fashion_vor.m / cifar_vor.m, line by line, on a (rows, cols, ch) array (1-based logic)."""
    M = np.array(matrix, dtype=np.float64, copy=True)
    for v in vortices:
        c1, c2, r = v["center_row"], v["center_col"], v["radius"]
        swirldegree = np.asarray(v["degree"], dtype=np.float64) / divisor
        if r < 0:
            continue  # MATLAB's c-r:c+r is an empty range: nothing happens
        I_temp = M[c1 - r - 1 : c1 + r, c2 - r - 1 : c2 + r].copy()
        w, h = I_temp.shape[:2]
        vol = I_temp.copy()
        MidX, MidY = w / 2, h / 2
        for y in range(1, h + 1):
            for x in range(1, w + 1):
                Yoffset, Xoffset = y - MidY, x - MidX
                if math.sqrt(Xoffset * Xoffset + Yoffset * Yoffset) > r:
                    continue
                radian = math.atan2(Yoffset, Xoffset)
                radius = math.sqrt(Xoffset * Xoffset + Yoffset * Yoffset)
                turn = strength * (r - mround(radius)) * swirldegree[mround(radius) - 1]
                X = mround(radius * math.cos(radian + turn) + MidX)
                Y = mround(radius * math.sin(radian + turn) + MidY)
                vol[x - 1, y - 1] = I_temp[X - 1, Y - 1]
        M[c1 - r - 1 : c1 + r, c2 - r - 1 : c2 + r] = vol
    return M


def raw_key(filename):
    return json.loads(resources.files("pixinfo.transforms").joinpath("keys", filename).read_text())


@pytest.mark.parametrize("name,filename,used", [("mnist", "rvt_mnist_result.json", 10), ("fashion-mnist", "rvt_fashion.json", 10)])
def test_gather_map_pinned_to_matlab_reference(name, filename, used):
    raw = raw_key(filename)
    rvt = RandomVortex.from_authors(name)
    assert len(rvt.key.vortices) == used
    # the reference applied to an image of pixel numbers is the gather map itself
    numbers = np.arange(784, dtype=np.float64).reshape(28, 28, 1)
    ref_map = matlab_reference(numbers, raw["vortices"][:used], raw["swirl_divisor"])[..., 0].reshape(-1)
    assert np.array_equal(rvt.index.numpy(), ref_map.astype(np.int64))
    image = torch.randint(0, 256, (2, 3, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    ref = matlab_reference(image[0].permute(1, 2, 0).numpy(), raw["vortices"][:used], raw["swirl_divisor"])
    assert np.array_equal(rvt(image)[0].permute(1, 2, 0).numpy(), ref.astype(np.uint8))


def test_cifar_key_uses_the_transposed_matlab_layout():
    raw = raw_key("rvt_cifar.json")
    rvt = RandomVortex.from_authors("cifar10")
    row = np.random.default_rng(0).integers(0, 256, 3072).astype(np.uint8)  # one CIFAR row: R, G, B planes
    matrix = row.reshape((32, 32, 3), order="F")  # MATLAB's reshape(train_x(i,:,:), [m, n, channel])
    out_row = matlab_reference(matrix, raw["vortices"], raw["swirl_divisor"]).reshape(-1, order="F")
    image = torch.from_numpy(row.reshape(1, 3, 32, 32))  # the usual CIFAR orientation
    assert np.array_equal(rvt(image).reshape(-1).numpy(), out_row.astype(np.uint8))
    assert rvt.key.transposed and len(rvt.key.vortices) == 2  # the script asks for 5; 2 are stored


def test_unique_source_fractions_match_the_paper_keys():
    assert RandomVortex.from_authors("mnist").unique_source_fraction == pytest.approx(0.91, abs=0.01)
    assert RandomVortex.from_authors("fashion-mnist").unique_source_fraction == pytest.approx(0.84, abs=0.01)


@pytest.mark.parametrize("strength", [0.3, 1.0, 2.0])
def test_generated_keys_follow_the_script_and_the_reference(strength):
    key = generate_vortex_key((28, 28), 12, seed=5)
    assert key == generate_vortex_key((28, 28), 12, seed=5)
    assert key != generate_vortex_key((28, 28), 12, seed=6)
    for v in key.vortices:
        assert 0 <= v.center_row <= 28 and 0 <= v.center_col <= 28
        assert v.radius == min(abs(v.center_row - 28), abs(v.center_col - 28), v.center_row, v.center_col) - 1
        assert len(v.degree) == (v.radius + 1 if v.radius > 0 else 1)
        if v.radius > 0:
            assert max(abs(d) for d in v.degree) <= 800 * 2 * 4 + 800 * 2 * math.e**2  # |w| < 2 on four terms
    vortices = [{"center_row": v.center_row, "center_col": v.center_col, "radius": v.radius, "degree": v.degree} for v in key.vortices]
    numbers = np.arange(784, dtype=np.float64).reshape(28, 28, 1)
    ref = matlab_reference(numbers, vortices, 1000.0, strength)[..., 0].reshape(-1).astype(np.int64)
    assert np.array_equal(RandomVortex(key, strength=strength).index.numpy(), ref)


def test_generated_degree_is_the_random_function_family():
    """Replay the draws (centre: 2 uniforms, then 6 weights in [-2, 0) when r > 0) and evaluate
    Random_Function.m's families, written out here: vortex i uses f{rem(i,5)+1}."""
    families = {
        1: lambda w, x: w[0] * np.sin(w[1] * x + w[2]) + w[3] * np.cos(w[4] * x + w[5]),
        2: lambda w, x: w[0] * x + w[1] * x**3 + w[2] * np.exp(2 * x) + w[3] * np.cos(w[4] * x + w[5]),
        3: lambda w, x: w[0] * np.sqrt(x) + w[1] * x**2 + w[2] * np.exp(1 * x) + w[3] * np.sin(w[4] * x + w[5]),
        4: lambda w, x: w[0] * x**5 + w[1] * np.log(x + 1) + w[2] * np.exp(x) + w[3] * np.cos(w[4] * x + w[5]),
        5: lambda w, x: w[0] * 2**x + w[1] * (2 * x) + w[2] * np.log10(x + 1) + w[3] * np.sin(w[4] * x + w[5]),
    }
    key = generate_vortex_key((32, 32), 30, seed=0, scale=1000, divisor=10000)
    g = torch.Generator().manual_seed(0)
    checked = 0
    for i, v in enumerate(key.vortices, start=1):
        u = torch.rand(2, generator=g, dtype=torch.float64).numpy()
        assert (v.center_row, v.center_col) == (mround(u[0] * 32), mround(u[1] * 32))
        if v.radius <= 0:
            assert v.degree == (1.0,)
            continue
        w = 2 * torch.rand(6, generator=g, dtype=torch.float64).numpy() - 2
        want = 1000 * families[i % 5 + 1](w, np.arange(v.radius + 1) / v.radius)
        np.testing.assert_allclose(v.degree, want, rtol=1e-12)
        checked += 1
    assert checked >= 10 and key.divisor == 10000


def test_strength_zero_is_identity_and_strength_changes_the_map():
    key = RandomVortex.from_authors("mnist").key
    assert torch.equal(RandomVortex(key, strength=0).index, torch.arange(784))
    assert torch.equal(RandomVortex(key, strength=0, bijective=True).index, torch.arange(784))
    r = [float(structural_retention(RandomVortex(key, strength=s).index, shape=(28, 28))) for s in (0, 0.5, 1, 2)]
    assert r[0] == pytest.approx(1.0) and r[-1] < r[0]


def test_bijective_variant_rotates_each_ring_by_whole_positions():
    rvt = RandomVortex.from_authors("fashion-mnist", bijective=True)
    assert rvt.unique_source_fraction == 1.0
    x = torch.rand(4, 2, 28, 28)
    assert torch.equal(rvt.inverse()(rvt(x)), x)
    # one vortex: every ring maps onto itself as a cyclic shift in angle order
    v = rvt.key.vortices[1]
    single = RandomVortex(VortexKey((v,), (28, 28), rvt.key.divisor), bijective=True).index.numpy()
    mid = (2 * v.radius + 1) / 2
    rings = {}
    for a in range(1, 2 * v.radius + 2):
        for b in range(1, 2 * v.radius + 2):
            rho = math.hypot(a - mid, b - mid)
            if rho <= v.radius:
                flat = (v.center_row - v.radius - 2 + a) * 28 + (v.center_col - v.radius - 2 + b)
                rings.setdefault(mround(rho), []).append((math.atan2(b - mid, a - mid), flat))
    moved = False
    for members in rings.values():
        order = [f for _, f in sorted(members)]
        sources = [single[f] for f in order]
        shift = order.index(sources[0])
        assert sources == order[shift:] + order[:shift]
        moved |= shift != 0
    assert moved


def test_non_bijective_map_has_no_inverse_and_keys_round_trip(tmp_path):
    rvt = RandomVortex.from_authors("mnist")
    with pytest.raises(NotInvertibleError):
        rvt.inverse()
    path = rvt.save_key(tmp_path / "k.json")
    back = load_transform(path)
    assert torch.equal(back.index, rvt.index) and back.spec == rvt.spec
    key_path = rvt.key.save(tmp_path / "vortex.json")
    assert VortexKey.load(key_path) == rvt.key


def test_shape_checks_and_bad_keys():
    rvt = RandomVortex.from_authors("mnist")
    with pytest.raises(ShapeError):
        rvt(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="does not fit"):
        VortexKey.from_dict({"shape": [10, 10], "swirl_divisor": 1000, "vortices": [{"center_row": 3, "center_col": 3, "radius": 5, "degree": [1] * 6}]})
    with pytest.raises(ValueError, match="degree values"):
        VortexKey.from_dict({"shape": [28, 28], "swirl_divisor": 1000, "vortices": [{"center_row": 9, "center_col": 9, "radius": 5, "degree": [1, 2]}]})
    with pytest.raises(ValueError, match="no authors' key"):
        RandomVortex.from_authors("imagenet")


def test_matlab_round_halves_away_from_zero():
    assert matlab_round(np.array([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999])).tolist() == [1, 2, 3, -1, -3, 2]


def test_one_gather_on_the_input_device_and_dtype(device):
    rvt = RandomVortex.from_authors("fashion-mnist").to(device)
    for dtype in (torch.uint8, torch.float16, torch.float32):
        x = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8).to(dtype).to(device)
        x = x if dtype == torch.uint8 else x / 255
        y = rvt(x)
        assert y.dtype == dtype and y.device == x.device
        assert torch.equal(y.reshape(5, -1), x.reshape(5, -1)[:, rvt.index.to(device)])


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10"])
def test_library_per_pixel_baseline_agrees(name):
    from pixinfo.transforms.reference import vortex_per_pixel

    rvt = RandomVortex.from_authors(name)
    h, w = rvt.key.shape
    x = torch.randint(0, 256, (1, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    assert np.array_equal(vortex_per_pixel(x[0].numpy(), rvt.key), rvt(x)[0].numpy())


def test_generated_key_is_data_and_its_spec_rebuilds_it():
    """The seed of a generated key is data (key.origin), not a 'seed=N' text parsed back."""
    from pixinfo.transforms import build_transform

    t = RandomVortex.generate((28, 28), 5, seed=4, scale=1000.0, divisor=10000.0)
    assert t.key.origin == {"seed": 4} and "seed=" not in t.key.source
    assert t.spec == "vortex:seed=4,n=5,scale=1000.0,divisor=10000.0"
    again = build_transform(t.spec, shape=(1, 28, 28))
    assert torch.equal(again.index, t.index)
    assert RandomVortex.from_authors("fashion-mnist").key.origin == {"authors": "fashion-mnist"}


def test_inverse_keeps_its_provenance_and_saves_as_what_it_is(tmp_path):
    from pixinfo.transforms.base import load_transform

    rvt = RandomVortex.from_authors("fashion-mnist", bijective=True)
    inv = rvt.inverse()
    assert inv.spec == f"inverse({rvt.spec})" and inv.inverse() is rvt
    back = load_transform(inv.save_key(tmp_path / "inverse.json"))
    assert back.spec == inv.spec and torch.equal(back.index, inv.index)
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(back(rvt(x)), x)
