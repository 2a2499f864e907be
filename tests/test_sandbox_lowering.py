"""The sandbox's quirks as lowering passes, and the record `copy_root` returns. No terraform runs.

The example's development root goes through `lower(..., passes=sandbox_passes(...))` as the
sandbox copies it; the tests compare it with the provider's lowering alone, so what the passes
add is exactly what the double needs, each change listed with its reason.
"""

from __future__ import annotations

import json

import tfgen
import tfgen.pipeline
from tfgen.terraform.lowering import LOWERED_FILE, leave_out, lower
from tfgen.sandbox.quirks import QUIRKS, UNSUPPORTED, sandbox_passes
from tfgen.terraform.toolchain import copy_root

AMI = "ami-0123456789abcdef0"
TEMPLATE = "aws_launch_template.us_east_1_hub_bastion"
INSTANCE = "aws_instance.us_east_1_hub_bastion"


def _documents(root) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(root.glob("*.tf.json"))}


def _addresses(documents: dict[str, dict]) -> set[str]:
    return {f"{t}.{n}" for d in documents.values() for t, blocks in d.get("resource", {}).items() for n in blocks}


def _resource(documents: dict[str, dict], address: str) -> dict:
    type_, name = address.split(".", 1)
    return next(d["resource"][type_][name] for d in documents.values() if name in d.get("resource", {}).get(type_, {}))


def _sandbox_lowering(example_out, asked=None):
    def resolve(region, parameter):
        if asked is not None:
            asked.append((region, parameter))
        return AMI
    documents = _documents(example_out / "development")
    return documents, lower(documents, passes=sandbox_passes(resolve)), lower(documents)


def test_sandbox_passes_leave_out_exactly_the_unsupported_types_and_the_template(example_out):
    built, sandbox, provider = _sandbox_lowering(example_out)
    unsupported = {a for a in _addresses(built) if a.split(".")[0] in UNSUPPORTED}
    assert unsupported and {a.split(".")[0] for a in unsupported} == set(UNSUPPORTED)
    assert not unsupported & _addresses(sandbox.documents)
    # What the sandbox's copy lacks beyond what provider 3.39 lacks: the types the double has no API
    # for (those 3.39 has), the bastion's launch template, and whatever referred to them.
    gone = _addresses(provider.documents) - _addresses(sandbox.documents)
    cascaded = {c.address for c in sandbox.changes if c.reason.startswith("refers to ")}
    # ... and the association, which stands in the graph as an SSM parameter (the double has no State Manager)
    stood_in = {c.address for c in sandbox.changes if c.what.startswith("as aws_ssm_parameter.")}
    assert stood_in == {"aws_ssm_association.us_east_1_hub_bootstrap"}
    # ... and the TLS-only policy of the bucket Terraform writes the registration data to (moto would refuse it)
    policy = {c.address for c in sandbox.changes if "every object Terraform writes" in c.reason}
    assert policy == {"aws_s3_bucket_policy.us_east_1_hub_bootstrap"}
    assert gone - cascaded == (unsupported & _addresses(provider.documents)) | {TEMPLATE} | stood_in | policy
    by_address = {c.address: c for c in sandbox.changes if c.action == "left out"}
    for address in sorted(unsupported):
        change = by_address[address]
        assert (change.what, change.reason) == (address.split(".")[0], UNSUPPORTED[address.split(".")[0]]), address
    assert "launch template's own tags" in by_address[TEMPLATE].reason


def test_resolve_pass_gives_the_bastion_the_doubles_ami(example_out):
    asked = []
    built, sandbox, _ = _sandbox_lowering(example_out, asked)
    parameter = _resource(built, TEMPLATE)["image_id"].removeprefix("resolve:ssm:")
    assert asked == [("us-east-1", parameter)]
    instance = _resource(sandbox.documents, INSTANCE)
    assert instance["ami"] == AMI and "launch_template" not in instance
    (rewrite,) = [c for c in sandbox.changes if c.address == INSTANCE and c.action == "rewritten"]
    assert rewrite.what == f"ami = {AMI} ({parameter} in the double's SSM)"
    assert rewrite.reason == "the local AWS double (moto) does not resolve resolve:ssm: image ids"


