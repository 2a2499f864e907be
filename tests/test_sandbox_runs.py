"""`tfgen sandbox` on the smallest fleets that show each thing: the other connectivity modes
(transit gateway, mesh), the faults (the double killed mid-apply, SIGTERM, a failed apply, a port
in use) and `--keep`. Every test checks that no process it started is left behind."""

from __future__ import annotations

import json
import os
import re
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
from tfgen.sandbox import AwsDouble, Sandbox, expect_environment
from tests.conftest import MINIMAL_SPEC, ROOT, processes_using, write_spec

slow = pytest.mark.slow


def _wait_for(predicate, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


# -- the other connectivity modes, each on the smallest fleet that shows it ------------------------

# Two regions, two VPCs on one gateway: attachments, one gateway peering, routes within a region and
# across; IRSA with two clusters in one region (each needs its own OIDC issuer).
TRANSIT_GATEWAY_SPEC = """\
project: tgw-mini
environments:
  production:
    account_id: "444444444444"
    connectivity: transit-gateway
    identity: irsa
    access: {admins: ["arn:aws:iam::444444444444:role/platform-admin"]}
    bastion: {enabled: false}
    gitops: {bootstrap: false}    # the bootstrap runs on the bastion
    defaults:
      kubernetes_version: "1.35"
      az_count: 2
      node_groups: {workers: {instance_types: [t3.medium], min: 1, max: 1, desired: 1}}
    hub: {region: us-east-1, cidr: 10.64.0.0/16}
    regions:
      eu-west-1:
        clusters:
          edge-a: {cidr: 10.65.0.0/16}
          edge-b: {cidr: 10.66.0.0/16}
"""

# Three VPCs: the smallest mesh with a peering that hub-and-spoke would not make (edge to edge).
MESH_SPEC = """\
project: mesh-mini
environments:
  staging:
    account_id: "333333333333"
    connectivity: mesh
    access: {admins: ["arn:aws:iam::333333333333:role/platform-admin"]}
    bastion: {enabled: false}
    gitops: {bootstrap: false}    # the bootstrap runs on the bastion
    defaults:
      kubernetes_version: "1.35"
      az_count: 2
      node_groups: {workers: {instance_types: [t3.medium], min: 1, max: 1, desired: 1}}
    hub: {region: eu-west-1, cidr: 10.30.0.0/16}
    regions:
      eu-central-1: {cidr: 10.31.0.0/16}
      us-east-1: {cidr: 10.32.0.0/16}
"""


@slow
def test_transit_gateway_fleet_verifies_and_a_missing_gateway_route_is_caught(tmp_path):
    fleet = tfgen.load(write_spec(tmp_path, TRANSIT_GATEWAY_SPEC))
    workdir = tmp_path / "scratch"
    with Sandbox(fleet, workdir=workdir) as sandbox:
        expected = sandbox.expectation("production")
        assert sandbox.init("production").ok
        assert sandbox.apply("production").ok
        result = sandbox.verify("production")
        kinds = {}
        for check in result.checks:
            kinds.setdefault(check.kind, []).append(check)
        assert result.ok, [c.format() for c in result.checks if not c.ok]
        regions = sorted({c.region for c in expected.clusters})
        assert len(regions) == 2 and len(expected.clusters) == 3
        assert len(kinds["transit gateway"]) == len(regions)
        assert len(kinds["attachment"]) == len(expected.clusters)
        assert len(kinds["gateway peering"]) == len(regions) * (len(regions) - 1) // 2
        assert len(kinds["route"]) == sum(c.route_tables for c in expected.clusters)
        assert len(kinds["oidc provider"]) == len(expected.clusters), "IRSA: one OIDC provider per cluster"
        assert sandbox.replan("production").ok, "a transit-gateway fleet re-plans with no changes"

        victim = next(c for c in expected.clusters if c.role == "edge")
        other = next(c for c in expected.clusters if c.region != victim.region)
        ec2 = sandbox.client("ec2", victim.region, "production")
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
    assert processes_using(workdir) == []


@slow
def test_mesh_sandbox_passes_with_every_pair_peered(tmp_path):
    spec = write_spec(tmp_path, MESH_SPEC)
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "tfgen.cli", "sandbox", str(spec), "--format", "json"],
        capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(home)), cwd=ROOT, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (env,) = report["environments"]
    verify = next(p for p in env["phases"] if p["phase"] == "verify")
    peerings = [c for c in verify["checks"] if c["kind"] == "peering"]
    vpcs = [c for c in verify["checks"] if c["kind"] == "vpc"]
    assert len(vpcs) == 3 and len(peerings) == 3 and all(c["ok"] for c in peerings), peerings
    assert all(p["ok"] for p in env["phases"]), [p["summary"] for p in env["phases"]]
    assert processes_using(home) == []


