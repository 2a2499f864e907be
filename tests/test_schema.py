"""The schema oracle: committed AWS provider schemas, their validation, and the checker on real and broken roots."""

from __future__ import annotations

import copy
import importlib.util
import json
import time
from pathlib import Path

import pytest

from tfgen.errors import TfgenError
from tfgen.providers.lowering import lower
from tfgen.providers import OFFLINE, SCHEMA_VERSIONS
from tfgen.providers.schema import check_root, check_root_for_range, compare_schemas, load_schema
from tfgen.testing import assert_schemas, check_schemas

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ROOTS = sorted(p.parent for p in (ROOT / "out").rglob("terraform.tf.json"))
MODERN = ("5.100.0", "6.25.0")


def _tool():
    spec = importlib.util.spec_from_file_location("provider_schemas", ROOT / "tools" / "provider_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _documents(root: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(root.glob("*.tf.json"))}


def _one_resource(type_: str, body: dict) -> dict[str, dict]:
    return {"main.tf.json": {"resource": {type_: {"example": body}}}}


# --------------------------------------------------------------------------- the committed data

def test_every_example_root_is_found():
    names = {str(p.relative_to(ROOT / "out")) for p in EXAMPLE_ROOTS}
    assert {"development", "production", "mesh/staging", "transit-gateway/production"} <= names, names


@pytest.mark.parametrize("version", [str(v) for v in SCHEMA_VERSIONS])
def test_committed_files_hold_exactly_the_listed_types(version):
    path = ROOT / "tfgen" / "providers" / "schemas" / f"aws-{version}.json"
    schema = load_schema(version)
    listed = set(_tool().RESOURCE_TYPES)
    assert schema["provider_version"] == version, path
    assert set(schema["resources"]) <= listed, sorted(set(schema["resources"]) - listed)
    if version != "3.39.0":  # 3.39 predates access entries, Pod Identity, the S3 split, ...
        assert set(schema["resources"]) == listed, sorted(listed - set(schema["resources"]))
    assert {"region", "default_tags"} <= set(schema["provider"]["attributes"]) | set(schema["provider"]["blocks"])
    assert path.stat().st_size < 1_000_000, f"{path} is {path.stat().st_size} bytes"


def test_versions_missing_types_are_the_ones_added_later():
    missing = set(_tool().RESOURCE_TYPES) - set(load_schema("3.39.0")["resources"])
    assert missing == {
        "aws_eks_access_entry", "aws_eks_access_policy_association", "aws_eks_pod_identity_association",
        "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
        "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_lifecycle_configuration",
    }, sorted(missing)


def test_extraction_agrees_with_the_real_339_schema():
    """The cdktf extraction (5.100.0) against the real binary's schema (3.39.0): every difference is a real change."""
    tool = _tool()
    result = compare_schemas(load_schema("3.39.0"), load_schema("5.100.0"))
    assert result.compared > 700, result.compared
    unexplained = [d for d in result.disagreements if tool.explain(d) is None]
    assert unexplained == [], unexplained
    assert result.agreed / result.compared >= 0.99, (result.agreed, result.compared)
    reversed_ = [r for r in result.required_changed if not r.endswith("required -> optional")]
    assert reversed_ == [], reversed_
    relaxed = sorted(r.split(":")[0] for r in result.required_changed)
    assert relaxed == sorted(tool.RELAXED_SINCE_339), relaxed


def test_extraction_keeps_block_shapes_that_matter():
    cluster = load_schema("6.25.0")["resources"]["aws_eks_cluster"]
    assert cluster["blocks"]["vpc_config"]["max_items"] == 1
    assert cluster["blocks"]["vpc_config"]["min_items"] == 1
    assert cluster["blocks"]["vpc_config"]["block"]["attributes"]["subnet_ids"] == {
        "type": ["set", "string"], "required": True, "optional": False}
    assert cluster["blocks"]["timeouts"]["nesting"] == "single"
    ingress = load_schema("6.25.0")["resources"]["aws_security_group"]["attributes"]["ingress"]
    assert ingress["type"][0] == "set" and ingress["type"][1][0] == "object", ingress


# --------------------------------------------------------------------------- the example roots pass

@pytest.mark.parametrize("root", EXAMPLE_ROOTS, ids=lambda p: str(p.relative_to(ROOT / "out")))
def test_example_root_passes_for_the_range_it_declares(root):
    found = check_root_for_range(root)
    assert found, f"{root}: its range admits no committed schema version"
    assert found == {version: [] for version in found}, "\n".join(map(str, sum(found.values(), [])))


@pytest.mark.parametrize("version", MODERN)
@pytest.mark.parametrize("root", EXAMPLE_ROOTS, ids=lambda p: str(p.relative_to(ROOT / "out")))
def test_example_root_passes_the_providers_users_run(root, version):
    problems = check_root(root, version)
    assert problems == [], "\n".join(map(str, problems))


@pytest.mark.parametrize("root", EXAMPLE_ROOTS, ids=lambda p: str(p.relative_to(ROOT / "out")))
def test_example_root_lowered_to_339_passes_the_real_339_schema(root):
    """What plans and the sandbox run is valid for the provider they run it with."""
    lowered = lower(_documents(root))
    problems = check_root(lowered.documents, str(OFFLINE))
    assert problems == [], "\n".join(map(str, problems))
    assert check_root(_documents(root), str(OFFLINE)), f"{root}: the unlowered root should not fit 3.39"


def test_default_range_checks_both_modern_versions():
    documents = _documents(ROOT / "out" / "production")
    assert sorted(check_root_for_range(documents, ">= 5.100, < 7.0")) == sorted(MODERN)


@pytest.mark.parametrize("version", [str(v) for v in SCHEMA_VERSIONS])
def test_checking_an_example_is_fast(version):
    load_schema(version)
    started = time.perf_counter()
    check_root(ROOT / "out" / "production", version)
    assert time.perf_counter() - started < 0.5


# --------------------------------------------------------------------------- what 6.0 removed

@pytest.mark.parametrize("type_, body, argument, instead", [
    ("aws_eip", {"vpc": True}, "vpc", "domain"),
    ("aws_flow_log", {"log_group_name": "flow", "traffic_type": "ALL", "vpc_id": "vpc-1"}, "log_group_name",
     "log_destination"),
    ("aws_eks_addon", {"cluster_name": "hub", "addon_name": "vpc-cni", "resolve_conflicts": "OVERWRITE"},
     "resolve_conflicts", "resolve_conflicts_on_update"),
])
def test_arguments_removed_in_6_fail_on_6_and_pass_on_5(type_, body, argument, instead):
    root = _one_resource(type_, body)
    assert check_root(root, "5.100.0") == []
    problems = check_root(root, "6.25.0")
    assert [(p.address, p.argument) for p in problems] == [(f"{type_}.example", argument)], problems
    assert f"unknown argument `{argument}`" in problems[0].message
    assert "removed in 6.0.0" in problems[0].message and instead in problems[0].message, problems[0].message


def test_type_added_later_is_unknown_to_339_with_the_release_that_added_it():
    root = _one_resource("aws_eks_access_entry", {"cluster_name": "hub", "principal_arn": "arn:aws:iam::1:role/x"})
    assert check_root(root, "5.100.0") == []
    problems = check_root(root, "3.39.0")
    assert len(problems) == 1 and "unknown resource type aws_eks_access_entry" in problems[0].message, problems
    assert "added in 5.33.0" in problems[0].message, problems[0].message


# --------------------------------------------------------------------------- broken roots fail, naming the argument

def _production_with(change, version: str = "6.25.0") -> dict[str, dict]:
    documents = copy.deepcopy(_documents(ROOT / "out" / "production"))
    if version == str(OFFLINE):
        documents = lower(documents).documents  # 3.39 is run on the lowered build
    clusters = documents["clusters.tf.json"]["resource"]["aws_eks_cluster"]
    name = sorted(clusters)[0]
    change(clusters[name])
    return documents, f"aws_eks_cluster.{name}"


def _first_vpc_config(cluster: dict) -> dict:
    config = cluster["vpc_config"]
    return config[0] if isinstance(config, list) else config


@pytest.mark.parametrize("change, argument, phrase", [
    (lambda c: c.update(nmae=c["name"]), "nmae", "did you mean `name`"),
    (lambda c: c.pop("role_arn"), "role_arn", "missing required argument `role_arn`"),
    (lambda c: c.pop("vpc_config"), "vpc_config", "missing required block `vpc_config`"),
    (lambda c: c.update(vpc_config="subnet-1"), "vpc_config", "is a block"),
    (lambda c: c.update(name={"value": "hub"}), "name", "not a block"),
    (lambda c: c.update(vpc_config=[_first_vpc_config(c)] * 2), "vpc_config", "at most one `vpc_config`"),
    (lambda c: c.update(enabled_cluster_log_types="api"), "enabled_cluster_log_types", "expected set(string)"),
    (lambda c: c.update(tags=["a"]), "tags", "expected map(string)"),
    (lambda c: _first_vpc_config(c).update(endpoint_public_access="yes"), "vpc_config.endpoint_public_access",
     "expected bool"),
    (lambda c: _first_vpc_config(c).update(subnet_ids=[["subnet-1"]]), "vpc_config.subnet_ids[0]", "expected string"),
])
@pytest.mark.parametrize("version", [str(v) for v in SCHEMA_VERSIONS])
def test_broken_cluster_fails_naming_the_argument(change, argument, phrase, version):
    documents, address = _production_with(change, version)
    problems = check_root(documents, version)
    assert [(p.file, p.address, p.argument) for p in problems] == [("clusters.tf.json", address, argument)], \
        "\n".join(map(str, problems))
    assert phrase in problems[0].message, problems[0].message
    assert problems[0].version == version


def test_terraform_json_conversions_and_meta_arguments_are_accepted():
    body = {
        "name": 42,                                       # number -> string
        "role_arn": "${aws_iam_role.cluster.arn}",
        "vpc_config": {"subnet_ids": "${local.subnets}", "endpoint_public_access": "false"},
        "enabled_cluster_log_types": ["api", "${var.extra}"],
        "tags": {"Team": True},                           # bool -> string
        "timeouts": {"create": "30m"},
        "count": "${var.enabled ? 1 : 0}", "depends_on": ["aws_iam_role.cluster"], "provider": "aws.us_east_1",
        "lifecycle": {"prevent_destroy": True}, "for_each": None, "//": "a Terraform JSON comment",
    }
    node_group = {"cluster_name": "hub", "node_group_name": "hub", "node_role_arn": "arn", "subnet_ids": ["s"],
                  "scaling_config": [{"desired_size": "2", "max_size": 3, "min_size": "${var.min}"}]}
    root = {"main.tf.json": {"resource": {"aws_eks_cluster": {"hub": body}, "aws_eks_node_group": {"hub": node_group}},
                             "data": {"aws_caller_identity": {"current": {"anything": 1}}},
                             "output": {"x": {"value": "${aws_eks_cluster.hub.arn}"}}}}
    for version in SCHEMA_VERSIONS:
        assert check_root(root, version) == [], check_root(root, version)


def test_provider_blocks_are_checked():
    documents = {"providers.tf.json": {"provider": {"aws": [
        {"alias": "us_east_1", "region": "us-east-1", "skip_get_ec2_platforms": True},
        {"alias": "eu_west_1", "region": "eu-west-1", "default_tags": [{"tags": {}}, {"tags": {}}]},
    ]}}}
    assert check_root(documents, "3.39.0")[0].argument == "default_tags"
    problems = check_root(documents, "6.25.0")
    assert [(p.address, p.argument) for p in problems] == [
        ("provider.aws.eu_west_1", "default_tags"), ("provider.aws.us_east_1", "skip_get_ec2_platforms")], problems


def test_override_files_are_not_part_of_the_root(tmp_path):
    (tmp_path / "main.tf.json").write_text(json.dumps(_one_resource("aws_eip", {"domain": "vpc"})["main.tf.json"]))
    (tmp_path / "offline_override.tf.json").write_text(json.dumps({"provider": {"aws": {"no_such": 1}}}))
    assert check_root(tmp_path, "6.25.0") == []


def test_range_that_admits_no_committed_version_is_an_error():
    with pytest.raises(TfgenError, match="admits none of the versions"):
        check_root_for_range(_documents(ROOT / "out" / "production"), "~> 4.0")
    with pytest.raises(TfgenError, match="declares no"):
        check_root_for_range(_one_resource("aws_eip", {}))


def test_testing_helpers_report_file_address_and_argument():
    documents, address = _production_with(lambda c: c.update(nmae="hub"))
    assert {v: len(p) for v, p in check_schemas(documents, MODERN).items()} == {"5.100.0": 1, "6.25.0": 1}
    with pytest.raises(AssertionError) as raised:
        assert_schemas(documents, MODERN)
    assert f"clusters.tf.json: {address}.nmae: unknown argument `nmae`" in str(raised.value), str(raised.value)
    assert_schemas(ROOT / "out" / "production")  # its declared range
