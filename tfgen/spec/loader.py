"""The bounded YAML loader: text -> composed node graph with line numbers, or findings.

Every YAML file tfgen reads (the spec, the allocations record beside it) is
untrusted input, so it goes through here: its size, nesting and alias
expansion are limited (a few hundred bytes of YAML aliases expand to
gigabytes), measured on the composed node graph before any of it is
expanded; YAML merge keys (`<<`) are resolved as YAML 1.1 defines them,
because readers walk nodes themselves to keep line numbers. Files are opened
non-blocking (a FIFO nobody writes to must not hang tfgen); the record is read
only from a regular file. `number_form` names the plain scalars YAML 1.1 and
1.2 readers disagree on (`0100`, `1:20`), which the spec reader refuses.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace
from pathlib import Path
from typing import Callable

import yaml

from ..errors import Finding, Origin, SpecError, TfgenError

__all__ = ["MAX_SPEC_BYTES", "MAX_DEPTH", "MAX_VALUES", "read_text", "read_yaml", "compose", "merged_pairs",
           "node_kind", "number_form", "CONSTRUCTOR"]

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

    def finding(self, filename: str, what: str) -> Finding:
        return Finding(code=self.code, message=self.message.format(what=what), hint=self.hint,
                       origin=Origin(filename, self.line))


class _Bounded(yaml.composer.Composer):
    """PyYAML's composer, stopped at MAX_DEPTH: it recurses once per level of nesting."""

    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _too_deep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Loader(_Bounded, yaml.SafeLoader):
    """PyYAML in Python: reads what PyYAML reads, and says what is wrong in PyYAML's words."""


def _libyaml_loader() -> type | None:
    """libyaml's parser for the events (iterative, in C), composed by the bounded composer above: the nodes
    are the pure loader's, a plain scalar's style None as there. None when PyYAML is built without libyaml."""
    try:
        from yaml.cyaml import CParser
    except ImportError:
        return None

    class LibyamlLoader(_Bounded, CParser, yaml.resolver.Resolver):
        def __init__(self, text: str):
            CParser.__init__(self, text)
            _Bounded.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def compose_scalar_node(self, anchor):
            node = super().compose_scalar_node(anchor)
            if node.style == "":
                node.style = None
            return node

    return LibyamlLoader


_LibyamlLoader = _libyaml_loader()


def _compose(text: str) -> yaml.Node | None:
    """The node graph of `text`, parsed by libyaml when PyYAML has it. A text libyaml refuses is read again by
    the pure loader, so what is refused, and the message, are PyYAML's on every install."""
    if _LibyamlLoader is not None:
        loader = _LibyamlLoader(text)
        try:
            return loader.get_single_node()
        except yaml.YAMLError:
            pass
        finally:
            loader.dispose()
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


