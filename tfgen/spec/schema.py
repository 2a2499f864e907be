"""The spec's JSON Schema (Draft 2020-12), generated from the reader's key tables (`tfgen.spec.keys`).

Editors validate and complete a spec with it (yaml-language-server reads a
`# yaml-language-server: $schema=...` line); `tfgen schema` prints it. The
package ships the generated file (`SCHEMA_FILE`); a test regenerates it and
compares, so it follows every key the reader learns. The schema sees what the
reader's shape checks see (keys, types, required keys) plus the closed sets of
values the checks accept; whatever needs more than one value at a time (CIDR
overlaps, a region's zones, one hub per environment) is left to `tfgen validate`.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from .keys import TOP, Key, Table

__all__ = ["SCHEMA_ID", "SCHEMA_FILE", "generate", "render", "shipped"]

SCHEMA_ID = "https://json.schemastore.org/tfgen-fleet.json"
SCHEMA_FILE = "tfgen-fleet.schema.json"
_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def generate() -> dict[str, Any]:
    """The schema, as a JSON-ready dict."""
    defs: dict[str, Any] = {}
    root = _table(TOP, defs)
    return {"$schema": _DRAFT, "$id": SCHEMA_ID, "title": "tfgen fleet spec", **root,
            "$defs": dict(sorted(defs.items()))}


def render() -> str:
    """The schema as the text of `SCHEMA_FILE`."""
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


def shipped() -> str:
    """The schema file the package ships."""
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def _describe(text: str) -> str:
    return _LINK.sub(r"\1", text)


def _table(table: Table, defs: dict[str, Any]) -> dict[str, Any]:
    """The object schema of `table` (its nested tables added to `defs`)."""
    shape: dict[str, Any] = {
        "type": "object",
        "description": _describe(table.doc),
        "properties": {name: _key(key, defs) for name, key in table.keys.items()},
        "additionalProperties": False,
    }
    if table.required:
        shape["required"] = list(table.required)
    if not table.alone:
        return shape
    alone = [{"type": "object", "description": _describe(table.doc),
              "properties": {name: shape["properties"][name]}, "required": [name], "additionalProperties": False}
             for name in table.alone]
    rest = {**shape, "properties": {k: v for k, v in shape["properties"].items() if k not in table.alone}}
    return {"description": _describe(table.doc), "anyOf": [*alone, rest]}


def _member(table: Table, defs: dict[str, Any]) -> dict[str, Any]:
    """A reference to `table`'s definition; null too when the reader reads null as an empty mapping that
    lacks nothing (a table with required keys refuses it)."""
    if table.name not in defs:
        defs[table.name] = {}  # taken before recursing: tables refer to each other
        defs[table.name] = _table(table, defs)
    ref = {"$ref": f"#/$defs/{table.name}"}
    return ref if table.required else {"anyOf": [ref, {"type": "null"}]}


def _key(key: Key, defs: dict[str, Any]) -> dict[str, Any]:
    doc = {"description": _describe(key.doc)}
    kind = key.kind
    if kind in ("str", "int", "bool"):
        shape: dict[str, Any] = {"type": {"str": "string", "int": "integer", "bool": "boolean"}[kind], **doc}
        if key.values:
            shape["enum"] = list(key.values)
        return shape
    if kind == "str_list":
        return {"type": "array", **doc, "items": {"type": "string"}}
    if kind == "str_map":
        return {"type": "object", **doc, "additionalProperties": {"type": "string"}}
    if kind == "pairs":
        return {"type": "array", **doc, "items": {"type": "array", "items": {"type": "string"}, "minItems": 2,
                                                  "maxItems": 2}}
    if kind == "waves":
        return {"type": "array", **doc, "items": {"type": "array", "items": {"type": "string"}}}
    if key.table is None:
        raise ValueError(f"a {kind} key needs the table its value follows")
    member = _member(key.table, defs)
    if kind == "list":
        return {"type": "array", **doc, "items": member}
    if not key.named:
        return {**member, **doc} if "$ref" in member else {**doc, **member}
    names: dict[str, Any] = {"type": "object", "additionalProperties": member}
    if key.nonempty:
        names["minProperties"] = 1
    if kind == "node_groups":
        return {**names, **doc}
    return {**doc, "anyOf": [names, {"type": "null"}]}
