"""A Go reader good enough for schema literals: Go source as a tree of bracket groups, and the elements of a
composite literal (`tools/replacement_table.py` reads the AWS provider's schema code with it)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"|`[^`]*`|\'(?:\\.|[^\'\\])*\'|:=|\.\.\.'
                    r'|[A-Za-z_][A-Za-z0-9_]*|\d[\w.]*|\S', re.S)
_CLOSE = {"{": "}", "[": "]", "(": ")"}


class Group(list):
    """The tokens between a pair of brackets (`kind` is the opening one), nested groups as items."""

    def __init__(self, kind: str, items=()):
        super().__init__(items)
        self.kind = kind


def parse(source: str) -> Group:
    """Go source as a tree of bracket groups (comments dropped)."""
    stack = [Group("")]
    for token in _TOKEN.findall(source):
        if token.startswith(("//", "/*")):
            continue
        if token in _CLOSE:
            stack.append(Group(token))
        elif token in ("}", "]", ")") and len(stack) > 1:
            group = stack.pop()
            stack[-1].append(group)
        else:
            stack[-1].append(token)
    while len(stack) > 1:
        group = stack.pop()
        stack[-1].append(group)
    return stack[0]


def text(items) -> str:
    """Tokens back as one string without spaces (enough to compare heads such as `&schema.Schema{`)."""
    out = []
    for item in items:
        if isinstance(item, Group):
            out += [item.kind, text(item), _CLOSE[item.kind]]
        else:
            out.append(item)
    return "".join(out)


def elements(group) -> list[tuple[list | None, list]]:
    """A composite literal's elements as (key tokens, value tokens); key None for a bare element."""
    result, current = [], []
    for item in [*group, ","]:
        if item == ",":
            if current:
                colon = next((i for i, t in enumerate(current) if t == ":"), None)
                result.append((current[:colon], current[colon + 1:]) if colon is not None else (None, current))
            current = []
        else:
            current.append(item)
    return result


def body(value) -> Group | None:
    """The literal's `{...}` group (the last one at the value's top level)."""
    groups = [item for item in value if isinstance(item, Group) and item.kind == "{"]
    return groups[-1] if groups else None


def field(group, name: str):
    """The value of key `name` in a composite literal, or None."""
    return next((value for key, value in elements(group) if key is not None and text(key) == name), None)
