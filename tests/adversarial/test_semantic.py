import pytest
import torch
from torch import nn

from pixinfo.adversarial.semantic import SEMANTIC_TRANSFORMS, semantic_accuracy
from pixinfo.transforms import build_transform, negative, translate
from pixinfo.errors import ShapeError, ValueRangeError


def test_negatives_break_a_model_trained_on_regular_images(digits, digits_cnn):
    report = semantic_accuracy(digits_cnn, digits, transforms=["negative", "xor:bits=1"])
    assert report.accuracy("identity", "test") > 0.85
    assert report.accuracy("negative", "test") < 0.3
    assert report.accuracy("negative", "train") < 0.3
    assert set(report.table["transform"]) == {"identity", "negative", "xor:bits=1,seed=0"}
    m = report.confusion[("test", "negative")]
    assert int(m.sum()) == len(digits.test) and float(m.trace()) / int(m.sum()) == report.accuracy("negative")
    per_class = report.per_class[(report.per_class["split"] == "test") & (report.per_class["transform"] == "identity")]
    assert list(per_class["class"]) == list(digits.class_names)
    assert per_class["n"].sum() == len(digits.test)


def test_negation_twice_is_identity_and_transforms_keep_range():
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(negative(negative(x)), x) or torch.allclose(negative(negative(x)), x, atol=1e-7)
    for spec in SEMANTIC_TRANSFORMS.values():
        y = build_transform(spec, shape=(1, 8, 8))(x)
        assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    shifted = translate(x, dx=2, dy=-1)
    assert torch.equal(shifted[..., :7, 2:], x[..., 1:, :6]) and shifted[..., :, :2].abs().sum() == 0


def test_user_transform_and_pairs(digits_cnn, digits):
    images, labels = digits.test.images[:50], digits.test.labels[:50]
    report = semantic_accuracy(digits_cnn, (images, labels), transforms={"roll": lambda x: x.roll(1, -1)})
    assert list(report.table["split"]) == ["data", "data"]
    assert list(report.table["transform"]) == ["identity", "roll"]


def test_mode_restored_when_the_call_raises(digits_cnn, digits):
    digits_cnn.train()
    with pytest.raises(ShapeError, match="keep the batch shape"):
        semantic_accuracy(digits_cnn, digits, transforms={"bad": lambda x: x[:, :, :4]})
    assert digits_cnn.training
    digits_cnn.eval()


def test_bad_inputs(digits_cnn, digits):
    x, y = digits.test.images[:10].float() / 255, digits.test.labels[:10]
    with pytest.raises(ValueRangeError):
        semantic_accuracy(digits_cnn, (x * 3, y))
    with pytest.raises(ShapeError):
        semantic_accuracy(digits_cnn, (x[:, 0], y))
    with pytest.raises(ShapeError, match="classes"):
        semantic_accuracy(nn.Sequential(nn.Flatten(), nn.Linear(64, 3)), digits)
    with pytest.raises(TypeError, match="Dataset or a pair"):
        semantic_accuracy(digits_cnn, 5)
