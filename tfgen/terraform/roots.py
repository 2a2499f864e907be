"""THE reader of Terraform JSON root modules (`*.tf.json`), generated or hand-edited.

Every root is read by `read_root` (a directory) or `documents_root` (documents
built in memory, such as `tfgen.emit`'s) into a `tfgen.terraform.index.Root`,
the one index everything else asks. The files are untrusted: a root may hold a link to
`/dev/zero`, a FIFO, a 2 GB file, 10,000 nested arrays or Latin-1 text. So:

- only regular files are read (`lstat`, `O_NOFOLLOW | O_NONBLOCK`, then `fstat`):
  a link, FIFO or device is refused without being opened for reading, so
  nothing blocks and nothing is endless;
- each file is at most `MAX_FILE_BYTES`, a root at most `MAX_ROOT_BYTES` and
  `MAX_FILES` files; JSON at most `MAX_DEPTH` deep; text is UTF-8;
- `*_override.tf.json` files are skipped (offline-only overrides, never a user's root).

Terraform JSON allows a block type's value, at each label level, to be an
object or an array of objects (`"resource": [{"aws_vpc": {...}}]`,
`"provider": {"aws": [{...}, {...}]}`). `read_root` normalises every file once
into one canonical shape (`Root.documents`): `resource`/`data` as
`{type: {name: body}}`, `output`/`variable`/`module` as `{name: body}`,
`provider` as `{name: [body, ...]}`, `terraform`/`locals`/... as `[body, ...]`;
and indexes resources, providers and outputs by address. Every problem is a
`RootProblem` naming the file (and line where JSON gives one); none raises.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any, Mapping

from .index import REBUILD, Block, Root, RootProblem

__all__ = ["MAX_FILE_BYTES", "MAX_ROOT_BYTES", "MAX_FILES", "MAX_DEPTH", "MAX_TREE_ENTRIES", "SUFFIX",
           "OVERRIDE_SUFFIX", "read_bytes", "parse_json", "read_root", "documents_root", "as_root",
           "root_directories"]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ROOT_BYTES = 64 * 1024 * 1024
MAX_FILES = 512
# Generated roots nest about 12 deep (resource/type/name/body/block/...); 64 leaves room for hand edits.
MAX_DEPTH = 64
MAX_TREE_ENTRIES = 100_000
SUFFIX = ".tf.json"
OVERRIDE_SUFFIX = "_override.tf.json"
# Block types of Terraform's language and how many labels each has.
LABELS = {"resource": 2, "data": 2, "provider": 1, "output": 1, "variable": 1, "module": 1, "check": 1,
          "locals": 0, "terraform": 0, "moved": 0, "import": 0, "removed": 0}
_ONE_PER_NAME = {"resource", "data", "output", "variable", "module", "check"}


class _Unreadable(ValueError):
    """One file cannot be used; carries the line where there is one."""

    def __init__(self, message: str, line: int | None = None, fix: str = ""):
        super().__init__(message)
        self.line, self.fix = line, fix


# -- reading one file -----------------------------------------------------------------


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def read_bytes(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; raises OSError or ValueError (a link, FIFO,
    device, too big) without following links or blocking."""
    path = os.fspath(path)
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise ValueError(f"is {_kind(mode)}, not a regular file")
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):  # swapped between lstat and open
            raise ValueError(f"is {_kind(mode)}, not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"is larger than {limit} bytes")
    return data


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """UTF-8 JSON of at most `max_depth` nested arrays and objects; raises `ValueError` with `.line` set
    (None when unknown) on anything else."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable("is not UTF-8 text", data[:exc.start].count(b"\n") + 1,
                          "save it as UTF-8") from None
    return _parse_text(text, max_depth)


def _parse_text(text: str, max_depth: int) -> Any:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"is not valid JSON ({exc.msg})", exc.lineno) from None
    except RecursionError:
        raise _Unreadable(f"nests arrays and objects deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise _Unreadable(f"is not valid JSON ({exc})") from None
    if _depth_over(value, max_depth):
        raise _Unreadable(f"nests arrays and objects deeper than {max_depth} levels")
    if _SURROGATE_ESCAPE.search(text):
        try:  # a \ud800-style escape decodes to a lone surrogate, which no UTF-8 output can print
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _Unreadable("holds a \\u escape of a lone UTF-16 surrogate, which is no text") from None
    return value


_SURROGATE_ESCAPE = re.compile(r"\\[uU][dD][89a-fA-F]")


def _depth_over(value: Any, limit: int) -> bool:
    def deeper(item: dict | list, depth: int) -> bool:  # recurses at most `limit` deep: it stops past it
        if depth > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, (dict, list)) and deeper(child, depth + 1):
                return True
        return False

    return isinstance(value, (dict, list)) and deeper(value, 1)


# -- Terraform JSON's shapes ------------------------------------------------------------


def _objects(value: Any, where: tuple[str, ...]) -> list[dict]:
    """An object, or each object of an array of objects (Terraform JSON allows both at every level)."""
    if isinstance(value, dict):
        return [value]
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict):
            raise _Unreadable(f"{'.'.join(where)} must be an object or an array of objects, not {_json_kind(item)}",
                              fix="write the block as {...} or [{...}]")
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a bool"
    if value is None:
        return "null"
    return {str: "a string", int: "a number", float: "a number", list: "an array"}.get(type(value), "an object")


def _blocks(value: Any, labels: int, where: tuple[str, ...], found: list) -> list[tuple[tuple[str, ...], dict]]:
    """`found` extended with `(labels, body)` of every block under `value`, in the document's order."""
    if len(where) - 1 == labels:
        found.extend((where[1:], body) for body in _objects(value, where))
        return found
    last = len(where) == labels  # the keys of this level are the last labels: each names a body
    for level in _objects(value, where):
        for key, inner in level.items():
            if key == "//":  # a comment in Terraform JSON
                continue
            if last and isinstance(inner, dict):
                found.append((where[1:] + (key,), inner))
            else:
                _blocks(inner, labels, where + (key,), found)
    return found


def _normalise(document: Any) -> dict:
    if not isinstance(document, dict):
        raise _Unreadable(f"holds {_json_kind(document)}, not a JSON object of Terraform blocks",
                          fix="write an object such as {\"resource\": {...}}")
    canonical: dict[str, Any] = {}
    for block_type, value in document.items():
        if block_type == "//":
            continue
        if block_type not in LABELS:
            raise _Unreadable(f"has an unknown block type {block_type!r}",
                              fix=f"use one of {', '.join(sorted(LABELS))}")
        labels = LABELS[block_type]
        for names, body in _blocks(value, labels, (block_type,), []):
            if labels == 0:
                canonical.setdefault(block_type, []).append(body)
            elif block_type == "provider":
                canonical.setdefault("provider", {}).setdefault(names[0], []).append(body)
            else:
                table = canonical.setdefault(block_type, {})
                for name in names[:-1]:
                    table = table.setdefault(name, {})
                if names[-1] in table:
                    raise _Unreadable(f"declares {block_type} {'.'.join(names)} twice",
                                      fix="keep one block per name")
                table[names[-1]] = body
    return canonical


def _index(root: Root, file: str, canonical: dict) -> None:
    resources = [Block(f"{'data.' if kind == 'data' else ''}{type_}.{name}", body, file, kind, type_, name)
                 for kind in ("resource", "data") for type_, named in canonical.get(kind, {}).items()
                 for name, body in named.items()]
    outputs = [Block(f"output.{name}", body, file, "output", "output", name)
               for name, body in canonical.get("output", {}).items()]
    for block, table in [(b, root.resources) for b in resources] + [(b, root.outputs) for b in outputs]:
        key = block.name if table is root.outputs else block.address
        if key in table:
            raise _Unreadable(f"declares {block.address}, already declared in {table[key].file}",
                              fix="keep one block per address")
    root.resources.update((b.address, b) for b in resources)
    root.outputs.update((b.name, b) for b in outputs)
    for name, bodies in canonical.get("provider", {}).items():
        for body in bodies:
            alias = body.get("alias")
            alias = alias if isinstance(alias, str) else "default"
            root.providers.append(Block(f"provider.{name}.{alias}", body, file, "provider", name, alias))
    root.terraform.extend(Block("terraform", body, file, "terraform") for body in canonical.get("terraform", []))


def _add(root: Root, file: str, document: Any) -> None:
    canonical = _normalise(document)
    _index(root, file, canonical)
    root.documents[file] = canonical


# -- reading a root ----------------------------------------------------------------------


def read_root(directory: str | Path) -> Root:
    """Every `*.tf.json` of `directory` (not `*_override.tf.json`), read within bounds and normalised;
    never raises for a file's content: each bad file is a `RootProblem` in `Root.problems`."""
    directory = Path(directory)
    root = Root(directory=directory)
    try:
        names = sorted(e.name for e in os.scandir(directory)
                       if e.name.endswith(SUFFIX) and not e.name.endswith(OVERRIDE_SUFFIX))
    except OSError as exc:
        root.problems.append(RootProblem(str(directory), None, f"cannot be listed ({exc.strerror or exc})",
                                         "give a directory of *.tf.json files"))
        return root
    if len(names) > MAX_FILES:
        root.problems.append(RootProblem(str(directory), None, f"holds {len(names)} *.tf.json files, more than "
                                         f"{MAX_FILES}", "split the root"))
        return root
    total = 0
    for name in names:
        path = directory / name
        try:
            data = read_bytes(path)
            total += len(data)
            if total > MAX_ROOT_BYTES:
                raise _Unreadable(f"brings the root's *.tf.json files past {MAX_ROOT_BYTES // 2 ** 20} MiB",
                                  fix="split the root")
            _add(root, name, parse_json(data))
            root.texts[name] = data.decode("utf-8")
        except _Unreadable as exc:
            root.problems.append(RootProblem(str(path), exc.line, str(exc), exc.fix or REBUILD))
        except ValueError as exc:
            root.problems.append(RootProblem(str(path), None, str(exc), "replace it with a regular file that "
                                             "`tfgen build` wrote, or remove it"))
        except OSError as exc:
            root.problems.append(RootProblem(str(path), None, f"cannot be read ({exc.strerror or exc})",
                                             "check that the file exists and is readable"))
    return root


def documents_root(documents: Mapping[str, Any], *, emitted: bool = False) -> Root:
    """A `Root` from `{file name: parsed document}` (a root built in memory), normalised the same way.
    `emitted`: the documents are tfgen's own emission, whose nesting the emitters bound, so it is not measured
    again (documents from anywhere else are held to MAX_DEPTH, as files are)."""
    root = Root(directory=None)
    for name in sorted(documents):
        try:
            if not emitted and _depth_over(documents[name], MAX_DEPTH):
                raise _Unreadable(f"nests arrays and objects deeper than {MAX_DEPTH} levels")
            _add(root, name, documents[name])
        except _Unreadable as exc:
            root.problems.append(RootProblem(name, exc.line, str(exc), exc.fix or REBUILD))
    return root


def as_root(root: Root | Mapping[str, Any]) -> Root:
    """`root` itself when it is an index already, else the index of its `{file name: document}`."""
    return root if isinstance(root, Root) else documents_root(root)


def root_directories(out: str | Path) -> list[Path]:
    """Every directory under `out` (itself included) holding a non-override `*.tf.json` entry of any kind,
    without following links or entering `.terraform/`; raises ValueError past `MAX_TREE_ENTRIES` entries."""
    found, seen = [], 0
    for directory, subdirectories, files in os.walk(out, followlinks=False):
        seen += len(subdirectories) + len(files)
        if seen > MAX_TREE_ENTRIES:
            raise ValueError(f"{out} holds more than {MAX_TREE_ENTRIES} files and directories")
        subdirectories[:] = sorted(d for d in subdirectories if d != ".terraform")
        entries = files + [d for d in subdirectories if d.endswith(SUFFIX)]
        if any(n.endswith(SUFFIX) and not n.endswith(OVERRIDE_SUFFIX) for n in entries):
            found.append(Path(directory))
    return sorted(found)
