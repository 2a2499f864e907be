"""VAL100: every field of a Python-built fleet holds its declared type (checked before any other rule)."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Callable

from ..errors import Finding
from ..model import Fleet
from .support import finding

__all__ = ["check_types"]


def check_types(fleet: Fleet) -> list[Finding]:
    """Every field of every model object holds its declared type; dataclasses are walked."""
    findings: list[Finding] = []
    _walk_types(fleet, "fleet", findings)
    return findings


@functools.lru_cache(maxsize=None)
def _declared(cls: type) -> tuple[tuple[str, object], ...]:
    """(field, type) of a model class, resolved once: `get_type_hints` is slow."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.name != "where" and f.compare)


def _walk_types(obj, path: str, findings: list[Finding]) -> None:
    for name, hint in _declared(type(obj)):
        value = getattr(obj, name)
        if not _type_ok(value, hint):
            findings.append(finding(
                "VAL100", f"`{name}` must be {_type_name(hint)}, got {type(value).__name__} "
                f"{value!r:.60}", f"give `{name}` {_type_name(hint)}", path=path, obj=obj, field=name))
            continue
        for key, item in (value.items() if isinstance(value, dict) else enumerate(value)
                          if isinstance(value, list) else [(None, value)]):
            if dataclasses.is_dataclass(item):
                _walk_types(item, f"{path}.{name}" + (f"[{key!r}]" if key is not None else ""), findings)


def _type_ok(value, hint) -> bool:
    return _checker(hint)(value)


@functools.lru_cache(maxsize=None)
def _checker(hint) -> Callable[[object], bool]:
    """A predicate for values of `hint`, built once per annotation (this runs per field of a fleet)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_checker(a) for a in args]
        return lambda v: any(ok(v) for ok in options)
    if hint is type(None):
        return lambda v: v is None
    if origin is list:
        item = _checker(args[0])
        return lambda v: isinstance(v, list) and all(item(x) for x in v)
    if origin is dict:
        key, item = _checker(args[0]), _checker(args[1])
        return lambda v: isinstance(v, dict) and all(key(k) and item(x) for k, x in v.items())
    if hint is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if hint is float:
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    cls = origin or hint
    return lambda v: isinstance(v, cls)


def _type_name(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if hint is type(None):
        return "None"
    if origin is list:
        return f"a list of {_type_name(args[0])}"
    if origin is dict:
        return f"a dict of {_type_name(args[0])} to {_type_name(args[1])}"
    return {"str": "a string", "int": "a whole number", "bool": "true or false"}.get(
        getattr(hint, "__name__", str(hint)), f"a {getattr(hint, '__name__', hint)}")

