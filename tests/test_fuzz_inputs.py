"""Fuzzing the two YAML inputs tfgen reads, the spec and the allocations record, through
`tfgen validate` in-process: mutations of the example spec and of a good record (truncations,
byte flips, deep nesting, unicode, huge and disputed numbers). Whatever the input, the exit
status is 0, 1 or 2, nothing raises, the output names the file, and `--format json` agrees
with the exit status. Bounded (FUZZ_EXAMPLES, default 40 per surface) to a few seconds."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfgen.cli import main
from tfgen.spec.allocations import render_allocations
from tests.conftest import EXAMPLE, POOL_SPEC

BUDGET = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=BUDGET, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SPEC_TEXT = EXAMPLE.read_bytes()
RECORD_TEXT = render_allocations({"dev": {"us-east-1/hub": "10.0.0.0/16", "us-east-2/edge": "10.1.0.0/16"}})
_INSERTS = [b"[" * 60, b"{a: " * 60, b"&a [x]", b"*a", b"<<: *a", b"\n  - ", b": ", b"9" * 400, b"1e999", b"-.inf",
            b"0100", b"0o17", b"1:20", b"1_000", b"0x_", b"!!int x", b"!Ref x", b"\xef\xbb\xbf", b"\t", b"\0",
            "ünïcödé ✓ 🚀".encode(), b"\xff\xfe", b"---\n", b"...\n", b"%YAML 1.2\n", b"? ", b"|\n", b"'"]


@st.composite
def mutated(draw, source: bytes) -> bytes:
    data = bytearray(source)
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["truncate", "flip", "insert", "unicode", "delete", "duplicate"]))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(_INSERTS))
        elif op == "unicode":
            data[at:at] = draw(st.text(max_size=8)).encode("utf-8", "surrogatepass")
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        else:
            size = draw(st.integers(1, 80))
            data[at:at] = data[at:at + size]
    return bytes(data)


def _validate(spec: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["validate", str(spec), *extra])
    text = out.getvalue() + err.getvalue()
    assert status in (0, 1, 2), f"exit {status}\n{text}"
    assert "Traceback" not in text, text
    assert str(spec) in text, f"the output does not name {spec}:\n{text}"
    return status, out.getvalue(), err.getvalue()


def _agrees(spec: Path, status: int, stdout: str) -> dict | None:
    """`--format json` gives the same verdict as the exit status."""
    if status == 2:
        return None
    report = json.loads(stdout)
    assert (report["spec"], report["ok"], status) == (str(spec), report["errors"] == 0, 1 if report["errors"] else 0)
    return report


@pytest.mark.slow
@FUZZ
@given(mutated(SPEC_TEXT))
def test_a_mutated_spec_is_findings_or_a_usage_error(content):
    with tempfile.TemporaryDirectory(prefix="tfgen-fuzz-") as scratch:
        spec = Path(scratch) / "fleet.yaml"
        spec.write_bytes(content)
        _validate(spec)
        status, stdout, _ = _validate(spec, "--format", "json")
        _agrees(spec, status, stdout)
        assert sorted(p.name for p in Path(scratch).iterdir()) == ["fleet.yaml"], "validate wrote something"


@pytest.mark.slow
@FUZZ
@given(mutated(RECORD_TEXT))
def test_a_mutated_record_is_findings_at_the_record(content):
    with tempfile.TemporaryDirectory(prefix="tfgen-fuzz-") as scratch:
        spec, record = Path(scratch) / "fleet.yaml", Path(scratch) / "fleet.allocations.yaml"
        spec.write_text(POOL_SPEC)
        record.write_bytes(content)
        status, stdout, _ = _validate(spec, "--format", "json")
        assert status != 2, "the spec is fine; a bad record is findings, not a usage error"
        report = _agrees(spec, status, stdout)
        findings = report["fleet"] + [f for fs in report["environments"].values() for f in fs]
        about_record = [f for f in findings if f["code"] in ("NET206", "NET207", "NET208")]
        assert all(f["file"] == str(record) for f in about_record), about_record
        assert record.read_bytes() == content, "validate changed the record"
