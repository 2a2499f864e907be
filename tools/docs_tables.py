"""Rewrite the tables of docs/ that restate tables in code, so no user has to read a source file for them.

Usage::

    python tools/docs_tables.py

Each table sits between two markers on its page (`TABLES`: page, name, generator). tests/test_docs.py
fails when a committed page differs, naming this command. The spec's key reference and zones are
tools/spec_reference.py's; the finding codes are tools/rules_table.py's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

DOCS = Path(__file__).resolve().parent.parent / "docs"


def provider_features() -> str:
    """Each resource type or argument the output may use above the oldest provider, with the release it needs."""
    from tfgen.providers.features import FEATURES

    lines = ["| resource type or argument | provider release | what |", "| --- | --- | --- |"]
    lines += [f"| `{feature.key}` | {feature.since} | {feature.what} |" for feature in FEATURES]
    return "\n".join(lines) + "\n"


def sandbox_double() -> str:
    """What the sandbox's copy leaves out (no API in the double) and what it works around, per resource type."""
    from tfgen.sandbox.quirks import QUIRKS, UNSUPPORTED

    lines = ["| resource type | in the sandbox's copy | why |", "| --- | --- | --- |"]
    lines += [f"| `{type_}` | left out, listed in the report | {why} |" for type_, why in sorted(UNSUPPORTED.items())]
    lines += [f"| `{type_}` | {quirk.what} | {quirk.reason} |" for type_, quirk in sorted(QUIRKS.items())]
    return "\n".join(lines) + "\n"


TABLES: tuple[tuple[str, str, Callable[[], str]], ...] = (
    ("design.md", "provider features", provider_features),
    ("sandbox.md", "the double's gaps", sandbox_double),
)


def markers(name: str) -> tuple[str, str]:
    return (f"<!-- the table below ({name}) is generated: rewrite it with `python tools/docs_tables.py` -->\n",
            f"<!-- end of the generated table ({name}) -->\n")


def split(page: str, name: str) -> tuple[str, str, str]:
    """The page's text as (up to the first marker, between the markers, from the second marker on)."""
    begin, end = markers(name)
    text = (DOCS / page).read_text()
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise SystemExit(f"{DOCS / page}: expected the two markers once each, in order:\n{begin}{end}")
    head, rest = text.split(begin)
    table, tail = rest.split(end)
    return head + begin, table, end + tail


def main() -> int:
    for page, name, generate in TABLES:
        head, _, tail = split(page, name)
        (DOCS / page).write_text(head + "\n" + generate() + "\n" + tail)
        print(f"rewrote {name} in {DOCS / page}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
