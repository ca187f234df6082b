"""Datasets as uint8 tensors ``(N, C, H, W)`` with labels and class names.

``load_dataset(name)`` is the one entry point. Nothing is downloaded: the
embedded datasets (``digits``, ``mnist-5k``) ship with installed packages,
``fashion-mnist`` comes from the Debian package ``dataset-fashion-mnist`` or a
folder of IDX files, and ``mnist``, ``cifar10`` and ``gtsrb`` are read from a
user's local copy (``root=...`` or ``$PIXINFO_DATA_DIR/<name>``).
"""

from __future__ import annotations

from collections.abc import Callable

from pixinfo.data import _loaders
from pixinfo.data._formats import read_idx
from pixinfo.data._loaders import DATA_DIR_ENV, default_data_dir
from pixinfo.data._types import SPLITS, Dataset, Split, to_float, to_uint8
from pixinfo.errors import DatasetNotFoundError

# name -> (loader, locator: where its files are, found without reading them)
_DATASETS: dict[str, tuple[Callable[..., Dataset], Callable[[], object]]] = {
    "digits": (_loaders.load_digits, _loaders.locate_digits),
    "mnist-5k": (_loaders.load_mnist_5k, _loaders.locate_mnist_5k),
    "fashion-mnist": (_loaders.load_fashion_mnist, _loaders.locate_fashion_mnist),
    "mnist": (_loaders.load_mnist, _loaders.locate_mnist),
    "cifar10": (_loaders.load_cifar10, _loaders.locate_cifar10),
    "gtsrb": (_loaders.load_gtsrb, lambda: _loaders.locate_gtsrb()[0]),
}
DATASETS = tuple(_DATASETS)
DEFAULT_DATASET = "mnist-5k"


def load_dataset(name: str, **options) -> Dataset:
    """Load a dataset by name.

    Parameters
    ----------
    name : {"digits", "mnist-5k", "fashion-mnist", "mnist", "cifar10", "gtsrb"}
    **options
        Passed to the dataset's loader: ``seed`` and ``test_fraction`` (the
        seeded stratified split of ``digits`` and ``mnist-5k``); ``root`` (a
        folder holding the files, for the file-based datasets); ``size`` and
        ``grayscale`` (``gtsrb``).

    Raises
    ------
    DatasetNotFoundError
        The files are missing; the message lists where pixinfo looked and how
        to get them.
    CorruptDatasetError
        A file is truncated or malformed.

    Examples
    --------
    >>> ds = load_dataset("mnist-5k")
    >>> tuple(ds.train.images.shape), tuple(ds.test.images.shape), ds.train.images.dtype
    ((4000, 1, 28, 28), (1000, 1, 28, 28), torch.uint8)
    """
    if name not in _DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    from pixinfo._checks import bind_call

    return bind_call(_DATASETS[name][0], **options, what=f"dataset {name!r}")


def available_datasets() -> dict[str, str]:
    """Each dataset name mapped to ``"ok: <where its files are>"`` or the reason it cannot be found.

    The files are located, not read (fast, whatever their size): a copy that is found but
    corrupt still fails in [`load_dataset`][pixinfo.data.load_dataset], with [`CorruptDatasetError`][pixinfo.errors.CorruptDatasetError].

    Examples
    --------
    >>> available_datasets()["digits"]
    'ok: sklearn.datasets.load_digits'
    """
    status = {}
    for name in DATASETS:
        try:
            status[name] = f"ok: {_DATASETS[name][1]()}"
        except (DatasetNotFoundError, ValueError) as err:
            status[name] = f"missing: {err}"
    return status


__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "DEFAULT_DATASET",
    "SPLITS",
    "Dataset",
    "Split",
    "available_datasets",
    "default_data_dir",
    "load_dataset",
    "read_idx",
    "to_float",
    "to_uint8",
]
