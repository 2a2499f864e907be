"""The schema oracle: committed AWS provider schemas, their validation, and the checker on real and broken roots."""

from __future__ import annotations

import copy
import importlib.util
import json
import time
from pathlib import Path

import pytest

from tfgen.checks.compat import check_compatibility, features_of
from tfgen.errors import TfgenError
from tfgen.model import Fleet
from tfgen.terraform.lowering import lower
from tfgen.providers import FEATURES, OFFLINE, SCHEMA_VERSIONS, Version
from tfgen.providers.schema import compare_schemas, load_schema
from tfgen.terraform.schema_check import check_root, check_root_for_range
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
    # Every listed type the version has, and only those FEATURES says came later are missing
    # (3.39 predates access entries, Pod Identity, the S3 split, ...; 5.100 the EKS capabilities).
    added_later = {f.key for f in FEATURES if f.key in listed and Version.parse(version) < f.minimum}
    assert set(schema["resources"]) == listed - added_later, sorted(listed ^ set(schema["resources"]))
    assert {"region", "default_tags"} <= set(schema["provider"]["attributes"]) | set(schema["provider"]["blocks"])
    assert path.stat().st_size < 1_000_000, f"{path} is {path.stat().st_size} bytes"


def test_versions_missing_types_are_the_ones_added_later():
    def missing(version):
        return set(_tool().RESOURCE_TYPES) - set(load_schema(version)["resources"])

    assert missing("3.39.0") == {
        "aws_eks_access_entry", "aws_eks_access_policy_association", "aws_eks_pod_identity_association",
        "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
        "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_lifecycle_configuration", "aws_eks_capability", "aws_s3_object",
    }, sorted(missing("3.39.0"))
    assert missing("5.100.0") == {"aws_eks_capability"}, sorted(missing("5.100.0"))  # new in 6.25.0
    assert missing("6.25.0") == set(), sorted(missing("6.25.0"))


def _argument_paths(block: dict, prefix: str = "") -> set[str]:
    paths = {prefix + name for name in block["attributes"]}
    for name, nested in block["blocks"].items():
        paths |= {prefix + name} | _argument_paths(nested["block"], f"{prefix}{name}.")
    return paths


def test_ssm_arguments_newer_than_339_are_the_ones_the_schemas_show():
    """What the real 3.39 schema lacks of the SSM resources 5.100 has; FEATURES covers those tfgen emits."""
    def newer(type_):
        old, new = (_argument_paths(load_schema(v)["resources"][type_]) for v in ("3.39.0", "5.100.0"))
        return new - old

    assert newer("aws_ssm_document") == set()
    assert newer("aws_ssm_association") == {
        "wait_for_success_timeout_seconds", "sync_compliance", "tags", "tags_all", "output_location.s3_region"}
    output_location = load_schema("3.39.0")["resources"]["aws_ssm_association"]["blocks"]["output_location"]
    assert (output_location["nesting"], output_location["max_items"]) == ("list", 1)
    assert set(output_location["block"]["attributes"]) == {"s3_bucket_name", "s3_key_prefix"}
    keys = {f.key for f in FEATURES}
    assert {"aws_ssm_association.wait_for_success_timeout_seconds", "aws_ssm_association.tags"} <= keys


def test_features_proven_only_by_bounds_hold_in_the_committed_schemas():
    """A feature with `after` is absent from that version's schema and present in its `minimum`'s."""
    bounded = [f for f in FEATURES if f.after is not None]
    assert bounded, "expected bounded features (the SSM association arguments)"
    for f in bounded:
        type_, _, argument = f.key.partition(".")
        for version, present in ((f.after, False), (f.minimum, True)):
            resources = load_schema(version)["resources"]
            found = type_ in resources and (not argument or argument in _argument_paths(resources[type_]))
            assert found is present, (f.key, str(version))
        assert f.since == f"after {f.after}, by {f.minimum}"


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
    if any(not c.address.startswith("terraform.") for c in lowered.changes):
        # (a cells link root, a peering and its routes, needs no resource or argument newer than 3.39)
        assert check_root(_documents(root), str(OFFLINE)), f"{root}: the unlowered root should not fit 3.39"
    else:
        assert check_root(_documents(root), str(OFFLINE)) == [], f"{root}: lowering changed nothing, yet it does not fit"


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


# --------------------------------------------------------------------------- the GitOps bootstrap's resources (#15)

HUB = "${aws_eks_cluster.us_east_1_hub.name}"


