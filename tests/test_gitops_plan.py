"""Real plans of the GitOps path: who reaches each API, the identity chain, add-ons, the bastion.

The plans run on the copy lowered to the offline provider (3.39), so each
test reads what that copy keeps (security group rules, IAM roles, the
bastion) and `plan.lowered` proves what it does not: access entries, their
policy associations, Pod Identity associations and `access_config` are listed
as left out rather than silently missing. A policy that interpolates a
reference has no constant in the plan; its references come from the plan's
configuration and its actions from the built document.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tfgen
from tfgen.derive import naming
from tfgen.terraform.lowering import EKS_OIDC_THUMBPRINT
from tests.conftest import EXAMPLE, write_spec

ENVS = ("development", "production")
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def _keys(env_name: str, spec: Path = EXAMPLE):
    """(hub key, hub region, hub CIDR) and [(edge key, edge region)] of an environment."""
    env = tfgen.load(spec).environment(env_name)
    hub, edges = None, []
    for region, cluster in env.clusters():
        key = naming.cluster_key(region.name, cluster.name)
        if cluster.is_hub:
            hub = (key, region.name, cluster.network.cidr)
        else:
            edges.append((key, region.name))
    return hub, edges


def _documents(root: Path) -> dict[str, dict]:
    """Every resource body of a built root, by address."""
    bodies = {}
    for path in sorted(root.glob("*.tf.json")):
        for type_, items in (json.loads(path.read_text()).get("resource") or {}).items():
            for name, body in items.items():
                bodies[f"{type_}.{name}"] = body
    return bodies


def _references(expression) -> set[str]:
    """Resource addresses anywhere in a plan expression (nested blocks included)."""
    found = set()
    if isinstance(expression, dict):
        for reference in expression.get("references", []):
            parts = reference.split(".")
            if len(parts) >= 2 and parts[0].startswith("aws_"):
                found.add(".".join(parts[:2]))
        for key, inner in expression.items():
            if key != "references":
                found |= _references(inner)
    elif isinstance(expression, list):
        for inner in expression:
            found |= _references(inner)
    return found


def _statements(body: dict, argument: str) -> list[dict]:
    document = json.loads(body[argument])
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _actions(statement: dict) -> set[str]:
    action = statement.get("Action", [])
    return set(action if isinstance(action, list) else [action])


def _api_group(plan, cluster_key: str) -> str:
    cluster = plan.resource(f"aws_eks_cluster.{cluster_key}")
    groups = [a for a in _references(cluster.expressions.get("vpc_config")) if a.startswith("aws_security_group.")]
    assert len(groups) == 1, f"{cluster.address}: API security groups {groups}"
    return groups[0]


def _ingress_to(plan, group: str) -> list:
    return [r for r in plan.of_type("aws_security_group_rule")
            if r.values.get("type") == "ingress" and group in r.references("security_group_id")]


@pytest.mark.parametrize("env", ENVS)
def test_edge_api_admits_443_from_exactly_the_hub_cidr(example_plans, env):
    plan = example_plans[env]
    (hub_key, _, hub_cidr), edges = _keys(env)
    for edge_key, region in edges:
        group = _api_group(plan, edge_key)
        assert plan.region_of(group) == region, group
        rules = _ingress_to(plan, group)
        assert len(rules) == 1, f"{env}: {group} has ingress rules {[r.address for r in rules]}"
        rule = rules[0]
        assert (rule.values["protocol"], rule.values["from_port"], rule.values["to_port"]) == ("tcp", 443, 443)
        assert rule.values["cidr_blocks"] == [hub_cidr], rule.address
        assert not rule.values.get("ipv6_cidr_blocks") and not rule.references("source_security_group_id")
        assert rule.region == region, rule.address
        egress = [r.address for r in plan.of_type("aws_security_group_rule")
                  if r.values.get("type") == "egress" and group in r.references("security_group_id")]
        assert not egress, f"{env}: {group} has egress rules {egress}"


@pytest.mark.parametrize("env", ENVS)
def test_hub_api_admits_443_from_the_bastion_only(example_plans, env):
    plan = example_plans[env]
    (hub_key, hub_region, _), _ = _keys(env)
    group = _api_group(plan, hub_key)
    rules = _ingress_to(plan, group)
    assert len(rules) == 1, f"{env}: {group} has ingress rules {[r.address for r in rules]}"
    rule = rules[0]
    assert (rule.values["protocol"], rule.values["from_port"], rule.values["to_port"]) == ("tcp", 443, 443)
    assert not rule.values.get("cidr_blocks"), rule.address
    bastion = plan.resource(f"aws_instance.{hub_key}_bastion")
    assert rule.references("source_security_group_id") == bastion.references("vpc_security_group_ids")
    assert rule.region == hub_region


@pytest.mark.parametrize("env", ENVS)
def test_deployer_roles_trust_the_management_role_which_may_assume_only_them(example_plans, example_out, env):
    plan = example_plans[env]
    bodies = _documents(example_out / env)
    (hub_key, hub_region, _), edges = _keys(env)
    management = f"aws_iam_role.{hub_key}_argocd"
    assert plan.region_of(management) == hub_region
    deployers = []
    for edge_key, region in edges:
        deployer = plan.resource(f"aws_iam_role.{edge_key}_deployer")
        assert deployer.region == region, deployer.address
        assert deployer.references("assume_role_policy") == [management], deployer.address
        [trust] = _statements(bodies[deployer.address], "assume_role_policy")
        assert trust["Effect"] == "Allow" and "sts:AssumeRole" in _actions(trust), trust
        assert trust["Principal"] == {"AWS": f"${{{management}.arn}}"}, trust
        assert not [a for a in plan.resources if a.startswith("aws_iam_role_policy") and
                    deployer.address in plan.resource(a).references("role")], f"{deployer.address} has permissions"
        deployers.append(deployer.address)
    policies = [r for r in plan.of_type("aws_iam_role_policy") if r.references("role") == [management]]
    assert len(policies) == 1, [p.address for p in policies]
    assert set(policies[0].references("policy")) == set(deployers)
    [allow] = _statements(bodies[policies[0].address], "policy")
    assert allow["Effect"] == "Allow" and "sts:AssumeRole" in _actions(allow)
    assert sorted(allow["Resource"]) == sorted(f"${{{d}.arn}}" for d in deployers)


@pytest.mark.parametrize("env", ENVS)
def test_every_cluster_has_an_ebs_csi_role_with_the_driver_policy(example_plans, env):
    plan = example_plans[env]
    hub, edges = _keys(env)
    for key, region in [hub[:2], *edges]:
        role = f"aws_iam_role.{key}_ebs_csi"
        attached = [r for r in plan.of_type("aws_iam_role_policy_attachment") if r.references("role") == [role]]
        assert [r.values["policy_arn"] for r in attached] == [EBS_CSI_POLICY], role
        assert plan.region_of(role) == region and attached[0].region == region, role


@pytest.mark.parametrize("env", ENVS)
def test_bastion_is_private_imdsv2_encrypted_and_ssm_only(example_plans, example_out, env):
    plan = example_plans[env]
    (hub_key, hub_region, _), _ = _keys(env)
    bastion = plan.resource(f"aws_instance.{hub_key}_bastion")
    values = bastion.values
    assert bastion.region == hub_region
    assert values["associate_public_ip_address"] is False
    assert not values.get("key_name")
    [metadata] = values["metadata_options"]
    assert metadata["http_tokens"] == "required" and metadata["http_put_response_hop_limit"] == 1, metadata
    [root] = values["root_block_device"]
    assert root["encrypted"] is True, root
    [subnet] = bastion.references("subnet_id")
    assert subnet.startswith(f"aws_subnet.{hub_key}_private_"), subnet
    assert plan.resource(subnet).references("vpc_id") == [f"aws_vpc.{hub_key}"]
    [profile] = bastion.references("iam_instance_profile")
    [role] = plan.resource(profile).references("role")
    attached = [r.values["policy_arn"] for r in plan.of_type("aws_iam_role_policy_attachment")
                if r.references("role") == [role]]
    assert attached == [SSM_CORE], attached
    # Its one inline policy is the GitOps bootstrap's: the hub's kubeconfig and the bootstrap's own output,
    # on the hub cluster, the bootstrap bucket and its key only (the plan holds the references; the actions
    # are literal in the built document).
    [inline] = [r for r in plan.of_type("aws_iam_role_policy") if r.references("role") == [role]]
    assert set(inline.references("policy")) == {f"aws_eks_cluster.{hub_key}", f"aws_s3_bucket.{hub_key}_bootstrap",
                                                f"aws_kms_key.{hub_key}_bootstrap"}, inline.references("policy")
    policy = json.loads(_documents(example_out / env)[inline.address]["policy"])
    actions = sorted(a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                               else s["Action"]))
    assert actions == ["eks:DescribeCluster", "kms:Encrypt", "kms:GenerateDataKey", "s3:GetEncryptionConfiguration",
                       "s3:PutObject"], actions
    [group] = bastion.references("vpc_security_group_ids")
    assert not _ingress_to(plan, group), f"{group} admits something"
    assert not plan.resource(group).values.get("ingress"), group


@pytest.mark.parametrize("env", ENVS)
def test_lowering_lists_what_the_plan_leaves_out(example_plans, example_out, env):
    plan = example_plans[env]
    assert plan.lowered is not None, "the offline plan did not run on a lowered copy"
    left_out = {c.address for c in plan.lowered.changes if c.action == "left out"}
    bodies = _documents(example_out / env)
    for type_ in ("aws_eks_access_entry", "aws_eks_access_policy_association", "aws_eks_pod_identity_association"):
        built = {a for a in bodies if a.startswith(f"{type_}.")}
        assert built, f"{env}: the build has no {type_}"
        assert built <= left_out, f"{env}: not listed as left out: {sorted(built - left_out)}"
        assert not [a for a in plan.resources if a.startswith(f"{type_}.")]
    clusters = {a for a in bodies if a.startswith("aws_eks_cluster.")}
    dropped_config = {c.address for c in plan.lowered.changes if c.what == "argument access_config"}
    assert dropped_config == clusters, sorted(clusters ^ dropped_config)
    for change in plan.lowered.changes:
        assert change.reason, change


IRSA_SPEC = """\
project: irsa-check
aws_provider: ">= 5.100, < 7.0"
environments:
  lab:
    account_id: "333333333333"
    identity: irsa
    access:
      admins: ["arn:aws:iam::333333333333:role/platform-admin"]
    defaults:
      kubernetes_version: "1.35"
      nat: single
      node_groups:
        workers: {instance_types: [t3.medium], min: 1, max: 2, desired: 1}
    hub: {region: us-east-1, cidr: 10.40.0.0/16}
    regions:
      us-east-2: {cidr: 10.41.0.0/16}
