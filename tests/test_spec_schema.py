"""The spec's JSON Schema: generated from the reader's key tables, shipped and printed by `tfgen schema`,
accepting every example and valid spec, refusing every shape error `tfgen validate` reports but those listed
here with why (the schema sees one value at a time), and docs/spec.md's YAML reference generated from the same
tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

from tfgen.cli import main
from tfgen.spec.keys import CLUSTER, TABLES, TOP, Table
from tfgen.spec.reader import Reader
from tfgen.spec.schema import SCHEMA_ID, generate, render, shipped
from tests.conftest import ROOT
from tests.test_bad_specs import CORPUS

sys.path.insert(0, str(ROOT / "tools"))
import spec_reference  # noqa: E402

sys.path.remove(str(ROOT / "tools"))

VALIDATOR = jsonschema.Draft202012Validator(json.loads(shipped()))
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if not p.name.endswith(".allocations.yaml"))
GOOD = sorted((ROOT / "tests" / "good_specs").glob("*.yaml"))
REGENERATE = "run `python tools/spec_reference.py` and commit what it rewrites"

# Shape findings the schema cannot see, and why. A bad spec whose only shape findings are these is one the
# schema accepts (or has no document for); every other shape finding must make it refuse the spec.
READER_ONLY = {
    "SPEC001": "not YAML: no document to validate (an editor's YAML parser reports it)",
    "SPEC004": "a key written twice: YAML keeps the last, the loaded document has it once",
    "SPEC005": "a value YAML cannot construct (a tag such as !Ref): the document holds its text",
    "SPEC006": "size limit: the reader stops before loading",
    "SPEC007": "nesting limit: the reader stops before loading",
    "SPEC008": "alias expansion limit: the reader stops before loading",
    "SPEC009": "`<<` merging a non-mapping: the loaded document just lacks the merge",
    "SPEC015": "two clusters of one name in a region: the hub's `name` against an edge's key, two places",
    "SPEC016": "numbers YAML 1.1 and 1.2 read differently (0100, 1:20): the loaded document holds one reading",
}
# Bad specs the schema refuses though validate reports no shape finding it can see: mostly values outside a
# closed set, which the schema lists as `enum` for editors to offer. Every other value finding (CIDR overlaps,
# a region's zones, names AWS refuses, one hub per environment, ...) needs more than a value's type: the
# schema accepts those specs.
SCHEMA_ALSO_REFUSES = {
    "vpc-prefix-yaml12-octal": "YAML 1.1 (how tfgen loads) reads 0o20 as text, and vpc_prefix is an integer",
    "bad-nat": "nat is single or per_az",
    "gitops-argocd-unknown": "argocd is self-managed, managed or none",
    "layout-unknown": "layout is environment or cells",
    "unknown-connectivity": "connectivity is hub-and-spoke, mesh or transit-gateway",
}


def _document(path: Path):
    """The spec as the reader loads it (merge keys resolved, keys as strings), and whether it could be loaded."""
    reader = Reader(str(path))
    data = reader.parse(path.read_text(errors="replace"))
    loaded = not any(f.code in ("SPEC001", "SPEC006", "SPEC007", "SPEC008") for f in reader.findings)
    return data, loaded


def _error_codes(path: Path, capsys) -> set[str]:
    main(["validate", str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    findings = report["fleet"] + [f for fs in report["environments"].values() for f in fs]
    return {f["code"] for f in findings if f["severity"] == "error"}


# -- generated, shipped, printed ---------------------------------------------------------------------------

def test_the_shipped_schema_is_generated_from_the_key_tables():
    assert shipped() == render(), f"tfgen/spec/tfgen-fleet.schema.json is stale: {REGENERATE}"


def test_docs_yaml_reference_is_generated_from_the_key_tables():
    _, committed, _ = spec_reference.split((ROOT / "docs" / "spec.md").read_text())
    assert committed.strip("\n") == spec_reference.markdown().strip("\n"), f"docs/spec.md's YAML reference is stale: {REGENERATE}"


def test_docs_table_of_zones_is_generated_from_the_regions_table():
    text = (ROOT / "docs" / "spec.md").read_text()
    _, committed, _ = spec_reference.split(text, spec_reference.ZONES_BEGIN, spec_reference.ZONES_END)
    assert committed.strip("\n") == spec_reference.zones_markdown().strip("\n"), f"docs/spec.md's zones are stale: {REGENERATE}"
    assert "| `us-west-1` | us-west-1b, us-west-1c |" in committed  # the letters accounts can use, not a..n


def test_the_schema_is_draft_2020_12_and_describes_every_key():
    schema = generate()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert (schema["$schema"], schema["$id"]) == ("https://json-schema.org/draft/2020-12/schema", SCHEMA_ID)
    undescribed = [f"{table.name}.{name}" for table in TABLES for name, key in table.keys.items() if not key.doc]
    assert undescribed == []
    assert set(schema["$defs"]) == {t.name for t in TABLES if t is not TOP}, "a table the schema does not define"


def test_tfgen_schema_prints_the_shipped_schema(capsys):
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == shipped()
    assert json.loads(printed)["$id"] == SCHEMA_ID


def test_the_schemastore_entry_points_at_the_schema():
    entry = json.loads((ROOT / "tools" / "schemastore" / "catalog-entry.json").read_text())
    assert sorted(entry) == ["description", "fileMatch", "name", "url"]
    assert entry["url"] == SCHEMA_ID
    assert all(match.endswith((".yaml", ".yml")) for match in entry["fileMatch"]), entry["fileMatch"]


# -- what it accepts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES + GOOD, ids=[p.name for p in EXAMPLES + GOOD])
def test_the_schema_accepts_every_example_and_valid_spec(path, capsys):
    assert _error_codes(path, capsys) == set(), f"{path.name} is no valid spec"
    data, _ = _document(path)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)]
    assert errors == [], path.name


def _paths(data, table: Table, seen: set[tuple[str, str]]) -> None:
    """Every (table, key) `data` writes, walking the tables as the schema does."""
    if not isinstance(data, dict):
        return
    for name, value in data.items():
        if name not in table.keys:
            continue
        seen.add((table.name, name))
        key = table.keys[name]
        if key.table is None:
            continue
        members = (value.values() if key.named or key.kind == "node_groups" else
                   value if key.kind == "list" else [value]) if value else []
        for member in members:
            _paths(member, key.table, seen)


def test_the_valid_spec_writes_every_key_the_reader_knows():
    data, _ = _document(ROOT / "tests" / "good_specs" / "every-key.yaml")
    seen: set[tuple[str, str]] = set()
    _paths(data, TOP, seen)
    def cluster_key(table: str, name: str) -> tuple[str, str]:
        """The hub and a region hold every cluster key: written once under any of the three is enough."""
        return ("cluster", name) if table in ("hub", "region") and name in CLUSTER.keys else (table, name)

    reachable = {cluster_key(t.name, name) for t in TABLES for name in t.keys}
    written = {cluster_key(*key) for key in seen}
    assert sorted(reachable - written) == [], "add these keys to tests/good_specs/every-key.yaml"


# -- what it refuses ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", CORPUS, ids=[p.stem for p in CORPUS])
def test_the_schema_refuses_what_validate_reports_as_shape_errors(source, capsys):
    codes = _error_codes(source, capsys)
    shape = {c for c in codes if c.startswith("SPEC")}
    data, loaded = _document(source)
    if not loaded:
        assert shape <= set(READER_ONLY), f"{source.name}: {sorted(shape - set(READER_ONLY))} unexplained"
        return
    expected = bool(shape - set(READER_ONLY)) or source.stem in SCHEMA_ALSO_REFUSES
    refused = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:120]}" for e in VALIDATOR.iter_errors(data)]
    assert bool(refused) == expected, (
        f"{source.name} ({', '.join(sorted(codes))}): the schema {'refuses' if refused else 'accepts'} it: "
        f"{refused[:3]}; list an intended difference in READER_ONLY or SCHEMA_ALSO_REFUSES, with why")


def test_the_lists_of_differences_name_real_codes_and_specs(capsys):
    from tfgen.rules import registry

    assert set(READER_ONLY) <= set(registry().rules)
    assert set(SCHEMA_ALSO_REFUSES) <= {p.stem for p in CORPUS}
