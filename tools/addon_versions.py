"""Regenerate tfgen's table of EKS add-on versions from `aws eks describe-addon-versions`.

Usage::

    python tools/addon_versions.py RESPONSE.json [RESPONSE.json ...]   # recorded responses
    python tools/addon_versions.py --aws [--region us-east-1]           # asks the AWS CLI (credentials needed)

A response is what `aws eks describe-addon-versions --output json` prints (the
CLI joins the pages) or one raw page of the API (`nextToken` set: pass every
page). For each add-on tfgen manages and each Kubernetes minor of the EKS
calendar, the row becomes the `addonVersion` whose `compatibilities` flag
`defaultVersion` for that minor (its `clusterVersion`), else the newest
version compatible with it, sorted by (major, minor, patch, eksbuild). Rows the
responses say nothing about are kept as they were; a minor with no row at all
gets a gap. The table is rewritten in place (`tfgen/model/addon_versions.json`)
with the responses as the source of every row they gave.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any, Iterable

TABLE = Path(__file__).resolve().parent.parent / "tfgen" / "model" / "addon_versions.json"
_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)-eksbuild\.(\d+)")


def version_key(version: str) -> tuple[int, ...]:
    """(major, minor, patch, eksbuild) of `v1.20.5-eksbuild.1`; a version not shaped so sorts first."""
    match = _VERSION.fullmatch(version)
    return tuple(int(part) for part in match.groups()) if match else (-1,)


def read_responses(texts: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Every add-on's versions (`addonVersions` entries) across responses and pages, by add-on name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for text in texts:
        for addon in json.loads(text).get("addons") or []:
            found.setdefault(addon["addonName"], []).extend(addon.get("addonVersions") or [])
    return found


def select(versions: list[dict[str, Any]], minor: str) -> tuple[str, str] | None:
    """(version, basis) for Kubernetes `minor`: the default flagged for that minor, else the newest compatible."""
    compatible = []
    for entry in versions:
        for compatibility in entry.get("compatibilities") or []:
            if compatibility.get("clusterVersion") != minor:
                continue
            if compatibility.get("defaultVersion") is True:
                return entry["addonVersion"], "default"
            compatible.append(entry["addonVersion"])
    return (max(compatible, key=version_key), "newest") if compatible else None


def regenerate(table: dict[str, Any], responses: dict[str, list[dict[str, Any]]], addons: Iterable[str],
               minors: Iterable[str], source: str, described: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The table with every row the responses give replaced (their source `source`, described by `described`),
    a gap for each add-on and minor with no row, and the sources no row names dropped; and what changed."""
    old = {(r["addon"], r["kubernetes"]): r for r in table["rows"]}
    new, changed = {}, []
    for addon in addons:
        for minor in minors:
            chosen = select(responses.get(addon, []), minor)
            before = old.get((addon, minor))
            if chosen is not None:
                version, basis = chosen
                new[addon, minor] = {"addon": addon, "kubernetes": minor, "version": version, "basis": basis,
                                     "source": source, "note": None}
            elif before is not None:
                new[addon, minor] = before
            else:
                new[addon, minor] = {"addon": addon, "kubernetes": minor, "version": None, "basis": None,
                                     "source": None, "note": "no version in the responses read"}
            if (before or {}).get("version") != new[addon, minor]["version"]:
                changed.append(f"{addon} {minor}: {(before or {}).get('version')} -> {new[addon, minor]['version']}")
    kept = [r for key, r in old.items() if key not in new]  # add-ons or minors tfgen no longer lists
    ordered = sorted([*new.values(), *kept], key=lambda r: (r["addon"], _minor_key(r["kubernetes"])))
    sources = {**table["sources"], source: described}
    named = {r["source"] for r in ordered}
    return {**table, "sources": {k: v for k, v in sorted(sources.items()) if k in named}, "rows": ordered}, changed


def _minor_key(minor: str) -> tuple[int, ...]:
    return tuple(int(part) for part in minor.split(".") if part.isdigit())


def render(table: dict[str, Any]) -> str:
    """The table as committed: the header keys indented, then one row per line (reviewable diffs)."""
    head = json.dumps({k: v for k, v in table.items() if k != "rows"}, indent=1, sort_keys=True)
    rows = ",\n  ".join(json.dumps(r, sort_keys=True) for r in table["rows"])
    return head[:-2] + ',\n "rows": [\n  ' + rows + "\n ]\n}\n"


def from_aws(addons: Iterable[str], region: str | None) -> list[str]:
    """One `aws eks describe-addon-versions --addon-name NAME` response per add-on (the CLI joins pages)."""
    texts = []
    for addon in addons:
        command = ["aws", "eks", "describe-addon-versions", "--addon-name", addon, "--output", "json"]
        command += ["--region", region] if region else []
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.strip()}\n"
                             "fix: configure AWS credentials (aws configure), or pass recorded responses")
        texts.append(done.stdout)
    return texts


def main(argv: list[str] | None = None) -> int:
    from tfgen.model import ADDONS
    from tfgen.model.kubernetes import EKS_VERSIONS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("responses", nargs="*", type=Path, help="recorded describe-addon-versions JSON")
    parser.add_argument("--aws", action="store_true", help="ask the AWS CLI instead of reading files")
    parser.add_argument("--region", help="the region the AWS CLI asks (default: its own)")
    parser.add_argument("--table", type=Path, default=TABLE, help=f"the table to rewrite (default: {TABLE})")
    parser.add_argument("--date", default=date.today().isoformat(), help="the date the responses were read")
    args = parser.parse_args(argv)
    if args.aws == bool(args.responses):
        parser.error("give recorded responses or --aws, not both or neither")
    if args.aws:
        texts, where = from_aws(ADDONS, args.region), f"AWS CLI, region {args.region or 'of the CLI profile'}"
    else:
        texts, where = [p.read_text() for p in args.responses], ", ".join(p.name for p in args.responses)
    source = f"describe-addon-versions-{args.date}"
    described = {"what": "aws eks describe-addon-versions: per minor, the version flagged defaultVersion for it, "
                         "else the newest compatible one", "where": where, "date": args.date}
    table = json.loads(args.table.read_text())
    table, changed = regenerate(table, read_responses(texts), ADDONS, list(EKS_VERSIONS), source, described)
    args.table.write_text(render(table))
    gaps = sum(1 for r in table["rows"] if r["version"] is None)
    print(f"rewrote {args.table}: {len(changed)} row(s) changed, {gaps} gap(s)", file=sys.stderr)
    for line in changed:
        print(f"  {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
