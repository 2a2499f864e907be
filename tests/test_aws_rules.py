"""Rules for what AWS (and Kubernetes, and Terraform) reject at apply time, checked
on the model before anything is written: tags, names, state backend, versions."""

from __future__ import annotations

import pytest

import tfgen
from tfgen.checks import check_fleet
from tfgen.checks.tags import MAX_TAGS


def _fleet(**top) -> tfgen.Fleet:
    fleet = tfgen.Fleet(project="demo", **top)
    env = fleet.add_environment("dev", account_id="123456789012")
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    env.add_region("us-east-2", cidr="10.11.0.0/16")
    return fleet


def _codes(fleet: tfgen.Fleet, prefix: str = "") -> list[str]:
    return sorted(f.code for f in check_fleet(fleet) if f.code.startswith(prefix))


def test_the_tag_limit_counts_tfgens_own_tags_on_a_subnet():
    room = MAX_TAGS - 6  # Project, Environment, ManagedBy; Name and two kubernetes.io tags on a subnet
    assert _codes(_fleet(tags={f"t{i}": "v" for i in range(room)}), "VAL10") == []
    assert _codes(_fleet(tags={f"t{i}": "v" for i in range(room + 1)}), "VAL10") == ["VAL106"]


@pytest.mark.parametrize("tags, code", [
    ({"project": "x"}, "VAL107"),             # equals tfgen's Project but for case
    ({"Team": "a", "TEAM": "b"}, "VAL107"),
    ({"owner": "ünïcode ok"}, None),
    ({"path": "a/b:c=d+e-f@g_h.i"}, None),
    ({"cost": "100$"}, "VAL108"),
    ({"note": "tab\there"}, "VAL108"),
    ({"Name": "mine"}, "VAL109"),
    ({"ManagedBy": "terraform"}, "VAL109"),
    ({"api_token": "x"}, "VAL110"),
    ({"Secret": "x"}, "VAL110"),
    ({"aws_secret_access_key": "x"}, "VAL110"),
    ({"deploy": "ASIAIOSFODNN7EXAMPLE"}, "VAL110"),
    ({"key": "-----BEGIN RSA PRIVATE KEY-----"}, "VAL110"),
    ({"tokenizer": "x"}, "VAL110"),
    ({"Owner": "platform", "CostCenter": "42"}, None),
])
def test_tag_rules(tags, code):
    codes = _codes(_fleet(tags=tags), "VAL1")
    assert codes == ([code] if code else []) or code in codes, codes


def test_a_private_key_in_a_tag_is_called_a_secret():
    assert "VAL110" in _codes(_fleet(tags={"k": "-----BEGIN OPENSSH PRIVATE KEY----- abc"}))


def test_a_secret_is_not_echoed_in_the_finding():
    findings = [f for f in check_fleet(_fleet(tags={"deploy": "AKIAIOSFODNN7EXAMPLE"})) if f.code == "VAL110"]
    assert findings and all("AKIAIOSFODNN7EXAMPLE" not in f.format() for f in findings)


@pytest.mark.parametrize("bucket, ok", [
    ("mrc-tfstate", True), ("my.state.bucket", True), ("abc", True),
    ("ab", False), ("Team-State", False), ("team_state", False), ("-state", False), ("state-", False),
    ("a..b", False), ("a.-b", False), ("192.168.1.10", False), ("xn--state", False), ("state-s3alias", False),
    ("a" * 64, False),
])
def test_state_bucket_names_follow_s3_rules(bucket, ok):
    fleet = _fleet(state=tfgen.StateBackend(backend="s3", bucket=bucket, region="us-east-1", lock_table="locks"))
    assert ("VAL114" not in _codes(fleet)) is ok


@pytest.mark.parametrize("table, ok", [("mrc-locks", True), ("a.b_c-D", True), ("ab", False), ("tf locks", False)])
def test_lock_table_names_follow_dynamodb_rules(table, ok):
    fleet = _fleet(state=tfgen.StateBackend(backend="s3", bucket="state", region="us-east-1", lock_table=table))
    assert ("VAL115" not in _codes(fleet)) is ok


