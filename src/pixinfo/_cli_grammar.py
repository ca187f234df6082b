"""The grammar of the ``pixinfo`` command line: options generated from dataclasses.

Every subcommand is one options dataclass: one field per option, its type annotation deciding
the argument's type, its default the option's default, and ``option``
(``dataclasses.field`` with ``metadata``) the rest — the help line, a checking type, choices,
aliases. Two functions turn such a class into a command line and back::

    from pixinfo._cli_grammar import add_options, option, options_from_args, seed_option

    @dataclass(frozen=True, kw_only=True)
    class StudyOptions:
        dataset: str = option("mnist-5k", choices=DATASETS, help="dataset to study")
        epochs: int = option(signature_default(train_fn, "epochs"), type=positive_int, help="epochs per run")
        seed: int = seed_option()

    add_options(parser, StudyOptions)                  # --dataset, --epochs, --seed
    options = options_from_args(StudyOptions, parser.parse_args(argv))

The rules, the same for every command:

* the flag is ``--`` and the field's name with ``-`` for ``_`` (``flags=`` names others, the first
  being the main one); the parsed value lands in the namespace under the field's name;
* ``int`` fields are checked counts (``nonnegative_int`` unless ``type=`` says otherwise),
  ``float`` fields finite numbers, ``dict`` fields JSON objects, ``tuple[X, ...]`` / ``list[X]``
  fields take one or more values (``repeat=True``: one value per use of the flag), and ``bool``
  fields are flags (``--name``; ``--name/--no-name`` where the default is true or unset);
* a field without a default is a required option;
* every help line ends with the default, ``(default: X)``, unless it words its default itself
  (``default: ...``) or the option is a flag that is off unless given; ``shown_default=`` words a
  default that is computed later (``None`` meaning "every image", for example);
* defaults come from the library: ``signature_default`` reads one off a function's signature,
  so the command line never copies a number;
* a ``dict`` field declared with ``fields_of=SomeDataclass`` becomes one option per field of
  that dataclass, and holds only the options given (absent ones stay absent, so another
  source of values — a recipe — keeps them); ``pixinfo train`` builds its ``TrainConfig``
  options this way.

The options several commands share — ``--seed``, ``--device``, ``--no-progress``, ``--root``,
``--out`` and ``--import`` — are declared once here (``seed_option`` and its siblings).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["add_options", "device_option", "finite_float", "given_options", "imports_option", "json_object",
           "nonnegative_int", "option", "options_from_args", "out_option", "positive_int", "probability",
           "progress_option", "root_option", "seed_int", "seed_option", "signature_default"]  # fmt: skip


# -- argument types: every count, seed and number is checked as it is parsed ----------------
def _arg_type(check: str, kind: type, name: str, **bounds) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)`` checked by ``pixinfo._checks.<check>`` (``bounds`` passed on)."""

    def convert(text: str):
        from pixinfo import _checks
        from pixinfo.errors import ParameterError

        try:
            value = kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        try:
            return getattr(_checks, check)(value, "value", **bounds)
        except ParameterError as err:
            raise argparse.ArgumentTypeError(str(err).replace("value must be", "expected", 1)) from None

    convert.__name__ = name
    return convert


positive_int = _arg_type("check_positive_int", int, "positive_int")
nonnegative_int = _arg_type("check_nonnegative_int", int, "nonnegative_int")
seed_int = _arg_type("check_seed", int, "seed_int")
finite_float = _arg_type("check_finite", float, "finite_float")
probability = _arg_type("check_finite", float, "probability", low=0, high=1, low_open=True)


def json_object(text: str) -> dict:
    """An argparse type: a JSON object such as ``'{"patch": 7}'``."""
    try:
        value = json.loads(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"patch\": 7}}', got {text!r}")
    return value


_TYPES: dict[type, Callable[[str], Any]] = {int: nonnegative_int, float: finite_float, dict: json_object}