# -- the sandbox's graph of roots: _state and the environments at once ----------------------------

# The minimal fleet twice (two environments, both with a hub in us-east-1) with an S3 backend and a lock table.
TWO_ENVIRONMENTS_SPEC = MINIMAL_SPEC.replace("project: mini\n", """\
project: mini
state: {backend: s3, bucket: mini-tfstate, region: us-east-1, lock_table: mini-locks}
""") + MINIMAL_SPEC.split("environments:\n", 1)[1].replace("development:", "staging:").replace(
    "us-east-2", "eu-central-1").replace("10.10.", "10.20.").replace("10.11.", "10.21.")


@slow
def test_state_and_environments_each_in_its_account_verified_and_destroyed(tmp_path):
    """The build's environments need `_state` (their S3 backend); the sandbox's copies keep their state
    locally, so its graph has no such edge. Each environment is in an account of its own in the double
    (the spec gives both the same one): EBS encryption by default, which both turn on in their regions, is
    each account's own, so one's destroy does not turn it off under the other."""
    fleet = tfgen.load(write_spec(tmp_path, TWO_ENVIRONMENTS_SPEC))
    workdir = tmp_path / "scratch"
    with Sandbox(fleet, workdir=workdir) as sandbox:
        assert sandbox.built_graph.needs == {"_state": (), "development": ("_state",), "staging": ("_state",)}
        assert sandbox.graph.needs == {"_state": (), "development": (), "staging": ()}
        report = sandbox.run(keep=True)
        assert [e.name for e in report.environments] == ["_state", "development", "staging"]
        assert report.ok, [(e.name, p.phase, p.reason, p.details) for e in report.environments
                           for p in e.phases if not p.ok]
        accounts = {e.name: e.account for e in report.environments}
        assert accounts == {"_state": "123456789012", "development": "100000000001", "staging": "100000000002"}
        state = report.environment("_state").phase("verify")
        assert {c.subject for c in state.checks if c.kind == "lock table"} == {
            f"mini-locks {s}" for s in ("key", "billing", "encryption", "point-in-time recovery")}, state.checks
        assert "mini-tfstate versioning" in {c.subject for c in state.checks}

        # A state bucket whose versioning was suspended fails that check alone.
        s3 = sandbox.client("s3", "us-east-1", "_state")
        s3.put_bucket_versioning(Bucket="mini-tfstate", VersioningConfiguration={"Status": "Suspended"})
        broken = sandbox.verify("_state")
        assert [c.subject for c in broken.checks if not c.ok] == ["mini-tfstate versioning"], broken.checks
        s3.put_bucket_versioning(Bucket="mini-tfstate", VersioningConfiguration={"Status": "Enabled"})

        def ebs(env: str) -> bool:
            ec2 = sandbox.client("ec2", "us-east-1", env)
            return ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]

        assert {env: ebs(env) for env in ("_state", "development", "staging")} == {
            "_state": False, "development": True, "staging": True}
        destroyed = [sandbox.destroy("development")]
        assert (ebs("development"), ebs("staging")) == (False, True), "development's destroy reached staging"
        assert sandbox.replan("staging").ok, "staging changed under development's destroy"
        destroyed += [sandbox.destroy(root) for root in ("staging", "_state")]
        assert all(d.ok for d in destroyed), [(d.root, d.reason, d.details) for d in destroyed]
        assert sandbox.client("s3", "us-east-1", "_state").list_buckets()["Buckets"] == []
    assert processes_using(workdir) == []


# -- faults, on the minimal fleet ------------------------------------------------------------------

@slow
def test_double_stopped_during_apply_gives_a_clear_error_and_a_rerun_converges(tmp_path, capsys):
    spec = write_spec(tmp_path, MINIMAL_SPEC)
    workdir = tmp_path / "scratch"
    apply_log = workdir / "runs" / "logs" / "development" / "apply" / "apply.log"

    def kill_double_mid_apply():
        _wait_for(lambda: apply_log.exists() and "Creation complete" in apply_log.read_text(), "apply")
        moto = [line.split(":")[0] for line in processes_using(workdir) if "tfgen.sandbox.moto_boot" in line]
        for pid in moto:
            os.kill(int(pid), signal.SIGKILL)

    killer = threading.Thread(target=kill_double_mid_apply, daemon=True)
    killer.start()
    status = main(["sandbox", str(spec), "--env", "development", "--workdir", str(workdir)])
    killer.join(5)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "stopped during `terraform apply` of development" in err, err
    assert "Traceback" not in err
    # The provider plugin, SIGKILLed with terraform's process group, can take a moment to exit.
    _wait_for(lambda: processes_using(workdir) == [], "terraform and moto to exit", limit=5)

    # Same scratch directory, with the dead double's state in it (destroy is proven by the other runs).
    with Sandbox(tfgen.load(spec), workdir=workdir) as sandbox:
        report = sandbox.run(["development"], keep=True)
    phases = {p.phase: (p.ok, p.reason) for p in report.environment("development").phases}
    assert report.ok, phases
    assert list(phases) == ["init", "apply", "verify", "re-plan"]
    assert phases["re-plan"] == (True, "")
    assert processes_using(workdir) == []


