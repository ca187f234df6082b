import pytest
import torch
from torch import nn

from pixinfo.errors import ShapeError
from pixinfo.models import MODELS, ConfigError, InputNorm, build_model, check_model, evaluating, load_model, save_model


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_every_model_gives_logits(name, shape):
    torch.manual_seed(0)
    net = build_model(name, image_shape=shape, num_classes=7)
    assert net(torch.rand(3, *shape)).shape == (3, 7)
    assert net.spec["image_shape"] == list(shape)


@pytest.mark.parametrize("name, shape, message", [
    ("lenet", (1, 8, 8), "at least 12x12"),
    ("cnn", (1, 5, 5), "at least 6x6"),
    ("caffe-lenet", (1, 12, 12), "at least 16x16"),
    ("vit", (1, 30, 30), "patch size 4 must divide"),
    ("resnet", (1, 28, 28), "unknown model"),
    ("mlp", (1, 28), "image_shape"),
])  # fmt: skip
def test_bad_model_configs(name, shape, message):
    with pytest.raises(ConfigError, match=message):
        build_model(name, image_shape=shape, num_classes=10)


def test_caffe_lenet_is_caffes_mnist_example():
    """20 and 50 5x5 filters, 500 hidden units, one ReLU: 431,080 parameters on 28x28 digits."""
    net = build_model("caffe-lenet", image_shape=(1, 28, 28), num_classes=10).net
    assert sum(p.numel() for p in net.parameters()) == 20 * 26 + 50 * 501 + 800 * 500 + 500 + 500 * 10 + 10
    assert sum(isinstance(m, nn.ReLU) for m in net.modules()) == 1


def test_wrong_channel_count_and_wrong_class_count_are_reported():
    rgb = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(10))
    with pytest.raises(ConfigError, match=r"cannot take images of shape \(1, 8, 8\)"):
        check_model(rgb, image_shape=(1, 8, 8), num_classes=10)
    with pytest.raises(ShapeError, match=r"logits \(B, 3\)"):
        check_model(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), image_shape=(1, 8, 8), num_classes=3)
    with pytest.raises(ConfigError, match="mean/std"):
        build_model("mlp", image_shape=(1, 8, 8), num_classes=10, mean=[0.1, 0.2, 0.3], std=[1, 1, 1])


def test_per_image_normalisation_ignores_brightness_and_contrast():
    norm = InputNorm(1, mode="per-image")
    x = torch.rand(4, 1, 6, 6)
    assert torch.allclose(norm(x), norm(0.3 * x + 0.2), atol=1e-5)
    assert torch.allclose(norm(1 - x), -norm(x), atol=1e-5)  # a negative is still a different input


def test_save_and_load_round_trip(tmp_path):
    net = build_model("vit", image_shape=(1, 8, 8), num_classes=4, normalization="dataset", mean=[0.2], std=[0.3],
                      depth=1, dim=16, heads=2)  # fmt: skip
    path = save_model(net, tmp_path / "m.pt", extra={"note": "x"})
    back = load_model(path)
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(back(x), net.eval()(x))
    assert back.extra == {"note": "x"} and not back.training


def test_evaluating_restores_modes_even_on_error():
    net = build_model("resnet18", image_shape=(1, 8, 8), num_classes=3).train()
    net.net.bn1.eval()  # a mixed state must come back as it was
    with pytest.raises(RuntimeError, match="boom"), evaluating(net):
        assert not net.training
        raise RuntimeError("boom")
    assert net.training and not net.net.bn1.training and net.net.layer1.training
