"""Fuzzing every verb of the CLI with hostile specs: generated YAML shaped like a
spec, mutated examples and byte garbage. Whatever the input, the exit status is
0, 1 or 2, no traceback is printed and a failed build writes nothing.

Runs in-process (`tfgen.cli.main`), bounded so the whole file stays well under
a minute in CI; raise FUZZ_EXAMPLES locally for a longer hunt.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfgen.cli import main
from tfgen.spec import allocations_path
from tests.conftest import EXAMPLES, ROOT

EXAMPLES_TEXT = [p.read_bytes() for p in sorted(EXAMPLES)]
BUDGET = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=BUDGET, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_KEYS = ["project", "tags", "aws_provider", "terraform_version", "state", "environments", "backend", "bucket",
         "key_prefix", "region", "lock_table", "cidr_pool", "vpc_prefix", "connectivity", "links", "reach",
         "assume_role", "account_id", "defaults", "hub", "regions", "clusters", "name", "cidr", "az_count",
         "availability_zones", "public_subnets", "private_subnets", "nat", "kubernetes_version", "node_groups",
         "instance_types", "min", "max", "desired", "disk_size", "capacity_type", "labels", "<<"]
_WORDS = ["10.10.0.0/16", "10.11.0.0/16", "10.0.0.0/12", "10.10.0.1/16", "0.0.0.0/0", "us-east-1", "us-east-2",
          "us-east-1a", "eu-west-1", "1.29", "hub-and-spoke", "mesh", "transit-gateway", "per_az", "single", "s3",
          "local", "t3.medium", "ON_DEMAND", "SPOT", "123456789012", "arn:aws:iam::123456789012:role/x",
          ">= 1.0", ">= 3.39, < 6.0", "us-east-2/edge", "edge", "hub", "", "-", "a" * 200]
scalars = (st.none() | st.booleans() | st.integers(-2, 70000) | st.floats() | st.text(max_size=12)
           | st.sampled_from(_WORDS))
keys = st.sampled_from(_KEYS) | st.sampled_from(_WORDS) | st.integers(-1, 3)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
                      max_leaves=25)
clusters = st.fixed_dictionaries({}, optional={k: values | st.sampled_from(_WORDS) for k in _KEYS[23:31]})
environments = st.fixed_dictionaries(
    {"account_id": st.just("123456789012") | values,
     "hub": st.fixed_dictionaries({"region": st.sampled_from(_WORDS)}, optional={"cidr": st.sampled_from(_WORDS)})},
    optional={"regions": st.dictionaries(st.sampled_from(_WORDS), clusters | values, max_size=3),
              "cidr_pool": st.sampled_from(_WORDS), "connectivity": st.sampled_from(_WORDS),
              "links": values, "reach": values, "defaults": values, "vpc_prefix": values})
specs = st.fixed_dictionaries(
    {"project": st.just("demo") | scalars, "environments": st.dictionaries(st.sampled_from(_WORDS), environments,
                                                                            max_size=2)},
    optional={"tags": values, "state": values, "aws_provider": scalars, "terraform_version": scalars})
_GARBAGE = b"[]{}:,-&*!|>'\"#%@<\n\t\0 ax1\xff\xc3"


@st.composite
def mutated_examples(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(EXAMPLES_TEXT)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        size = draw(st.integers(1, 40))
        if op == "delete":
            del data[at:at + size]
        elif op == "insert":
            data[at:at] = draw(st.binary(max_size=size) | st.sampled_from([b"&a ", b"*a", b"<<: ", b"\n  ", b"- "]))
        elif op == "replace":
            data[at:at + 1] = bytes([draw(st.sampled_from(_GARBAGE))])
        else:
            data[at:at] = data[at:at + size]
    return bytes(data)


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    text = out.getvalue() + err.getvalue()
    assert status in (0, 1, 2), f"{argv}: exit {status}\n{text}"
    assert "Traceback" not in text, f"{argv}:\n{text}"
    return status, text


def _every_verb(content: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="tfgen-fuzz-") as scratch:
        spec = Path(scratch) / "fleet.yaml"
        spec.write_bytes(content)
        out = Path(scratch) / "out"
        _run(["validate", str(spec)])
        _run(["validate", str(spec), "--format", "json", "--strict"])
        status, text = _run(["build", str(spec), "--out", str(out)])
        if status != 0:
            assert not out.exists() and not allocations_path(spec).exists(), f"a failed build wrote:\n{text}"
        shutil.rmtree(out, ignore_errors=True)
        allocations_path(spec).unlink(missing_ok=True)
        _run(["graph", str(spec)])
        _run(["graph", str(spec), "--format", "dot", "--output", str(Path(scratch) / "g.dot")])


@pytest.mark.slow  # long fuzzing: the full suite runs it
@FUZZ
@given(specs)
def test_generated_specs(spec):
    _every_verb(yaml.safe_dump(spec, allow_unicode=True).encode())


@pytest.mark.slow  # long fuzzing: the full suite runs it
@FUZZ
@given(mutated_examples())
def test_mutated_examples(content):
    _every_verb(content)


@pytest.mark.slow  # long fuzzing: the full suite runs it
@FUZZ
@given(st.binary(max_size=600) | st.text(alphabet=_GARBAGE.decode("latin-1"), max_size=300).map(str.encode))
def test_garbage(content):
    _every_verb(content)


@pytest.mark.slow
def test_check_and_sandbox_reject_garbage_paths_cleanly(tmp_path):
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(b"\0\xff[[[{")
    bad_root = tmp_path / "roots" / "env"
    bad_root.mkdir(parents=True)
    (bad_root / "x.tf.json").write_bytes(b"{not json")
    for argv in (["check", str(tmp_path / "missing")], ["check", str(garbage)], ["check", "/dev/zero"],
                 ["check", str(tmp_path / "roots")],
                 ["sandbox", str(tmp_path / "missing.yaml")], ["sandbox", str(garbage)], ["sandbox", "/dev/zero"],
                 ["sandbox", str(ROOT)]):
        status, text = _run(argv)
        assert status in (1, 2) and Path(argv[1]).name in text, f"{argv}: exit {status}\n{text}"