# -- declaring options ----------------------------------------------------------------------
def option(default: Any = dataclasses.MISSING, *, help: str, default_factory: Any = dataclasses.MISSING,
           type: Callable[[str], Any] | None = None, choices: tuple | None = None, flags: tuple[str, ...] = (),
           metavar: str | None = None, repeat: bool = False, shown_default: str | None = None,
           fields_of: type | None = None, prefix: str = "", fields_metadata: Mapping | None = None) -> Any:  # fmt: skip
    """A dataclass field that is a command-line option (``dataclasses.field`` with its ``metadata``).

    Parameters
    ----------
    default, default_factory
        The option's default, as in ``dataclasses.field``; neither: a required option.
    help : str
        One line of help, plain text (the default is appended to it).
    type : callable, optional
        An argparse type checking each value (default: from the field's annotation).
    choices : tuple, optional
        The values allowed.
    flags : tuple of str
        The option strings (default: ``--`` and the field's name, ``_`` written ``-``).
    metavar : str, optional
        The value's name in the usage line (default: the field's name in capitals).
    repeat : bool
        A tuple or list field whose flag takes one value per use (``--transform A --transform B``).
    shown_default : str, optional
        How the help words the default (for a default computed later, such as ``None``).
    fields_of : dataclass, optional
        A ``dict`` field standing for one option per field of this dataclass (see the module).
    prefix : str
        With ``fields_of``: the prefix of those options' names in the parsed namespace.
    fields_metadata : mapping, optional
        With ``fields_of``: option metadata per field of that dataclass (its help, choices, ...).
    """
    meta = {"help": help, "type": type, "choices": choices, "flags": flags, "metavar": metavar, "repeat": repeat,
            "shown_default": shown_default, "fields_of": fields_of, "prefix": prefix,
            "fields_metadata": fields_metadata or {}}  # fmt: skip
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


def signature_default(function: Callable, name: str) -> Any:
    """The default of ``function``'s parameter ``name``: the library's default, read off its signature.

    Examples
    --------
    >>> def f(*, n: int = 3): ...
    >>> signature_default(f, "n")
    3
    """
    default = inspect.signature(function).parameters[name].default
    if default is inspect.Parameter.empty:
        raise TypeError(f"{function.__qualname__} has no default for its parameter {name!r}")
    return default


# -- the options several commands share -------------------------------------------------------
def seed_option(default: int = 0, *, help: str = "seed of every random choice") -> Any:
    """``--seed``: a seed in [0, 2**63)."""
    return option(default, type=seed_int, help=help)


def device_option(*, help: str = "where to compute: auto (CUDA when present), cpu, cuda, cuda:1, ...") -> Any:
    """``--device``: a torch device name, or ``auto``; the default of ``pixinfo.train.resolve_device``."""
    from pixinfo.train import resolve_device

    return option(signature_default(resolve_device, "name"), metavar="DEVICE", help=help)


def progress_option() -> Any:
    """``--no-progress``: no progress bars or lines on stderr."""
    return option(False, help="no progress bars or lines on stderr")


def root_option() -> Any:
    """``--root``: the folder of a file-based dataset's files."""
    return option(None, metavar="FOLDER", shown_default="where the dataset loader looks",
                  help="folder holding the dataset's files (file-based datasets)")  # fmt: skip


def out_option(default: str | None = "results", *, help: str) -> Any:
    """``--out``: the folder the command writes to (required where ``default`` is None)."""
    if default is None:
        return option(metavar="FOLDER", help=help)
    return option(default, metavar="FOLDER", help=help)


def imports_option() -> Any:
    """``--import MODULE`` (repeatable): a module of the user's whose transform classes the specs may name."""
    return option((), flags=("--import",), metavar="MODULE", repeat=True, shown_default="none",
                  help="import this module first (repeatable): transform classes it defines can be named by their "
                       "spec, like the built-in ones")  # fmt: skip


