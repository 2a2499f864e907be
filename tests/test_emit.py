"""JSON-level guarantees of the emitted root modules."""

from __future__ import annotations

import json
import re

import tfgen
from tfgen.derive import naming
from tests.conftest import EXAMPLE

REFERENCE = re.compile(r"^(aws_[a-z0-9_]+)\.[a-z0-9_]+\.[a-z_]+$")


def _documents(out, env):
    return {p.name: json.loads(p.read_text()) for p in sorted((out / env).glob("*.tf.json"))}


def _resources(out, env):
    for filename, doc in _documents(out, env).items():
        for type_, items in doc.get("resource", {}).items():
            for name, body in items.items():
                yield filename, type_, name, body


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_root_module_is_split_by_concern(example_out):
    for env in ("development", "production"):
        assert sorted(_documents(example_out, env)) == sorted([
            "terraform.tf.json", "providers.tf.json", "network.tf.json", "peering.tf.json",
            "iam.tf.json", "logs.tf.json", "clusters.tf.json", "security.tf.json", "addons.tf.json",
            "access.tf.json", "bastion.tf.json", "bootstrap.tf.json", "outputs.tf.json"]), env


def test_one_aliased_provider_per_region_with_default_tags(example_out):
    providers = _documents(example_out, "production")["providers.tf.json"]["provider"]["aws"]
    assert [(p["alias"], p["region"]) for p in providers] == [
        ("eu_west_1", "eu-west-1"), ("us_east_1", "us-east-1"), ("us_east_2", "us-east-2"), ("us_west_2", "us-west-2")]
    for p in providers:
        tags = p["default_tags"]["tags"]
        assert tags["Project"] == "multi-region-clusters" and tags["Environment"] == "production", p["alias"]
        assert tags["ManagedBy"] == "tfgen" and tags["Owner"] == "platform", p["alias"]


def test_every_resource_names_its_provider_alias(example_out):
    aliases = {f"aws.{p['alias']}" for p in
               _documents(example_out, "development")["providers.tf.json"]["provider"]["aws"]}
    for filename, type_, name, body in _resources(example_out, "development"):
        assert body.get("provider") in aliases, f"{filename}: {type_}.{name}"


def test_references_are_interpolations(example_out):
    for filename, type_, name, body in _resources(example_out, "production"):
        # Terraform's meta-arguments name what they refer to bare (`depends_on`, `replace_triggered_by`)
        arguments = {k: v for k, v in body.items() if k not in ("depends_on", "lifecycle")}
        for value in _strings(arguments):
            assert not REFERENCE.match(value), f"{filename}: {type_}.{name} has bare reference {value!r}"


def test_no_data_sources(example_out):
    for env in ("development", "production"):
        for filename, doc in _documents(example_out, env).items():
            assert "data" not in doc, f"{env}/{filename}"


def test_backend_state_key_per_environment(example_out):
    for env in ("development", "production"):
        terraform = _documents(example_out, env)["terraform.tf.json"]["terraform"]
        assert terraform["backend"]["s3"] == {
            "bucket": "mrc-tfstate", "key": f"multi-region-clusters/{env}/terraform.tfstate",
            "region": "us-east-1", "use_lockfile": True}, env
        assert terraform["required_providers"]["aws"] == {"source": "hashicorp/aws", "version": ">= 5.100, < 7.0"}
        assert terraform["required_version"] == ">= 1.10", "S3-native locking needs Terraform 1.10"


def test_lock_table_locks_with_dynamodb_on_any_terraform(tmp_path):
    fleet = tfgen.load(EXAMPLE)
    fleet.state.lock_table = "mrc-locks"
    tfgen.build(fleet, tmp_path)
    terraform = _documents(tmp_path, "development")["terraform.tf.json"]["terraform"]
    assert terraform["backend"]["s3"]["dynamodb_table"] == "mrc-locks"
    assert "use_lockfile" not in terraform["backend"]["s3"]
    assert terraform["required_version"] == ">= 1.0"
    table = _documents(tmp_path, "_state")["state.tf.json"]["resource"]["aws_dynamodb_table"]["state"]
    assert table["name"] == "mrc-locks" and table["hash_key"] == "LockID"
    assert table["point_in_time_recovery"] == {"enabled": True}


