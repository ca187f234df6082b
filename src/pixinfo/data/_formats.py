"""Readers for the standard on-disk formats (IDX, CIFAR pickle batches)."""

from __future__ import annotations

import codecs
import gzip
import io
import math
import pickle
import pickletools
import struct
import zlib
from pathlib import Path

import numpy as np

from pixinfo.errors import CorruptDatasetError

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (EOFError, OSError, zlib.error) as err:
        raise CorruptDatasetError(f"{path}: cannot be read ({err}); the file is truncated or corrupt") from err


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped), checking its length against its header."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise CorruptDatasetError(f"{path}: not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDatasetError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + math.prod(dims) * dtype.itemsize  # Python ints: no overflow to a small size
    if len(raw) != expected:
        kind = "truncated" if len(raw) < expected else "longer than its header says"
        raise CorruptDatasetError(
            f"{path}: {kind}: header declares shape {dims} ({expected} bytes), file has {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _latin1_encode(text: object, encoding: object = "latin1") -> bytes:
    """``codecs.encode(text, "latin1")``, the one codec a CIFAR pickle names (no other codec runs)."""
    if not isinstance(text, str) or str(encoding).lower().replace("-", "").replace("_", "") not in ("latin1", "iso88591"):
        raise pickle.UnpicklingError(f"refusing to decode {type(text).__name__} with codec {encoding!r}")
    return codecs.encode(text, "latin1")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, dicts, lists and strings only (no arbitrary code)."""

    def find_class(self, module: str, name: str):  # noqa: D401
        try:
            from numpy._core import multiarray
        except ImportError:  # numpy < 2
            from numpy.core import multiarray

        allowed = {
            ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy.core.multiarray", "scalar"): multiarray.scalar,
            ("numpy._core.multiarray", "scalar"): multiarray.scalar,
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
            # protocol-2 pickles written by Python 3 store bytes as _codecs.encode(str, "latin1")
            ("_codecs", "encode"): _latin1_encode,
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return allowed[(module, name)]


def read_cifar_batch(path: Path) -> dict:
    """One CIFAR python batch: a dict with byte-string keys, loaded without running code.

    The whole file is read first and every opcode's length checked against it, so a length field
    claiming more bytes than the file holds is an error, not an allocation of that size.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise CorruptDatasetError(f"{path}: cannot be read ({err})") from err
    try:
        for _ in pickletools.genops(raw):  # lengths and opcodes checked, nothing built
            pass
        obj = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as err:  # arbitrary bytes fail anywhere in the unpickler (LookupError, MemoryError, ...)
        first = (str(err).splitlines() or [type(err).__name__])[0][:200] or type(err).__name__
        raise CorruptDatasetError(f"{path}: not a readable CIFAR batch ({first})") from None
    if not isinstance(obj, dict):
        raise CorruptDatasetError(f"{path}: expected a dict, found {type(obj).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}
