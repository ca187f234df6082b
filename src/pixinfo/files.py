"""Files written whole, and where pixinfo keeps its cache.

Every file pixinfo writes (records, keys, checkpoints, models, tables) goes to a temporary
file in the same folder first and is moved into place with :func:`os.replace`, so a reader
never sees a torn file and concurrent writers leave one of the complete versions.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` whole: ``write(f)`` fills a temporary file that then replaces ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_atomic(pathlib.Path(d) / "a.txt", lambda f: f.write(b"hello"))
    ...     p.read_bytes(), sorted(x.name for x in p.parent.iterdir())
    (b'hello', ['a.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """:func:`write_atomic` for text (UTF-8)."""
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def torch_save_atomic(obj: object, path: str | Path) -> Path:
    """``torch.save(obj, path)``, written whole."""
    import torch

    return write_atomic(path, lambda f: torch.save(obj, f))


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_dir(sub: str | None = None) -> Path:
    """pixinfo's cache folder: ``$PIXINFO_CACHE``, default ``~/.cache/pixinfo`` (``sub`` inside it).

    Checkpoints of running trainings and saved models live here, outside any repository.
    """
    root = Path(os.environ.get("PIXINFO_CACHE") or Path.home() / ".cache" / "pixinfo").expanduser()
    return root / sub if sub else root

