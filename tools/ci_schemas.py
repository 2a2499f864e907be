"""Regenerate tfgen/orchestrate/schemas/github-workflow.json: SchemaStore's GitHub Actions workflow schema, trimmed.

Source: github.com/SchemaStore/schemastore, src/schemas/json/github-workflow.json at commit COMMIT
(the last commit that changed it when this was written, 2026-06-25). Trimming drops annotations
(`description`, `markdownDescription`, `$comment`) and nothing that validates.

    python tools/ci_schemas.py                       # download the pinned commit
    python tools/ci_schemas.py --source FILE         # or trim a copy you have (e.g. `git show`)

Atlantis publishes no JSON Schema of its repo config (none in SchemaStore either), so
tfgen/orchestrate/schemas/atlantis-repo-config.json is written by hand from Atlantis's own
structs (server/core/config/raw/{repo_cfg,project,autoplan,workflow,stage,step,raw}.go); this script does not
touch it.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path

COMMIT = "7c910423df8b6b68a9ec85cd7ee5fb5d508c4953"
URL = f"https://raw.githubusercontent.com/SchemaStore/schemastore/{COMMIT}/src/schemas/json/github-workflow.json"
TARGET = Path(__file__).resolve().parent.parent / "tfgen" / "orchestrate" / "schemas" / "github-workflow.json"
ANNOTATIONS = {"description", "markdownDescription", "$comment"}
NAME_MAPS = {"properties", "definitions", "patternProperties", "$defs"}


def trim(schema):
    """`schema` without annotations; keys of `properties` and the like are names, kept whatever they are."""
    if isinstance(schema, list):
        return [trim(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept = {}
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key in NAME_MAPS and isinstance(value, dict):
            kept[key] = {name: trim(sub) for name, sub in value.items()}
        else:
            kept[key] = trim(value)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="a copy of github-workflow.json (default: download the pinned commit)")
    args = parser.parse_args()
    if args.source:
        raw = Path(args.source).read_bytes()
    else:
        with urllib.request.urlopen(URL, timeout=60) as response:
            raw = response.read()
    schema = trim(json.loads(raw))
    schema["$comment"] = f"SchemaStore/schemastore@{COMMIT} src/schemas/json/github-workflow.json, " \
                         f"annotations removed by tools/ci_schemas.py"
    TARGET.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