def test_state_bootstrap_root_secures_the_bucket(example_out):
    docs = _documents(example_out, "_state")
    assert "backend" not in docs["terraform.tf.json"]["terraform"], "the bootstrap root keeps local state"
    resources = docs["state.tf.json"]["resource"]
    bucket = resources["aws_s3_bucket"]["state"]
    assert bucket["bucket"] == "mrc-tfstate" and bucket["lifecycle"] == {"prevent_destroy": True}
    assert resources["aws_s3_bucket_versioning"]["state"]["versioning_configuration"] == {"status": "Enabled"}
    sse = resources["aws_s3_bucket_server_side_encryption_configuration"]["state"]["rule"]
    assert sse["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    block = resources["aws_s3_bucket_public_access_block"]["state"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                           "restrict_public_buckets"))
    policy = json.loads(resources["aws_s3_bucket_policy"]["state"]["policy"])
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "aws_dynamodb_table" not in resources, "S3-native locking needs no table"


def test_assume_role_reaches_every_provider(tmp_path):
    fleet = tfgen.load(EXAMPLE)
    arn = "arn:aws:iam::123456789012:role/platform-deployer"
    fleet.environment("development").assume_role = arn
    tfgen.build(fleet, tmp_path)
    for p in _documents(tmp_path, "development")["providers.tf.json"]["provider"]["aws"]:
        assert p["assume_role"]["role_arn"] == arn, p["alias"]
    for p in _documents(tmp_path, "production")["providers.tf.json"]["provider"]["aws"]:
        assert "assume_role" not in p, p["alias"]


def test_nat_layout_single_and_per_az(example_out):
    dev = [n for _, t, n, _ in _resources(example_out, "development") if t == "aws_nat_gateway"]
    prod = [n for _, t, n, _ in _resources(example_out, "production") if t == "aws_nat_gateway"]
    assert sorted(dev) == ["us_east_1_hub_a", "us_east_2_edge_a", "us_west_2_edge_a"]
    assert len(prod) == 4 * 3 and "eu_west_1_edge_c" in prod


def test_eks_cluster_is_private_encrypted_and_logs_everything(example_out):
    clusters = [(n, b) for _, t, n, b in _resources(example_out, "production") if t == "aws_eks_cluster"]
    assert len(clusters) == 4
    for name, body in clusters:
        assert body["vpc_config"]["endpoint_public_access"] is False, name
        assert body["vpc_config"]["endpoint_private_access"] is True, name
        assert body["encryption_config"]["resources"] == ["secrets"], name
        assert sorted(body["enabled_cluster_log_types"]) == sorted(
            ["api", "audit", "authenticator", "controllerManager", "scheduler"]), name
        assert all("private" in s for s in body["vpc_config"]["subnet_ids"]), name


def test_adding_a_region_only_adds_resources(tmp_path, example_out):
    fleet = tfgen.load(EXAMPLE)
    fleet.environment("production").add_region("ap-southeast-2", cidr="10.24.0.0/16")
    tfgen.build(fleet, tmp_path)
    before = {(t, n): b for _, t, n, b in _resources(example_out, "production")}
    after = {(t, n): b for _, t, n, b in _resources(tmp_path, "production")}
    changed = sorted(k for k in before if after[k] != before[k])
    # The in-place changes: Argo CD's hub role may now also assume the new edge's deployer role, and the
    # bootstrap's registration data carries the new edge's Secret (so a new document) and it waits for its
    # access entry.
    assert changed == [("aws_iam_role_policy", "us_east_1_hub_argocd"),
                       ("aws_s3_object", "us_east_1_hub_registration"),
                       ("aws_ssm_association", "us_east_1_hub_bootstrap"),
                       ("aws_ssm_document", "us_east_1_hub_bootstrap")], changed
    assert "ap-southeast-2" in after[("aws_s3_object", "us_east_1_hub_registration")]["content"]
    assert after[changed[3]]["name"] != before[changed[3]]["name"]  # a new association, which the apply waits for
    statement = json.loads(after[changed[0]]["policy"])["Statement"][0]
    assert "${aws_iam_role.ap_southeast_2_edge_deployer.arn}" in statement["Resource"]
    new = set(after) - set(before)
    assert ("aws_vpc", "ap_southeast_2_edge") in new
    key = naming.peering_name("us_east_1_hub", "ap_southeast_2_edge")
    assert ("aws_vpc_peering_connection", key) in new


def test_python_api_and_yaml_give_identical_output(tmp_path, example_out):
    import importlib.util

    spec = importlib.util.spec_from_file_location("example", EXAMPLE.parent / "multi_region_eks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tfgen.build(module.fleet(), tmp_path)
    produced = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    expected = {p.relative_to(example_out): p.read_bytes() for p in example_out.rglob("*") if p.is_file()}
    assert produced == expected


def test_every_vpc_has_flow_logs_to_an_encrypted_log_group_kept_a_year(example_out):
    for env in ("development", "production"):
        resources = {(t, n): b for _, t, n, b in _resources(example_out, env)}
        vpcs = [n for t, n in resources if t == "aws_vpc"]
        for vpc in vpcs:
            flow = resources["aws_flow_log", vpc]
            assert flow["vpc_id"] == f"${{aws_vpc.{vpc}.id}}" and flow["traffic_type"] == "ALL", vpc
            group = flow["log_destination"].removeprefix("${").removesuffix(".arn}").split(".")
            body = resources[tuple(group)]
            assert body["retention_in_days"] >= 365, f"{env}: {group}"
            assert body["kms_key_id"] == f"${{aws_kms_key.{vpc}_logs.arn}}", f"{env}: {group}"


def test_kms_keys_rotate_and_have_a_literal_policy_naming_the_account(example_out):
    accounts = {"development": "111111111111", "production": "222222222222"}
    for env, account in accounts.items():
        keys = [(n, b) for _, t, n, b in _resources(example_out, env) if t == "aws_kms_key"]
        assert keys, env
        for name, body in keys:
            assert body["enable_key_rotation"] is True, name
            policy = json.loads(body["policy"])
            assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}, name
            assert "${" not in body["policy"], f"{name}: the key policy is not literal"


def test_account_comes_from_assume_role_when_not_given(example_fleet):
    env = example_fleet.environment("development")
    env.account_id = None
    env.assume_role = "arn:aws:iam::333333333333:role/deployer"
    assert env.account == "333333333333"
    assert not [f for f in tfgen.validate(example_fleet) if f.code in ("VAL128", "VAL129", "VAL130")]
    env.account_id = "444444444444"
    assert [f.code for f in tfgen.validate(example_fleet) if f.code.startswith("VAL13")] == ["VAL130"]
