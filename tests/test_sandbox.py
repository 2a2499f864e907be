"""`tfgen sandbox`: fleets really applied to a local AWS double.

The example's development environment is applied once per session (conftest's
`sandbox_development`, through `Sandbox.run` as the CLI runs it) and shared by the
tests that break one thing, verify and put it back; production goes through the
CLI end to end, as README's first command runs it. The other connectivity modes,
the faults and `--keep` are in test_sandbox_runs.py, on the smallest fleets. Every
test also checks that no process it started is left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import main
from tfgen.sandbox import PHASES, AwsDouble, expect_environment
from tfgen.terraform.lowering import lower
from tfgen.sandbox.quirks import sandbox_passes
from tfgen.terraform.run import terraform_errors
from tests.conftest import EXAMPLE, ROOT

ENVS = ("development", "production")
slow = pytest.mark.slow


def _tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + file.read_bytes())
    return digest.hexdigest()


# -- the example: production through the CLI, development applied once and shared --------------

@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """`tfgen sandbox examples/multi-region-eks.yaml --env production --format json`, run once."""
    out_before = _tree_digest(ROOT / "out")
    home = tmp_path_factory.mktemp("home")
    env = dict(os.environ, TMPDIR=str(home))
    result = subprocess.run(
        [sys.executable, "-m", "tfgen.cli", "sandbox", str(EXAMPLE), "--env", "production", "--format", "json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=900,
    )
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result, report, out_before, home


def _environment_report(request, env_name: str) -> dict:
    """The JSON report of one environment of the example: production's from the CLI run,
    development's from the shared session run (the same `as_dict` the CLI prints)."""
    if env_name == "production":
        report = request.getfixturevalue("example_run")[1]
    else:
        report = json.loads(json.dumps(request.getfixturevalue("sandbox_development")[1].as_dict()))
    return next(e for e in report["environments"] if e["name"] == env_name)


@slow
def test_example_sandbox_passes_and_exits_0(example_run):
    result, report, _, _ = example_run
    assert report is not None, f"no JSON report; stderr:\n{result.stderr}"
    assert result.returncode == 0, result.stderr
    assert report["ok"] is True and report["kept"] is False
    assert [e["name"] for e in report["environments"]] == ["_state", "production"], "the roots production needs"
    for env in report["environments"]:
        assert [p["phase"] for p in env["phases"]] == list(PHASES), env["name"]
        failed = [(p["phase"], p["summary"], p["details"]) for p in env["phases"] if not p["ok"]]
        assert failed == [], env["name"]
        destroy = next(p for p in env["phases"] if p["phase"] == "destroy")
        assert destroy["checks"] and all(c["ok"] for c in destroy["checks"]), f"{env['name']}: left over"
    progress = [line.split()[:2] for line in result.stderr.splitlines() if line.startswith("  ")]
    assert sorted(progress) == sorted([unit, phase] for unit in ("_state", "production") for phase in PHASES), \
        "progress: one line per root and phase, on stderr with --format json"
    assert [e["account"] for e in report["environments"]] == ["123456789012", "222222222222"], \
        "production in its spec's account, _state in the double's default one"


@slow
def test_example_state_root_is_verified_through_the_s3_api(example_run):
    _, report, _, _ = example_run
    state = report["environments"][0]
    verify = next(p for p in state["phases"] if p["phase"] == "verify")
    subjects = {c["subject"]: c for c in verify["checks"]}
    assert sorted(subjects) == sorted(f"mrc-tfstate {s}" for s in (
        "key", "versioning", "default encryption", "public access block", "TLS only", "lifecycle")), subjects
    assert all(c["ok"] for c in verify["checks"]), verify["checks"]
    # Provider 3.39 cannot set BucketOwnerEnforced: the copy leaves the ownership controls out (and says so)
    # and prevent_destroy is lifted so the sandbox can destroy the bucket; both are listed.
    changes = {(c["address"], c["action"]) for c in state["lowered"]["changes"]}
    assert ("aws_s3_bucket_ownership_controls.state", "left out") in changes
    assert ("aws_s3_bucket.state", "sandbox quirk") in changes
    assert state["inventory"] == []


@slow
def test_shared_development_run_has_every_phase_but_destroy(sandbox_development):
    _, report, _ = sandbox_development
    env = report.environment("development")
    assert report.kept is True
    assert [p.phase for p in env.phases] == [p for p in PHASES if p != "destroy"]
    assert all(p.ok for p in env.phases), [(p.phase, p.reason) for p in env.phases]


