"""Bad input beyond the spec: the file system, a tampered manifest, Python-built
fleets of the wrong types, names that could collide, allocations that would move,
and a waived file that gains a resource."""

from __future__ import annotations

import json
import shutil

import pytest

import tfgen
from tfgen.cli import main
from tfgen.write import MANIFEST
from tests.conftest import EXAMPLE, POOL_SPEC, ROOT, write_spec


def test_output_directory_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("mine")
    assert main(["build", str(EXAMPLE), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and "Traceback" not in err
    assert target.read_text() == "mine"


def test_a_file_in_place_of_an_environment_directory_stops_the_build_before_any_write(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "production").write_text("mine")
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    assert "out/production is a file" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["production"], "development was written"


def test_graph_output_path_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    assert main(["graph", str(EXAMPLE), "--output", str(tmp_path / "missing" / "x.mmd")]) == 2
    err = capsys.readouterr().err
    assert "No such file or directory" in err and "fix:" in err and "Traceback" not in err


@pytest.mark.parametrize("output", [False, True])
def test_graph_of_a_spec_with_errors_is_refused_with_its_findings_and_writes_nothing(tmp_path, capsys, output):
    spec = tmp_path / "pool.yaml"
    shutil.copyfile(ROOT / "tests" / "bad_specs" / "pool-exhausted.yaml", spec)
    target = tmp_path / "graph.mmd"
    assert main(["graph", str(spec)] + (["--output", str(target)] if output else [])) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and not target.exists()
    assert "NET202" in captured.err and f"{spec}:" in captured.err and "nothing was written" in captured.err


def test_a_manifest_listing_paths_outside_the_output_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(EXAMPLE), out)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].append("../victim.txt")
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    assert "outside" in capsys.readouterr().err
    assert victim.read_text() == "keep me"


def test_a_foreign_tf_json_in_a_root_is_reported(tmp_path, capsys):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(EXAMPLE), out)
    (out / "development" / "extra.tf.json").write_text("{}\n")
    assert main(["build", str(EXAMPLE), "--out", str(out), "--check"]) == 0
    assert "development/extra.tf.json is not tfgen's" in capsys.readouterr().err


def test_python_fleet_with_wrong_types_gets_findings_not_exceptions():
    fleet = tfgen.Fleet(project="demo", tags={"Owner": 1})
    env = fleet.add_environment("dev", account_id=123456789012)
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    env.add_region("us-east-2", cidr="10.11.0.0/16", az_count="2")
    env.add_region("us-west-2", cidr="10.12.0.0/16",
                   node_groups={"w": tfgen.NodeGroup(name="w", min_size="1")})
    env.add_region("eu-west-1", cidr="10.13.0.0/16", node_groups=["w"])
    findings = tfgen.validate(fleet)
    wrong = sorted(f.message.split("`")[1] for f in findings if f.code == "VAL100")
    assert wrong == ["account_id", "az_count", "min_size", "node_groups", "tags"], [f.format() for f in findings]
    with pytest.raises(tfgen.FindingsError):
        tfgen.build(fleet, "never-written")


def test_node_groups_of_similar_clusters_keep_distinct_addresses(tmp_path):
    spec = write_spec(tmp_path, """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    hub: {region: us-east-1, cidr: 10.10.0.0/16}
    regions:
      us-east-2:
        clusters:
          edge: {cidr: 10.11.0.0/16, node_groups: {b-c: {instance_types: [t3.medium]}}}
          edge-b: {cidr: 10.12.0.0/16, node_groups: {c: {instance_types: [t3.large]}}}
""")
    tfgen.build(tfgen.load(spec), tmp_path / "out")
    clusters = json.loads((tmp_path / "out" / "dev" / "clusters.tf.json").read_text())
    groups = clusters["resource"]["aws_eks_node_group"]
    assert sorted(k for k in groups if k.startswith("us_east_2")) == ["us_east_2_edge__b_c", "us_east_2_edge_b__c"]


def test_a_recorded_allocation_is_never_moved_by_a_new_explicit_cidr(tmp_path, capsys):
    spec = write_spec(tmp_path, POOL_SPEC)
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    record = (tmp_path / "fleet.allocations.yaml").read_text()
    assert "us-east-2/edge: 10.1.0.0/16" in record
    spec.write_text(spec.read_text() + "      us-west-2: {cidr: 10.1.0.0/16}\n")
    capsys.readouterr()
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "NET205" in err and f"{spec}:9:" in err and "would destroy" in err, err
    assert (tmp_path / "fleet.allocations.yaml").read_text() == record


@pytest.mark.slow
def test_a_resource_added_to_the_waived_terraform_file_is_not_waived(tmp_path, capsys):
    root = tmp_path / "out" / "development"
    shutil.copytree(ROOT / "out" / "development", root)
    terraform = json.loads((root / "terraform.tf.json").read_text())
    terraform["resource"] = {"aws_security_group": {"bastion": {
        "provider": "aws.us_east_1", "vpc_id": "${aws_vpc.us_east_1_hub.id}",
        "ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}}}
    (root / "terraform.tf.json").write_text(json.dumps(terraform))
    assert main(["check", str(tmp_path / "out")]) == 1
    out = capsys.readouterr()
    assert "terraform.tf.json" in out.out + out.err