# -- dataclass to argparse and back -----------------------------------------------------------
def _field_meta(f: dataclasses.Field, extra: Mapping | None) -> dict:
    meta = {"type": None, "choices": None, "flags": (), "metavar": None, "repeat": False, "shown_default": None,
            "fields_of": None, "prefix": "", "fields_metadata": {}, **f.metadata, **(extra or {})}  # fmt: skip
    if not meta.get("help"):
        raise TypeError(f"option field {f.name!r} has no help: declare it with option(..., help=...)")
    return meta


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _unwrap(hint: Any) -> tuple[Any, Any]:
    """``(base, element)``: ``X | None`` unwrapped; the element type of a tuple or list (else None)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    origin = typing.get_origin(hint) or hint
    if origin in (tuple, list):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return origin, (args[0] if args else str)
    return origin, None


def _shown(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return " ".join(map(str, value)) if value else "none"
    return "none" if value is None else str(value)


def _argument(name: str, hint: Any, meta: dict, default: Any, *, overrides: bool) -> dict:
    """The keyword arguments of ``add_argument`` for one field (all but its help)."""
    base, element = _unwrap(hint)
    kw: dict[str, Any] = {"default": argparse.SUPPRESS if overrides else default}
    if default is dataclasses.MISSING and not overrides:
        kw = {"required": True}
    if base is bool:
        flag_only = default is False and not overrides
        kw["action"] = "store_true" if flag_only else argparse.BooleanOptionalAction
        return kw
    if element is not None:
        kw["action" if meta["repeat"] else "nargs"] = "append" if meta["repeat"] else "+"
        if meta["repeat"] and not overrides and "default" in kw:
            kw["default"] = None  # append would add to the default; options_from_args puts it back
    kw["type"] = meta["type"] or _TYPES.get(element or base)
    if meta["choices"] is not None:
        kw["choices"] = meta["choices"]
    else:
        kw["metavar"] = meta["metavar"] or ("JSON" if base is dict else name.upper())
    return {k: v for k, v in kw.items() if v is not None or k == "default"}


def add_options(parser: argparse.ArgumentParser, options: type, *, prefix: str = "", overrides: bool = False,
                metadata: Mapping[str, Mapping] | None = None) -> None:  # fmt: skip
    """Add one argument per field of the dataclass ``options`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The (sub)command's parser.
    options : dataclass type
        Its fields, declared with ``option`` (or given ``metadata``).
    prefix : str
        Prepended to each field's name in the parsed namespace.
    overrides : bool
        Options not given are left out of the namespace (their default only shown in the help),
        and booleans take ``--name`` and ``--no-name``: the values given override another source.
    metadata : mapping, optional
        Option metadata per field name, for a dataclass whose fields do not declare their own.

    Raises
    ------
    TypeError
        A field has no help.
    """
    hints = typing.get_type_hints(options)
    for f in dataclasses.fields(options):
        meta = _field_meta(f, (metadata or {}).get(f.name))
        if meta["fields_of"] is not None:
            add_options(parser, meta["fields_of"], prefix=meta["prefix"], overrides=True,
                        metadata=meta["fields_metadata"])  # fmt: skip
            continue
        default = _default(f)
        flags = meta["flags"] or ("--" + f.name.replace("_", "-"),)
        kw = _argument(f.name, hints[f.name], meta, default, overrides=overrides)
        action = parser.add_argument(*flags, dest=prefix + f.name, **kw)
        text = meta["help"]
        flag = action.const is True and default is False and not overrides  # off unless given: nothing to show
        if default is not dataclasses.MISSING and not flag and "default:" not in text.lower():
            text += f" (default: {meta['shown_default'] or _shown(default)})"
        action.help = text.replace("%", "%%")  # set after add_argument: plain text, the default added once


def given_options(options: type, namespace: argparse.Namespace, *, prefix: str = "") -> dict[str, Any]:
    """The fields of ``options`` given on the command line (added with ``overrides=True``), by name."""
    values = vars(namespace)
    return {f.name: values[prefix + f.name] for f in dataclasses.fields(options) if prefix + f.name in values}


def options_from_args(options: type, namespace: argparse.Namespace, *, prefix: str = "") -> Any:
    """An instance of the dataclass ``options`` from a namespace parsed with its ``add_options``.

    Tuple fields hold tuples; a repeatable option not given holds its field's default; a
    ``fields_of`` field holds the dict of the options given for that dataclass.
    """
    hints = typing.get_type_hints(options)
    values = {}
    for f in dataclasses.fields(options):
        meta = _field_meta(f, None)
        if meta["fields_of"] is not None:
            values[f.name] = given_options(meta["fields_of"], namespace, prefix=meta["prefix"])
            continue
        value = getattr(namespace, prefix + f.name)
        if value is None and meta["repeat"]:
            value = _default(f)
        if isinstance(value, list) and _unwrap(hints[f.name])[0] is tuple:
            value = tuple(value)
        values[f.name] = value
    return options(**values)
