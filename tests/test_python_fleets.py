"""Fleets built in Python are untrusted input too: whatever a script assigns (a wrong type,
None where a list goes, a NodeGroup where a Cluster goes, an environment without regions),
`tfgen.validate` returns findings and never raises; and every path the API takes may be
a `str` or a `pathlib.Path`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfgen
from tfgen.errors import Finding, Origin, Severity
from tfgen.testing import check_schemas
from tests.conftest import EXAMPLE, POOL_SPEC

_EXAMPLE_TEXT = EXAMPLE.read_text()

_WRONG = [  # made afresh for every draw: a value put in one fleet must not carry over to the next
    lambda: None, lambda: 0, lambda: -1, lambda: 2**70, lambda: 1.5, lambda: float("nan"), lambda: True,
    lambda: "", lambda: "x" * 300, lambda: "\0", lambda: "ünïcode", lambda: [], lambda: [None], lambda: {},
    lambda: {"k": None}, lambda: {1: 2}, lambda: b"bytes", object, lambda: Path("/tmp"),
    lambda: tfgen.NodeGroup(name="ng"), lambda: tfgen.Link(a="x", b="y"),
    lambda: tfgen.Reach(source="a", target="b"), lambda: tfgen.Nat.PER_AZ, lambda: tfgen.Connectivity.MESH,
    lambda: tfgen.Cluster(name="c"), lambda: tfgen.Region(name="r"), lambda: tfgen.Environment(name="e"),
    tfgen.Network, lambda: Origin("f.py", 1), lambda: {"": "not an origin"},
    lambda: ["us-east-1/hub", "us-east-2/edge"],
]
WRONG = st.sampled_from(_WRONG).map(lambda make: make())


def _objects(obj, seen=None) -> list:
    """Every model object reachable from `obj` (dataclasses, through lists and dict values)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    found = [obj] if dataclasses.is_dataclass(obj) and not isinstance(obj, (type, Origin)) else []
    items = [getattr(obj, f.name) for f in dataclasses.fields(obj)] if found else []
    for item in items:
        for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else [item]):
            if dataclasses.is_dataclass(child):
                found += _objects(child, seen)
    return found


@st.composite
def malformed_fleets(draw):
    fleet = tfgen.loads(draw(st.sampled_from([_EXAMPLE_TEXT, POOL_SPEC])), filename="fleet.yaml")
    for _ in range(draw(st.integers(1, 4))):
        objects = _objects(fleet)
        obj = objects[draw(st.integers(0, len(objects) - 1))]
        names = [f.name for f in dataclasses.fields(obj)]
        name = draw(st.sampled_from(names))
        value, current = draw(WRONG), getattr(obj, name)
        if isinstance(current, dict) and current and draw(st.booleans()):
            current[draw(st.sampled_from(sorted(current, key=str)))] = value  # a wrong thing inside a mapping
        elif isinstance(current, list) and current and draw(st.booleans()):
            current[draw(st.integers(0, len(current) - 1))] = value
        else:
            setattr(obj, name, value)
    return fleet


@pytest.mark.slow
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(malformed_fleets())
def test_validate_never_raises_on_a_fleet_built_in_python(fleet):
    findings = tfgen.validate(fleet)
    assert isinstance(findings, list) and all(isinstance(f, Finding) for f in findings), findings
    for finding in findings:
        finding.format()  # each can be printed
        finding.as_dict()


@pytest.mark.parametrize("mistake", [
    lambda f: setattr(f, "environments", None),
    lambda f: setattr(f.environment("dev"), "regions", None),
    lambda f: f.environment("dev").region("us-east-2").clusters.update(edge=tfgen.NodeGroup(name="edge")),
    lambda f: setattr(f.environment("dev"), "regions", {}),
    lambda f: setattr(f, "allocations_file", 42),
    lambda f: setattr(f, "allocations_file", [Path("x")]),
], ids=["environments None", "regions None", "a node group as cluster", "no regions", "allocations_file a number",
        "allocations_file a list"])
def test_a_malformed_python_fleet_gets_error_findings(mistake):
    fleet = tfgen.loads(POOL_SPEC, filename="fleet.yaml")
    mistake(fleet)
    findings = tfgen.validate(fleet)
    assert any(f.severity is Severity.ERROR for f in findings), [f.format() for f in findings]


@pytest.mark.parametrize("where", [None, {"": "fleet.yaml:3"}, [1]])
def test_where_holding_no_origins_is_read_as_unknown(where):
    fleet = tfgen.loads(POOL_SPEC.replace("us-east-2: {}", "us-east-9: {}"), filename="fleet.yaml")
    region = fleet.environment("dev").region("us-east-9")
    region.where = region.cluster("edge").where = where
    found = [(f.code, f.origin) for f in tfgen.validate(fleet) if f.code == "VAL131"]
    assert found == [("VAL131", None)], found  # still reported, without a line


@pytest.mark.parametrize("kind", [str, Path])
def test_every_path_the_library_takes_may_be_a_str_or_a_path(tmp_path, kind):
    spec = tmp_path / "fleet.yaml"
    spec.write_text(POOL_SPEC)
    fleet = tfgen.load(kind(spec))
    fleet.allocations_file = kind(tmp_path / "record.yaml")
    result = tfgen.build(fleet, out=kind(tmp_path / "out"))
    assert result.out == tmp_path / "out" and (tmp_path / "out" / "dev" / "network.tf.json").is_file()
    assert "us-east-2/edge" in (tmp_path / "record.yaml").read_text()
    tfgen.build(fleet, out=kind(tmp_path / "out"), check=True)
    assert {v: p for v, p in check_schemas(kind(tmp_path / "out" / "dev"), ["6.25.0"]).items()} == {"6.25.0": []}
