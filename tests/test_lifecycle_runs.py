"""Changes rehearsed on the double (`tfgen sandbox NEW --from OLD`, `tfgen.sandbox.Rehearsal`): each spec built
against the one before and applied over what it left. One apply of the first spec carries the whole chain (add a
region, remove it, rename the environment, change a VPC CIDR), so the suite pays for one fleet, not four."""

from __future__ import annotations

import json
import re

import pytest

import tfgen
from tfgen.cli import main
from tfgen.lifecycle.summary import Status
from tfgen.sandbox.quirks import UNSUPPORTED
from tfgen.sandbox.rehearsal import Rehearsal
from tests.conftest import MINIMAL_SPEC, processes_using, write_spec

slow = pytest.mark.slow

EDGE = "      us-east-2: {cidr: 10.11.0.0/16}\n"
WEST = "      us-west-2: {cidr: 10.12.0.0/16}\n"
# MINIMAL_SPEC with its bastion and the GitOps bootstrap (what registers the edges with the hub's Argo CD)
ONE_EDGE = "".join(line for line in MINIMAL_SPEC.splitlines(keepends=True) if "bastion:" not in line
                   and "gitops:" not in line)
TWO_EDGES = ONE_EDGE.replace(EDGE, EDGE + WEST)
MOVED = "10.16.0.0/16"
BESIDE = f"      us-east-2: {{clusters: {{edge-b: {{cidr: {MOVED}}}}}}}\n"  # the edge renamed, in a new VPC


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
    assert "CHG506" in out and "--allow-destroy development/us-east-2/edge" in out and "rename the cluster" in out
    assert "the build refused the change" in out and out.rstrip().endswith("rehearsal FAILED")
    assert not (workdir / "runs").exists()  # no terraform ran
    assert processes_using(workdir) == []


def _plan(rehearsal: Rehearsal, root: str) -> str:
    return (rehearsal.sandbox.workdir / "runs" / "logs" / root / "apply" / "plan.log").read_text()


def _planned(rehearsal: Rehearsal, root: str) -> dict[str, set[str]]:
    """The addresses the apply's plan replaces, destroys and creates, as Terraform printed them."""
    text = _plan(rehearsal, root)
    return {verb: set(re.findall(rf"^  # (\S+) {phrase}$", text, re.MULTILINE)) for verb, phrase in (
        ("replace", "must be replaced"), ("delete", "will be destroyed"), ("create", "will be created"))}


def _predicted(rehearsal: Rehearsal, root: str, diff) -> dict[str, set[str]]:
    """The same from the build's fleet diff, through what the double's lowering left out, folded or renamed."""
    lowered = json.loads((rehearsal.sandbox.root(root) / "tfgen_lowered.json").read_text())
    gone = {c["address"] for c in lowered["changes"]  # whole resources the double has no API for
            if c["action"] == "left out" and not c["what"].startswith("argument")}
    renamed = {}
    for change in (c for c in lowered["changes"] if c["action"] == "rewritten" and c["what"].startswith("as ")):
        target = change["what"].split()[1].rstrip(",")  # "as aws_security_group_rule (type ingress)", "as the ..."
        if target.startswith("aws_"):
            renamed[change["address"]] = target if "." in target else f"{target}.{change['address'].split('.')[1]}"
        else:
            gone.add(change["address"])  # folded into another resource
    # a destroyed resource is in no lowered copy of this build: its type says whether the double had it
    absent = {a.split(".")[0] for a in gone} | set(UNSUPPORTED)
    found: dict[str, set[str]] = {"replace": set(), "delete": set(), "create": set()}
    retyped = {a.split(".")[0]: b.split(".")[0] for a, b in renamed.items()}  # for what only the old copy had
    for change in (c for o in diff.objects for c in o.changes
                   if c.address not in gone and not (c.action.value == "delete" and c.type in absent)):
        if change.action.value in found:
            name = change.address.split(".", 1)[1]
            found[change.action.value].add(renamed.get(change.address, f"{retyped.get(change.type, change.type)}.{name}"))
    return found


@slow
def test_add_a_region_remove_it_rename_the_environment_and_change_a_cidr_over_one_apply(tmp_path):
    specs = {name: tfgen.load(write_spec(tmp_path, text, f"{name}.yaml")) for name, text in {
        "one": ONE_EDGE, "two": TWO_EDGES, "renamed": ONE_EDGE.replace("  development:", "  dev:"),
        "moved": ONE_EDGE.replace("  development:", "  dev:").replace("10.11.0.0/16", MOVED),
        "beside": ONE_EDGE.replace("  development:", "  dev:").replace(EDGE, BESIDE)}.items()}
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

        # change a VPC CIDR: refused, allowed or not (the cluster would be created create-first under the name the
        # old one holds); a new name beside it with the new CIDR replaces it in one apply, deregistered first
        for allow in ([], ["dev/us-east-2/edge"]):
            refused = rehearsal.step(specs["moved"], allow_replace=allow)
            assert refused.refused and [f"{f.code} {f.path}" for f in refused.findings] == [
                "CHG506 dev/us-east-2/edge"] and refused.after is None
        beside = rehearsal.step(specs["beside"], allow_destroy=["dev/us-east-2/edge"])
        assert {o.path: o.status for o in beside.diff.objects if "/us-east-2/" in o.path} == {
            "dev/us-east-2/edge": Status.DESTROYED, "dev/us-east-2/edge-b": Status.NEW}
        assert beside.ok, _failed(beside.after)
        planned, predicted = _planned(rehearsal, "dev"), _predicted(rehearsal, "dev", beside.diff)
        assert planned == predicted, {verb: planned[verb] ^ predicted[verb] for verb in planned}
        verify = beside.after.environment("dev").phase("verify")
        checks = {}
        for check in verify.checks:
            checks.setdefault(check.kind, []).append(check.subject)
        assert "us-east-2 VPCs of 10.11.0.0/16" in checks["retired"], checks["retired"]
        assert checks["deregistration"] == ["aws_ssm_document.us_east_1_hub_bootstrap"]
        ec2 = sandbox.client("ec2", "us-east-2", "dev")
        assert [v["CidrBlock"] for v in ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": [MOVED]}])["Vpcs"]] == [
            MOVED]
        eks = sandbox.client("eks", "us-east-2", "dev")
        assert eks.list_clusters()["clusters"] == ["mini-dev-us-east-2-edge-b"]

        destroyed = rehearsal.destroy()
        assert all(p.ok for p in destroyed), [(p.root, p.reason, p.details[:3]) for p in destroyed]
    assert processes_using(workdir) == []
