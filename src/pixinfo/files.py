"""Files written whole, and where pixinfo keeps its cache.

Every file pixinfo writes (records, keys, checkpoints, models, tables, figures) goes to a temporary
file in the same folder first and is moved into place with ``os.replace``, so a reader
never sees a torn file and concurrent writers leave one of the complete versions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


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
    """[`write_atomic`][pixinfo.files.write_atomic] for text (UTF-8)."""
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def save_figure_atomic(fig: Any, path: str | Path, **savefig_kwargs: Any) -> Path:
    """Save a matplotlib figure (or a seaborn grid: anything with ``savefig``) whole and close it.

    The format follows the file's suffix unless ``format=`` is given; every other keyword goes to
    ``savefig`` (``dpi``, ``bbox_inches``). If rendering fails, ``path`` keeps its old content.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     fig, ax = plt.subplots()
    ...     p = save_figure_atomic(fig, pathlib.Path(d) / "fig.png", dpi=50)
    ...     p.read_bytes()[:4], sorted(x.name for x in p.parent.iterdir())
    (b'\\x89PNG', ['fig.png'])
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    savefig_kwargs.setdefault("format", path.suffix.lstrip(".") or None)
    try:
        return write_atomic(path, lambda f: fig.savefig(f, **savefig_kwargs))
    finally:
        plt.close(getattr(fig, "figure", fig))


def write_csv_atomic(frame: Any, path: str | Path) -> Path:
    """The DataFrame ``frame`` as CSV without its index, written whole."""
    return write_text_atomic(path, frame.to_csv(index=False))


def torch_save_atomic(obj: object, path: str | Path) -> Path:
    """``torch.save(obj, path)``, written whole."""
    import torch

    return write_atomic(path, lambda f: torch.save(obj, f))


def read_json(path: str | Path, *, kind: str = "JSON file") -> object:
    """The JSON value in ``path``, with typed errors naming the path.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    CorruptFileError
        The file is truncated, not UTF-8 or not JSON.
    """
    from pixinfo.errors import CorruptFileError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {kind} at {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CorruptFileError(
            f"{path} is not a readable {kind} (truncated, tampered or another format): {err}"
        ) from None


def check_writable_dir(path: str | Path, *, name: str = "output folder") -> Path:
    """Create ``path`` if needed and check a file can be written in it, before any work starts.

    Raises
    ------
    OutputPathError
        ``path`` is a file, lies under a file, or cannot be created or written to.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     check_writable_dir(pathlib.Path(d) / "new" / "results").is_dir()
    True
    """
    from pixinfo.errors import OutputPathError

    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{name} {path} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".pixinfo-write-check.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputPathError(f"{name} {path} cannot be created or written to: {err.strerror or err}") from None
    return path


def json_digest(obj: Any, *, length: int) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``obj`` as JSON with sorted keys: a
    name for a configuration that does not depend on the order its keys were written in.

    >>> json_digest({"b": 1, "a": [2, 3]}, length=12) == json_digest({"a": [2, 3], "b": 1}, length=12)
    True
    >>> json_digest({"a": 1}, length=12)  # pinned: record and cache names depend on it
    'f9d86028c6e0'
    """
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:length]


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

