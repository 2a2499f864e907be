"""Rewrite README.md's YAML reference and the shipped JSON Schema from the spec's key tables.

Usage::

    python tools/spec_reference.py

The key tables are `tfgen/spec/keys.py` (what the reader accepts, what each key
means). The text between README's two markers becomes one row per key; the
schema file `tfgen/spec/tfgen-fleet.schema.json` becomes `tfgen.spec.schema.render()`.
tests/test_spec_schema.py fails when either committed file differs, naming this command.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN = "<!-- the table below is generated from tfgen/spec/keys.py: rewrite it with `python tools/spec_reference.py` -->\n"
END = "<!-- end of the generated YAML reference -->\n"


def markdown() -> str:
    """The reference table: one row per key, where it may be written, what it means."""
    from tfgen.spec.keys import TABLES

    lines = ["| key | where | meaning |", "| --- | --- | --- |"]
    listed: set[int] = set()
    for table in TABLES:
        for name, key in table.keys.items():
            if id(key) in listed:
                continue
            holders = [t for t in TABLES if t.keys.get(name) is key]
            holders = [t for t in holders if t.extends not in holders]  # the hub's cluster keys are the cluster's
            if table not in holders:
                continue  # listed with the table it belongs to
            listed.add(id(key))
            where = ", ".join(t.where + (" (required)" if name in t.required else "") for t in holders)
            meaning = key.doc.replace("|", "\\|")
            lines.append(f"| `{name}` | {where} | {meaning} |")
    return "\n".join(lines) + "\n"


def split(text: str) -> tuple[str, str, str]:
    """README as (before the first marker, between the markers, from the second marker on)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SystemExit(f"{README}: expected the two markers once each, in order:\n{BEGIN}{END}")
    head, rest = text.split(BEGIN)
    table, tail = rest.split(END)
    return head + BEGIN, table, END + tail


def main() -> int:
    from tfgen.spec.schema import SCHEMA_FILE, render

    head, _, tail = split(README.read_text())
    README.write_text(head + "\n" + markdown() + "\n" + tail)
    schema = ROOT / "tfgen" / "spec" / SCHEMA_FILE
    schema.write_text(render())
    print(f"rewrote the YAML reference in {README} and {schema}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
