"""Data files: labels are integers in range, malformed content raises CorruptDatasetError naming the
file, and a partial copy is an error, never a silent fall-back to another copy. Table-driven."""

import csv
import os
import pickle

import numpy as np
import pytest

from pixinfo.data import load_dataset
from pixinfo.data._loaders import FASHION_SYSTEM_DIR
from pixinfo.errors import CorruptDatasetError, DatasetNotFoundError
from tests.data.writers import write_cifar_like, write_gtsrb_kaggle, write_gtsrb_official, write_mnist_like


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    """``$PIXINFO_DATA_DIR`` is a fresh folder of each test (never a developer's real copies)."""
    monkeypatch.setenv("PIXINFO_DATA_DIR", str(tmp_path / "data-dir"))
    return tmp_path / "data-dir"


def _rewrite_batch(path, **changes):
    with open(path, "rb") as fh:
        batch = pickle.load(fh, encoding="bytes")
    batch.update({k.encode(): v for k, v in changes.items()})
    with open(path, "wb") as fh:
        pickle.dump(batch, fh, protocol=2)


CIFAR_LABELS = [
    ([3.7, 1.0, 2.0, 0.0], "labels must be whole numbers, found 3.7"),  # once truncated to 3
    ([float("nan"), 1.0, 2.0, 0.0], "labels must be whole numbers"),
    (np.array([0.5, 1, 2, 3], dtype=np.float32), "labels must be whole numbers"),
    (["cat", "dog", "cat", "dog"], "labels must be integers"),
    ([True, False, True, False], "labels must be integers"),
    ([0, 1, 2, 10], r"labels must lie in \[0, 10\)"),
    ([0, 1, 2, -1], r"labels must lie in \[0, 10\)"),
    ([0, 1, 2], "labels for 4 images"),
]


@pytest.mark.parametrize(("labels", "match"), CIFAR_LABELS)
def test_cifar_labels_must_be_integers_in_range(tmp_path, labels, match):
    write_cifar_like(tmp_path)
    _rewrite_batch(tmp_path / "data_batch_2", labels=labels)
    with pytest.raises(CorruptDatasetError, match=match) as err:
        load_dataset("cifar10", root=tmp_path)
    assert "data_batch_2" in str(err.value)


def test_cifar_labels_stored_as_whole_floats_load_as_those_integers(tmp_path):
    written = write_cifar_like(tmp_path)
    labels = written["data_batch_2"][1]
    _rewrite_batch(tmp_path / "data_batch_2", labels=[float(v) for v in labels])
    assert load_dataset("cifar10", root=tmp_path).train.labels[4:8].tolist() == labels


@pytest.mark.parametrize(
    ("names", "match"),
    [([b"a", b"b", b"c"], "'label_names' must list 10 names"), (b"airplane", "'label_names' must list 10 names")],
)
def test_cifar_meta_must_name_ten_classes(tmp_path, names, match):
    write_cifar_like(tmp_path, label_names=[f"c{i}" for i in range(10)])
    with open(tmp_path / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": names}, fh, protocol=2)
    with pytest.raises(CorruptDatasetError, match=match):
        load_dataset("cifar10", root=tmp_path)


@pytest.mark.parametrize(
    ("content", "match"),
    [([1, 2, 3], "expected a dict"), ({b"data": np.zeros((4, 10), np.uint8), b"labels": [0] * 4}, "'data' must be uint8")],
)
def test_cifar_batch_of_the_wrong_kind(tmp_path, content, match):
    write_cifar_like(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump(content, fh, protocol=2)
    with pytest.raises(CorruptDatasetError, match=match):
        load_dataset("cifar10", root=tmp_path)


def _edit_kaggle_csv(root, edit):
    path = root / "Train.csv"
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    edit(rows)
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)


GTSRB_ROWS = [
    (lambda rows: rows[2].__setitem__(6, "3.5"), r"Train.csv, line 3: .*ClassId must be integers"),
    (lambda rows: rows[1].__setitem__(2, "left"), r"Train.csv, line 2: Roi.X1.* must be integers"),
    (lambda rows: rows[1].__setitem__(6, "99"), r"Train.csv: labels must lie in \[0, 43\)"),
    (lambda rows: rows[3].__delitem__(slice(4, None)), r"Train.csv, line 4"),
    (lambda rows: rows[0].__setitem__(6, "Class"), r"Train.csv: expected columns"),
]


@pytest.mark.parametrize(("edit", "match"), GTSRB_ROWS)
def test_gtsrb_annotations_must_hold_integers(tmp_path, edit, match):
    write_gtsrb_kaggle(tmp_path)
    _edit_kaggle_csv(tmp_path, edit)
    with pytest.raises(CorruptDatasetError, match=match):
        load_dataset("gtsrb", root=tmp_path)


def test_gtsrb_annotation_that_is_not_text(tmp_path):
    write_gtsrb_official(tmp_path)
    (gt,) = (tmp_path / "GTSRB" / "Final_Training" / "Images" / "00001").glob("GT-*.csv")
    gt.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CorruptDatasetError, match=f"{gt.name}: cannot be read as CSV"):
        load_dataset("gtsrb", root=tmp_path)


