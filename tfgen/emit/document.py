"""The JSON document layer: terrascript blocks, rendered deterministically.

A document is a `terrascript.Terrascript`; providers, the `terraform` block and
outputs are terrascript blocks. Resources, a few thousand in a large fleet, are
plain dicts where terrascript would put them (terrascript's `Resource` is a dict
subclass that only adds attribute references, which tfgen makes as strings in
`naming`; making one costs more than the rest of emitting it). Every resource
goes through `Document.resource`, which pins it to a region's provider alias, so
none can be emitted without one.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import terrascript

from ..derive import naming
from ..errors import TfgenError

__all__ = ["Document", "render"]


@lru_cache(maxsize=None)
def _provider_class(type_: str) -> type:
    return type(type_, (terrascript.Provider,), {})


class Document:
    """One `*.tf.json` file of a root module."""

    def __init__(self) -> None:
        self._script = terrascript.Terrascript()

    def resource(self, type_: str, name: str, /, *, region: str, **arguments: Any) -> str:
        """Add a resource pinned to `region`'s alias; return its address (`aws_vpc.x`)."""
        of_type = self._script.setdefault("resource", {}).setdefault(type_, {})
        if name in of_type:
            # naming.py makes names unambiguous; reaching this is a tfgen bug, and going on
            # would silently drop a resource.
            raise TfgenError(f"tfgen made the address {type_}.{name} twice; please report this with your spec")
        # Where Terrascript.add would put it, as the dict terrascript's Resource would be.
        arguments["provider"] = naming.provider_ref(region)
        of_type[name] = arguments
        return f"{type_}.{name}"

    def provider(self, type_: str, **arguments: Any) -> None:
        self._script.add(_provider_class(type_)(**arguments))

    def terraform(self, **arguments: Any) -> None:
        self._script.add(terrascript.Terraform(**arguments))

    def local(self, name: str, value: Any) -> None:
        self._script.setdefault("locals", {})[name] = value

    def output(self, name: str, *, value: Any, description: str) -> None:
        self._script.add(terrascript.Output(name, value=value, description=description))

    def __bool__(self) -> bool:
        return bool(self._script)

    def as_dict(self) -> dict:
        return self._script


def render(document: dict) -> bytes:
    """Canonical JSON: sorted keys, two-space indent, trailing newline.

    Byte for byte what `json.dumps(document, indent=2, sort_keys=True,
    ensure_ascii=False)` gives (a test holds the two together), but faster:
    with `indent`, the stdlib falls back to its pure-Python encoder (benchmarks/
    build.py prints what rendering costs). Strings still go through the C
    string encoder.
    """
    parts: list[str] = []
    _render(document, "", parts.append)
    parts.append("\n")
    return "".join(parts).encode("utf-8")


_encode = json.encoder.encode_basestring
_float = float.__repr__


def _render(value: Any, indent: str, add) -> None:
    if isinstance(value, str):
        add(_encode(value))
    elif isinstance(value, dict):
        if not value:
            add("{}")
            return
        inner = indent + "  "
        separator = "{\n" + inner
        for key, item in sorted(dict.items(value)):
            if not isinstance(key, str):
                raise TypeError(f"tfgen made a document key {key!r} that is not a string; please report this")
            add(separator)
            add(_encode(key))
            add(": ")
            _render(item, inner, add)
            separator = ",\n" + inner
        add("\n" + indent + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            add("[]")
            return
        inner = indent + "  "
        separator = "[\n" + inner
        for item in value:
            add(separator)
            _render(item, inner, add)
            separator = ",\n" + inner
        add("\n" + indent + "]")
    elif value is True:
        add("true")
    elif value is False:
        add("false")
    elif value is None:
        add("null")
    elif isinstance(value, int):
        add(int.__repr__(value))
    elif isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        add(_float(value))
    else:
        raise TypeError(f"tfgen made a document value {value!r} that JSON cannot hold; please report this")
