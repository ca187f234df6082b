"""Public functions check their arguments where they come in: table-driven raise-tests.

Each row calls one function with one bad value; it must raise a typed error (a PixinfoError, or a
ValueError/TypeError raised by pixinfo) whose message names the parameter, what was expected and
what was given, before any work is done.
"""

import pytest
import torch

from pixinfo.errors import PixinfoError
from pixinfo.info import probe_map
from pixinfo.models import ConfigError, build_model
from tests.raises import assert_raised_by_pixinfo


def _roll(x):
    return torch.roll(x, 1, dims=-1)


PROBE_CASES = [
    ({"atol": float("nan")}, "atol must be a finite number >= 0, got nan"),  # once: all-zero influence
    ({"atol": float("inf")}, "atol must be a finite number"),
    ({"atol": -1e-3}, "atol must be a finite number >= 0"),
    ({"atol": "small"}, "atol must be a finite number"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
    ({"batch_size": 2.0}, "batch_size must be an integer"),
    ({"max_dense": -1}, "max_dense must be an integer >= 0"),
    ({"seed": -3}, "seed must be an integer >= 0"),
    ({"dtype": "float32"}, "dtype must be torch.uint8 or a floating dtype"),
    ({"shape": (3, -1)}, "positive ints"),
]


@pytest.mark.parametrize(("options", "match"), PROBE_CASES)
def test_probe_map_checks_its_options(options, match):
    kwargs = {"shape": (3, 3), **options}
    with pytest.raises((PixinfoError, ValueError, TypeError), match=match) as err:
        probe_map(_roll, **kwargs)
    assert_raised_by_pixinfo(err.value)


SCORE_CASES = [
    ({"max_maps": 0}, "max_maps must be an integer >= 1"),
    ({"n_boot": -1}, "n_boot must be an integer >= 0"),
    ({"n_boot_value": 1.5}, "n_boot_value must be an integer"),
    ({"max_value_images": -5}, "max_value_images must be an integer >= 2"),
    ({"max_value_images": 1}, "max_value_images must be an integer >= 2"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"seed": True}, "seed must be an integer"),
    ({"kernel": "exponential"}, "kernel must be a pixinfo.info.Kernel"),
    ({"progress": "no"}, "progress must be a bool"),
    ({"split": "validation"}, "split must be one of"),
]


@pytest.mark.parametrize(("options", "match"), SCORE_CASES)
def test_score_checks_its_options_before_any_work(digits, options, match):
    from pixinfo.scoring import score
    from pixinfo.transforms import Negative

    with pytest.raises((PixinfoError, ValueError, TypeError), match=match) as err:
        score(Negative(), digits, **options)
    assert_raised_by_pixinfo(err.value)


MODEL_CASES = [
    ("mlp", {"hidden": [0]}, r"hidden\[0\] must be an integer >= 1, got 0"),  # once: a constant network
    ("mlp", {"hidden": [32, -4]}, r"hidden\[1\] must be an integer >= 1, got -4"),
    ("mlp", {"hidden": [2.5]}, r"hidden\[0\] must be an integer"),
    ("mlp", {"hidden": 64}, "hidden must be a list of positive integers"),
    ("mlp", {"hidden": "64"}, "hidden must be a list of positive integers"),
    ("cnn", {"width": 0}, "width must be an integer >= 1"),
    ("cnn", {"hidden": -1}, "hidden must be an integer >= 1"),
    ("vit", {"dim": 0}, "dim must be an integer >= 1"),
    ("vit", {"patch": 0}, "patch must be an integer >= 1"),
    ("vit", {"dropout": 1.0}, "dropout must be a finite number >= 0 and < 1"),
    ("vit", {"mlp_ratio": float("nan")}, "mlp_ratio must be a finite number > 0"),
    ("resnet18", {"small_stem": "yes"}, "small_stem must be a bool"),
    ("mlp", {"depth": 3}, "bad parameters for mlp"),
]


