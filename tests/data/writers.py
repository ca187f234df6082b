"""Write tiny datasets in the standard on-disk formats (independently of pixinfo's readers)."""

import csv
import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False) -> Path:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


def write_mnist_like(folder: Path, *, n_train=30, n_test=12, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for name, arr in arrays.items():
        write_idx(folder / name, arr, gz=gz)
    return {k: v.astype(np.uint8) for k, v in arrays.items()}


def write_cifar_like(folder: Path, *, per_batch=4, seed=0, label_names=None):
    """Python-2 style CIFAR batches: dicts with bytes keys, pickled with numpy arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8)
        labels = list(rng.integers(0, 10, per_batch))
        labels = [int(v) for v in labels]
        with open(folder / name, "wb") as fh:
            pickle.dump({b"batch_label": name.encode(), b"data": data, b"labels": labels}, fh, protocol=2)
        written[name] = (data, labels)
    if label_names is not None:
        with open(folder / "batches.meta", "wb") as fh:
            pickle.dump({b"label_names": [n.encode() for n in label_names]}, fh, protocol=2)
    return written


def _ppm(path: Path, rgb: np.ndarray):
    h, w, _ = rgb.shape
    path.write_bytes(f"P6\n{w} {h}\n255\n".encode() + rgb.astype(np.uint8).tobytes())


def sign_image(colour, *, h=20, w=24, roi=(3, 2, 18, 15)):
    """Noise outside the ROI, a flat colour inside (so a correct crop gives a flat image)."""
    rng = np.random.default_rng(sum(colour))
    img = rng.integers(0, 256, (h, w, 3))
    x1, y1, x2, y2 = roi
    img[y1 : y2 + 1, x1 : x2 + 1] = colour
    return img


FIELDS = ["Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId"]
COLOURS = {0: (200, 10, 10), 1: (10, 200, 10), 2: (10, 10, 200)}


def write_gtsrb_official(root: Path, *, per_class=2, n_test=3):
    train = root / "GTSRB" / "Final_Training" / "Images"
    test = root / "GTSRB" / "Final_Test" / "Images"
    roi = (3, 2, 18, 15)
    for cls, colour in COLOURS.items():
        d = train / f"{cls:05d}"
        d.mkdir(parents=True)
        rows = []
        for i in range(per_class):
            name = f"00000_{i:05d}.ppm"
            _ppm(d / name, sign_image(colour, roi=roi))
            rows.append([name, 24, 20, *roi, cls])
        with open(d / f"GT-{cls:05d}.csv", "w", newline="") as fh:
            csv.writer(fh, delimiter=";").writerows([FIELDS, *rows])
    test.mkdir(parents=True)
    rows = []
    for i in range(n_test):
        cls = i % 3
        name = f"{i:05d}.ppm"
        _ppm(test / name, sign_image(COLOURS[cls], roi=roi))
        rows.append([name, 24, 20, *roi, cls])
    with open(test / "GT-final_test.csv", "w", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows([FIELDS, *rows])
    return root


def write_gtsrb_kaggle(root: Path, *, n=4):
    from PIL import Image

    roi = (3, 2, 18, 15)
    header = ["Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId", "Path"]
    for split in ("Train", "Test"):
        rows = []
        for i in range(n):
            cls = i % 3
            rel = f"{split}/{cls}/{i}.png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(sign_image(COLOURS[cls], roi=roi).astype(np.uint8)).save(root / rel)
            rows.append([24, 20, *roi, cls, rel])
        with open(root / f"{split}.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
    return root
