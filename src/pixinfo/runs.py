"""Runs as data: run specs, one record store, get-or-run.

Every computation whose result is kept — a training run, a key-recovery attack, a fooling
experiment, an evaluation of a saved model, a cached table of measures — is named the same way:

* a **spec** ([`RunSpec`][pixinfo.runs.RunSpec], or any object with ``kind``, ``name`` and
  ``identity``, such as [`TrainConfig`][pixinfo.train.TrainConfig]) says what decides the result;
* its **digest** is the SHA-256 of the identity as JSON with sorted keys ([`digest`][pixinfo.runs.digest]),
  its **stem** the readable name (one [`slug`][pixinfo.runs.slug] rule) followed by the digest;
* a [`RunStore`][pixinfo.runs.RunStore] keeps one JSON record per stem in a folder: read through one
  checked reader, written whole with the spec, the digest and provenance, and computed only when
  missing ([`RunStore.get_or_run`][pixinfo.runs.RunStore.get_or_run]; ``from_records=True`` only reads);
* a [`RowCache`][pixinfo.runs.RowCache] does the same for a table of rows (one CSV), keyed by the
  columns that decide each row.

Examples
--------
>>> import tempfile
>>> from pixinfo.runs import RunSpec, RunStore
>>> spec = RunSpec(kind="demo", name="square 3", identity={"x": 3})
>>> spec.stem
'square-3-054b7d8d6d2b'
>>> with tempfile.TemporaryDirectory() as d:
...     store = RunStore(d)
...     first = store.get_or_run(spec, lambda: {"y": 9})
...     again = store.get_or_run(spec, lambda: {"y": -1})  # read back, not computed
>>> first["y"], again["y"], again["digest"]
(9, 9, '054b7d8d6d2b')
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pixinfo.errors import CorruptFileError, MissingRecordError
from pixinfo.files import json_digest

__all__ = ["RowCache", "RunSpec", "RunStore", "Spec", "content_digest", "digest", "slug"]

_SLUG_REPLACE = {":": "-", ",": "-", " ": "-", "=": "", "+": "_"}


def digest(identity: Any, *, length: int = 12) -> str:
    """The name of a run's identity: the first ``length`` hex digits of the SHA-256 of
    ``identity`` as JSON with sorted keys (so the order its keys were written in does not matter).

    >>> digest({"b": 1, "a": [2, 3]}) == digest({"a": [2, 3], "b": 1})
    True
    """
    return json_digest(identity, length=length)


def content_digest(chunks: Iterable[bytes], *, length: int = 16) -> str:
    """The first ``length`` hex digits of the SHA-256 of the bytes ``chunks`` (a model's weights,
    a pool of images): names a run's *input* by its content.

    >>> content_digest([b"ab", b"c"]) == content_digest([b"abc"])
    True
    """
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()[:length]


def slug(text: str, *, max_len: int | None = None) -> str:
    """``text`` as part of a file name: ``:``, ``,`` and spaces become ``-``, ``=`` is dropped,
    ``+`` becomes ``_``, and anything but letters, digits, ``-``, ``_`` and ``.`` is dropped.

    >>> slug("vortex:authors=mnist,n=10")
    'vortex-authorsmnist-n10'
    >>> slug("Caffe LeNet (one ReLU)")
    'Caffe-LeNet-one-ReLU'
    """
    for old, new in _SLUG_REPLACE.items():
        text = text.replace(old, new)
    text = "".join(ch for ch in text if ch.isalnum() or ch in "-_.")
    return text[:max_len] if max_len is not None else text


@runtime_checkable
class Spec(Protocol):
    """What a [`RunStore`][pixinfo.runs.RunStore] needs of a run's spec."""

    @property
    def kind(self) -> str: ...  # what sort of run ("train", "key-recovery", ...)

    @property
    def stem(self) -> str: ...  # the record's file name without ".json"

    @property
    def digest(self) -> str: ...

    def identity(self) -> Any: ...  # JSON: everything that decides the result


class RunSpec:
    """A run named by what decides its result.

    Parameters
    ----------
    kind : str
        What sort of run it is (kept in its record).
    name : str
        The readable part of its file name (passed through [`slug`][pixinfo.runs.slug]).
    identity : JSON value
        Everything that decides the result; its digest ends the file name.
    digest_length : int
        Hex digits of the digest.
    """

    __slots__ = ("kind", "name", "_identity", "digest")

    def __init__(self, kind: str, name: str, identity: Any, *, digest_length: int = 12) -> None:
        from pixinfo._checks import check_int
        from pixinfo.errors import ParameterError

        if not isinstance(kind, str) or not kind:
            raise ParameterError(f"kind must be a non-empty string, got {kind!r}")
        if not isinstance(name, str) or not any(ch.isalnum() for ch in name):
            raise ParameterError(f"name must be a string with at least one letter or digit, got {name!r}")
        try:
            name_digest = digest(identity, length=check_int(digest_length, "digest_length", low=8, high=64))
        except (TypeError, ValueError) as err:
            raise ParameterError(f"identity must be a JSON value (dicts, lists, strings, numbers), got "
                                 f"{type(identity).__name__}: {err}") from None  # fmt: skip
        for attr, value in (("kind", kind), ("name", name), ("_identity", identity), ("digest", name_digest)):
            object.__setattr__(self, attr, value)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"a RunSpec is frozen: cannot set {attr!r}")

    def __repr__(self) -> str:
        return f"RunSpec(kind={self.kind!r}, name={self.name!r}, digest={self.digest!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunSpec) and (self.kind, self.stem) == (other.kind, other.stem)

    def __hash__(self) -> int:
        return hash((self.kind, self.stem))

    def identity(self) -> Any:
        """Everything that decides the run's result (the JSON value its digest is taken of)."""
        return self._identity

    @property
    def stem(self) -> str:
        """The record's file name without ``.json``: the slugged name, ``-``, the digest."""
        return f"{slug(self.name)}-{self.digest}"