@pytest.mark.parametrize(("name", "options", "match"), MODEL_CASES)
def test_build_model_checks_model_options(name, options, match):
    with pytest.raises(ConfigError, match=match):
        build_model(name, image_shape=(1, 8, 8), num_classes=10, **options)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_shape": (1, 8, 0), "num_classes": 10}, "image_shape must be an integer >= 1"),
        ({"image_shape": (1, 8.0, 8), "num_classes": 10}, "image_shape must be an integer"),
        ({"image_shape": (1, 8, 8), "num_classes": 1}, "num_classes must be an integer >= 2"),
        ({"image_shape": (1, 8, 8), "num_classes": 10.0}, "num_classes must be an integer"),
    ],
)
def test_build_model_checks_shape_and_classes(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        build_model("mlp", **kwargs)


def test_semantic_accuracy_names_both_shapes_for_a_model_of_another_input_size(digits):
    from pixinfo.adversarial.semantic import semantic_accuracy

    net = build_model("mlp", image_shape=(1, 28, 28), num_classes=10)
    with pytest.raises(PixinfoError, match=r"\(1, 28, 28\).*'digits' has images of shape \(1, 8, 8\)"):
        semantic_accuracy(net, digits, splits=("test",))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_images": -1}, "max_images must be an integer >= 1"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"splits": "test"}, "splits must be a sequence"),
    ],
)
def test_semantic_accuracy_checks_its_options(digits, options, match):
    from pixinfo.adversarial.semantic import semantic_accuracy

    net = build_model("mlp", image_shape=(1, 8, 8), num_classes=10)
    with pytest.raises((PixinfoError, ValueError), match=match):
        semantic_accuracy(net, digits, **options)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"classes": [-1]}, "classes must be an integer >= 0 and <= 9, got -1"),
        ({"classes": [1.7]}, "classes must be an integer"),
        ({"classes": [1, 1]}, "classes must be distinct"),
        ({"classes": []}, "non-empty sequence"),
        ({"population": 0}, "population must be an integer >= 1"),
        ({"generations": -1}, "generations must be an integer >= 0"),
        ({"target": 0.0}, "target must be a finite number > 0 and <= 1"),
        ({"target": float("nan")}, "target must be a finite number"),
        ({"seed": -2}, "seed must be an integer >= 0"),
    ],
)
def test_evolve_checks_its_options(options, match):
    from pixinfo.adversarial.fooling import DirectEncoding, evolve

    net = build_model("mlp", image_shape=(1, 8, 8), num_classes=10)
    kwargs = {"population": 4, "generations": 1, "progress": False, **options}
    with pytest.raises((PixinfoError, ValueError), match=match):
        evolve(net, encoding=DirectEncoding((1, 8, 8)), **kwargs)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"steps": -1}, "steps must be an integer >= 0"),
        ({"lr": 0}, "lr must be a finite number > 0"),
        ({"thresholds": (0.5, 2.0)}, "thresholds must be a finite number >= 0 and <= 1"),
        ({"classes": [10]}, "classes must be an integer >= 0 and <= 9"),
        ({"shape": (1, 8)}, r"shape must be \(C, H, W\)"),
    ],
)
def test_gradient_ascent_checks_its_options(options, match):
    from pixinfo.adversarial.fooling import gradient_ascent

    net = build_model("mlp", image_shape=(1, 8, 8), num_classes=10)
    kwargs = {"shape": (1, 8, 8), "steps": 1, **options}
    with pytest.raises((PixinfoError, ValueError), match=match):
        gradient_ascent(net, **kwargs)


@pytest.mark.parametrize(
    ("attack", "options", "match"),
    [
        ("LinfPGD", {"steps": 2.5}, "steps must be an integer"),
        ("L2PGD", {"rel_stepsize": float("nan")}, "rel_stepsize must be a finite number > 0"),
        ("LinfPGD", {"seed": -1}, "seed must be an integer >= 0"),
        ("LinfPGD", {"random_start": "no"}, "random_start must be a bool"),
        ("LBFGS", {"c0": 0}, "c0 must be a finite number > 0"),
        ("LBFGS", {"max_iter": 0}, "max_iter must be an integer >= 1"),
    ],
)
def test_attacks_check_their_hyper_parameters(attack, options, match):
    from pixinfo.adversarial import attacks

    with pytest.raises((PixinfoError, ValueError), match=match):
        getattr(attacks, attack)(**options)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"test_fraction": 0.0}, "test_fraction must be a finite number > 0 and < 1"),
        ({"test_fraction": "0.2"}, "test_fraction must be a finite number"),
        ({"test_fraction": 0.001}, "cannot split 1797 images by class"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"seed": 2**40}, "seed must be an integer >= 0 and <= 4294967295"),
    ],
)
def test_load_dataset_checks_split_options(options, match):
    from pixinfo.data import load_dataset

    with pytest.raises((PixinfoError, ValueError), match=match):
        load_dataset("digits", **options)


def test_a_transform_object_in_train_config_is_refused_at_validation():
    from pixinfo.errors import ConfigError
    from pixinfo.train import TrainConfig
    from pixinfo.transforms import build_transform

    t = build_transform("permutation:seed=0", shape=(1, 8, 8))
    with pytest.raises(ConfigError, match=r"transform must be a spec string.*t\.spec.*data="):
        TrainConfig(dataset="digits", model="mlp", transform=t).validate()
    TrainConfig(dataset="digits", model="mlp", transform=t.spec).validate()  # its spec is the way in