@slow
@pytest.mark.parametrize("env_name", ENVS)
def test_example_verification_covers_every_vpc_peering_route_table_and_cluster(request, env_name):
    env = _environment_report(request, env_name)
    checks = next(p for p in env["phases"] if p["phase"] == "verify")["checks"]
    expected = expect_environment(tfgen.load(EXAMPLE), env_name)
    kinds = {}
    for check in checks:
        assert check["ok"], f"{env_name}: {check}"
        kinds[check["kind"]] = kinds.get(check["kind"], 0) + 1
    route_tables = sum(p.requester.route_tables + p.accepter.route_tables for p in expected.peerings)
    edges = len(expected.gitops.edges)
    assert kinds == {
        "vpc": len(expected.clusters),
        "peering": len(expected.peerings),
        "route": route_tables,
        "cluster": len(expected.clusters),
        "node group": sum(len(c.node_groups) for c in expected.clusters),
        "api access": len(expected.clusters),
        "gitops role": edges + 2,  # the management role's trust, each deployer, its policy
        "ebs csi role": len(expected.clusters),
        "bastion": 7,
        "gitops secret": edges,
        "bootstrap": 2,  # the one bootstrap document is a Command document; its script is the one rendered
        "bootstrap secret": edges,  # from the applied outputs; each edge's Secret in it against EKS and IAM
    }, env_name  # pod identity: no "oidc provider" checks
    lowered = env["lowered"]
    assert lowered["target"] == "3.39.0" and lowered["changes"], env_name
    assert sum(lowered["counts"].values()) == len(lowered["changes"])
    assert lowered["counts"]["the local AWS double (moto) has no EKS add-on API"] == 5 * len(expected.clusters)
    assert "EKS Pod Identity associations" in lowered["not_checked"]
    replan = next(p for p in env["phases"] if p["phase"] == "re-plan")
    assert replan["summary"] == "no changes", env_name


@slow
@pytest.mark.parametrize("env_name", ENVS)
def test_example_inventory_lists_each_regions_vpc_peerings_and_cluster(request, env_name):
    env = _environment_report(request, env_name)
    expected = expect_environment(tfgen.load(EXAMPLE), env_name)
    inventory = {r["region"]: r for r in env["inventory"]}
    assert sorted(inventory) == expected.regions, env_name
    hub = next(c for c in expected.clusters if c.role == "hub")
    for cluster in expected.clusters:
        region = inventory[cluster.region]
        assert [v["cidr"] for v in region["vpcs"]] == [cluster.cidr], f"{env_name}/{cluster.region}"
        assert region["subnets"] == cluster.subnets, f"{env_name}/{cluster.region}"
        assert [(c["name"], c["status"]) for c in region["clusters"]] == [(cluster.name, "ACTIVE")]
        peers = {(p["requester_region"], p["accepter_region"], p["status"]) for p in region["peerings"]}
        if cluster is hub:
            edges = [c.region for c in expected.clusters if c is not hub]
            assert peers == {(hub.region, r, "active") for r in edges}, f"{env_name}/{cluster.region}"
        else:
            assert peers == {(hub.region, cluster.region, "active")}, f"{env_name}/{cluster.region}"


@slow
def test_example_sandbox_leaves_no_process_no_scratch_and_out_untouched(example_run):
    _, report, out_before, home = example_run
    assert _tree_digest(ROOT / "out") == out_before, "the sandbox changed the committed out/"
    assert not Path(report["workdir"]).exists(), "the temporary scratch directory was not removed"
    assert list(home.iterdir()) == [], "the sandbox left files in the temporary directory"
    pid = report["double_pid"]
    assert not Path(f"/proc/{pid}").exists(), f"moto_server {pid} is still running"


# -- the verifier catches real breakage (on the shared development environment) ------------------

def _failed(result) -> list:
    return [c for c in result.checks if not c.ok]


def test_applied_gitops_path_verifies_through_the_api(sandbox_development):
    sandbox, report, expected = sandbox_development
    first = report.environment("development").phase("verify")
    hub_cidr = next(c.cidr for c in expected.clusters if c.role == "hub")
    edge_access = [c for c in first.checks if c.kind == "api access" and "edge" in c.subject]
    assert len(edge_access) == len(expected.gitops.edges)
    for check in edge_access:
        assert f"tcp 443-443 from {hub_cidr}" in check.detail, check.detail
    lowering = sandbox.lowering("development")
    left_out = {c["what"] for c in lowering.changes if c["action"] == "left out"}
    assert {"aws_eks_addon", "aws_eks_access_entry", "aws_eks_access_policy_association",
            "aws_eks_pod_identity_association", "aws_ebs_default_kms_key", "aws_launch_template"} <= left_out
    assert any(c["address"].startswith("aws_instance.") and c["what"].startswith("ami = ami-")
               for c in lowering.changes)
    assert all(c["reason"] for c in lowering.changes)
    assert lowering.not_checked and "EKS add-ons" in lowering.not_checked