@slow
def test_sigterm_stops_terraform_and_the_double(tmp_path):
    spec = write_spec(tmp_path, MINIMAL_SPEC)
    workdir = tmp_path / "scratch"
    process = subprocess.Popen(
        [sys.executable, "-m", "tfgen.cli", "sandbox", str(spec), "--env", "development",
         "--workdir", str(workdir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    apply_log = workdir / "runs" / "logs" / "development" / "apply" / "apply.log"
    try:
        _wait_for(lambda: apply_log.exists() and "Creating..." in apply_log.read_text(), "apply to start")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert processes_using(workdir) == [], "terraform or moto left running"


@slow
def test_keep_leaves_the_fleet_up_until_ctrl_c_then_stops_everything(tmp_path):
    """`tfgen sandbox --keep`: no destroy; the double serves the fleet and the scratch is kept
    and printed; SIGINT (Ctrl-C) stops the double and leaves no process."""
    import boto3

    spec = write_spec(tmp_path, MINIMAL_SPEC)
    home = tmp_path / "home"
    home.mkdir()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tfgen.cli", "sandbox", str(spec), "--keep", "--format", "json"],
            stdout=stdout, stderr=stderr, text=True, cwd=ROOT, env=dict(os.environ, TMPDIR=str(home)),
        )
    try:
        _wait_for(lambda: "  development: AWS_" in err.read_text() or process.poll() is not None,
                  "the fleet to be kept", limit=600)
        assert process.poll() is None, err.read_text()
        kept = re.search(r"stays up at (\S+); scratch in (\S+);", err.read_text())
        assert kept, err.read_text()
        endpoint, scratch = kept[1], Path(kept[2])
        assert scratch.parent == home and scratch.is_dir(), scratch
        keys = dict(pair.split("=", 1) for pair in re.search(r"^  development: (.*)$", err.read_text(), re.M)[1].split())
        ec2 = boto3.client("ec2", region_name="us-east-2", endpoint_url=endpoint,
                           **{name.lower(): value for name, value in keys.items()})
        assert "10.11.0.0/16" in [v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"]], "the edge VPC is gone"
        anyone = boto3.client("ec2", region_name="us-east-2", endpoint_url=endpoint,
                              aws_access_key_id="any", aws_secret_access_key="any")
        assert "10.11.0.0/16" not in [v["CidrBlock"] for v in anyone.describe_vpcs()["Vpcs"]], \
            "development is in its own account, not the default one"
        time.sleep(1.5)  # still serving a moment later
        assert process.poll() is None, err.read_text()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    finally:
        process.kill()
    report = json.loads(out.read_text())
    assert process.returncode == 0, err.read_text()
    assert report["kept"] is True and report["ok"] is True
    (env,) = report["environments"]
    assert [p["phase"] for p in env["phases"]] == ["init", "apply", "verify", "re-plan"], "destroy must be skipped"
    assert (scratch / "roots" / "development").is_dir(), "the scratch directory was not kept"
    assert not Path(f"/proc/{report['double_pid']}").exists(), "the double still runs after Ctrl-C"
    assert processes_using(home) == []


@slow
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
    assert processes_using(tmp_path) == []


@slow
def test_failed_apply_reports_terraform_error_and_what_exists(tmp_path):
    fleet = tfgen.load(write_spec(tmp_path, MINIMAL_SPEC))
    workdir = tmp_path / "scratch"
    hub = next(c for c in expect_environment(fleet, "development").clusters if c.role == "hub")
    taken = f"{hub.name}-cluster"
    with Sandbox(fleet, workdir=workdir) as sandbox:
        sandbox.client("iam", hub.region, "development").create_role(RoleName=taken, AssumeRolePolicyDocument="{}")
        report = sandbox.run_environment("development")
    apply = report.phase("apply")
    assert [p.phase for p in report.phases] == ["init", "apply"], "nothing runs after a failed apply"
    assert not report.ok and not apply.ok
    assert any(d.startswith("Error: ") and taken in d and "EntityAlreadyExists" in d for d in apply.details), \
        apply.details
    created = next(d for d in apply.details if d.startswith("created before the failure"))
    assert "aws_vpc" in created, created
    assert {r.region for r in report.inventory if r.vpcs} == {"us-east-1", "us-east-2"}
    assert processes_using(workdir) == []