def test_every_resource_of_a_quirky_type_gets_its_quirk_listed_with_its_reason(example_out):
    _, sandbox, provider = _sandbox_lowering(example_out)
    quirky = {a for a in _addresses(sandbox.documents) if a.split(".")[0] in QUIRKS}
    listed = {c.address: c for c in sandbox.changes if c.action == "sandbox quirk"}
    assert quirky and set(listed) == quirky
    for address, change in sorted(listed.items()):
        quirk = QUIRKS[address.split(".")[0]]
        assert (change.what, change.reason) == (quirk.what, quirk.reason), address
        body = _resource(sandbox.documents, address)
        assert set(quirk.ignored) <= set(body["lifecycle"]["ignore_changes"]), address
        for argument, value in quirk.arguments.items():
            assert body.get(argument) == value, f"{address}: {argument}"
    assert not any(c.action == "sandbox quirk" for c in provider.changes)


def test_a_pass_that_leaves_something_out_takes_what_refers_to_it(example_out):
    documents = _documents(example_out / "development")
    lowered = lower(documents, passes=[leave_out({"aws_launch_template": "no templates here"})])
    assert INSTANCE not in _addresses(lowered.documents)
    left_out = {c.address: c.reason for c in lowered.changes if c.action == "left out"}
    assert left_out[TEMPLATE] == "no templates here"
    assert left_out[INSTANCE] == f"refers to {TEMPLATE}, left out"


def test_copy_root_returns_the_record_it_writes(example_out, tmp_path):
    copy = tmp_path / "copy"
    lowered = copy_root(example_out / "development", copy, passes=sandbox_passes(lambda region, parameter: AMI))
    assert json.loads((copy / LOWERED_FILE).read_text()) == lowered.as_dict()
    for name, document in lowered.documents.items():
        assert json.loads((copy / name).read_text()) == document, name
    assert any(c.action == "sandbox quirk" for c in lowered.changes)
    assert not (copy / "tfgen_sandbox_override.tf.json").exists(), "quirks are in the lowered copy itself"


def test_the_sandbox_expects_the_names_the_emitters_gave(example_out):
    """The expectation's AWS names come from the naming functions the emitters use, so each is a
    name in the built root: groups, roles, the bastion, every KMS alias per region."""
    import tfgen
    from tfgen.sandbox import expect_environment
    from tests.conftest import EXAMPLE

    built = _documents(example_out / "development")
    expected = expect_environment(tfgen.load(EXAMPLE), "development")
    names: dict[str, set[str]] = {}
    aliases: dict[str, set[str]] = {}
    regions = {a: r for d in built.values() for p in d.get("provider", {}).get("aws", []) for a, r in [(p["alias"], p["region"])]}
    for d in built.values():
        for type_, blocks in d.get("resource", {}).items():
            for body in blocks.values():
                if type_ == "aws_kms_alias":
                    aliases.setdefault(regions[body["provider"].removeprefix("aws.")], set()).add(body["name"])
                elif "name" in body:
                    names.setdefault(type_, set()).add(body["name"])
    for cluster in expected.clusters:
        assert cluster.api_group in names["aws_security_group"], cluster.label
        assert cluster.ebs_csi_role in names["aws_iam_role"], cluster.label
        assert cluster.deployer_role is None or cluster.deployer_role in names["aws_iam_role"], cluster.label
    assert expected.gitops.management_role in names["aws_iam_role"]
    assert expected.bastion.name in names["aws_security_group"] & names["aws_iam_role"] & names["aws_iam_instance_profile"]
    assert {r: set(a) for r, a in expected.kms_aliases.items()} == aliases


def test_the_sandbox_builds_each_environment_for_an_account_of_its_own():
    from tests.conftest import EXAMPLE

    from tfgen.sandbox.prepare import accounts_of, in_accounts

    fleet = tfgen.load(EXAMPLE)
    assert accounts_of(fleet) == {"development": "111111111111", "production": "222222222222"}, "the spec's own"
    production = fleet.environment("production")
    production.account_id, production.assume_role = None, "arn:aws:iam::111111111111:role/deployer"
    accounts = accounts_of(fleet)
    assert accounts == {"development": "100000000001", "production": "100000000002"}, "one account, two environments"
    moved = in_accounts(fleet, accounts)
    assert {e.name: e.account for e in moved.environments.values()} == accounts
    assert moved.environment("production").assume_role == "arn:aws:iam::100000000002:role/deployer"
    assert fleet.environment("development").account_id == "111111111111", "the caller's fleet is not changed"
    documents = tfgen.pipeline.prepare(moved).documents["development"]
    assert "arn:aws:iam::100000000001:root" in documents["clusters.tf.json"]["resource"]["aws_kms_key"][
        "us_east_1_hub_eks"]["policy"]