def test_missing_hub_cidr_ingress_fails_only_that_check(sandbox_development):
    sandbox, _, expected = sandbox_development
    edge = next(c for c in expected.clusters if c.role == "edge")
    hub = next(c for c in expected.clusters if c.role == "hub")
    ec2 = sandbox.client("ec2", edge.region, "development")
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [edge.api_group]}])["SecurityGroups"][0]
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": hub.cidr}]}
    # Put back exactly what was there (its description too), or the shared environment no longer re-plans clean.
    (original,) = [{**rule, "IpRanges": [r]} for p in group["IpPermissions"] for r in p.get("IpRanges", [])
                   if p.get("FromPort") == 443 and r["CidrIp"] == hub.cidr]
    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[rule])
    try:
        result = sandbox.verify("development")
    finally:
        ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[original])
    failed = _failed(result)
    assert [(c.kind, c.subject) for c in failed] == [("api access", f"{edge.label} {edge.api_group}")], \
        [c.format() for c in failed]
    assert "no ingress" in failed[0].detail and hub.cidr in failed[0].detail


def test_extra_ingress_on_the_bastion_fails(sandbox_development):
    sandbox, _, expected = sandbox_development
    bastion = expected.bastion
    ec2 = sandbox.client("ec2", bastion.hub.region, "development")
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [bastion.name]}])["SecurityGroups"][0]
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[rule])
    try:
        result = sandbox.verify("development")
    finally:
        ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[rule])
    failed = _failed(result)
    assert [(c.kind, c.subject.rsplit(" ", 2)[-2:]) for c in failed] == [("bastion", ["security", "group"])], \
        [c.format() for c in failed]


def test_deployer_trusting_another_principal_fails(sandbox_development):
    sandbox, _, expected = sandbox_development
    edge = expected.gitops.edges[0]
    iam = sandbox.client("iam", edge.region, "development")
    before = iam.get_role(RoleName=edge.deployer_role)["Role"]["AssumeRolePolicyDocument"]
    other = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:role/someone-else"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    iam.update_assume_role_policy(RoleName=edge.deployer_role, PolicyDocument=json.dumps(other))
    try:
        result = sandbox.verify("development")
    finally:
        iam.update_assume_role_policy(RoleName=edge.deployer_role,
                                      PolicyDocument=before if isinstance(before, str) else json.dumps(before))
    failed = _failed(result)
    assert [(c.kind, c.subject) for c in failed] == [("gitops role", f"deployer {edge.label}")], \
        [c.format() for c in failed]
    assert "someone-else" in failed[0].detail


def test_missing_ebs_csi_policy_fails(sandbox_development):
    sandbox, _, expected = sandbox_development
    cluster = expected.clusters[0]
    iam = sandbox.client("iam", cluster.region, "development")
    arn = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    iam.detach_role_policy(RoleName=cluster.ebs_csi_role, PolicyArn=arn)
    try:
        result = sandbox.verify("development")
    finally:
        iam.attach_role_policy(RoleName=cluster.ebs_csi_role, PolicyArn=arn)
    assert [(c.kind, c.subject) for c in _failed(result)] == [("ebs csi role", cluster.label)]


def test_gitops_secret_with_a_wrong_role_or_server_fails(sandbox_development):
    sandbox, _, expected = sandbox_development
    outputs = sandbox.gitops_outputs("development")
    assert all(c.ok for c in sandbox.check_gitops_secrets("development", outputs))
    edge = expected.gitops.edges[0]
    key = next(k for k, v in outputs.items() if k.startswith("cluster_") and v.get("cluster_name") == edge.name)
    broken = json.loads(json.dumps(outputs))
    # Well-formed values of another role and another cluster: rendered, and caught against EKS and IAM.
    broken[key]["deployer_role_arn"] = outputs["gitops"]["management_role_arn"]
    broken[key]["cluster_endpoint"] = f"https://{'0' * 32}.gr7.{edge.region}.eks.amazonaws.com"
    failed = [c for c in sandbox.check_gitops_secrets("development", broken) if not c.ok]
    assert [c.subject for c in failed] == [edge.label]
    assert "!= endpoint" in failed[0].detail and "!= deployer role" in failed[0].detail
    # An endpoint that is no EKS endpoint of the region is refused before anything is rendered.
    broken[key]["cluster_endpoint"] = "https://elsewhere.example"
    (failed,) = [c for c in sandbox.check_gitops_secrets("development", broken) if not c.ok]
    assert "cannot render" in failed.detail and "cluster_endpoint" in failed.detail, failed.detail
    broken[key]["cluster_endpoint"] = outputs[key]["cluster_endpoint"]
    del broken[key]["deployer_role_arn"]
    (failed,) = [c for c in sandbox.check_gitops_secrets("development", broken) if not c.ok]
    assert f"output {key}" in failed.detail and "deployer_role_arn" in failed.detail


