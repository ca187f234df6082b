"""Training on original and transformed data (:func:`train`) and its records.

See :mod:`pixinfo.train.trainer` for the pipeline and :mod:`pixinfo.train.augment`
for the batched device-side augmentations.
"""

from pixinfo.train.augment import random_crop, random_flip, random_negative, ricap
from pixinfo.train.records import collect_records, load_records, run_configs, summarize
from pixinfo.train.trainer import TrainConfig, TrainResult, find_record, resolve_device, train, transform_key_id

__all__ = [
    "TrainConfig",
    "TrainResult",
    "collect_records",
    "find_record",
    "load_records",
    "random_crop",
    "random_flip",
    "random_negative",
    "resolve_device",
    "ricap",
    "run_configs",
    "summarize",
    "train",
    "transform_key_id",
]
