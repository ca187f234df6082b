"""Default hyper-parameters per model ("fast recipes") for short GPU-resident runs at native resolution.

These are starting points, not tuned results: every run records the full config it used.

Examples
--------
>>> from pixinfo.train.recipes import recipe
>>> c = recipe("resnet18", "fashion-mnist", transform="vortex:authors", seed=1)
>>> c.optimizer, c.flip, c.test_flip, c.crop_pad, c.transform
('sgd', True, True, 2, 'vortex:authors')
>>> recipe("resnet18", "mnist").test_flip  # digits are not mirrored, in training or at test time
False
"""

from __future__ import annotations

from typing import Any

from pixinfo.models import MODELS, ConfigError
from pixinfo.train.config import TrainConfig

# the small networks share one recipe
SMALL_NETWORK = dict(optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=5e-4, batch_size=128, epochs=15,
                     schedule="onecycle", warmup=0.2)  # fmt: skip
RECIPES: dict[str, dict[str, Any]] = {
    "resnet18": dict(optimizer="sgd", lr=0.2, momentum=0.9, weight_decay=5e-4, batch_size=512, epochs=15,
                     label_smoothing=0.1, schedule="onecycle", warmup=0.2, test_flip=True),
    "vit": dict(optimizer="adamw", lr=1e-3, weight_decay=0.05, batch_size=512, epochs=30,
                label_smoothing=0.1, schedule="onecycle", warmup=0.1),
    **{name: dict(SMALL_NETWORK) for name in ("cnn", "lenet", "caffe-lenet", "mlp")},
}  # fmt: skip

# horizontal flips keep the class of clothes and objects, not of digits
FLIP_DATASETS = {"fashion-mnist", "cifar10"}


def recipe(model: str, dataset: str, **overrides: Any) -> TrainConfig:
    """A [`TrainConfig`][pixinfo.train.config.TrainConfig] with the model's recipe, dataset-appropriate augmentation
    (random crop with 2 px padding on 28 px images, 4 px otherwise, none on 8×8 digits;
    flips for Fashion-MNIST and CIFAR-10, with test-time flips where the model's recipe asks for
    them), and any ``overrides``."""
    if model not in RECIPES:
        raise ConfigError(f"no recipe for model {model!r}; models: {sorted(MODELS)}")
    base: dict[str, Any] = {"crop_pad": 0 if dataset == "digits" else (4 if dataset in ("cifar10", "gtsrb") else 2),
                            "flip": dataset in FLIP_DATASETS}  # fmt: skip
    params = {**base, **RECIPES[model]}
    params["test_flip"] = params.get("test_flip", False) and params["flip"]  # mirror test images only where training does
    return TrainConfig(**{**params, "model": model, "dataset": dataset, **overrides})