def test_tfgen_gitops_renders_the_applied_roots_outputs(sandbox_development, capsys):
    import yaml

    sandbox, _, expected = sandbox_development
    assert main(["gitops", str(sandbox.root("development"))]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    assert sorted(d["metadata"]["name"] for d in documents) == sorted(e.name for e in expected.gitops.edges)
    for doc in documents:
        edge = next(e for e in expected.gitops.edges if e.name == doc["metadata"]["name"])
        info = sandbox.client("eks", edge.region, "development").describe_cluster(name=edge.name)["cluster"]
        assert doc["stringData"]["server"] == info["endpoint"]
        role = sandbox.client("iam", edge.region, "development").get_role(RoleName=edge.deployer_role)["Role"]["Arn"]
        assert json.loads(doc["stringData"]["config"])["awsAuthConfig"]["roleARN"] == role


def test_verification_fails_when_a_peering_route_is_missing(sandbox_development):
    sandbox, _, expected = sandbox_development
    edge = next(c for c in expected.clusters if c.role == "edge")
    hub = next(c for c in expected.clusters if c.role == "hub")
    ec2 = sandbox.client("ec2", edge.region, "development")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "cidr-block", "Values": [edge.cidr]}])["Vpcs"][0]["VpcId"]
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    broken = next(t for t in tables
                  if any(r.get("DestinationCidrBlock") == hub.cidr for r in t["Routes"]))
    pcx = next(r["VpcPeeringConnectionId"] for r in broken["Routes"] if r.get("DestinationCidrBlock") == hub.cidr)
    ec2.delete_route(RouteTableId=broken["RouteTableId"], DestinationCidrBlock=hub.cidr)
    try:
        result = sandbox.verify("development")
        replan = sandbox.replan("development")
    finally:
        ec2.create_route(RouteTableId=broken["RouteTableId"], DestinationCidrBlock=hub.cidr,
                         VpcPeeringConnectionId=pcx)
    failed = _failed(result)
    assert not result.ok
    assert len(failed) == 1, [c.format() for c in failed]
    assert failed[0].kind == "route"
    assert broken["RouteTableId"] in failed[0].detail and hub.cidr in failed[0].detail, failed[0].detail
    assert not replan.ok and any("aws_route." in line for line in replan.changes), replan.changes
    assert replan.reason == f"not idempotent: {len(replan.changes)} change(s) after apply", replan.reason


# -- pieces --------------------------------------------------------------------------------------

def test_sandbox_quirks_apply_only_to_the_doubles_quirky_types(example_out):
    documents = {p.name: json.loads(p.read_text()) for p in sorted((example_out / "development").glob("*.tf.json"))}
    lowered = lower(documents, passes=sandbox_passes(lambda region, parameter: "ami-0123456789abcdef0"))
    quirky = {}
    for change in lowered.changes:
        if change.action == "sandbox quirk":
            quirky.setdefault(change.address.split(".")[0], []).append(change.address.split(".", 1)[1])
    assert sorted(quirky) == ["aws_eks_node_group", "aws_instance", "aws_vpc_peering_connection_accepter"]
    resources = {t: blocks for d in lowered.documents.values() for t, blocks in d.get("resource", {}).items()}
    bastion = resources["aws_instance"]["us_east_1_hub_bastion"]
    assert bastion["monitoring"] is False and "associate_public_ip_address" not in bastion
    assert bastion["lifecycle"] == {"ignore_changes": ["monitoring", "vpc_security_group_ids"]}
    assert sorted(quirky["aws_vpc_peering_connection_accepter"]) == [
        "us_east_1_hub__us_east_2_edge", "us_east_1_hub__us_west_2_edge"]
    for name, block in resources["aws_eks_node_group"].items():
        assert block["lifecycle"] == {"ignore_changes": ["scaling_config[0].desired_size", "remote_access"]}, name
    assert "lifecycle" not in resources["aws_vpc"]["us_east_2_edge"]


