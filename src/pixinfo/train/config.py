"""The configuration of a training run ([`TrainConfig`][pixinfo.train.config.TrainConfig]): every field that decides its result.

The CLI's ``pixinfo train`` options are generated from these fields, so the defaults and the
help of each option live here, in one place (``FIELD_HELP``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pixinfo.models import MODELS, NORMALIZATIONS, ConfigError

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant")
PRECISIONS = ("auto", "fp32", "bf16")
PER_IMAGE_KEYS = ("fixed", "fresh")
AUGMENT_ORDERS = ("after", "before", "none")

# one line of help per field (the CLI shows it; choices come from the tuples above)
FIELD_HELP: dict[str, str] = {
    "dataset": "dataset name (see `pixinfo datasets`)",
    "model": "model name",
    "transform": "transform spec (see `pixinfo transforms`); default: original images",
    "per_image_keys": "per-image transforms: one key per image for the run (fixed) or fresh keys every batch",
    "augment": "augmentation order: 'after' the keyed transform (crops/flips of encrypted images, the paper's), "
    "'before' it (augment plain images, then encrypt), or 'none' (no crop, flip or RICAP)",
    "epochs": "training epochs",
    "batch_size": "images per step (the last partial batch of an epoch is dropped)",
    "optimizer": "optimizer",
    "lr": "peak learning rate",
    "momentum": "SGD momentum (Nesterov when > 0)",
    "weight_decay": "weight decay (not applied to biases, norms, class token and position embedding)",
    "schedule": "learning-rate schedule",
    "warmup": "one-cycle: fraction of the steps spent warming up",
    "label_smoothing": "label smoothing of the cross-entropy",
    "crop_pad": "random crop with this zero padding (0: off)",
    "flip": "random horizontal flips",
    "ricap_beta": "RICAP with this beta (off when not given)",
    "negative_p": "train on negatives with this probability",
    "robust_eps": "FGSM adversarial training with this L-inf eps (0: off)",
    "ema_decay": "evaluate an exponential moving average of the weights with this decay per step (0: off)",
    "test_flip": "test-time augmentation: average the logits of each test image and its mirror image",
    "normalization": "input normalisation inside the model",
    "model_options": 'JSON options of the model, e.g. \'{"patch": 7}\'',
    "dataset_options": "JSON options of the dataset loader, e.g. '{\"root\": \"path\"}'",
    "max_train": "train on a seeded subset of this many images",
    "seed": "seed of initialisation, shuffling, augmentation and per-image keys",
    "device": "auto (CUDA when present), cpu, cuda, cuda:1, ...",
    "precision": "auto: bf16 autocast on CUDA and on CPUs with native bf16, fp32 elsewhere",
    "channels_last": "channels-last memory format (default: on for convolutional models when bf16 runs)",
    "eval_batch_size": "images per evaluation batch",
    "data_tag": "names a modified dataset passed as data= (so its records are not confused with the stock one's)",
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run's result (and its record's identity).

    ``transform`` is a spec of [`pixinfo.transforms.build_transform`][pixinfo.transforms.registry.build_transform]
    (``None``: original images). With a per-image transform,
    ``per_image_keys="fixed"`` gives each image one key for the whole run (like
    the paper's released "random" datasets) and ``"fresh"`` draws new keys for
    every batch. ``augment`` decides whether crops, flips and RICAP act on the
    transformed images (``"after"``, the paper's order), on the plain images
    before the keyed transform (``"before"``), or not at all (``"none"``).
    ``data_tag`` names a modified dataset passed to [`train`][pixinfo.train.trainer.train]
    with ``data=``, so its records are not confused with the stock dataset's.
    Field help: ``FIELD_HELP``.
    """

    dataset: str = "digits"
    model: str = "cnn"
    transform: str | None = None
    per_image_keys: str = "fixed"
    augment: str = "after"
    epochs: int = 10
    batch_size: int = 256
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "onecycle"
    warmup: float = 0.2
    label_smoothing: float = 0.0
    crop_pad: int = 0
    flip: bool = False
    ricap_beta: float | None = None
    negative_p: float = 0.0
    robust_eps: float = 0.0
    ema_decay: float = 0.0
    test_flip: bool = False
    normalization: str = "dataset"
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    max_train: int | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool | None = None
    eval_batch_size: int = 2048
    data_tag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """A config from ``to_dict`` output; unknown keys are an error naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown TrainConfig fields {unknown}; known: {sorted(names)}")
        return cls(**d)

    kind: ClassVar[str] = "train"  # a run spec of the record store (pixinfo.runs)

    def identity(self) -> dict[str, Any]:
        """What decides the run's result: every field except where it runs from (``dataset_options``)."""
        d = self.to_dict()
        d.pop("dataset_options")
        return d

    def config_hash(self) -> str:
        """Identity of the run: the [`digest`][pixinfo.runs.digest] (16 hex digits) of
        [`identity`][pixinfo.train.config.TrainConfig.identity]."""
        from pixinfo.runs import digest

        return digest(self.identity(), length=16)

    @property
    def digest(self) -> str:
        return self.config_hash()

    @property
    def stem(self) -> str:
        """File stem of the run's record, checkpoint and saved model: dataset, model, transform,
        seed and data tag readable, then the digest."""
        from pixinfo.runs import slug

        tag = f"-{slug(self.data_tag)}" if self.data_tag else ""
        transform = slug(self.transform or "original", max_len=80)
        return f"train-{self.dataset}-{self.model}-{transform}-s{self.seed}{tag}-{self.config_hash()}"

    def validate(self) -> None:
        """Raise [`ConfigError`][pixinfo.errors.ConfigError] for a configuration that cannot run (before loading anything)."""
        for ok, message in self._checks():
            if not ok:
                raise ConfigError(message)

    def _checks(self) -> list[tuple[bool, str]]:
        def is_int(v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def finite(v) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        def choice(name: str, options: tuple[str, ...]) -> tuple[bool, str]:
            value = getattr(self, name)
            return value in options, f"{name} must be one of {options}, got {value!r}"

        return [
            (self.transform is None or isinstance(self.transform, str),
             f"transform must be a spec string or None, got {type(self.transform).__name__} {self.transform!r}: a "
             "registered transform gives its spec (transform=t.spec; a class of your own module registers with "
             "`class T(Transform, spec=...)` once the module is imported), and images you transformed yourself go "
             "in as a Dataset: train(config, data=...)"),
            (self.model in MODELS, f"unknown model {self.model!r}; choose one of {sorted(MODELS)}"),
            choice("optimizer", OPTIMIZERS),
            choice("schedule", SCHEDULES),
            choice("precision", PRECISIONS),
            choice("per_image_keys", PER_IMAGE_KEYS),
            choice("augment", AUGMENT_ORDERS),
            choice("normalization", NORMALIZATIONS),
            (is_int(self.epochs) and self.epochs >= 1, f"epochs must be an integer >= 1, got {self.epochs!r}"),
            (is_int(self.batch_size) and self.batch_size >= 1,
             f"batch_size must be an integer >= 1, got {self.batch_size!r}"),
            (is_int(self.eval_batch_size) and self.eval_batch_size >= 1,
             f"eval_batch_size must be an integer >= 1, got {self.eval_batch_size!r}"),
            (finite(self.lr) and self.lr > 0, f"lr must be a finite number > 0, got {self.lr!r}"),
            (finite(self.momentum) and 0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum!r}"),
            (finite(self.weight_decay) and self.weight_decay >= 0,
             f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}"),
            (finite(self.label_smoothing) and 0 <= self.label_smoothing < 1,
             f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}"),
            (is_int(self.crop_pad) and self.crop_pad >= 0, f"crop_pad must be an integer >= 0, got {self.crop_pad!r}"),
            (isinstance(self.flip, bool), f"flip must be a bool, got {self.flip!r}"),
            (isinstance(self.test_flip, bool), f"test_flip must be a bool, got {self.test_flip!r}"),
            (self.ricap_beta is None or (finite(self.ricap_beta) and self.ricap_beta > 0),
             f"ricap_beta must be None or a finite number > 0, got {self.ricap_beta!r}"),
            (finite(self.negative_p) and 0 <= self.negative_p <= 1,
             f"negative_p must be in [0, 1], got {self.negative_p!r}"),
            (finite(self.robust_eps) and 0 <= self.robust_eps <= 1,
             f"robust_eps must be in [0, 1], got {self.robust_eps!r}"),
            (finite(self.ema_decay) and 0 <= self.ema_decay < 1, f"ema_decay must be in [0, 1), got {self.ema_decay!r}"),
            (finite(self.warmup) and 0 < self.warmup < 1, f"warmup must be in (0, 1), got {self.warmup!r}"),
            (self.max_train is None or (is_int(self.max_train) and self.max_train >= 1),
             f"max_train must be None or an integer >= 1, got {self.max_train!r}"),
            (is_int(self.seed) and 0 <= self.seed < 2**63, f"seed must be an integer in [0, 2**63), got {self.seed!r}"),
            (self.channels_last is None or isinstance(self.channels_last, bool),
             f"channels_last must be None or a bool, got {self.channels_last!r}"),
            (isinstance(self.model_options, dict), f"model_options must be a dict, got {self.model_options!r}"),
            (isinstance(self.dataset_options, dict), f"dataset_options must be a dict, got {self.dataset_options!r}"),
        ]  # fmt: skip
