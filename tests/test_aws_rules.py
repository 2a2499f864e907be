"""Rules for what AWS (and Kubernetes, and Terraform) reject at apply time, checked
on the model before anything is written: tags, names, state backend, versions."""

from __future__ import annotations

import pytest

import tfgen
from tfgen.checks.model import check_fleet
from tfgen.checks.tags import MAX_TAGS
from tests.conftest import EXAMPLE


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


# -- every pattern is a full match: a value with a trailing newline fails each family --------------


def _platform_codes(fleet: tfgen.Fleet) -> set[str]:
    return {f.code for f in tfgen.validate(fleet)}


def test_platform_values_ending_in_a_newline_are_rejected():
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012",
                                assume_role="arn:aws:iam::123456789012:role/deploy\n")
    env.access.admins.append("arn:aws:iam::123456789012:role/admins\n")
    env.gitops.namespace = "argocd\n"
    env.gitops.service_accounts.append("argocd-extra\n")
    env.bastion.instance_type = "t3.micro\n"
    env.bastion.ami = "ami-0123456789abcdef0\n"
    hub = env.add_hub("us-east-1", cidr="10.10.0.0/16")
    hub.addons["vpc-cni"] = tfgen.Addon(name="vpc-cni", version="v1.19.2-eksbuild.1\n")
    hub.node_groups["workers"] = tfgen.NodeGroup(name="workers", instance_types=["t3.medium\n"])
    codes = _platform_codes(fleet)
    for code, what in [("VAL126", "role ARN"), ("VAL411", "principal ARN"), ("VAL432", "namespace"),
                       ("VAL433", "service account"), ("VAL441", "bastion instance type"), ("VAL442", "AMI id"),
                       ("VAL422", "add-on version"), ("VAL156", "node instance type")]:
        assert code in codes, f"{what} with a trailing newline passed ({code} not in {sorted(codes)})"


def _match_calls(source: str) -> list[int]:
    """Lines of `source` that match a regex from the start only: `re.match(...)`, `PATTERN.match(...)`,
    or `match` imported from `re`."""
    import ast
    return sorted(node.lineno for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "match"
                  or isinstance(node, ast.ImportFrom) and node.module == "re"
                  and any(alias.name == "match" for alias in node.names))


def test_no_check_matches_user_input_with_match():
    """`re.match` with `$` lets a trailing newline through; every rule uses fullmatch."""
    import pathlib
    root = pathlib.Path(tfgen.__file__).parent
    offenders = [f"{path.relative_to(root)}:{line}" for path in sorted((root / "checks").glob("*.py"))
                 for line in _match_calls(path.read_text())]
    assert offenders == [], offenders


def test_the_match_rule_sees_every_spelling():
    source = ("import re\nfrom re import match\nP = re.compile('a$')\nP.match(v)\nre.match('a$', v)\n"
              "P.fullmatch(v)\nre.fullmatch('a', v)\nP.search(v)\n# P.match(v) in a comment\n")
    assert _match_calls(source) == [2, 4, 5]


# -- CIDRs as AWS takes them -------------------------------------------------------------------


@pytest.mark.parametrize("cidr, fix", [
    ("10.11.0.0/016", "write 10.11.0.0/16"),
    ("010.11.0.0/16", "write 10.11.0.0/16"),
    (" 10.11.0.0/16", "write 10.11.0.0/16"),
    ("10.11.0.0/16\n", "write 10.11.0.0/16"),
    ("10.11.0.0/255.255.0.0", "write 10.11.0.0/16"),
    ("10.11.0.1/16", "write 10.11.0.0/16"),
])
def test_non_canonical_cidrs_are_errors_with_the_canonical_form_as_fix(cidr, fix):
    fleet = _fleet()
    env = fleet.environment("dev")
    env.regions["us-east-2"].clusters["edge"].network.cidr = cidr
    env.cidr_pool = cidr.replace("10.11", "10.0", 1).replace("/16", "/12").replace("/016", "/012")
    env.regions["us-east-1"].clusters["hub"].network.private_subnets = [cidr.replace("0.0/", "0.0/", 1)
                                                                        .replace("10.11", "10.10", 1)]
    findings = {f.code: f for f in check_fleet(fleet) if f.code in ("VAL127", "VAL163", "VAL169")}
    assert findings["VAL163"].hint == fix, findings["VAL163"].format()
    assert sorted(findings) == ["VAL127", "VAL163", "VAL169"], [f.format() for f in findings.values()]