class RunStore:
    """One JSON record per run in the folder ``root``.

    Parameters
    ----------
    root : path
        The folder (created on the first write).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    def path(self, spec: Spec) -> Path:
        """Where the record of ``spec`` lives."""
        return self.root / f"{spec.stem}.json"

    def read(self, spec: Spec, *, require: Sequence[str] = ()) -> dict | None:
        """The record of ``spec``, or None when there is none.

        Raises
        ------
        CorruptFileError
            The file is truncated or not JSON, is not a JSON object, or lacks a field of
            ``require``; the message names the file (and the field).
        """
        return read_record(self.path(spec), require=require)

    def write(self, spec: Spec, record: Mapping[str, Any], *, device: str | None = None) -> dict:
        """Write ``record`` whole as the record of ``spec``, with ``kind``, ``spec`` (the identity),
        ``identity``, ``digest`` and ``environment`` (provenance: versions, platform, ``device``, git commit) added
        where the record does not set them. Returns what was written."""
        from pixinfo.provenance import environment, write_json

        full = {"kind": spec.kind, "identity": spec.identity(), "digest": spec.digest, **record}
        if "environment" not in full:
            full["environment"] = environment(device)
        write_json(self.path(spec), full)
        return full

    def get_or_run(self, spec: Spec, compute: Callable[[], Mapping[str, Any]], *, from_records: bool = False,
                   require: Sequence[str] = (), device: str | None = None) -> dict:  # fmt: skip
        """The record of ``spec``: read when it exists, else ``compute()`` written and returned.

        Raises
        ------
        MissingRecordError
            ``from_records`` and no record (the message names the file to make).
        CorruptFileError
            As [`read`][pixinfo.runs.RunStore.read].
        """
        found = self.read(spec, require=require)
        if found is not None:
            return found
        if from_records:
            raise MissingRecordError(f"no record {self.path(spec)} of this {spec.kind} run; "
                                     "run without --from-records (from_records=False) to compute it")  # fmt: skip
        return self.write(spec, compute(), device=device)

    def records(self, *, kind: str | None = None) -> list[dict]:
        """Every record in the folder (recursively), optionally only those of ``kind``; each with
        ``_path``, its file."""
        from pixinfo.train.records import load_records

        return load_records(self.root, kind=kind) if self.root.is_dir() else []


def read_record(path: str | Path, *, require: Sequence[str] = ()) -> dict | None:
    """The JSON object in ``path`` (None when there is no file), with every field of ``require``
    (dotted names reach into objects: ``"results.final_test_acc"``).

    Raises
    ------
    CorruptFileError
        Truncated or not JSON, not an object, or a required field missing; the message names the
        file and the field.
    """
    from pixinfo.files import read_json

    path = Path(path)
    if not path.is_file():
        return None
    record = read_json(path, kind="record")
    if not isinstance(record, dict):
        raise CorruptFileError(f"{path}: a record must be a JSON object, got {type(record).__name__}")
    for name in require:
        value: Any = record
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                raise CorruptFileError(f"{path}: the record has no field {name!r} (an older or damaged "
                                       "record: delete it and run again)")  # fmt: skip
            value = value[part]
    return record


class RowCache:
    """A table of computed rows in one CSV, each row keyed by the columns that decide it.

    Parameters
    ----------
    path : path
        The CSV (created on the first write; written whole after every computed row, so an
        interrupted computation resumes).
    key : sequence of str
        The columns that decide a row.
    """

    def __init__(self, path: str | Path, *, key: Sequence[str]) -> None:
        self.path = Path(path)
        self.key = list(key)

    def __repr__(self) -> str:
        return f"RowCache({str(self.path)!r}, key={self.key})"

    def read(self):
        """Every cached row (a DataFrame; empty with the key columns when there is no file)."""
        import pandas as pd

        if not self.path.is_file():
            return pd.DataFrame(columns=self.key)
        try:
            done = pd.read_csv(self.path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise CorruptFileError(f"{self.path} is not a readable CSV cache: {err}") from None
        missing = [k for k in self.key if k not in done.columns]
        if missing:
            raise CorruptFileError(f"{self.path}: the cache has no column(s) {missing} (an older format: delete it)")
        return done

    def get_or_compute(self, keys: Sequence[tuple], compute: Callable[[tuple], Mapping[str, Any]], *,
                       from_records: bool = False):  # fmt: skip
        """The rows of ``keys`` (tuples of the key columns' values), in the cache's order:
        ``compute(key)`` gives the other columns of each row the cache lacks.

        Raises
        ------
        MissingRecordError
            ``from_records`` and rows are missing (the message names one).
        """
        import pandas as pd

        from pixinfo.files import write_csv_atomic

        done = self.read()
        have = set(done[self.key].itertuples(index=False, name=None))
        todo = list(dict.fromkeys(k for k in keys if tuple(k) not in have))
        if todo and from_records:
            raise MissingRecordError(f"{len(todo)} rows missing from {self.path} (e.g. {todo[0]!r}); "
                                     "run without --from-records (from_records=False) to compute them")  # fmt: skip
        for k in todo:
            row = {**dict(zip(self.key, k, strict=True)), **compute(tuple(k))}
            done = pd.concat([done, pd.DataFrame([row])], ignore_index=True) if len(done) else pd.DataFrame([row])
            write_csv_atomic(done, self.path)
        wanted = {tuple(k) for k in keys}
        mask = [k in wanted for k in done[self.key].itertuples(index=False, name=None)]
        return done[mask]
