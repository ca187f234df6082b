"""Typed errors raised at pixinfo's boundaries.

Every error subclasses both [`PixinfoError`][pixinfo.errors.PixinfoError] and the built-in exception a
caller would naturally catch (``ValueError``, ``TypeError``,
``FileNotFoundError``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class PixinfoError(Exception):
    """Base class of every error pixinfo raises on purpose."""


class ShapeError(PixinfoError, ValueError):
    """A tensor has the wrong number of dimensions or the wrong sizes."""


class DTypeError(PixinfoError, TypeError):
    """A tensor has the wrong dtype (for example uint8 where float is expected)."""


class ValueRangeError(PixinfoError, ValueError):
    """Tensor values lie outside the documented range (for example [0, 1] images)."""


class DeviceError(PixinfoError, ValueError):
    """Tensors that must share a device do not."""


class DatasetNotFoundError(PixinfoError, FileNotFoundError):
    """A dataset's files are not where pixinfo looked; the message says how to get them."""


class CorruptDatasetError(PixinfoError, ValueError):
    """A dataset file exists but is truncated, malformed or inconsistent."""


class NoSharedKeyError(PixinfoError, ValueError):
    """A transform gives different outputs for the same input, so it has no shared map."""


class CorruptFileError(PixinfoError, ValueError):
    """A record, key, checkpoint or model file is truncated, tampered or of the wrong kind."""


class UnsupportedSchemeError(PixinfoError, TypeError):
    """No attack (or measure) is written for this kind of transform."""

class ParameterError(PixinfoError, ValueError, TypeError):
    """A parameter (argument, spec value, option) has the wrong type or lies outside its range.

    The message names the parameter, what was expected and what was given. It subclasses both
    ``ValueError`` and ``TypeError``, so either ``except`` clause catches it.
    """


class OutputPathError(PixinfoError, OSError):
    """An output folder cannot be created or written to (checked before any work starts)."""


class WorkTooLargeError(PixinfoError, ValueError):
    """An exact computation would take far longer than is reasonable; the message says how to bound it."""


class ConfigError(PixinfoError, ValueError):
    """A model or training configuration cannot work (checked before any training starts)."""


class MissingRecordError(ConfigError):
    """Only recorded results were asked for (``--from-records``) and a run has no record."""


class NotInvertibleError(PixinfoError, ValueError):
    """The transform has no exact inverse (it loses or repeats pixels or values)."""
