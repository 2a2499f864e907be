"""Promises the docs make that no other test held: the provider and Terraform range warnings
(VAL192, VAL193), the route and transit gateway quotas (NET233, NET235), a reach
requirement built in Python (NET225 at the caller's line), and `plan_root(..., offline=False)`."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from pathlib import Path

import pytest

import tfgen
from tfgen.checks.topology import check_topology
from tfgen.errors import ToolchainError
from tfgen.testing import plan_root
from tests.conftest import EXAMPLE, write_spec

SPEC = """\
project: demo
{top}environments:
  dev:
    account_id: "123456789012"
    access: {{admins: ["arn:aws:iam::123456789012:role/platform-admin"]}}
    hub: {{region: us-east-1, cidr: 10.10.0.0/16}}
    regions:
      us-east-2: {{cidr: 10.11.0.0/16}}
"""


def _findings(tmp_path: Path, top: str, code: str) -> list:
    spec = write_spec(tmp_path, SPEC.format(top=top))
    return [f for f in tfgen.validate(tfgen.load(spec)) if f.code == code]


# -- provider and Terraform ranges ---------------------------------------------------------------

def test_a_provider_range_admitting_no_proven_version_warns_at_its_line(tmp_path):
    (finding,) = _findings(tmp_path, 'aws_provider: ">= 6.26, < 7.0"\n', "VAL192")
    assert finding.severity.value == "warning"
    assert (finding.origin.file, finding.origin.line) == (str(tmp_path / "fleet.yaml"), 2)
    assert "5.100.0" in finding.message and "6.25.0" in finding.message, finding.message
    assert _findings(tmp_path, 'aws_provider: ">= 6.0, < 7.0"\n', "VAL192") == [], "6.25 is proven"


def test_s3_lockfile_with_terraform_below_1_10_is_an_error_at_its_line(tmp_path):
    state = "state: {backend: s3, bucket: demo-tfstate, region: us-east-1}\n"
    (finding,) = _findings(tmp_path, state + 'terraform_version: ">= 1.5"\n', "VAL193")
    assert finding.severity.value == "error"
    assert (finding.origin.file, finding.origin.line) == (str(tmp_path / "fleet.yaml"), 3)
    assert "1.5" in finding.message and "use_lockfile" in finding.message, finding.message
    assert _findings(tmp_path, state + 'terraform_version: ">= 1.10"\n', "VAL193") == []
    dynamodb = "state: {backend: s3, bucket: demo-tfstate, region: us-east-1, lock_table: demo-locks}\n"
    assert _findings(tmp_path, dynamodb + 'terraform_version: ">= 1.5"\n', "VAL193") == [], \
        "a DynamoDB lock table works on any Terraform"


# -- quotas --------------------------------------------------------------------------------------

def _transit_fleet(per_region: dict[str, int]) -> tfgen.Fleet:
    """A transit-gateway environment with `n` /24 VPCs in each region (the first is the hub).
    GitOps is off: these tests are about the network, and its path check grows with edges squared."""
    fleet = tfgen.Fleet(project="quota")
    env = fleet.add_environment("q", account_id="123456789012", connectivity="transit-gateway",
                                gitops=tfgen.GitOps(enabled=False))
    blocks = (ipaddress.ip_network((base + (i << 8), 24)) for base in (10 << 24, (172 << 24) | (16 << 16))
              for i in range(1 << 16))
    add = env.add_hub
    for region, count in per_region.items():
        for i in range(count):
            block = next(blocks)
            subnets = list(block.subnets(new_prefix=28))
            add(region, name=f"c{i}", cidr=str(block), az_count=1, private_subnets=[str(subnets[0])],
                public_subnets=[str(subnets[1])])
            add = env.add_cluster
    return fleet


def _drop_one_edge(fleet: tfgen.Fleet, region: str) -> None:
    clusters = fleet.environment("q").region(region).clusters
    del clusters[next(name for name, c in reversed(clusters.items()) if not c.is_hub)]


def test_routes_per_route_table_over_the_hard_limit_is_an_error():
    # Through transit gateways every route table holds a route to each other VPC and the default route.
    fleet = _transit_fleet({"us-east-1": 600, "us-west-2": 401})
    over = [f for f in check_topology(fleet) if f.code == "NET233"]
    assert len(over) == 1001, "every VPC's route tables need 1,001 routes"
    assert over[0].severity.value == "error"
    assert "1001 routes" in over[0].message and "at most 1000" in over[0].message, over[0].message
    _drop_one_edge(fleet, "us-west-2")
    assert [f for f in check_topology(fleet) if f.code == "NET233"] == [], "1,000 routes is within the limit"


def test_transit_gateway_attachments_over_the_quota_warn_per_gateway():
    fleet = _transit_fleet({"us-east-1": 5001, "us-west-2": 1})
    over = [f for f in check_topology(fleet) if f.code == "NET235"]
    assert [(f.path, f.severity.value) for f in over] == [("q/tgw/us-east-1", "warning")], \
        "only the gateway with 5,001 attachments is over the quota of 5,000"
    assert "5001 attachments" in over[0].message, over[0].message
    _drop_one_edge(fleet, "us-east-1")
    assert [f for f in check_topology(fleet) if f.code == "NET235"] == [], "5,000 attachments is at the quota"


# -- a reach requirement built in Python -----------------------------------------------------------

def test_require_reach_from_python_is_checked_at_the_callers_line():
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012")
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    env.add_region("us-east-2", cidr="10.11.0.0/16")
    env.add_region("us-west-2", cidr="10.12.0.0/16")
    line = sys._getframe().f_lineno + 1
    env.require_reach("us-east-2/edge", "us-west-2/edge")
    (finding,) = [f for f in tfgen.validate(fleet) if f.code == "NET225"]
    assert finding.severity.value == "error"
    assert (finding.origin.file, finding.origin.line) == (__file__, line)
    assert "us-east-2/edge cannot reach us-west-2/edge" in finding.message, finding.message
    env.add_link("us-east-2/edge", "us-west-2/edge")
    assert [f for f in tfgen.validate(fleet) if f.code == "NET225"] == [], "a direct peering satisfies it"


# -- plan_root(offline=False): the root as it is, with the caller's terraform ----------------------

_PLAN = {
    "format_version": "0.2",
    "configuration": {
        "provider_config": {"aws.us_east_2": {"name": "aws", "alias": "us_east_2",
                                              "expressions": {"region": {"constant_value": "us-east-2"}}}},
        "root_module": {"resources": [{"address": "aws_vpc.us_east_2_edge", "mode": "managed", "type": "aws_vpc",
                                       "name": "us_east_2_edge", "provider_config_key": "aws.us_east_2"}]},
    },
    "planned_values": {"root_module": {"resources": [{"address": "aws_vpc.us_east_2_edge",
                                                      "values": {"cidr_block": "10.11.0.0/16"}}]}},
    "resource_changes": [{"address": "aws_vpc.us_east_2_edge", "change": {"actions": ["create"]}}],
}


def _recording_terraform(directory: Path) -> Path:
    """A `terraform` that records argv, cwd and TF_CLI_CONFIG_FILE, and prints `_PLAN` for `show -json`."""
    directory.mkdir()
    script = directory / "terraform"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(directory / 'calls.jsonl')!r}, 'a') as log:\n"
        "    log.write(json.dumps({'argv': sys.argv[1:], 'cwd': os.getcwd(),\n"
        "                          'cli_config': os.environ.get('TF_CLI_CONFIG_FILE')}) + '\\n')\n"
        "if sys.argv[1] == 'show':\n"
        f"    print({json.dumps(json.dumps(_PLAN))})\n"
    )
    script.chmod(0o755)
    return script


def test_plan_root_online_plans_the_root_as_it_is_with_the_terraform_on_path(tmp_path, monkeypatch):
    tfgen.build(tfgen.load(EXAMPLE), tmp_path / "out")
    root = tmp_path / "out" / "development"
    stub = _recording_terraform(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{stub.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("TF_CLI_CONFIG_FILE", raising=False)

    plan = plan_root(root, workdir=tmp_path / "work", offline=False)

    copy = tmp_path / "work" / "development"
    calls = [json.loads(line) for line in (stub.parent / "calls.jsonl").read_text().splitlines()]
    assert [c["argv"][0] for c in calls] == ["init", "plan", "show"]
    assert calls[2]["argv"][1:3] == ["-no-color", "-json"]
    assert {c["cwd"] for c in calls} == {str(copy)}, "terraform runs in the copy"
    assert {c["cli_config"] for c in calls} == {None}, "no offline toolchain configuration"
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in root.iterdir()), \
        "no override file and no lowering record beside the root's own files"
    for file in root.iterdir():
        assert (copy / file.name).read_bytes() == file.read_bytes(), f"{file.name} was changed (lowered?)"
    backend = json.loads((copy / "terraform.tf.json").read_text())["terraform"]["backend"]
    assert list(backend) == ["s3"], "the user's backend is kept"
    assert plan.lowered is None
    assert plan.region_of("aws_vpc.us_east_2_edge") == "us-east-2", "the plan is what `terraform show -json` printed"


def test_plan_root_online_without_terraform_is_a_toolchain_error(tmp_path, monkeypatch):
    tfgen.build(tfgen.load(EXAMPLE), tmp_path / "out")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolchainError, match="no terraform on PATH"):
        plan_root(tmp_path / "out" / "development", workdir=tmp_path / "work", offline=False)
    stub = _recording_terraform(tmp_path / "bin")
    plan = plan_root(tmp_path / "out" / "development", workdir=tmp_path / "work", offline=False, terraform=str(stub))
    assert plan.changes == {"aws_vpc.us_east_2_edge": ["create"]}, "terraform= is used when PATH has none"
