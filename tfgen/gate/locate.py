"""Where a resource, provider or output is: `file:line` in a root read by `tfgen.terraform.roots`."""

from __future__ import annotations

import re
from pathlib import Path

from ..terraform.index import Root

_KEY = re.compile(r'^(\s*)"([^"]+)"\s*:\s*[\[{]')
_ALIAS = re.compile(r'^\s*"alias"\s*:\s*"([^"]+)"')


class Locator:
    """Finds `type.name` addresses in a root's pretty-printed `*.tf.json` files.

    The addresses come from the root's canonical view (every Terraform JSON shape);
    the lines from one pass over each file's text that records every key with its
    enclosing key, so each question afterwards is a lookup: a gate over N resources stays O(N)."""

    def __init__(self, root: Root):
        self.root = root
        directory = root.directory.resolve()
        self.lines: dict[Path, list[str]] = {directory / name: text.splitlines() for name, text in root.texts.items()}
        self._keys: dict[Path, dict[tuple[str | None, str], int]] = {}
        self._parents: dict[Path, dict[int, str | None]] = {}
        for path, lines in self.lines.items():
            self._index(path, lines)
        self.addresses: dict[str, tuple[Path, int | None]] = {}
        for address, block in root.resources.items():
            path = directory / block.file
            type_, name = address.removeprefix("data.").split(".", 1)
            self.addresses[address] = (path, self.line_in(path, type_, name))
        for name, block in root.outputs.items():
            path = directory / block.file
            self.addresses[block.address] = (path, self.line_in(path, "output", name))

    def _index(self, path: Path, lines: list[str]) -> None:
        keys: dict[tuple[str | None, str], int] = {}
        parents: dict[int, str | None] = {}
        stack: list[tuple[int, str]] = []  # (indent, key) of the blocks open at this line
        for number, line in enumerate(lines, 1):
            match = _KEY.match(line)
            if not match:
                continue
            indent, key = len(match.group(1)), match.group(2)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parent = stack[-1][1] if stack else None
            parents[number] = parent
            keys.setdefault((parent, key), number)
            stack.append((indent, key))
        self._keys[path] = keys
        self._parents[path] = parents

    def line_in(self, path: Path, parent: str, key: str) -> int | None:
        """The line where block `key` opens inside block `parent` (else where `parent` opens)."""
        keys = self._keys.get(path, {})
        line = keys.get((parent, key))
        if line is None:
            line = next((n for (_, k), n in keys.items() if k == parent), None)
        return line

    def alias_at(self, path: Path, line: int) -> str | None:
        """The `alias` of the provider block starting at `line`."""
        for text in self.lines.get(path, [])[line - 1: line + 30]:
            match = _ALIAS.match(text)
            if match:
                return match.group(1)
            if text.strip().startswith("}"):
                return None
        return None

    def type_at(self, path: Path, line: int) -> str | None:
        """The resource type whose block encloses `line` (checkov reports Python-check results as `resource.<name>`)."""
        return self._parents.get(path, {}).get(line)