@pytest.mark.parametrize("constraint, ok", [
    (">= 1.0", True), ("= 1.0.3", True), ("~> 1.5", True), (">= 1.0, < 2.0", True), ("> 0.15, >= 1.2", True),
    (">= 0.13", False), ("< 2.0", False), ("~> 0.15", False), ("> 0.15", False), ("!= 1.1", False),
])
def test_terraform_version_must_exclude_versions_below_1(constraint, ok):
    assert ("VAL116" not in _codes(_fleet(terraform_version=constraint))) is ok


@pytest.mark.parametrize("kind, ok", [
    ("t3.medium", True), ("m7g.2xlarge", True), ("u-6tb1.metal", True), ("c6in.metal-48xl", True),
    ("t3medium", False), ("T3.medium", False), ("t3.", False), (".large", False), ("t3.medium ", False),
])
def test_instance_types_are_family_dot_size(kind, ok):
    fleet = _fleet()
    fleet.environment("dev").region("us-east-2").cluster("edge").node_groups["workers"].instance_types = [kind]
    assert ("VAL156" not in _codes(fleet)) is ok


@pytest.mark.parametrize("labels, ok", [
    ({"role": "edge"}, True), ({"example.com/tier": "front_end.v1"}, True), ({"flag": ""}, True),
    ({"team name": "x"}, False), ({"-role": "x"}, False), ({"Example.com/x": "y"}, False),
    ({"x" * 64: "y"}, False), ({"role": "a b"}, False), ({"role": "v" * 64}, False), ({"/role": "x"}, False),
])
def test_node_labels_follow_kubernetes_syntax(labels, ok):
    fleet = _fleet()
    fleet.environment("dev").region("us-east-2").cluster("edge").node_groups["workers"].labels = labels
    assert ("VAL157" not in _codes(fleet)) is ok


@pytest.mark.parametrize("zone, ok", [
    ("us-west-2a", True), ("us-west-2-lax-1a", True), ("us-west-2A", False), ("us-west-2", False),
    ("us-west-2 a", False), ("us-west-2ab", False),
])
def test_zone_names(zone, ok):
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012")
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    env.add_region("us-west-2", cidr="10.11.0.0/16", availability_zones=[zone])
    assert ("VAL176" not in _codes(fleet)) is ok


def test_a_python_built_region_without_clusters_is_a_finding():
    fleet = _fleet()
    env = fleet.environment("dev")
    env.add_region("eu-west-1", cidr="10.12.0.0/16")
    env.region("eu-west-1").clusters.clear()
    assert _codes(fleet, "VAL133") == ["VAL133"]


def test_environments_of_one_account_may_not_share_aws_names():
    fleet = _fleet()
    other = fleet.add_environment("dev-", account_id="123456789012")
    other.add_hub("us-east-1", cidr="10.20.0.0/16")
    assert _codes(fleet, "VAL183") == ["VAL183"]
    other.account_id = "210987654321"
    assert _codes(fleet, "VAL183") == []


def test_joined_names_that_collide_are_found():
    fleet = tfgen.Fleet(project="demo")
    a = fleet.add_environment("dev", account_id="123456789012")
    a.add_hub("us-east-1", cidr="10.10.0.0/16")
    a.add_cluster("us-east-1", "us-west-2-edge", cidr="10.11.0.0/16")   # demo-dev-us-east-1-us-west-2-edge
    b = fleet.add_environment("dev-us-east-1", account_id="123456789012")
    b.add_hub("us-east-1", cidr="10.20.0.0/16")
    b.add_region("us-west-2", cidr="10.21.0.0/16")                      # demo-dev-us-east-1-us-west-2-edge
    findings = [f for f in check_fleet(fleet) if f.code == "VAL183"]
    assert [f.path for f in findings] == ["dev-us-east-1"], [f.format() for f in findings]
    assert "demo-dev-us-east-1-us-west-2-edge" in findings[0].message


def test_names_and_ids_ending_in_a_newline_are_rejected():
    fleet = tfgen.Fleet(project="demo\n")
    env = fleet.add_environment("dev\n", account_id="123456789012\n")
    env.add_hub("us-east-1", name="hub\n", cidr="10.10.0.0/16", kubernetes_version="1.29\n")
    assert {"VAL101", "VAL121", "VAL128", "VAL141", "VAL143"} <= set(_codes(fleet))
