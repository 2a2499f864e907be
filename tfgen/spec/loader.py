"""The bounded YAML loader: text -> composed node graph with line numbers, or findings.

Every YAML file tfgen reads (the spec, the allocations record beside it) is
untrusted input, so it goes through here: its size, nesting and alias
expansion are limited (a few hundred bytes of YAML aliases expand to
gigabytes), measured on the composed node graph before any of it is
expanded; YAML merge keys (`<<`) are resolved as YAML 1.1 defines them,
because readers walk nodes themselves to keep line numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import yaml

from ..errors import Finding, Origin, SpecError, TfgenError

__all__ = ["MAX_SPEC_BYTES", "MAX_DEPTH", "MAX_VALUES", "read_text", "compose", "merged_pairs", "node_kind",
           "CONSTRUCTOR"]

CONSTRUCTOR = yaml.constructor.SafeConstructor()

# Limits on what a spec may be, so that no input hangs tfgen or exhausts memory.
# A fleet of thousands of clusters is far below each of them.
MAX_SPEC_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 50
MAX_VALUES = 500_000
_MERGE_TAG = "tag:yaml.org,2002:merge"

class _LimitExceeded(Exception):
    """A spec over one of the limits; becomes a finding at `line`."""

    def __init__(self, code: str, message: str, hint: str, line: int | None):
        super().__init__(message)
        self.code, self.message, self.hint, self.line = code, message, hint, line

    def finding(self, filename: str) -> Finding:
        return Finding(code=self.code, message=self.message, hint=self.hint, origin=Origin(filename, self.line))


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops at MAX_DEPTH: PyYAML's composer recurses once per level of nesting."""

    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _too_deep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _compose(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def read_text(path: Path, *, what: str = "spec") -> str:
    """The text of a YAML file, read with a bound (/dev/zero or a huge file must not exhaust memory)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise TfgenError(f"{path}: no such {what} file; give the path of a fleet YAML file") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise TfgenError(f"{path}: cannot read the {what} ({exc.strerror or exc}); give a UTF-8 YAML file") from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError([too_large(str(path), data.count(b"\n", 0, MAX_SPEC_BYTES) + 1)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TfgenError(f"{path}:{line}: cannot read the {what} ({exc}); give a UTF-8 YAML file") from None


def compose(text: str, filename: str) -> tuple[yaml.Node | None, list[Finding]]:
    """The composed node graph of `text` (None when empty), or the findings that stop it:
    syntax (SPEC001), size (SPEC006), nesting (SPEC007), alias expansion (SPEC008)."""
    if len(text) > MAX_SPEC_BYTES:
        return None, [too_large(filename, text.count("\n", 0, MAX_SPEC_BYTES) + 1)]
    try:
        root = _compose(text)
    except yaml.reader.ReaderError as exc:
        return None, [_unreadable_character(filename, text, exc)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Finding(
            code="SPEC001", message=f"not valid YAML: {problem}",
            hint="fix the YAML syntax at this line (indentation, a missing ':' or an unclosed bracket)",
            origin=Origin(filename, line))]
    except _LimitExceeded as exc:
        return None, [exc.finding(filename)]
    if root is None:
        return None, []
    problem = _expansion_problem(root)
    if problem is not None:
        return None, [problem.finding(filename)]
    return root, []


def _too_deep(line: int) -> _LimitExceeded:
    return _LimitExceeded("SPEC007", f"the spec nests deeper than {MAX_DEPTH} levels",
                          "a fleet spec nests about ten levels; close the brackets or fix the indentation here",
                          line)


def too_large(filename: str, line: int) -> Finding:
    return Finding(code="SPEC006", message=f"the spec is larger than {MAX_SPEC_BYTES // (1024 * 1024)} MiB",
                   hint="give the fleet's YAML spec file (a fleet of thousands of clusters fits in far less)",
                   origin=Origin(filename, line))


def _unreadable_character(filename: str, text: str, exc: yaml.reader.ReaderError) -> Finding:
    position = exc.position if isinstance(exc.position, int) else 0
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
    name = "a NUL byte" if code == 0 else f"the control character U+{code:04X}"
    return Finding(code="SPEC001", message=f"not valid YAML: {name} at column {column}",
                   hint="remove it: a spec is plain text (was a binary file or a mangled copy given?)",
                   origin=Origin(filename, line))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expansion_problem(root: yaml.Node) -> _LimitExceeded | None:
    """Why the tree, once aliases are expanded, is too big, too deep or endless; None when it is fine.

    Measured on the composed graph (each node once, iteratively), never by
    expanding it: a few hundred bytes of nested aliases expand to billions.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (values, depth) when expanded
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            sizes = [measured[id(c)] for c in _children(node)]
            values = min(1 + sum(v for v, _ in sizes), MAX_VALUES + 1)
            depth = 1 + max((d for _, d in sizes), default=0)
            measured[key] = (values, depth)
            if values > MAX_VALUES:
                return _LimitExceeded(
                    "SPEC008", f"aliases expand the spec to more than {MAX_VALUES:,} values",
                    "write the values out, or repeat an anchored value (*name) fewer times", node.start_mark.line + 1)
            if depth > MAX_DEPTH:
                return _too_deep(node.start_mark.line + 1)
            continue
        if key in measured:
            continue
        if key in open_:
            return _LimitExceeded("SPEC008", "an alias refers to a value that contains it: the spec never ends",
                                  "point the alias (*name) at a value outside its own anchor (&name)",
                                  node.start_mark.line + 1)
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))
    return None


def merged_pairs(node: yaml.MappingNode, bad: Callable[[yaml.Node], None]) -> list[tuple[yaml.Node, yaml.Node, bool]]:
    """A mapping's (key, value, explicit) pairs with YAML 1.1 merge keys (`<<`) resolved, in the
    order to assign them: merged first, so explicit keys override them; of several merged
    mappings the first wins. Keys keep the line they were written on."""
    merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
    explicit: list[tuple[yaml.Node, yaml.Node, bool]] = []
    for key, value in node.value:
        if key.tag != _MERGE_TAG:
            explicit.append((key, value, True))
            continue
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for source in reversed(sources):
            if isinstance(source, yaml.MappingNode):
                merged.extend((k, v, False) for k, v, _ in merged_pairs(source, bad))
            else:
                bad(source)
    return merged + explicit


def node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.ScalarNode):
        return f"the value {node.value!r}" if node.value else "nothing"
    return "a mapping"

