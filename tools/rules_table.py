"""Rewrite docs/findings.md's finding-code reference from the rule registry.

Usage::

    python tools/rules_table.py

The text between the page's two markers is replaced by `tfgen rules --format
markdown` (the registry in tfgen/rules/). tests/test_registry.py fails when the
committed page differs, naming this command.
"""

from __future__ import annotations

import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "findings.md"
BEGIN = "<!-- the table below is `tfgen rules --format markdown`; rewrite it with `python tools/rules_table.py` -->\n"
END = "<!-- end of `tfgen rules --format markdown` -->\n"


def generated() -> str:
    """What the registry says the reference is."""
    from tfgen.rules import registry
    from tfgen.rules.render import listing

    known = registry()
    return listing(known.of(), list(known.retired.values()), "markdown")


def split(text: str) -> tuple[str, str, str]:
    """The page as (before the first marker, between the markers, from the second marker on)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SystemExit(f"{PAGE}: expected the two markers once each, in order:\n{BEGIN}{END}")
    head, rest = text.split(BEGIN)
    table, tail = rest.split(END)
    return head + BEGIN, table, END + tail


def main() -> int:
    head, _, tail = split(PAGE.read_text())
    PAGE.write_text(head + "\n" + generated() + "\n" + tail)
    print(f"rewrote the finding-code reference in {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