def test_terraform_errors_are_read_from_boxed_output():
    output = (
        "aws_vpc.x: Creating...\n"
        "╷\n│ Error: error creating EKS Cluster: boom\n│ \n│   with aws_eks_cluster.hub,\n"
        "│   on clusters.tf.json line 3\n╵\n"
        "╷\n│ Warning: deprecated\n╵\n"
    )
    assert terraform_errors(output) == [
        "Error: error creating EKS Cluster: boom\n  with aws_eks_cluster.hub,\n  on clusters.tf.json line 3"]


def test_unknown_environment_is_a_usage_error(capsys):
    assert main(["sandbox", str(EXAMPLE), "--env", "staging"]) == 2
    assert "no environment named 'staging'" in capsys.readouterr().err


def test_workdir_that_holds_other_files_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["sandbox", str(EXAMPLE), "--env", "development", "--workdir", str(tmp_path)]) == 2
    assert "not a tfgen sandbox scratch directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_text_report_summarises_what_was_lowered_and_what_is_not_checked():
    from tfgen.sandbox import EnvironmentReport, Lowering
    from tfgen.sandbox.report import format_lowering

    changes = [
        {"address": f"aws_eks_addon.c{i}", "action": "left out", "what": "aws_eks_addon",
         "reason": "the local AWS double (moto) has no EKS add-on API"} for i in range(5)
    ] + [
        {"address": "aws_eks_cluster.c", "action": "left out", "what": "argument access_config",
         "reason": "EKS cluster authentication mode (access entries): provider 5.33.0+"},
        {"address": "output.cluster_c.deployer_role_arn", "action": "left out", "what": "deployer_role_arn",
         "reason": "refers to aws_iam_role.c_deployer, left out"},
    ]
    env = EnvironmentReport("development", lowering=Lowering("3.39.0", changes, ["EKS add-ons"]))
    text = "\n".join(format_lowering(env))
    assert "7 change(s)" in text
    assert "5 x aws_eks_addon (the local AWS double (moto) has no EKS add-on API)" in text
    assert "1 x argument access_config" in text
    assert "output field cluster_c.deployer_role_arn" in text
    assert "not checked (the double has no API for them): EKS add-ons" in text
    assert env.as_dict()["lowered"]["counts"]["the local AWS double (moto) has no EKS add-on API"] == 5


@slow
def test_oidc_provider_check_with_irsa_finds_a_missing_provider(tmp_path):
    """IRSA: one IAM OIDC provider per cluster issuer (in-process moto; no terraform)."""
    from moto import mock_aws

    from tfgen.sandbox.verify import Lookup, check_oidc_providers

    spec = tmp_path / "irsa.yaml"
    spec.write_text(EXAMPLE.read_text().replace("  development:\n", "  development:\n    identity: irsa\n", 1))
    expected = expect_environment(tfgen.load(spec), "development")
    assert expected.irsa
    with mock_aws():
        import boto3

        def client(service, region):
            return boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")

        for cluster in expected.clusters:
            eks = client("eks", cluster.region)
            info = eks.create_cluster(name=cluster.name, roleArn="arn:aws:iam::123456789012:role/x",
                                      resourcesVpcConfig={"subnetIds": []})["cluster"]
            if cluster is not expected.clusters[-1]:
                client("iam", cluster.region).create_open_id_connect_provider(
                    Url=info["identity"]["oidc"]["issuer"], ClientIDList=["sts.amazonaws.com"],
                    ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
        checks = check_oidc_providers(expected, Lookup(expected, client))
    assert [c.ok for c in checks] == [True] * (len(expected.clusters) - 1) + [False], [c.format() for c in checks]
    assert "no IAM OIDC provider" in checks[-1].detail


@slow
def test_the_double_gives_every_eks_cluster_its_own_issuer(tmp_path):
    """moto alone shares one OIDC issuer among a region's clusters; IRSA fleets need one each."""
    import boto3

    with AwsDouble(tmp_path / "double") as double:
        eks = boto3.client("eks", region_name="eu-west-1", endpoint_url=double.endpoint,
                           aws_access_key_id="x", aws_secret_access_key="x")
        issuers = set()
        for name in ("edge-a", "edge-b"):
            eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/eks",
                               resourcesVpcConfig={"subnetIds": []})
            issuers.add(eks.describe_cluster(name=name)["cluster"]["identity"]["oidc"]["issuer"])
        assert len(issuers) == 2, issuers
        assert all(i.startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/") for i in issuers)