def _capability(**change) -> dict:
    """The Argo CD capability as BOOTSTRAP.md lists its arguments, in Terraform JSON."""
    body = {
        "capability_name": "argocd", "cluster_name": HUB, "type": "ARGOCD",
        "role_arn": "${aws_iam_role.us_east_1_hub_argocd_capability.arn}", "delete_propagation_policy": "RETAIN",
        "configuration": {"argo_cd": {
            "aws_idc": {"idc_instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef", "idc_region": "us-east-1"},
            "namespace": "argocd",
            "rbac_role_mapping": [
                {"role": "ADMIN", "identity": [{"id": "a1b2c3d4-admins", "type": "SSO_GROUP"}]},
                {"role": "VIEWER", "identity": [{"id": "e5f6-viewers", "type": "SSO_GROUP"},
                                                {"id": "0a1b-alice", "type": "SSO_USER"}]},
            ],
        }},
        "tags": {"Project": "demo"}, "provider": "aws.us_east_1",
    }
    body.update(change)
    return body


def _bootstrap_documents() -> dict[str, dict]:
    """An SSM Run Command bootstrap on the bastion, as BOOTSTRAP.md describes it, plus the capability."""
    document = {
        "name": "demo-bootstrap", "document_type": "Command", "document_format": "JSON",
        "content": json.dumps({"schemaVersion": "2.2", "description": "bootstrap Argo CD", "parameters": {
            "Revision": {"type": "String"}}, "mainSteps": [{"action": "aws:runShellScript", "name": "bootstrap",
                                                            "inputs": {"runCommand": ["echo {{ Revision }}"]}}]}),
        "tags": {"Project": "demo"}, "provider": "aws.us_east_1",
    }
    association = {
        "name": "${aws_ssm_document.us_east_1_bootstrap.name}",
        "targets": [{"key": "InstanceIds", "values": ["${aws_instance.us_east_1_hub_bastion.id}"]}],
        "wait_for_success_timeout_seconds": 900,
        "output_location": {"s3_bucket_name": "${aws_s3_bucket.bootstrap_logs.id}", "s3_key_prefix": "bootstrap/"},
        "parameters": {"Revision": "abc123"},
        "tags": {"Project": "demo"}, "provider": "aws.us_east_1",
    }
    return {"bootstrap.tf.json": {"resource": {
        "aws_ssm_document": {"us_east_1_bootstrap": document},
        "aws_ssm_association": {"us_east_1_bootstrap": association},
        "aws_eks_capability": {"us_east_1_hub_argocd": _capability()},
    }}}


def test_argo_cd_capability_passes_6_25_and_is_unknown_before():
    root = _one_resource("aws_eks_capability", _capability())
    assert check_root(root, "6.25.0") == []
    for version in ("5.100.0", "3.39.0"):
        problems = check_root(root, version)
        assert len(problems) == 1 and problems[0].argument == "", problems
        assert "unknown resource type aws_eks_capability" in problems[0].message
        assert "(added in 6.25.0)" in problems[0].message, problems[0].message


def test_capability_schema_shapes_are_checked():
    configuration = load_schema("6.25.0")["resources"]["aws_eks_capability"]["blocks"]["configuration"]
    argo_cd = configuration["block"]["blocks"]["argo_cd"]["block"]
    mapping = argo_cd["blocks"]["rbac_role_mapping"]
    assert (mapping["nesting"], mapping["max_items"]) == ("set", None)  # repeated: one per role
    assert mapping["block"]["blocks"]["identity"]["nesting"] == "set"
    # The name an older docs page shows is refused, pointing at the real one.
    config = _capability()["configuration"]["argo_cd"]
    stale = dict(config, rbac_role_mappings=config.pop("rbac_role_mapping"))
    problems = check_root(_one_resource("aws_eks_capability", _capability(
        configuration={"argo_cd": stale})), "6.25.0")
    assert [p.argument for p in problems] == ["configuration.argo_cd.rbac_role_mappings"], problems
    assert "did you mean `rbac_role_mapping`" in problems[0].message
    # Required arguments of the capability and of a role mapping's identity.
    body = _capability()
    del body["delete_propagation_policy"]
    body["configuration"]["argo_cd"]["rbac_role_mapping"][0]["identity"][0].pop("type")
    problems = check_root(_one_resource("aws_eks_capability", body), "6.25.0")
    assert sorted(p.argument for p in problems) == [
        "configuration.argo_cd.rbac_role_mapping[0].identity[0].type", "delete_propagation_policy"], problems