class _Unreadable(Exception):
    """A file tfgen will not read as it stands (a directory, a device, no permission); `hint` says what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def _kind_of_file(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_bytes(path: Path, what: str, *, regular_only: bool) -> tuple[bytes, int]:
    """At most MAX_SPEC_BYTES + 1 bytes of `path` and its file mode. Raises FileNotFoundError or `_Unreadable`.

    Opened non-blocking, so a FIFO nobody writes to reads as empty instead of
    waiting forever; `regular_only` refuses anything but a regular file, both
    before opening it and (against a swap in between) after."""
    def refuse(mode: int) -> _Unreadable:
        if stat.S_ISDIR(mode):
            return _Unreadable(f"the {what} is a directory", f"give the path of the {what} file in it, "
                               "or move the directory out of the way")
        return _Unreadable(f"the {what} is {_kind_of_file(mode)}", f"give a regular file: tfgen reads the "
                           f"{what} whole, and a device or a pipe can be endless or block")

    try:
        if regular_only and not stat.S_ISREG(mode := path.stat().st_mode):
            raise refuse(mode)
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise _Unreadable(f"cannot read the {what} ({getattr(exc, 'strerror', None) or exc})",
                          f"give the path of a readable {what} (check its name and permissions)") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode) or (regular_only and not stat.S_ISREG(mode)):
            raise refuse(mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # opened: a pipe with a writer is waited for, as `cat` would
        chunks, size = [], 0
        while size <= MAX_SPEC_BYTES:
            chunk = os.read(fd, min(1 << 16, MAX_SPEC_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), mode
    except OSError as exc:
        raise _Unreadable(f"cannot read the {what} ({exc.strerror or exc})",
                          f"give the path of a readable {what}") from None
    finally:
        os.close(fd)


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return line, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column}"


def read_text(path: str | Path, *, what: str = "spec") -> str:
    """The text of a YAML file, read with a bound (/dev/zero or a huge file must not exhaust memory).

    Pipes are read (a spec may come from one); a FIFO that nobody writes to is
    an error, not a hang. Raises `TfgenError` (usage) or `SpecError` (SPEC006)."""
    path = Path(path)
    try:
        data, mode = _read_bytes(path, what, regular_only=False)
    except FileNotFoundError:
        raise TfgenError(f"{path}: no such {what} file; give the path of a fleet YAML file") from None
    except _Unreadable as exc:
        raise TfgenError(f"{path}: {exc.message}\n  fix: {exc.hint}") from None
    if not data and stat.S_ISFIFO(mode):
        raise TfgenError(f"{path}: the {what} is a pipe (FIFO) that nothing was written to\n"
                         f"  fix: write the {what} into it (`tfgen validate /dev/stdin < fleet.yaml`), "
                         "or give the YAML file itself")
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError([too_large(str(path), data.count(b"\n", 0, MAX_SPEC_BYTES) + 1, what)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, problem = _not_utf8(data, exc)
        raise TfgenError(f"{path}:{line}: cannot read the {what} ({problem}); give a UTF-8 YAML file") from None


def read_yaml(path: str | Path, *, what: str, code: str, hint: str) -> tuple[yaml.Node | None, list[Finding]]:
    """A YAML file tfgen keeps (the allocations record) composed with the spec's limits: its node graph
    (None when the file is missing or empty), or findings of `code` at its file:line.

    Only a regular file (or a link to one) is read. `hint` is the fix for a
    file whose content is wrong (syntax, size, nesting, aliases, encoding)."""
    path = Path(path)
    filename = str(path)
    try:
        data, _ = _read_bytes(path, what, regular_only=True)
    except FileNotFoundError:
        return None, []
    except _Unreadable as exc:
        return None, [Finding(code=code, message=exc.message, hint=exc.hint, origin=Origin(filename))]
    if len(data) > MAX_SPEC_BYTES:
        return None, [too_large(filename, data.count(b"\n", 0, MAX_SPEC_BYTES) + 1, what, code=code, hint=hint)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, problem = _not_utf8(data, exc)
        return None, [Finding(code=code, message=f"the {what} is {problem}", hint=hint, origin=Origin(filename, line))]
    return compose(text, filename, what=what, code=code, hint=hint)


def compose(text: str, filename: str, *, what: str = "spec", code: str | None = None,
            hint: str | None = None) -> tuple[yaml.Node | None, list[Finding]]:
    """The composed node graph of `text` (None when empty), or the findings that stop it:
    syntax (SPEC001), size (SPEC006), nesting (SPEC007), alias expansion (SPEC008).

    `what` names the file in messages; `code` and `hint`, when given, replace
    those codes and their fixes (the allocations record reports NET206)."""
    root, findings = _compose_checked(text, filename, what)
    if code or hint:
        findings = [replace(f, code=code or f.code, hint=hint or f.hint) for f in findings]
    return root, findings


def _compose_checked(text: str, filename: str, what: str) -> tuple[yaml.Node | None, list[Finding]]:
    if len(text) > MAX_SPEC_BYTES:
        return None, [too_large(filename, text.count("\n", 0, MAX_SPEC_BYTES) + 1, what)]
    try:
        root = _compose(text)
    except yaml.reader.ReaderError as exc:
        return None, [_unreadable_character(filename, text, exc, what)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Finding(
            code="SPEC001", message=f"not valid YAML: {problem}",
            hint="fix the YAML syntax at this line (indentation, a missing ':' or an unclosed bracket)",
            origin=Origin(filename, line))]
    except _LimitExceeded as exc:
        return None, [exc.finding(filename, what)]
    if root is None:
        return None, []
    problem = _expansion_problem(root)
    if problem is not None:
        return None, [problem.finding(filename, what)]
    return root, []


def _too_deep(line: int) -> _LimitExceeded:
    return _LimitExceeded("SPEC007", f"the {{what}} nests deeper than {MAX_DEPTH} levels",
                          "a fleet spec nests about ten levels; close the brackets or fix the indentation here",
                          line)


def too_large(filename: str, line: int, what: str = "spec", *, code: str = "SPEC006",
              hint: str = "give the fleet's YAML spec file (a fleet of thousands of clusters fits in far less)"
              ) -> Finding:
    return Finding(code=code, message=f"the {what} is larger than {MAX_SPEC_BYTES // (1024 * 1024)} MiB",
                   hint=hint, origin=Origin(filename, line))


def _unreadable_character(filename: str, text: str, exc: yaml.reader.ReaderError, what: str) -> Finding:
    position = exc.position if isinstance(exc.position, int) else 0
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
    name = "a NUL byte" if code == 0 else f"the control character U+{code:04X}"
    return Finding(code="SPEC001", message=f"not valid YAML: {name} at column {column}",
                   hint=f"remove it: a {what} is plain text (was a binary file or a mangled copy given?)",
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
                    "SPEC008", f"aliases expand the {{what}} to more than {MAX_VALUES:,} values",
                    "write the values out, or repeat an anchored value (*name) fewer times", node.start_mark.line + 1)
            if depth > MAX_DEPTH:
                return _too_deep(node.start_mark.line + 1)
            continue
        if key in measured:
            continue
        if key in open_:
            return _LimitExceeded("SPEC008", "an alias refers to a value that contains it: the {what} never ends",
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


_INT_TAG, _FLOAT_TAG, _STR_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:str"
_YAML12_OCTAL = re.compile(r"[-+]?0o[0-7]+")


def number_form(node: yaml.ScalarNode) -> tuple[str, str] | None:
    """(message, fix) when YAML 1.1 (what tfgen reads) and YAML 1.2 readers read the plain scalar `node`
    differently, so a spec would mean one thing to tfgen and another to yq, an editor or a linter; else None.

    Refused: octal-looking `0100` (1.1: 64, 1.2: 100), `0o100` (1.1: text, 1.2: 64),
    sexagesimal `1:20` (1.1: 80, 1.2: text), binary `0b101` and `1_000` (1.1: numbers, 1.2: text).
    Accepted: hex `0x10`, which both read as 16. Quoted scalars are text everywhere."""
    if node.style is not None:
        return None
    text = node.value
    if node.tag == _STR_TAG:
        if _YAML12_OCTAL.fullmatch(text):
            value = int(text.replace("0o", "", 1), 8)
            return (f"YAML 1.2 readers take {text} for the octal number {value}, tfgen (YAML 1.1) for the "
                    f"text {text!r}", f"write {value}, or quote it (\"{text}\") if it is text")
        return None
    if node.tag not in (_INT_TAG, _FLOAT_TAG):
        return None
    try:
        value = CONSTRUCTOR.construct_object(node)
    except (yaml.YAMLError, ValueError):
        return None  # `!!int x`: the reader reports the value it cannot construct (SPEC005)
    both = f"write {value}, or quote it (\"{text}\") if it is text"
    digits = text.lstrip("+-")
    if ":" in text:
        return (f"YAML 1.1 (tfgen) reads {text} as the base-60 number {value}, YAML 1.2 readers as the text "
                f"{text!r}", f"quote it (\"{text}\") if it is text, or write {value}")
    if node.tag == _INT_TAG and digits[:2] in ("0b", "0B"):
        return f"YAML 1.1 (tfgen) reads {text} as the binary number {value}, YAML 1.2 readers as text", both
    if node.tag == _INT_TAG and len(digits) > 1 and digits[0] == "0" and digits[1] not in "xX":
        plain = text.replace(digits, digits.lstrip("0_") or "0")
        return (f"YAML 1.1 (tfgen) reads {text} as the octal number {value}, YAML 1.2 readers as {plain}",
                f"write {plain} (or {value}, if octal was meant) without the leading zero, or quote it "
                f"(\"{text}\") if it is text")
    if "_" in text:
        return f"YAML 1.1 (tfgen) reads {text} as the number {value}, YAML 1.2 readers as text", both
    return None
