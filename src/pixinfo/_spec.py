"""Parse ``name:key=value,key=value`` specs used by the CLI and the registry."""

from __future__ import annotations

from typing import Any


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
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a spec must be a non-empty string like 'name:key=value', got {spec!r}")
    name, _, rest = spec.strip().partition(":")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if eq:
            if not key.strip().isidentifier():
                raise ValueError(f"bad parameter name {key!r} in spec {spec!r}")
            kwargs[key.strip().replace("-", "_")] = _literal(value.strip())
        elif kwargs:
            raise ValueError(f"positional parameter {part!r} after keyword ones in spec {spec!r}")
        else:
            args.append(_literal(part))
    return name.strip(), args, kwargs