def test_a_canonical_cidr_passes():
    assert [f.code for f in check_fleet(_fleet()) if f.code in ("VAL127", "VAL163", "VAL169")] == []


def test_a_non_canonical_cidr_in_a_spec_names_its_line(tmp_path):
    spec = tmp_path / "fleet.yaml"
    spec.write_text('project: demo\nenvironments:\n  dev:\n    account_id: "123456789012"\n'
                    "    hub: {region: us-east-1, cidr: 10.10.0.0/16}\n"
                    "    regions:\n      us-east-2: {cidr: 10.11.0.0/016}\n")
    (finding,) = [f for f in tfgen.validate(tfgen.load(spec)) if f.code == "VAL163"]
    assert (finding.origin.line, finding.hint) == (7, "write 10.11.0.0/16"), finding.format()


# -- one instance-type rule for node groups and the bastion ------------------------------------


@pytest.mark.parametrize("kind, ok", [
    ("t3.medium", True), ("m7i-flex.large", True), ("c7i.metal-24xl", True), ("u7i-12tb.224xlarge", True),
    ("t3", False), ("T3.medium", False), ("t3.medium-", False), ("t.micro", False),
])
def test_node_groups_and_the_bastion_judge_instance_types_alike(kind, ok):
    fleet = _fleet()
    env = fleet.environment("dev")
    env.bastion.instance_type = kind
    for _, cluster in env.clusters():
        cluster.node_groups["workers"] = tfgen.NodeGroup(name="workers", instance_types=[kind])
    codes = _platform_codes(fleet)
    assert ("VAL156" not in codes, "VAL441" not in codes) == (ok, ok), sorted(codes)


# -- one secret detector for validate (VAL110) and the policy gate (CKV_TFGEN_8/12, TFGEN_9) -------

SECRETS = [
    ("deploy", "AKIAIOSFODNN7EXAMPLE"),
    ("session", "ASIAIOSFODNN7EXAMPLE"),
    ("key", "-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA"),
    ("ci", "ghp_" + "a1B2" * 9),
    ("ci", "github_pat_" + "A1b2C3d4E5" * 3),
    ("chat", "xoxb-1234567890-abcdefghij"),
    ("note", "password=hunter2hunter2"),
    ("db_password", "hunter2"),
    ("api_token", "x"),
]
NOT_SECRETS = [
    ("Owner", "platform"),
    ("CostCenter", "42"),
    ("note", "password=${var.db_password}"),
    ("api_token", "${aws_secretsmanager_secret.api.arn}"),
    ("docs", "rotate the keys every month"),
    ("path", "a/b:c=d+e-f@g_h.i"),
]


def _policy_module(name: str):
    import importlib
    import sys
    from pathlib import Path
    policies = str(Path(tfgen.__file__).parent / "policies")
    if policies not in sys.path:
        sys.path.insert(0, policies)  # how checkov loads the directory
    return importlib.import_module(name)


@pytest.mark.parametrize("key, value", SECRETS + NOT_SECRETS)
def test_validate_and_the_policies_judge_a_tag_alike(key, value):
    from checkov.common.models.enums import CheckResult
    secret = (key, value) in SECRETS
    policies = _policy_module("tfgen_secrets")
    in_spec = "VAL110" in _codes(_fleet(tags={key: value}))
    on_resource = policies.check.scan_resource_conf({"tags": [{key: value}]}) == CheckResult.FAILED
    on_provider = policies.provider_check.scan_provider_conf(
        {"default_tags": [{"tags": [{key: value}]}]}) == CheckResult.FAILED
    assert (in_spec, on_resource, on_provider) == (secret, secret, secret), (key, value)


