"""`tfgen sandbox`: the example fleet really applied to a local AWS double.

The end-to-end run goes through the CLI as a user runs it; the fault and
broken-route tests drive the phases through `tfgen.sandbox.Sandbox` so they
can break things between phases. Every test also checks that no process it
started is left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import main
from tfgen.errors import ToolchainError
from tfgen.sandbox import PHASES, AwsDouble, Sandbox, expect_environment
from tfgen.providers.lowering import lower
from tfgen.sandbox.quirks import sandbox_passes
from tfgen.sandbox.terraform import terraform_errors
from tests.conftest import EXAMPLE, ROOT

ENVS = ("development", "production")


def _processes_using(path: Path) -> list[str]:
    """Processes whose working directory or an open file lies under `path`."""
    found = []
    prefix = str(path.resolve())
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/cwd")]
            links += [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(pid) != os.getpid() and any(link.startswith(prefix) for link in links):
            found.append(f"{pid}: {cmdline}")
    return found


def _tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + file.read_bytes())
    return digest.hexdigest()


def _wait_for(predicate, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


# -- the example, end to end, through the CLI ----------------------------------------------

@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """`tfgen sandbox examples/multi-region-eks.yaml --format json`, run once."""
    out_before = _tree_digest(ROOT / "out")
    home = tmp_path_factory.mktemp("home")
    env = dict(os.environ, TMPDIR=str(home))
    result = subprocess.run(
        [sys.executable, "-m", "tfgen.cli", "sandbox", str(EXAMPLE), "--format", "json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=900,
    )
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result, report, out_before, home


def test_example_sandbox_passes_and_exits_0(example_run):
    result, report, _, _ = example_run
    assert report is not None, f"no JSON report; stderr:\n{result.stderr}"
    assert result.returncode == 0, result.stderr
    assert report["ok"] is True
    assert [e["name"] for e in report["environments"]] == list(ENVS)
    for env in report["environments"]:
        assert [p["phase"] for p in env["phases"]] == list(PHASES), env["name"]
        failed = [(p["phase"], p["summary"], p["details"]) for p in env["phases"] if not p["ok"]]
        assert failed == [], env["name"]
    assert "verify" in result.stderr and "destroy" in result.stderr, "progress per phase goes to stderr with --format json"


@pytest.mark.parametrize("env_name", ENVS)
def test_example_verification_covers_every_vpc_peering_route_table_and_cluster(example_run, env_name):
    _, report, _, _ = example_run
    env = next(e for e in report["environments"] if e["name"] == env_name)
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
        "gitops role": edges + 2,
        "ebs csi role": len(expected.clusters),
        "bastion": 7,
        "gitops secret": edges,
    }, env_name
    lowered = env["lowered"]
    assert lowered["target"] == "3.39.0" and lowered["changes"], env_name
    assert sum(lowered["counts"].values()) == len(lowered["changes"])
    assert lowered["counts"]["the local AWS double (moto) has no EKS add-on API"] == 5 * len(expected.clusters)
    assert "EKS Pod Identity associations" in lowered["not_checked"]
    replan = next(p for p in env["phases"] if p["phase"] == "re-plan")
    assert replan["summary"] == "no changes", env_name
    destroy = next(p for p in env["phases"] if p["phase"] == "destroy")
    assert destroy["checks"] and all(c["ok"] for c in destroy["checks"]), f"{env_name}: left over after destroy"


@pytest.mark.parametrize("env_name", ENVS)
def test_example_inventory_lists_each_regions_vpc_peerings_and_cluster(example_run, env_name):
    _, report, _, _ = example_run
    env = next(e for e in report["environments"] if e["name"] == env_name)
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


def test_example_sandbox_leaves_no_process_no_scratch_and_out_untouched(example_run):
    _, report, out_before, home = example_run
    assert _tree_digest(ROOT / "out") == out_before, "the sandbox changed the committed out/"
    assert not Path(report["workdir"]).exists(), "the temporary scratch directory was not removed"
    assert list(home.iterdir()) == [], "the sandbox left files in the temporary directory"
    pid = report["double_pid"]
    assert not Path(f"/proc/{pid}").exists(), f"moto_server {pid} is still running"


# -- the verifier catches real breakage ---------------------------------------------------------

@pytest.fixture(scope="module")
def applied_development(tmp_path_factory):
    """The example's development environment applied once; each test breaks one thing,
    verifies and puts it back. Destroyed at the end; no process may be left."""
    workdir = tmp_path_factory.mktemp("applied")
    fleet = tfgen.load(EXAMPLE)
    with Sandbox(fleet, workdir=workdir) as sandbox:
        assert sandbox.init("development").ok
        assert sandbox.apply("development").ok
        first = sandbox.verify("development")
        assert first.ok, [c.format() for c in first.checks if not c.ok]
        yield sandbox, sandbox.expectation("development"), first
        destroyed = sandbox.destroy("development")
        assert destroyed.ok, [destroyed.details, [c.format() for c in destroyed.checks if not c.ok]]
    assert _processes_using(workdir) == []


def _failed(result) -> list:
    return [c for c in result.checks if not c.ok]


def test_applied_gitops_path_verifies_through_the_api(applied_development):
    sandbox, expected, first = applied_development
    kinds = {}
    for check in first.checks:
        kinds[check.kind] = kinds.get(check.kind, 0) + 1
    edges = expected.gitops.edges
    assert kinds["api access"] == len(expected.clusters)
    assert kinds["gitops role"] == len(edges) + 2  # the management role's trust, each deployer, its policy
    assert kinds["ebs csi role"] == len(expected.clusters)
    assert kinds["bastion"] == 7
    assert kinds["gitops secret"] == len(edges)
    assert "oidc provider" not in kinds, "pod identity: no OIDC providers to check"
    hub_cidr = next(c.cidr for c in expected.clusters if c.role == "hub")
    for check in first.checks:
        if check.kind == "api access" and "edge" in check.subject:
            assert f"tcp 443-443 from {hub_cidr}" in check.detail, check.detail
    lowering = sandbox.lowering("development")
    left_out = {c["what"] for c in lowering.changes if c["action"] == "left out"}
    assert {"aws_eks_addon", "aws_eks_access_entry", "aws_eks_access_policy_association",
            "aws_eks_pod_identity_association", "aws_ebs_default_kms_key", "aws_launch_template"} <= left_out
    assert any(c["address"].startswith("aws_instance.") and c["what"].startswith("ami = ami-")
               for c in lowering.changes)
    assert all(c["reason"] for c in lowering.changes)
    assert lowering.not_checked and "EKS add-ons" in lowering.not_checked


def test_missing_hub_cidr_ingress_fails_only_that_check(applied_development):
    sandbox, expected, _ = applied_development
    edge = next(c for c in expected.clusters if c.role == "edge")
    hub = next(c for c in expected.clusters if c.role == "hub")
    ec2 = sandbox.client("ec2", edge.region)
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [edge.api_group]}])["SecurityGroups"][0]
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": hub.cidr}]}
    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[rule])
    try:
        result = sandbox.verify("development")
    finally:
        ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[rule])
    failed = _failed(result)
    assert [(c.kind, c.subject) for c in failed] == [("api access", f"{edge.label} {edge.api_group}")], \
        [c.format() for c in failed]
    assert "no ingress" in failed[0].detail and hub.cidr in failed[0].detail


def test_extra_ingress_on_the_bastion_fails(applied_development):
    sandbox, expected, _ = applied_development
    bastion = expected.bastion
    ec2 = sandbox.client("ec2", bastion.hub.region)
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


def test_deployer_trusting_another_principal_fails(applied_development):
    sandbox, expected, _ = applied_development
    edge = expected.gitops.edges[0]
    iam = sandbox.client("iam", edge.region)
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


def test_missing_ebs_csi_policy_fails(applied_development):
    sandbox, expected, _ = applied_development
    cluster = expected.clusters[0]
    iam = sandbox.client("iam", cluster.region)
    arn = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    iam.detach_role_policy(RoleName=cluster.ebs_csi_role, PolicyArn=arn)
    try:
        result = sandbox.verify("development")
    finally:
        iam.attach_role_policy(RoleName=cluster.ebs_csi_role, PolicyArn=arn)
    assert [(c.kind, c.subject) for c in _failed(result)] == [("ebs csi role", cluster.label)]


def test_gitops_secret_with_a_wrong_role_or_server_fails(applied_development):
    sandbox, expected, _ = applied_development
    outputs = sandbox.gitops_outputs("development")
    assert all(c.ok for c in sandbox.check_gitops_secrets("development", outputs))
    edge = expected.gitops.edges[0]
    key = next(k for k, v in outputs.items() if k.startswith("cluster_") and v.get("cluster_name") == edge.name)
    broken = json.loads(json.dumps(outputs))
    broken[key]["deployer_role_arn"] = outputs["gitops"]["management_role_arn"]
    broken[key]["cluster_endpoint"] = "https://elsewhere.example"
    failed = [c for c in sandbox.check_gitops_secrets("development", broken) if not c.ok]
    assert [c.subject for c in failed] == [edge.label]
    assert "!= endpoint" in failed[0].detail and "!= deployer role" in failed[0].detail
    del broken[key]["deployer_role_arn"]
    (failed,) = [c for c in sandbox.check_gitops_secrets("development", broken) if not c.ok]
    assert f"output {key}" in failed.detail and "deployer_role_arn" in failed.detail


def test_tfgen_gitops_renders_the_applied_roots_outputs(applied_development, capsys):
    import yaml

    sandbox, expected, _ = applied_development
    assert main(["gitops", str(sandbox.root("development"))]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    assert sorted(d["metadata"]["name"] for d in documents) == sorted(e.name for e in expected.gitops.edges)
    for doc in documents:
        edge = next(e for e in expected.gitops.edges if e.name == doc["metadata"]["name"])
        info = sandbox.client("eks", edge.region).describe_cluster(name=edge.name)["cluster"]
        assert doc["stringData"]["server"] == info["endpoint"]
        role = sandbox.client("iam", edge.region).get_role(RoleName=edge.deployer_role)["Role"]["Arn"]
        assert json.loads(doc["stringData"]["config"])["awsAuthConfig"]["roleARN"] == role


def test_verification_fails_when_a_peering_route_is_missing(applied_development):
    sandbox, expected, _ = applied_development
    edge = next(c for c in expected.clusters if c.role == "edge")
    hub = next(c for c in expected.clusters if c.role == "hub")
    ec2 = sandbox.client("ec2", edge.region)
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
    assert not replan.ok and any("aws_route." in line for line in replan.details), replan.details


def test_transit_gateway_fleet_verifies_and_a_missing_gateway_route_is_caught(tmp_path):
    spec = ROOT / "examples" / "transit-gateway.yaml"
    fleet = tfgen.load(spec)
    with Sandbox(fleet, workdir=tmp_path) as sandbox:
        expected = sandbox.expectation("production")
        assert sandbox.init("production").ok
        assert sandbox.apply("production").ok
        result = sandbox.verify("production")
        kinds = {}
        for check in result.checks:
            kinds.setdefault(check.kind, []).append(check)
        assert result.ok, [c.format() for c in result.checks if not c.ok]
        regions = sorted({c.region for c in expected.clusters})
        assert len(kinds["transit gateway"]) == len(regions)
        assert len(kinds["attachment"]) == len(expected.clusters)
        assert len(kinds["gateway peering"]) == len(regions) * (len(regions) - 1) // 2
        assert len(kinds["route"]) == sum(c.route_tables for c in expected.clusters)
        assert sandbox.replan("production").ok, "a transit-gateway fleet re-plans with no changes"

        victim = next(c for c in expected.clusters if c.role == "edge")
        other = next(c for c in expected.clusters if c.region != victim.region)
        ec2 = sandbox.client("ec2", victim.region)
        vpc_id = ec2.describe_vpcs(Filters=[{"Name": "cidr-block", "Values": [victim.cidr]}])["Vpcs"][0]["VpcId"]
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
        broken = next(t for t in tables if any(r.get("DestinationCidrBlock") == other.cidr for r in t["Routes"]))
        ec2.delete_route(RouteTableId=broken["RouteTableId"], DestinationCidrBlock=other.cidr)
        after = sandbox.verify("production")
        destroyed = sandbox.destroy("production")
    assert destroyed.ok, destroyed.details
    failed = [c for c in after.checks if not c.ok]
    assert not after.ok
    assert len(failed) == 1, [c.format() for c in failed]
    assert broken["RouteTableId"] in failed[0].detail and other.cidr in failed[0].detail, failed[0].detail
    assert _processes_using(tmp_path) == []


def test_mesh_example_sandbox_passes_with_every_pair_peered(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tfgen.cli", "sandbox", str(ROOT / "examples" / "mesh.yaml"), "--format", "json"],
        capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(tmp_path)), cwd=ROOT, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (env,) = report["environments"]
    verify = next(p for p in env["phases"] if p["phase"] == "verify")
    peerings = [c for c in verify["checks"] if c["kind"] == "peering"]
    vpcs = [c for c in verify["checks"] if c["kind"] == "vpc"]
    assert len(peerings) == len(vpcs) * (len(vpcs) - 1) // 2 and all(c["ok"] for c in peerings)
    assert all(p["ok"] for p in env["phases"]), [p["summary"] for p in env["phases"]]
    assert _processes_using(tmp_path) == []


# -- faults -------------------------------------------------------------------------------------

def test_double_stopped_during_apply_gives_a_clear_error_and_a_rerun_converges(tmp_path, capsys):
    apply_log = tmp_path / "roots" / "development" / "logs" / "apply.log"

    def kill_double_mid_apply():
        _wait_for(lambda: apply_log.exists() and "Creation complete" in apply_log.read_text(), "apply")
        moto = [line.split(":")[0] for line in _processes_using(tmp_path) if "tfgen.sandbox.moto_boot" in line]
        for pid in moto:
            os.kill(int(pid), signal.SIGKILL)

    killer = threading.Thread(target=kill_double_mid_apply, daemon=True)
    killer.start()
    status = main(["sandbox", str(EXAMPLE), "--env", "development", "--workdir", str(tmp_path)])
    killer.join(5)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "stopped during `terraform apply` of development" in err, err
    assert "Traceback" not in err
    assert _processes_using(tmp_path) == [], "terraform or moto left running"

    # Same scratch directory, with the dead double's state in it; destroy is proven end to end above.
    with Sandbox(tfgen.load(EXAMPLE), workdir=tmp_path) as sandbox:
        report = sandbox.run(["development"], keep=True)
    phases = {p.phase: (p.ok, p.summary) for p in report.environment("development").phases}
    assert report.ok, phases
    assert list(phases) == ["init", "apply", "verify", "re-plan"]
    assert phases["re-plan"] == (True, "no changes")
    assert _processes_using(tmp_path) == []


def test_sigterm_stops_terraform_and_the_double(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "tfgen.cli", "sandbox", str(EXAMPLE), "--env", "development",
         "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    apply_log = tmp_path / "roots" / "development" / "logs" / "apply.log"
    try:
        _wait_for(lambda: apply_log.exists() and "Creating..." in apply_log.read_text(), "apply to start")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert _processes_using(tmp_path) == [], "terraform or moto left running"


def test_port_in_use_is_a_clear_toolchain_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ToolchainError, match=f"port {port} .* already in use"):
            AwsDouble(tmp_path, port=port).start()
        with AwsDouble(tmp_path) as double:  # a free port is taken when none is given
            assert double.port != port
            assert double.client("ec2", "us-east-1").describe_vpcs()["Vpcs"]
        assert not double.alive()
    assert _processes_using(tmp_path) == []


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
        assert block["lifecycle"] == {"ignore_changes": ["remote_access"]}, name
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


def test_failed_apply_reports_terraform_error_and_what_exists(tmp_path):
    fleet = tfgen.load(EXAMPLE)
    hub = next(c for c in expect_environment(fleet, "development").clusters if c.role == "hub")
    taken = f"{hub.name}-cluster"
    with Sandbox(fleet, workdir=tmp_path) as sandbox:
        sandbox.client("iam", hub.region).create_role(RoleName=taken, AssumeRolePolicyDocument="{}")
        report = sandbox.run_environment("development")
    apply = report.phase("apply")
    assert [p.phase for p in report.phases] == ["init", "apply"], "nothing runs after a failed apply"
    assert not report.ok and not apply.ok
    assert any(d.startswith("Error: ") and taken in d and "EntityAlreadyExists" in d for d in apply.details), \
        apply.details
    created = next(d for d in apply.details if d.startswith("created before the failure"))
    assert "aws_vpc" in created, created
    assert {r.region for r in report.inventory if r.vpcs} == {"us-east-1", "us-east-2", "us-west-2"}
    assert _processes_using(tmp_path) == []


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