"""


@pytest.fixture(scope="module")
def irsa(tmp_path_factory, toolchain):
    from tfgen.testing import plan_root

    work = tmp_path_factory.mktemp("irsa")
    spec = write_spec(work, IRSA_SPEC)
    tfgen.build(tfgen.load(spec), work / "out")
    plan = plan_root(work / "out" / "lab", workdir=work / "plan", toolchain=toolchain)
    return spec, work / "out" / "lab", plan


def test_irsa_has_an_oidc_provider_per_cluster_lowered_with_a_thumbprint(irsa):
    spec, root, plan = irsa
    hub, edges = _keys("lab", spec)
    providers = {r.address: r for r in plan.of_type("aws_iam_openid_connect_provider")}
    assert set(providers) == {f"aws_iam_openid_connect_provider.{k}" for k, _ in [hub[:2], *edges]}
    for key, region in [hub[:2], *edges]:
        provider = providers[f"aws_iam_openid_connect_provider.{key}"]
        assert provider.region == region
        assert provider.references("url") == [f"aws_eks_cluster.{key}"]
        assert provider.values["client_id_list"] == ["sts.amazonaws.com"]
        assert provider.values["thumbprint_list"] == [EKS_OIDC_THUMBPRINT]
        assert "thumbprint_list" not in _documents(root)[provider.address], "the build itself has no thumbprint"
    rewritten = {c.address for c in plan.lowered.changes if c.action == "rewritten" and "thumbprint" in c.what}
    assert rewritten == set(providers)
    assert not plan.of_type("aws_eks_pod_identity_association") and not [
        c for c in plan.lowered.changes if c.what == "aws_eks_pod_identity_association"]


def test_irsa_trust_policies_use_web_identity_of_their_own_cluster(irsa):
    spec, root, plan = irsa
    bodies = _documents(root)
    (hub_key, _, _), edges = _keys("lab", spec)
    roles = {f"aws_iam_role.{hub_key}_argocd": (hub_key, "argocd"),
             **{f"aws_iam_role.{k}_ebs_csi": (k, "kube-system") for k, _ in [(hub_key, None), *edges]}}
    for address, (key, namespace) in roles.items():
        assert f"aws_iam_openid_connect_provider.{key}" in plan.resource(address).references("assume_role_policy")
        [trust] = _statements(bodies[address], "assume_role_policy")
        assert _actions(trust) == {"sts:AssumeRoleWithWebIdentity"}, address
        assert trust["Principal"] == {"Federated": f"${{aws_iam_openid_connect_provider.{key}.arn}}"}, address
        conditions = trust["Condition"]["StringEquals"]
        audience = [v for k, v in conditions.items() if k.endswith(":aud")]
        subjects = [v for k, v in conditions.items() if k.endswith(":sub")]
        assert audience == ["sts.amazonaws.com"], address
        assert subjects and all(s.startswith(f"system:serviceaccount:{namespace}:") for s in subjects[0]), address
    for edge_key, _ in edges:
        deployer = plan.resource(f"aws_iam_role.{edge_key}_deployer")
        assert deployer.references("assume_role_policy") == [f"aws_iam_role.{hub_key}_argocd"]
