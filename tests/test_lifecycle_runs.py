"""Changes rehearsed on the double (`tfgen sandbox NEW --from OLD`, `tfgen.sandbox.Rehearsal`): each spec built
against the one before and applied over what it left. One apply of the first spec carries the whole chain (add a
region, change its VPC CIDR, remove it, rename the environment), so the suite pays for one fleet, not four."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import main
from tfgen.lifecycle.summary import Status
from tfgen.sandbox.rehearsal import Rehearsal
from tests.conftest import MINIMAL_SPEC, processes_using, write_spec

slow = pytest.mark.slow

EDGE = "      us-east-2: {cidr: 10.11.0.0/16}\n"
WEST = "      us-west-2: {cidr: 10.12.0.0/16}\n"
# MINIMAL_SPEC with its bastion and the GitOps bootstrap (what registers the edges with the hub's Argo CD)
ONE_EDGE = "".join(line for line in MINIMAL_SPEC.splitlines(keepends=True) if "bastion:" not in line
                   and "gitops:" not in line)
TWO_EDGES = ONE_EDGE.replace(EDGE, EDGE + WEST)


def _failed(report) -> list:
    return [(e.name, p.phase, p.reason, p.details[:3], [c for c in p.checks if not c.ok][:3])
            for e in report.environments for p in e.phases if not p.ok]


def _log(rehearsal: Rehearsal, root: str) -> str:
    return (rehearsal.sandbox.workdir / "runs" / "logs" / root / "apply" / "apply.log").read_text()


@slow
def test_a_change_the_build_refuses_is_refused_before_anything_is_applied(tmp_path, capsys):
    old = write_spec(tmp_path, MINIMAL_SPEC, "old.yaml")
    new = write_spec(tmp_path, MINIMAL_SPEC.replace("10.11.0.0/16", "10.16.0.0/16"), "new.yaml")
    workdir = tmp_path / "scratch"
    assert main(["sandbox", str(new), "--from", str(old), "--workdir", str(workdir)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"development/us-east-2/edge +REPLACED \(why: vpc cidr 10.11.0.0/16 -> 10.16.0.0/16\)", out), out
    assert "CHG500" in out and "--allow-replace development/us-east-2/edge" in out
    assert "the build refused the change" in out and out.rstrip().endswith("rehearsal FAILED")
    assert not (workdir / "runs").exists()  # no terraform ran
    assert processes_using(workdir) == []


def _plan(rehearsal: Rehearsal, root: str) -> str:
    return (rehearsal.sandbox.workdir / "runs" / "logs" / root / "apply" / "plan.log").read_text()


# Replacing an EKS cluster under the same name cannot be applied while its node groups are create_before_destroy
# (the cluster inherits it: the new one is created while the old one holds the name). Provider 3.39 replaces the
# cluster on a VPC CIDR change (6.x plans an in-place subnet move into the new VPC instead).
SAME_NAME = "Cluster already exists with name"


@slow
def test_add_a_region_remove_it_rename_the_environment_and_change_a_cidr_over_one_apply(tmp_path):
    specs = {name: tfgen.load(write_spec(tmp_path, text, f"{name}.yaml")) for name, text in {
        "one": ONE_EDGE, "two": TWO_EDGES, "renamed": ONE_EDGE.replace("  development:", "  dev:"),
        "moved": ONE_EDGE.replace("  development:", "  dev:").replace("10.11.0.0/16", "10.16.0.0/16")}.items()}
    workdir = tmp_path / "scratch"
    with Rehearsal(specs["one"], *specs.values(), workdir=workdir) as rehearsal:
        sandbox = rehearsal.sandbox
        before = rehearsal.apply_old()
        assert before.ok, _failed(before)

        # add a region: new objects only, applied, verified, re-planned empty
        added = rehearsal.step(specs["two"])
        assert {o.path: o.status for o in added.diff.objects} == {
            "development/us-east-1/hub": Status.UPDATED, "development/us-east-1/hub<->us-west-2/edge": Status.NEW,
            "development/us-west-2": Status.NEW, "development/us-west-2/edge": Status.NEW}
        assert added.ok, _failed(added.after)
        assert [p.phase for p in added.after.environment("development").phases] == [
            "init", "apply", "verify", "re-plan"]

        # remove it: refused; allowed, the edge deregistered before its cluster goes, nothing of it left
        refused = rehearsal.step(specs["one"])
        assert refused.refused and {f.code for f in refused.findings} == {"CHG501"} and refused.after is None
        removed = rehearsal.step(specs["one"], allow_destroy=["development/us-west-2"])
        assert removed.ok, _failed(removed.after)
        verify = removed.after.environment("development").phase("verify")
        checks: dict[str, list[str]] = {}
        for check in verify.checks:
            checks.setdefault(check.kind, []).append(check.subject)
        assert checks["deregistration"] == ["aws_ssm_document.us_east_1_hub_bootstrap"]
        assert "us-west-2 VPCs of 10.12.0.0/16" in checks["retired"], checks["retired"]
        assert "us-east-1 peerings with 10.12.0.0/16" in checks["retired"], checks["retired"]
        assert [p.phase for p in removed.after.environment("development").phases][-1] == "re-plan"
        assert removed.settled == ["retirement of development/us-west-2 applied: the next `tfgen build` drops "
                                   "what was kept for it"]
        assert any("access entries" in gap for gap in removed.not_proven), removed.not_proven
        assert rehearsal.preview(specs["one"])[0].notes == ("development/us-west-2: retirement ended (applied "
                                                            "(development)); its kept providers and roots are dropped",)

        # rename the environment: refused; allowed, the old one destroyed (in its account), the new one created
        refused = rehearsal.step(specs["renamed"])
        assert refused.refused and [f"{f.code} {f.path}" for f in refused.findings] == ["CHG502 development"]
        renamed = rehearsal.step(specs["renamed"], allow_destroy=["development"])
        assert renamed.ok, _failed(renamed.after)
        assert [e.name for e in renamed.after.environments] == ["dev", "development"]
        old = renamed.after.environment("development")
        assert old.phase("verify").checks and all(c.ok for c in old.phase("verify").checks)
        assert sandbox.account("dev") != sandbox.account("development")
        ec2 = sandbox.client("ec2", "us-east-1", "development")
        assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.10.0.0/16"]}])["Vpcs"] == []
        assert renamed.settled == ["retirement of development applied: the next `tfgen build` drops what was "
                                   "kept for it"]

        # change a VPC CIDR: refused; allowed, Terraform on the double plans the replacements the build diff says
        refused = rehearsal.step(specs["moved"])
        assert refused.refused and [f"{f.code} {f.path}" for f in refused.findings] == ["CHG500 dev/us-east-2/edge"]
        moved = rehearsal.step(specs["moved"], allow_replace=["dev/us-east-2/edge"])
        edge = next(o for o in moved.diff.objects if o.path == "dev/us-east-2/edge")
        assert (edge.status, edge.why) == (Status.REPLACED, ("vpc cidr 10.11.0.0/16 -> 10.16.0.0/16",))
        lowered = json.loads((sandbox.root("dev") / "tfgen_lowered.json").read_text())
        left_out = {c["address"] for c in lowered["changes"]  # whole resources the double has no API for
                    if c["action"] == "left out" and not c["what"].startswith("argument")}
        rewritten = {c["address"] for c in lowered["changes"]  # as 3.39's aws_security_group_rule
                     if c["action"] == "rewritten" and c["address"].startswith("aws_vpc_security_group_")}
        predicted = {f"aws_security_group_rule.{a.split('.', 1)[1]}" if a in rewritten else a
                     for o in moved.diff.objects for c in o.changes if c.action.value == "replace"
                     for a in [c.address] if a not in left_out}
        planned = set(re.findall(r"^  # (\S+) must be replaced$", _plan(rehearsal, "dev"), re.MULTILINE))
        # provider 3.39 also replaces the EKS cluster (its subnets were ForceNew before 5.25.0; 6.x updates them)
        assert planned == predicted | {"aws_eks_cluster.us_east_2_edge"}, planned ^ predicted
        apply = moved.after.environment("dev").phase("apply")

        destroyed = rehearsal.destroy()
        assert all(p.ok for p in destroyed), [(p.root, p.reason, p.details[:3]) for p in destroyed]
    assert processes_using(workdir) == []
    if not apply.ok:
        assert any(SAME_NAME in line for line in apply.details), apply.details
        pytest.xfail(f"the replaced EKS cluster could not be created: {SAME_NAME} (see SAME_NAME)")
    assert moved.ok, _failed(moved.after)
