"""The one reader of roots (tfgen.terraform.roots): every Terraform JSON shape, and hostile trees.

Each hostile file must end as a problem naming the file, quickly, without opening
what it must not (a FIFO would block, /dev/zero would never end)."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest

from tfgen.cli import main
from tfgen.terraform.schema_check import check_root
from tfgen.errors import TfgenError
from tfgen.terraform.roots import MAX_DEPTH, read_root
from tfgen.terraform.toolchain import aliases_of

VPC = {"cidr_block": "10.0.0.0/16", "provider": "aws.us_east_1"}
PROVIDERS = [{"alias": "us_east_1", "region": "us-east-1"}, {"alias": "eu_west_1", "region": "eu-west-1"}]


def _root(tmp_path: Path, files: dict[str, object]) -> Path:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    for name, document in files.items():
        (root / name).write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return root


@pytest.mark.parametrize("document", [
    {"resource": {"aws_vpc": {"hub": VPC}}, "provider": {"aws": PROVIDERS}},
    {"resource": [{"aws_vpc": {"hub": VPC}}], "provider": [{"aws": PROVIDERS[0]}, {"aws": [PROVIDERS[1]]}]},
    {"resource": {"aws_vpc": [{"hub": VPC}]}, "provider": {"aws": [PROVIDERS[0], PROVIDERS[1]]}},
    {"resource": {"aws_vpc": {"hub": [VPC]}}, "provider": [{"aws": [PROVIDERS[0]]}, {"aws": PROVIDERS[1]}],
     "//": "a comment"},
], ids=["objects", "arrays-at-top", "array-of-names", "array-of-bodies"])
def test_every_terraform_json_shape_reads_the_same(tmp_path, document):
    root = read_root(_root(tmp_path, {"main.tf.json": document}))
    assert root.problems == []
    assert {a: (b.body, b.file) for a, b in root.resources.items()} == {"aws_vpc.hub": (VPC, "main.tf.json")}
    assert root.aliases() == {"us_east_1": "us-east-1", "eu_west_1": "eu-west-1"}
    assert aliases_of(tmp_path / "root") == {"us_east_1": "us-east-1", "eu_west_1": "eu-west-1"}
    assert check_root(tmp_path / "root", "6.25.0") == []


def test_outputs_and_terraform_blocks_in_array_form(tmp_path):
    root = read_root(_root(tmp_path, {"o.tf.json": {"output": [{"a": {"value": 1}}, {"b": [{"value": 2}]}],
                                                    "terraform": [{"required_version": ">= 1.0"}]}}))
    assert sorted(root.outputs) == ["a", "b"] and root.outputs["b"].body == {"value": 2}
    assert [b.body for b in root.terraform] == [{"required_version": ">= 1.0"}]


def test_override_files_are_skipped(tmp_path):
    root = read_root(_root(tmp_path, {"main.tf.json": {}, "x_override.tf.json": "not json"}))
    assert (root.problems, list(root.documents)) == ([], ["main.tf.json"])


def _hostile(tmp_path: Path) -> dict[str, str]:
    """A root of hostile files: `{file name: what its problem must say}`."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "zero.tf.json").symlink_to("/dev/zero")
    (root / "null.tf.json").symlink_to("/dev/null")
    os.mkfifo(root / "fifo.tf.json")
    (root / "latin1.tf.json").write_bytes(b'{\n "output": {"caf\xe9": {"value": 1}}}')
    (root / "deep.tf.json").write_text('{"locals": ' + "[" * 10_000 + "]" * 10_000 + "}")
    (root / "shallow-deep.tf.json").write_text('{"locals": {"x": ' + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "}}")
    (root / "broken.tf.json").write_text('{\n  "resource": {\n    "aws_vpc": \n}')
    (root / "scalar.tf.json").write_text('{"resource": {"aws_vpc": {"x": 3}}}')
    (root / "top.tf.json").write_text("[1, 2]")
    (root / "nan.tf.json").write_text('{"locals": {"x": NaN}}')
    (root / "unknown.tf.json").write_text('{"resorce": {}}')
    (root / "dup.tf.json").write_text('{"resource": [{"aws_vpc": {"x": {}}}, {"aws_vpc": {"x": {}}}]}')
    (root / "dir.tf.json").mkdir()
    (root / "surrogate.tf.json").write_text('{"locals": {"x": "\\udcff"}}')
    return {"zero.tf.json": "symbolic link", "null.tf.json": "symbolic link", "fifo.tf.json": "FIFO",
            "latin1.tf.json": "not UTF-8", "deep.tf.json": "deeper than", "shallow-deep.tf.json": "deeper than",
            "broken.tf.json": "not valid JSON", "scalar.tf.json": "must be an object",
            "top.tf.json": "not a JSON object", "nan.tf.json": "NaN", "unknown.tf.json": "unknown block type",
            "dup.tf.json": "twice", "dir.tf.json": "directory", "surrogate.tf.json": "surrogate"}


def test_hostile_files_are_problems_naming_file_and_reason(tmp_path):
    expected = _hostile(tmp_path)
    started = time.monotonic()
    root = read_root(tmp_path / "root")
    assert time.monotonic() - started < 5
    got = {Path(p.file).name: p for p in root.problems}
    assert sorted(got) == sorted(expected)
    for name, fragment in expected.items():
        assert fragment in got[name].message, (name, got[name])
    assert got["latin1.tf.json"].line == 2 and got["broken.tf.json"].line == 4
    assert all(isinstance(p.fix, str) and p.fix and p.fix in str(p) for p in root.problems), root.problems
    assert got["broken.tf.json"].fix == "rebuild it with `tfgen build`, or fix the file by hand"
    assert root.documents == {}
    with pytest.raises(TfgenError, match="fifo.tf.json: is a FIFO"):
        check_root(tmp_path / "root", "6.25.0")