@pytest.mark.parametrize(("options", "match"), [({"size": 2}, "size must be an integer >= 4"),
                                                ({"grayscale": "yes"}, "grayscale must be a bool")])  # fmt: skip
def test_gtsrb_options(tmp_path, options, match):
    write_gtsrb_kaggle(tmp_path)
    with pytest.raises(ValueError, match=match):
        load_dataset("gtsrb", root=tmp_path, **options)


# -- partial copies -------------------------------------------------------------------------


def _mnist_partial(folder):
    write_mnist_like(folder)
    os.remove(folder / "t10k-images-idx3-ubyte")
    os.remove(folder / "t10k-labels-idx1-ubyte")


def _cifar_partial(folder):
    write_cifar_like(folder)
    os.remove(folder / "data_batch_4")


def _gtsrb_partial(folder):
    write_gtsrb_kaggle(folder)
    os.remove(folder / "Test.csv")


PARTIAL = [
    ("mnist", _mnist_partial, "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"),
    ("cifar10", _cifar_partial, "data_batch_4"),
    ("gtsrb", _gtsrb_partial, "Test.csv"),
]


@pytest.mark.parametrize(("name", "write", "missing"), PARTIAL)
def test_a_partial_copy_in_the_data_dir_is_an_error(isolated_data_dir, name, write, missing):
    write(isolated_data_dir / name)
    with pytest.raises(DatasetNotFoundError, match="is a partial copy") as err:
        load_dataset(name)
    assert str(isolated_data_dir / name) in str(err.value) and missing in str(err.value)


@pytest.mark.skipif(not FASHION_SYSTEM_DIR.is_dir(), reason="needs the Debian package dataset-fashion-mnist")
def test_a_partial_fashion_copy_does_not_fall_back_to_the_system_copy(isolated_data_dir):
    """Half a copy in $PIXINFO_DATA_DIR/fashion-mnist silently loaded /usr/share's instead."""
    _mnist_partial(isolated_data_dir / "fashion-mnist")
    with pytest.raises(DatasetNotFoundError, match="fashion-mnist is a partial copy"):
        load_dataset("fashion-mnist")


# -- corrupt files never escape as numpy, pickle or memory errors ------------------------------------
def _cifar_with_test_batch(tmp_path, raw: bytes):
    write_cifar_like(tmp_path)
    (tmp_path / "test_batch").write_bytes(raw)


CORRUPT_PICKLES = [
    # protocol-2 bytes are stored as _codecs.encode(str, "latin1"): an unknown codec name
    (pickle.dumps({b"data": b"ab", b"labels": []}, protocol=2).replace(b"latin1", b"laGin1"), "not a readable"),
    # a string that claims 2**62 bytes (the unpickler would allocate it before reading)
    (b"\x80\x02\x8d" + (2**62).to_bytes(8, "little") + b"abc.", "not a readable"),
    (b"\x80\x02\x8e" + (2**40).to_bytes(8, "little") + b"abc.", "not a readable"),
    # 'data' that numpy cannot turn into one array
    (pickle.dumps({b"data": [[1, 2], [3]], b"labels": [0, 1]}, protocol=2), "'data' must be uint8"),
    (pickle.dumps({b"data": np.zeros((4, 3072), np.uint8), b"labels": [[0, 1], [2]]}, protocol=2),
     "'labels' must be one integer per image"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "match"), CORRUPT_PICKLES)
def test_a_corrupt_cifar_batch_is_a_data_error_naming_the_file(tmp_path, raw, match):
    from tests.raises import assert_raised_by_pixinfo

    _cifar_with_test_batch(tmp_path, raw)
    with pytest.raises(CorruptDatasetError, match=match) as err:
        load_dataset("cifar10", root=tmp_path)
    assert "test_batch" in str(err.value)
    assert_raised_by_pixinfo(err.value)


def test_a_corrupt_cifar_meta_is_a_data_error_naming_the_file(tmp_path):
    write_cifar_like(tmp_path, label_names=[f"c{i}" for i in range(10)])
    meta = tmp_path / "batches.meta"
    meta.write_bytes(meta.read_bytes().replace(b"latin1", b"utf-7x"))
    with pytest.raises(CorruptDatasetError, match="batches.meta"):
        load_dataset("cifar10", root=tmp_path)


def test_an_idx_header_whose_size_overflows_is_a_data_error(tmp_path):
    """Four dimensions of 65536: the product wraps to 0 in int64, so a header-only file passed the length check."""
    write_mnist_like(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 4]) + (65536).to_bytes(4, "big") * 4)
    with pytest.raises(CorruptDatasetError, match="t10k-images-idx3-ubyte"):
        load_dataset("mnist", root=tmp_path)
