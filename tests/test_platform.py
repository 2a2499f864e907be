"""What runs on the clusters: the Kubernetes calendar, access, add-ons, Argo CD's
identity, the bastion, provider-range compatibility and lowering to 3.39."""

from __future__ import annotations

import json

import pytest

import tfgen
import tfgen.pipeline
from tfgen.derive import naming
from tfgen.cli import main
from tfgen.terraform.lowering import lower
from tfgen.providers import Constraint, Version
from tfgen.checks.gitops_output import build_gitops_path, evaluate, node
from tests.conftest import EXAMPLE

SPEC = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    defaults: {{kubernetes_version: "{version}"{support}}}
    hub: {{region: us-east-1, cidr: 10.10.0.0/16}}
    regions:
      us-east-2: {{cidr: 10.11.0.0/16}}
{extra}"""


def _spec(tmp_path, version="1.35", support="", extra=""):
    path = tmp_path / "fleet.yaml"
    path.write_text(SPEC.format(version=version, support=support, extra=extra))
    return path


def _codes(findings):
    return sorted({f.code for f in findings})


def _docs(root):
    return {p.name: json.loads(p.read_text()) for p in root.glob("*.tf.json")}


def _resources(root):
    return {f"{t}.{n}": b for d in _docs(root).values() for t, bs in d.get("resource", {}).items()
            for n, b in bs.items()}


# -- Kubernetes versions -------------------------------------------------------------


def test_a_version_past_extended_support_is_rejected_with_line_and_nothing_written(tmp_path, capsys):
    spec = _spec(tmp_path, version="1.29")
    status = main(["build", str(spec), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1
    assert f"{spec}:5: error VAL401" in err and "left EKS extended support on 2026-03-23" in err, err
    assert 'use kubernetes_version: "1.' in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("today, version, support, code", [
    ("2026-11-28", "1.34", "", "VAL404"),             # standard support ends 2026-12-02: warning
    ("2027-01-10", "1.34", "", "VAL403"),             # extended only, but support: standard -> error
    ("2027-01-10", "1.34", ", support: extended", "VAL402"),  # extended and billed: warning
    ("2027-12-03", "1.34", ", support: extended", "VAL401"),  # past extended support: error
    ("2026-11-28", "1.37", "", "VAL401"),             # not on EKS
])
def test_the_calendar_is_read_on_the_date_given(tmp_path, monkeypatch, today, version, support, code):
    monkeypatch.setenv("TFGEN_TODAY", today)
    findings = tfgen.validate(tfgen.load(_spec(tmp_path, version=version, support=support)))
    ours = [f for f in findings if f.code.startswith("VAL40")]
    assert _codes(ours) == [code], [f.format() for f in findings]
    assert today in ours[0].message, "the finding says which date it used"


def test_default_version_is_in_standard_support_today():
    from tfgen.model.kubernetes import lookup
    from tfgen.model import DEFAULT_KUBERNETES_VERSION
    from tfgen.checks.platform import today

    assert lookup(DEFAULT_KUBERNETES_VERSION).phase(today()) == "standard"


# -- access ------------------------------------------------------------------------------


@pytest.mark.parametrize("access, code, fragment", [
    ('{admins: ["*"]}', "VAL412", "wildcard"),
    ('{admins: ["arn:aws:sts::123456789012:assumed-role/admin/me"]}', "VAL411", "assumed-role session"),
    ('{viewers: ["admin"]}', "VAL411", "not an IAM role or user ARN"),
    ('{entries: [{principal: "arn:aws:iam::123456789012:role/a", policy: AmazonEKSEditPolicyy}]}', "VAL413",
     "did you mean AmazonEKSEditPolicy?"),
    ('{entries: [{principal: "arn:aws:iam::123456789012:role/a", policy: AmazonEKSEditPolicy, namespaces: [Team_A]}]}',
     "VAL414", "Team_A"),
    ('{authentication_mode: CONFIG_MAP}', "VAL415", "CONFIG_MAP"),
])
def test_bad_access_is_a_finding_with_its_line(tmp_path, access, code, fragment):
    spec = _spec(tmp_path, extra=f"    access: {access}\n")
    findings = [f for f in tfgen.validate(tfgen.load(spec)) if f.code == code]
    assert findings, code
    assert fragment in findings[0].message + findings[0].hint
    assert findings[0].origin.line == 9, findings[0].format()


def test_a_fleet_without_admins_gets_one_val417_naming_its_clusters(tmp_path, capsys):
    regions = "".join(f"      {r}: {{clusters: {{{', '.join(f'c{i}: {{}}' for i in range(6))}}}}}\n"
                      for r in ("us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1",
                                "ap-northeast-1", "ca-central-1", "sa-east-1", "eu-north-1", "us-west-1",
                                "ap-southeast-2"))
    spec = tmp_path / "fleet.yaml"
    spec.write_text('project: demo\nenvironments:\n  dev:\n    account_id: "123456789012"\n'
                    "    cidr_pool: 10.0.0.0/8\n    gitops: {bootstrap: false}\n    hub: {region: us-east-1}\n"
                    "    regions:\n" + regions)  # no bootstrap: 66 edges do not fit its SSM document (VAL444)
    findings = [f for f in tfgen.validate(tfgen.load(spec)) if f.code == "VAL417"]
    assert [(f.path, f.count, len(f.others)) for f in findings] == [("dev/us-east-1/hub", 67, 5)]
    assert findings[0].origin.line == 7
    assert main(["validate", str(spec), "--format", "json"]) == 0
    (grouped,) = [f for f in json.loads(capsys.readouterr().out)["environments"]["dev"] if f["code"] == "VAL417"]
    assert (grouped["count"], grouped["others"][0]) == (67, "dev/us-east-2/c0"), grouped
    assert main(["validate", str(spec)]) == 0
    text = capsys.readouterr().out
    assert text.count("VAL417") == 1 and "also: 66 more with the same finding: dev/us-east-2/c0, dev/us-east-2/c1" in text, text


def test_access_entries_one_per_principal_policies_after_their_entry(tmp_path):
    spec = _spec(tmp_path, extra=(
        '    access:\n'
        '      admins: ["arn:aws:iam::123456789012:role/admin"]\n'
        '      entries:\n'
        '        - {principal: "arn:aws:iam::123456789012:role/team", policy: AmazonEKSEditPolicy, namespaces: [a]}\n'
        '        - {principal: "arn:aws:iam::123456789012:role/team", policy: AmazonEKSViewPolicy}\n'))
    tfgen.build(tfgen.load(spec), tmp_path / "out")
    resources = _resources(tmp_path / "out" / "dev")
    hub_entries = [a for a in resources if a.startswith("aws_eks_access_entry.us_east_1_hub__")]
    # admin, team and the bastion's (it runs the GitOps bootstrap); Argo CD's deployer entries are on edges only
    assert len(hub_entries) == 3, hub_entries
    team = [a for a in hub_entries if "team" in a][0]
    associations = {a: b for a, b in resources.items() if a.startswith("aws_eks_access_policy_association."
                                                                          + team.split(".")[1] + "__")}
    scopes = sorted((b["policy_arn"].rsplit("/", 1)[1], json.dumps(b["access_scope"], sort_keys=True))
                    for b in associations.values())
    assert scopes == [("AmazonEKSEditPolicy", '{"namespaces": ["a"], "type": "namespace"}'),
                      ("AmazonEKSViewPolicy", '{"type": "cluster"}')]
    assert all(b["depends_on"] == [team] for b in associations.values())
    cluster = resources["aws_eks_cluster.us_east_1_hub"]
    assert cluster["access_config"] == {"authentication_mode": "API",
                                        "bootstrap_cluster_creator_admin_permissions": False}
    assert "access_config[0].bootstrap_cluster_creator_admin_permissions" in cluster["lifecycle"]["ignore_changes"]
    assert cluster["bootstrap_self_managed_addons"] is False


# -- the GitOps chain ----------------------------------------------------------------------


def test_every_edge_trusts_the_hub_role_and_grants_it_cluster_admin(example_out):
    resources = _resources(example_out / "production")
    management = "${aws_iam_role.us_east_1_hub_argocd.arn}"
    edges = ["us_east_2_edge", "us_west_2_edge", "eu_west_1_edge"]
    allowed = json.loads(resources["aws_iam_role_policy.us_east_1_hub_argocd"]["policy"])["Statement"][0]
    assert sorted(allowed["Resource"]) == sorted(f"${{aws_iam_role.{e}_deployer.arn}}" for e in edges)
    assert allowed["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    for edge in edges:
        trust = json.loads(resources[f"aws_iam_role.{edge}_deployer"]["assume_role_policy"])["Statement"][0]
        assert trust["Principal"] == {"AWS": management}, edge
        name = naming.principal_name(edge, "argocd-deployer")
        assert resources[f"aws_eks_access_entry.{name}"]["principal_arn"] == f"${{aws_iam_role.{edge}_deployer.arn}}"
        association = resources[f"aws_eks_access_policy_association.{name}__amazoneksclusteradminpolicy"]
        assert association["access_scope"] == {"type": "cluster"}
        assert association["policy_arn"].endswith("/AmazonEKSClusterAdminPolicy")
        rules = [b for a, b in resources.items() if a.startswith(f"aws_vpc_security_group_ingress_rule.{edge}_api")]
        assert [(r["cidr_ipv4"], r["from_port"], r["to_port"], r["ip_protocol"]) for r in rules] == [
            ("10.20.0.0/16", 443, 443, "tcp")], edge
        sg = resources[f"aws_eks_cluster.{edge}"]["vpc_config"]["security_group_ids"]
        assert sg == [f"${{aws_security_group.{edge}_api.id}}"]
    pods = [b for a, b in resources.items() if a.startswith("aws_eks_pod_identity_association.")]
    assert sorted(p["service_account"] for p in pods) == [
        "argocd-application-controller", "argocd-applicationset-controller", "argocd-server"]
    assert all(p["role_arn"] == management and p["namespace"] == "argocd" for p in pods)


def test_the_gitops_path_is_a_graph_of_what_production_emitted():
    documents = tfgen.pipeline.prepare(tfgen.load(EXAMPLE)).documents["production"]
    graph = build_gitops_path("production", documents)
    management = node("role", "management")
    assert all(graph.holds(node("sa", f"argocd/{a}"), management, "pod-identity") for a in (
        "argocd-application-controller", "argocd-applicationset-controller", "argocd-server"))
    for edge in ("us-east-2/edge", "us-west-2/edge", "eu-west-1/edge"):
        deployer, cluster = node("role", f"deployer:{edge}"), node("cluster", edge)
        assert graph.holds(node("vpc", "hub"), node("vpc", edge), "route"), edge
        assert graph.holds(node("vpc", edge), node("vpc", "hub"), "route"), edge
        assert graph.holds(node("vpc", "hub"), node("api", edge), "tcp/443"), edge
        assert graph.holds(node("api", edge), cluster, "private-endpoint"), edge
        assert graph.holds(management, deployer, "trust") and graph.holds(management, deployer, "permission"), edge
        assert graph.holds(deployer, cluster, "access-entry"), edge
    assert [v.summary for v in evaluate("production", documents) if not v.holds] == []


def test_no_service_account_is_a_finding_in_validate(tmp_path):
    spec = _spec(tmp_path, extra="    gitops: {service_accounts: []}\n")
    assert "NET301" in _codes(tfgen.validate(tfgen.load(spec)))


def test_gitops_and_bastion_can_be_switched_off(tmp_path):
    spec = _spec(tmp_path, extra="    gitops: {enabled: false}\n    bastion: {enabled: false}\n")
    tfgen.build(tfgen.load(spec), tmp_path / "out")
    resources = _resources(tmp_path / "out" / "dev")
    assert not any(a.endswith("_deployer") or "argocd" in a or "bastion" in a for a in resources), sorted(resources)
    assert not (tmp_path / "out" / "dev" / "bastion.tf.json").exists()


def test_irsa_trusts_the_clusters_oidc_provider(tmp_path):
    spec = _spec(tmp_path, extra="    identity: irsa\n")
    tfgen.build(tfgen.load(spec), tmp_path / "out")
    root = tmp_path / "out" / "dev"
    resources = _resources(root)
    assert "aws_iam_openid_connect_provider.us_east_1_hub" in resources
    assert not any(a.startswith("aws_eks_pod_identity_association.") for a in resources)
    trust = json.loads(resources["aws_iam_role.us_east_1_hub_argocd"]["assume_role_policy"])["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    condition = trust["Condition"]["StringEquals"]
    assert condition["${local.us_east_1_hub_oidc_issuer}:aud"] == "sts.amazonaws.com"
    assert "system:serviceaccount:argocd:argocd-server" in condition["${local.us_east_1_hub_oidc_issuer}:sub"]
    ebs = resources["aws_eks_addon.us_east_2_edge__aws_ebs_csi_driver"]
    assert ebs["service_account_role_arn"] == "${aws_iam_role.us_east_2_edge_ebs_csi.arn}"
    locals_ = _docs(root)["iam.tf.json"]["locals"]
    assert locals_["us_east_1_hub_oidc_issuer"].startswith("${replace(aws_eks_cluster.us_east_1_hub.identity")


# -- add-ons and the bastion -----------------------------------------------------------------


def test_addons_are_explicit_and_ordered_around_the_node_groups(example_out):
    resources = _resources(example_out / "development")
    group = resources["aws_eks_node_group.us_east_2_edge__workers"]
    assert group["ami_type"] == "AL2023_x86_64_STANDARD"
    for name in ("vpc_cni", "kube_proxy", "eks_pod_identity_agent"):
        assert f"aws_eks_addon.us_east_2_edge__{name}" in group["depends_on"]
    for name in ("coredns", "aws_ebs_csi_driver"):
        addon = resources[f"aws_eks_addon.us_east_2_edge__{name}"]
        assert addon["depends_on"] == ["aws_eks_node_group.us_east_2_edge__workers"]
        assert addon["resolve_conflicts_on_create"] == addon["resolve_conflicts_on_update"] == "OVERWRITE"
        assert "resolve_conflicts" not in addon
    ebs = resources["aws_eks_addon.us_east_2_edge__aws_ebs_csi_driver"]
    assert ebs["pod_identity_association"] == {"role_arn": "${aws_iam_role.us_east_2_edge_ebs_csi.arn}",
                                               "service_account": "ebs-csi-controller-sa"}
    attachment = resources["aws_iam_role_policy_attachment.us_east_2_edge_ebs_csi"]
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    for region in ("us_east_1", "us_east_2", "us_west_2"):
        assert resources[f"aws_ebs_encryption_by_default.{region}__ebs"]["enabled"] is True
        assert resources[f"aws_ebs_default_kms_key.{region}__ebs"]["key_arn"] == f"${{aws_kms_key.{region}__ebs.arn}}"


def test_addon_versions_are_settable(tmp_path):
    spec = _spec(tmp_path, extra="    addons: {vpc-cni: {version: v1.19.2-eksbuild.1}}\n")
    tfgen.build(tfgen.load(spec), tmp_path / "out")
    assert _resources(tmp_path / "out" / "dev")["aws_eks_addon.us_east_2_edge__vpc_cni"]["addon_version"] == \
        "v1.19.2-eksbuild.1"
    bad = _spec(tmp_path, extra="    addons: {vpc-cnii: {}, coredns: {version: latest}}\n")
    assert {"VAL421", "VAL422"} <= set(_codes(tfgen.validate(tfgen.load(bad))))


def test_bastion_has_no_way_in_but_session_manager(example_out):
    resources = _resources(example_out / "development")
    instance = resources["aws_instance.us_east_1_hub_bastion"]
    assert instance["associate_public_ip_address"] is False and "key_name" not in instance
    assert "user_data" not in instance
    assert instance["metadata_options"] == {"http_endpoint": "enabled", "http_tokens": "required",
                                            "http_put_response_hop_limit": 1}
    assert instance["root_block_device"]["encrypted"] is True
    assert instance["subnet_id"].startswith("${aws_subnet.us_east_1_hub_private_")
    template = resources["aws_launch_template.us_east_1_hub_bastion"]
    assert template["image_id"].startswith("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023")
    assert not any(a.startswith("aws_vpc_security_group_ingress_rule.us_east_1_hub_bastion") for a in resources)
    hub_in = resources["aws_vpc_security_group_ingress_rule.us_east_1_hub_api__bastion"]
    assert hub_in["referenced_security_group_id"] == "${aws_security_group.us_east_1_hub_bastion.id}"
    ssm = resources["aws_iam_role_policy_attachment.us_east_1_hub_bastion_ssm"]
    assert ssm["policy_arn"].endswith("/AmazonSSMManagedInstanceCore")


# -- provider ranges and lowering --------------------------------------------------------------


def test_constraint_admits():
    assert Constraint.parse(">= 5.100, < 7.0").admits("6.25.0")
    assert not Constraint.parse(">= 5.100, < 7.0").admits("5.99.9")
    assert Constraint.parse("~> 5.0").admits("5.100.0") and not Constraint.parse("~> 5.0").admits("6.0.0")
    assert Constraint.parse("~> 5.75.1").admits("5.75.9") and not Constraint.parse("~> 5.75.1").admits("5.76.0")
    assert Constraint.parse(">= 5.75").lowest == Version(5, 75)


def test_a_range_too_old_for_the_output_names_the_feature(tmp_path):
    spec = _spec(tmp_path)
    spec.write_text('aws_provider: ">= 5.40, < 7.0"\n' + spec.read_text())
    findings = [f for f in tfgen.validate(tfgen.load(spec)) if f.code == "VAL105"]
    assert findings and "aws_eks_addon.pod_identity_association" in findings[0].message
    # The SSM association's wait (bootstrap) asks the most: 5.100.0.
    assert "5.100.0" in findings[0].hint and findings[0].origin.line == 1


def test_a_range_below_the_oldest_provider_is_the_default_tags_finding(tmp_path):
    """VAL105 had a branch for ranges below OLDEST that no fleet reached: every root's providers
    carry default_tags, whose minimum is OLDEST, so such a range always names that feature."""
    from tfgen.providers import OLDEST, feature
    from tfgen.checks.compat import features_of
    from tfgen.pipeline import prepare
    spec = _spec(tmp_path)
    assert feature("provider.default_tags").minimum == OLDEST
    documents = prepare(tfgen.load(spec)).documents
    assert all("provider.default_tags" in features_of(docs) for docs in documents.values()), sorted(documents)
    spec.write_text('aws_provider: ">= 3.0, < 7.0"\n' + spec.read_text())
    (finding,) = [f for f in tfgen.validate(tfgen.load(spec)) if f.code == "VAL105"]
    assert "admits provider 3.0.0, older than the output needs" in finding.message, finding.message


def test_a_range_admitting_an_unchecked_major_warns(tmp_path):
    spec = _spec(tmp_path)
    spec.write_text('aws_provider: ">= 5.100"\n' + spec.read_text())
    findings = {f.code: f for f in tfgen.validate(tfgen.load(spec))}
    assert findings["VAL191"].severity.value == "warning"


def test_lowering_leaves_out_and_lists_what_3_39_lacks(example_out):
    docs = _docs(example_out / "production")
    lowered = lower(docs)
    changes = {(c.address, c.action) for c in lowered.changes}
    entry = naming.principal_name("us_east_2_edge", "argocd-deployer")
    assert (f"aws_eks_access_entry.{entry}", "left out") in changes
    assert (f"aws_eks_access_policy_association.{entry}__amazoneksclusteradminpolicy", "left out") in changes
    assert ("aws_vpc_security_group_ingress_rule.us_east_2_edge_api__hub_cidr", "rewritten") in changes
    assert ("aws_instance.us_east_1_hub_bastion", "rewritten") in changes
    resources: dict[str, dict] = {}  # a type's blocks from every file of the root (several files have rules)
    for d in lowered.documents.values():
        for t, bs in d.get("resource", {}).items():
            resources.setdefault(t, {}).update(bs)
    assert "aws_eks_access_entry" not in resources and "aws_vpc_security_group_ingress_rule" not in resources
    rule = resources["aws_security_group_rule"]["us_east_2_edge_api__hub_cidr"]
    assert (rule["type"], rule["cidr_blocks"], rule["from_port"]) == ("ingress", ["10.20.0.0/16"], 443)
    cluster = resources["aws_eks_cluster"]["us_east_2_edge"]
    assert "access_config" not in cluster and "lifecycle" not in cluster or \
        cluster["lifecycle"]["ignore_changes"] == []
    assert resources["aws_instance"]["us_east_1_hub_bastion"]["ami"] == \
        "${aws_launch_template.us_east_1_hub_bastion.image_id}"
    terraform = lowered.documents["terraform.tf.json"]["terraform"]
    assert terraform["required_providers"]["aws"]["version"] == "3.39.0"
    # The committed documents are untouched.
    assert "aws_eks_access_entry" in docs["access.tf.json"]["resource"]


def test_lowering_puts_split_bucket_settings_back_inline(example_out):
    lowered = lower(_docs(example_out / "_state"))
    bucket = lowered.documents["state.tf.json"]["resource"]["aws_s3_bucket"]["state"]
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["server_side_encryption_configuration"]["rule"]["apply_server_side_encryption_by_default"][
        "sse_algorithm"] == "aws:kms"
    assert bucket["lifecycle_rule"][0]["noncurrent_version_expiration"] == {"days": 90}
    actions = {c.address: c.action for c in lowered.changes}
    assert actions["aws_s3_bucket_versioning.state"] == "rewritten"
    assert actions["aws_s3_bucket_ownership_controls.state"] == "left out"