def test_random_shapes_never_raise(tmp_path):
    """Random JSON values in every block position: the reader and the schema check end in problems, not exceptions."""
    rng = random.Random(13)
    atoms = [None, True, 0, 1.5, "", "x", "${aws_vpc.x.id}", [], {}, [{}], [1], {"//": "c"}]

    def value(depth: int):
        roll = rng.random()
        if depth > 4 or roll < 0.3:
            return rng.choice(atoms)
        if roll < 0.6:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        keys = ["resource", "provider", "output", "aws_vpc", "aws", "x", "alias", "region", "cidr_block", "//"]
        return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 3))}

    deadline = time.monotonic() + 1.5
    cases = 0
    while time.monotonic() < deadline:
        root = tmp_path / f"r{cases}"
        root.mkdir()
        (root / "a.tf.json").write_text(json.dumps(value(0)))
        read = read_root(root)
        assert all(p.file.endswith("a.tf.json") for p in read.problems)
        try:
            check_root(root, "6.25.0")
        except TfgenError:
            pass
        cases += 1
    assert cases > 50


@pytest.mark.slow
def test_tfgen_check_reports_each_hostile_file_and_scans_the_good_root(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    expected = _hostile(tmp_path / "out")
    good = tmp_path / "out" / "good"
    good.mkdir()
    (good / "main.tf.json").write_text(json.dumps({"output": {"x": {"value": "y"}}}, indent=2))
    started = time.monotonic()
    status = main(["check", str(tmp_path / "out"), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert time.monotonic() - started < 120
    assert status == 1
    read = [r for r in out["environments"]["root"]["results"] if r["check_id"] == "TFGEN_READ"]
    assert sorted(r["resource"] for r in read) == sorted(expected)
    assert {r["status"] for r in read} == {"failed"}
    assert out["environments"]["good"]["failed"] == 0 and out["environments"]["good"]["passed"] > 0


# -- the index: what every reader of a root asks ----------------------------------------------------

INDEXED = {
    "providers.tf.json": {"provider": {"aws": PROVIDERS}},
    "terraform.tf.json": {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 6.0"}},
                                        "backend": {"s3": {"bucket": "state", "use_lockfile": True}}}},
    "network.tf.json": {"resource": {
        "aws_vpc": {"hub": VPC, "edge": {"cidr_block": "10.1.0.0/16", "provider": "aws.eu_west_1"}},
        "aws_subnet": {"a": {"vpc_id": "${aws_vpc.hub.id}", "cidr_block": "${cidrsubnet(aws_vpc.hub.cidr_block, 8, 1)}",
                             "tags": {"Note": "$${aws_vpc.edge.id} is escaped"}, "provider": "aws.us_east_1",
                             "depends_on": ["aws_vpc.edge", "data.aws_caller_identity.me"]}}},
        "data": {"aws_caller_identity": {"me": {"provider": "aws.us_east_1"}}}},
    "outputs.tf.json": {"output": {"subnet": {"value": "${aws_subnet.a.id}"}}},
}


def test_a_directory_and_documents_in_memory_index_alike(tmp_path):
    from tfgen.terraform.roots import documents_root

    read, built = read_root(_root(tmp_path, INDEXED)), documents_root(INDEXED)
    assert read.problems == built.problems == []
    for index in (read, built):
        assert [(b.address, b.file, b.kind, b.type, b.name) for b in index.resources.values()] == [
            ("aws_vpc.hub", "network.tf.json", "resource", "aws_vpc", "hub"),
            ("aws_vpc.edge", "network.tf.json", "resource", "aws_vpc", "edge"),
            ("aws_subnet.a", "network.tf.json", "resource", "aws_subnet", "a"),
            ("data.aws_caller_identity.me", "network.tf.json", "data", "aws_caller_identity", "me")]
        assert index.aliases() == {"us_east_1": "us-east-1", "eu_west_1": "eu-west-1"}
        assert [index.region_of(b) for b in index.resources.values()] == ["us-east-1", "eu-west-1", "us-east-1",
                                                                        "us-east-1"]
        assert [b.address for b in index.of_type("aws_vpc")] == ["aws_vpc.hub", "aws_vpc.edge"]
        assert [b.address for b in index.of_type("aws_caller_identity", data=True)] == ["data.aws_caller_identity.me"]
        assert index.of_type("aws_caller_identity") == []
        assert index.file_of("output.subnet") == "outputs.tf.json" and index.output_value("subnet") == "${aws_subnet.a.id}"
        assert index.required_provider("aws")["version"] == "~> 6.0"
        assert index.backend("s3") == {"bucket": "state", "use_lockfile": True} and index.backend("gcs") == {}


def test_a_blocks_references_are_read_once_by_the_grammar_and_depends_on_apart():
    from tfgen.terraform.roots import documents_root

    index = documents_root(INDEXED)
    found = index.references("aws_subnet.a")
    assert [(r.address, r.path_text) for r in found] == [("aws_vpc.hub", ".id"), ("aws_vpc.hub", ".cidr_block")]
    assert index.references("aws_subnet.a") is found  # computed once per root
    assert index.depends_on("aws_subnet.a") == ("aws_vpc.edge", "data.aws_caller_identity.me")
    assert [r.address for r in index.references("output.subnet")] == ["aws_subnet.a"]
    assert index.references("aws_vpc.nowhere") == ()