@pytest.mark.parametrize("version", MODERN)
def test_ssm_bootstrap_passes_the_providers_users_run(version):
    documents = _bootstrap_documents()
    del documents["bootstrap.tf.json"]["resource"]["aws_eks_capability"]
    assert check_root(documents, version) == []


def test_ssm_association_on_339_names_what_it_lacks():
    documents = _bootstrap_documents()
    del documents["bootstrap.tf.json"]["resource"]["aws_eks_capability"]
    problems = check_root(documents, "3.39.0")
    assert [(p.address, p.argument) for p in problems] == [
        ("aws_ssm_association.us_east_1_bootstrap", "tags"),
        ("aws_ssm_association.us_east_1_bootstrap", "wait_for_success_timeout_seconds")], problems
    assert all("(added after 3.39.0, by 5.100.0)" in p.message for p in problems), problems


def test_bootstrap_lowered_to_339_leaves_out_and_lists_what_339_lacks():
    documents = _bootstrap_documents()
    lowered = lower(documents)
    assert check_root(lowered.documents, str(OFFLINE)) == []
    assert {(c.address, c.what, c.action) for c in lowered.changes} == {
        ("aws_eks_capability.us_east_1_hub_argocd", "aws_eks_capability", "left out"),
        ("aws_ssm_association.us_east_1_bootstrap", "argument tags", "left out"),
        ("aws_ssm_association.us_east_1_bootstrap", "argument wait_for_success_timeout_seconds", "left out"),
    }, lowered.changes
    reasons = {c.what: c.reason for c in lowered.changes}
    assert reasons["aws_eks_capability"] == "EKS managed capabilities (Argo CD): provider 6.25.0+"
    assert "after 3.39.0, by 5.100.0" in reasons["argument wait_for_success_timeout_seconds"]
    resources = lowered.documents["bootstrap.tf.json"]["resource"]
    kept = resources["aws_ssm_association"]["us_east_1_bootstrap"]
    assert kept["output_location"] == documents["bootstrap.tf.json"]["resource"]["aws_ssm_association"][
        "us_east_1_bootstrap"]["output_location"]
    assert resources["aws_ssm_document"] == documents["bootstrap.tf.json"]["resource"]["aws_ssm_document"]
    assert "aws_eks_capability" not in resources


def test_a_range_admitting_providers_without_the_capability_is_refused():
    roots = {"production": _bootstrap_documents()}
    assert set(features_of(roots["production"])) == {
        "aws_eks_capability", "aws_ssm_association.tags", "aws_ssm_association.wait_for_success_timeout_seconds"}
    findings = [f for f in check_compatibility(Fleet(project="demo"), roots) if f.code == "VAL105"]
    assert len(findings) == 1, findings  # the default ">= 5.100, < 7.0" admits 5.100, which lacks it
    assert "EKS managed capabilities (Argo CD) (aws_eks_capability) needs 6.25.0" in findings[0].message
    assert "at least 6.25.0" in findings[0].hint
    assert "5.100.0" not in findings[0].hint
    assert not [f for f in check_compatibility(Fleet(project="demo", aws_provider=">= 6.25, < 7.0"), roots)
                if f.code == "VAL105"]
    ssm_only = {"production": _bootstrap_documents()}
    del ssm_only["production"]["bootstrap.tf.json"]["resource"]["aws_eks_capability"]
    findings = [f for f in check_compatibility(Fleet(project="demo", aws_provider=">= 5.0, < 7.0"), ssm_only)
                if f.code == "VAL105"]
    assert len(findings) == 1 and "wait_for_success_timeout_seconds) needs 5.100.0 (added after 3.39.0, by " \
        "5.100.0)" in findings[0].message, findings


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


def test_an_interpolation_may_be_any_type_but_an_escaped_one_is_text():
    def problems(value) -> list[str]:
        documents = {"main.tf.json": {"resource": {"aws_vpc": {"x": {"cidr_block": "10.0.0.0/16",
                                                                     "enable_dns_support": value}}}}}
        return [p.argument for p in check_root(documents, "6.25.0")]

    assert problems("${var.dns}") == [] and problems("%{ if var.dns }true%{ endif }") == []
    assert problems("true") == []
    assert problems("$${var.dns}") == ["enable_dns_support"]  # the text `${var.dns}`, not a bool
