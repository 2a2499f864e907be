"""Rewrite docs/spec.md's YAML reference, its table of zones and the shipped JSON Schema from the tables in code.

Usage::

    python tools/spec_reference.py

The key tables are `tfgen/spec/keys.py` (what the reader accepts, what each key
means). The text between docs/spec.md's two markers becomes one row per key, and
between its two zone markers one row per region of `tfgen/model/regions.py`; the
schema file `tfgen/spec/tfgen-fleet.schema.json` becomes `tfgen.spec.schema.render()`.
tests/test_spec_schema.py fails when either committed file differs, naming this command.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "spec.md"
BEGIN = "<!-- the table below is generated from tfgen/spec/keys.py: rewrite it with `python tools/spec_reference.py` -->\n"
END = "<!-- end of the generated YAML reference -->\n"
ZONES_BEGIN = "<!-- the table below is generated from tfgen/model/regions.py: rewrite it with `python tools/spec_reference.py` -->\n"
ZONES_END = "<!-- end of the generated table of zones -->\n"
# The key tables' docs link to sections by anchor; on the docs site some live on other pages.
PAGES = {
    "#cells-layout-cells": "cells.md",
    "#from-apply-to-gitops": "gitops.md#from-apply-to-gitops",
    "#provider-target-and-what-is-proven-how": "design.md#provider-target-and-what-is-proven-how",
    "#state-bootstrap-out_state": "output.md#state-bootstrap-out_state",
}


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
            for anchor, page in PAGES.items():
                meaning = meaning.replace(f"]({anchor})", f"]({page})")
            lines.append(f"| `{name}` | {where} | {meaning} |")
    return "\n".join(lines) + "\n"


def zones_markdown() -> str:
    """The zones tfgen uses per region, in its order: a cluster's `az_count` takes the first ones."""
    from tfgen.model.regions import REGIONS, availability_zones

    lines = ["| region | zones, in the order tfgen uses them |", "| --- | --- |"]
    lines += [f"| `{region}` | {', '.join(availability_zones(region))} |" for region in REGIONS]
    return "\n".join(lines) + "\n"


def split(text: str, begin: str = BEGIN, end: str = END) -> tuple[str, str, str]:
    """The page as (before the first marker, between the markers, from the second marker on)."""
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise SystemExit(f"{PAGE}: expected the two markers once each, in order:\n{begin}{end}")
    head, rest = text.split(begin)
    table, tail = rest.split(end)
    return head + begin, table, end + tail


def main() -> int:
    from tfgen.spec.schema import SCHEMA_FILE, render

    head, _, tail = split(PAGE.read_text())
    head, _, tail = split(head + "\n" + markdown() + "\n" + tail, ZONES_BEGIN, ZONES_END)
    PAGE.write_text(head + "\n" + zones_markdown() + "\n" + tail)
    schema = ROOT / "tfgen" / "spec" / SCHEMA_FILE
    schema.write_text(render())
    print(f"rewrote the YAML reference and the zones in {PAGE} and {schema}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
