"""Parse ``name:key=value,key=value`` specs used by the CLI and the registry."""

from __future__ import annotations

from typing import Any

from pixinfo.errors import ParameterError


def _literal(text: str) -> Any:
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str) -> tuple[str, list[Any], dict[str, Any]]:
    """Split a spec into name, positional and keyword parameters.

    Examples
    --------
    >>> parse_spec("block:size=4,shuffle_within=true")
    ('block', [], {'size': 4, 'shuffle_within': True})
    >>> parse_spec("vortex:authors")
    ('vortex', ['authors'], {})

    Raises
    ------
    ParameterError
        Not a string, an empty name, a bad or repeated parameter name, or a positional
        parameter after keyword ones.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"a spec must be a non-empty string like 'name:key=value', got {spec!r}")
    name, _, rest = spec.strip().partition(":")
    if not name.strip():
        raise ParameterError(f"a spec must start with a name (name:key=value), got {spec!r}")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if eq:
            key = key.strip().replace("-", "_")
            if not key.isidentifier():
                raise ParameterError(f"bad parameter name {key!r} in spec {spec!r}")
            if key in kwargs:
                raise ParameterError(f"parameter {key!r} is given twice in spec {spec!r}")
            kwargs[key] = _literal(value.strip())
        elif kwargs:
            raise ParameterError(f"positional parameter {part!r} after keyword ones in spec {spec!r}")
        else:
            args.append(_literal(part))
    return name.strip(), args, kwargs