def test_lowering_follows_locals_in_either_json_form():
    """Terraform JSON writes `locals` as an object or a list of objects (the reader keeps the list form):
    a local that refers to something left out is left out in both, the others stay."""
    for locals_ in ({"entry": "${aws_eks_access_entry.x.principal_arn}", "keep": "v"},
                    [{"entry": "${aws_eks_access_entry.x.principal_arn}"}, {"keep": "v"}]):
        documents = {"main.tf.json": {
            "resource": {"aws_eks_access_entry": {"x": {"cluster_name": "c", "principal_arn": "arn:aws:iam::1:role/r",
                                                       "provider": "aws.us_east_1"}}},
            "locals": json.loads(json.dumps(locals_))}}
        lowered = lower(documents)
        kept = lowered.documents["main.tf.json"]["locals"]
        assert (kept if isinstance(kept, dict) else {k: v for table in kept for k, v in table.items()}) == {"keep": "v"}
        assert {c.address for c in lowered.changes} == {"aws_eks_access_entry.x", "locals.entry"}


def _rule_and_instance(instance: dict) -> dict[str, dict]:
    return {"main.tf.json": {"resource": {
        "aws_vpc_security_group_ingress_rule": {"api": {
            "security_group_id": "${aws_security_group.g.id}", "ip_protocol": "tcp", "from_port": 443,
            "to_port": 443, "cidr_ipv4": "10.0.0.0/16", "provider": "aws.us_east_1"}},
        "aws_security_group": {"g": {"vpc_id": "vpc-1", "provider": "aws.us_east_1"}},
        "aws_instance": {"i": {"ami": "ami-1", "instance_type": "t3.micro", "provider": "aws.us_east_1", **instance}},
    }}}


def test_a_rewritten_resource_is_renamed_where_it_is_referred_to_and_nowhere_else():
    """The provider's lowering renames what it rewrites through the reference grammar: references and
    `depends_on` follow; an escaped `$${...}` and plain text are not references and stay as written."""
    lowered = lower(_rule_and_instance({
        "depends_on": ["aws_vpc_security_group_ingress_rule.api"],
        "tags": {"Rule": "${lower(aws_vpc_security_group_ingress_rule.api.id)}",
                 "Escaped": "$${aws_vpc_security_group_ingress_rule.api.id}",
                 "Text": "aws_vpc_security_group_ingress_rule.api"}}))
    instance = _resource(lowered.documents, "aws_instance.i")
    assert instance["depends_on"] == ["aws_security_group_rule.api"]
    assert instance["tags"] == {"Rule": "${lower(aws_security_group_rule.api.id)}",
                                "Escaped": "$${aws_vpc_security_group_ingress_rule.api.id}",
                                "Text": "aws_vpc_security_group_ingress_rule.api"}
    assert "aws_security_group_rule.api" in _addresses(lowered.documents)


def test_what_refers_to_a_left_out_resource_goes_too_but_not_an_escape_of_it():
    passes = [leave_out({"aws_security_group": "not here"})]
    referred = lower(_rule_and_instance({"vpc_security_group_ids": ["${coalesce(aws_security_group.g.id, \"x\")}"]}),
                     passes=passes)
    assert {(c.address, c.reason) for c in referred.changes if c.address == "aws_instance.i"} == {
        ("aws_instance.i", "refers to aws_security_group.g, left out")}
    escaped = lower(_rule_and_instance({"user_data": "echo $${aws_security_group.g.id}"}), passes=passes)
    assert "aws_instance.i" in _addresses(escaped.documents)


def test_meta_arguments_the_offline_terraform_does_not_know_are_left_out_and_listed(example_out):
    """The lowered copy admits Terraform 1.0 (the toolchain extra's): `replace_triggered_by` (1.2) goes, listed;
    the rest of each cluster's lifecycle stays."""
    documents = {p.name: json.loads(p.read_text()) for p in (example_out / "development").glob("*.tf.json")}
    built = documents["clusters.tf.json"]["resource"]["aws_eks_cluster"]
    assert {n: b["lifecycle"]["replace_triggered_by"] for n, b in built.items()} == {
        n: [f"aws_vpc.{n}.id"] for n in built}
    lowered = lower(documents)
    clusters = lowered.documents["clusters.tf.json"]["resource"]["aws_eks_cluster"]
    assert [sorted(b["lifecycle"]) for b in clusters.values()] == [["ignore_changes"]] * len(built)
    assert sorted(c.address for c in lowered.changes if c.what == "argument lifecycle.replace_triggered_by") == \
        sorted(f"aws_eks_cluster.{n}" for n in built)