@pytest.mark.parametrize("key, value", SECRETS + NOT_SECRETS)
def test_an_output_holding_a_value_is_judged_as_a_tag_value_is(key, value):
    rules = _policy_module("tfgen_module_rules")
    results = list(rules.evaluate({"outputs.tf.json": {"output": {"x": {"value": value}}}}))
    leaked = ("TFGEN_9", "output.x", False) in results
    in_spec = "VAL110" in _codes(_fleet(tags={"note": value}))
    assert leaked == in_spec, (value, results)


# -- every AWS name tfgen derives, against the rule of the resource it names (VAL185) -------------


def _s3_fleet(project="demo", bucket="mrc-tfstate", key_prefix="") -> tfgen.Fleet:
    fleet = _fleet()
    fleet.project = project
    fleet.state = tfgen.StateBackend(backend="s3", bucket=bucket, region="us-east-1", key_prefix=key_prefix)
    return fleet


@pytest.mark.parametrize("options, resource, field", [
    ({"project": "sg-team"}, "EC2 security group", "project"),
    ({"bucket": "mrc.tf.state"}, "KMS alias", "bucket"),
    ({"key_prefix": "/"}, "S3 state object key", "key_prefix"),
    ({"key_prefix": "fleets//"}, "S3 state object key", "key_prefix"),
    ({"key_prefix": "fleets/\n"}, "S3 state object key", "key_prefix"),
])
def test_derived_names_aws_rejects_are_errors_naming_resource_and_field(tmp_path, options, resource, field):
    findings = [f for f in check_fleet(_s3_fleet(**options)) if f.code == "VAL185"]
    assert findings and all(f.severity.value == "error" for f in findings), options
    assert findings[0].message.startswith(f"{resource} name "), findings[0].message
    assert f"change the {'state.' if field != 'project' else ''}{field}" in findings[0].hint, findings[0].hint


def test_a_valid_fleet_derives_only_names_aws_accepts():
    assert [f.format() for f in check_fleet(_s3_fleet(key_prefix="fleets/")) if f.code == "VAL185"] == []


def test_the_name_table_sees_every_name_the_output_holds(example_out):
    """Each AWS name in the emitted example is one `derived_names` lists: an emitter cannot add a
    name the rule does not check."""
    import json
    from tfgen.checks.aws_names import derived_names
    named = {"aws_eks_cluster": "name", "aws_iam_role": "name", "aws_iam_instance_profile": "name",
             "aws_security_group": "name", "aws_launch_template": "name", "aws_kms_alias": "name",
             "aws_cloudwatch_log_group": "name", "aws_eks_node_group": "node_group_name_prefix"}
    emitted = set()
    for path in example_out.rglob("*.tf.json"):
        document = json.loads(path.read_text())
        for type_, blocks in document.get("resource", {}).items():
            for name, body in blocks.items():
                if type_ in named and not str(body[named[type_]]).startswith("${"):
                    emitted.add((type_, body[named[type_]]))
        key = document.get("terraform", {}).get("backend", {}).get("s3", {}).get("key")
        if key:
            emitted.add(("s3_key", key))
    derived = {d.name for d in derived_names(tfgen.load(EXAMPLE))}
    missing = sorted(e for e in emitted if e[1] not in derived)
    assert len(emitted) > 20 and missing == [], missing


# -- contradictory keys ------------------------------------------------------------------------


def test_az_count_contradicting_the_listed_zones_warns_that_the_list_wins():
    fleet = _fleet()
    network = fleet.environment("dev").regions["us-east-2"].clusters["edge"].network
    network.az_count, network.availability_zones = 3, ["us-east-2a"]
    (found,) = [f for f in check_fleet(fleet) if f.code == "VAL177"]
    assert found.severity.value == "warning" and "the list wins: the VPC gets 1 zone(s)" in found.message
    network.az_count = 1
    assert [f for f in check_fleet(fleet) if f.code == "VAL177"] == []


def test_a_local_backend_with_s3_settings_warns_they_are_ignored():
    fleet = _fleet(state=tfgen.StateBackend(backend="local", bucket="mrc-tfstate", lock_table="locks"))
    (found,) = [f for f in check_fleet(fleet) if f.code == "VAL117"]
    assert found.severity.value == "warning" and "ignores bucket, lock_table" in found.message
    assert [f for f in check_fleet(_fleet()) if f.code == "VAL117"] == []
