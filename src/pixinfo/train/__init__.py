"""Training on original and transformed data ([`train`][pixinfo.train.trainer.train]), its records and its sweeps.

``config`` holds [`TrainConfig`][pixinfo.train.config.TrainConfig]; ``trainer`` the
orchestration; ``loader`` the device-resident loader;
[`optim`][pixinfo.train.optim] the optimizer and schedule factories; ``evaluate``
the evaluation; [`precision`][pixinfo.train.precision] the choice of bf16 and channels-last;
``augment`` the batched device-side augmentations;
[`executors`][pixinfo.train.executors] running many configs in-process, on a process pool or on Ray.
"""

from pixinfo.train.augment import random_crop, random_flip, random_negative, ricap
from pixinfo.train.config import TrainConfig
from pixinfo.train.evaluate import Evaluation, evaluate
from pixinfo.train.loader import DeviceLoader
from pixinfo.train.records import collect_records, load_records, run_configs, summarize
from pixinfo.train.trainer import (
    TrainResult,
    checkpoint_path,
    find_record,
    model_path,
    record_path,
    resolve_device,
    train,
    transform_key_id,
)

__all__ = [
    "DeviceLoader",
    "Evaluation",
    "TrainConfig",
    "TrainResult",
    "checkpoint_path",
    "collect_records",
    "evaluate",
    "find_record",
    "load_records",
    "model_path",
    "random_crop",
    "random_flip",
    "random_negative",
    "record_path",
    "resolve_device",
    "ricap",
    "run_configs",
    "summarize",
    "train",
    "transform_key_id",
]
