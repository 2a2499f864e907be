"""An upgrade step rehearsed wave by wave on the double (`tfgen sandbox NEW --from OLD --waves`,
`Rehearsal.step_waves`): OLD applied, then NEW (the first step `tfgen upgrade --write` makes, and every node group
replaced by an instance-type change) applied through `tfgen apply --waves`'s runner, each wave re-planned empty and
its clusters read back through the double's EKS API before the next. What the double cannot update (the control
plane's version) is held at the applied version and listed, with everything else it cannot show, as not proven.
One apply of OLD carries every assertion of the slow test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import main
from tfgen.sandbox.rehearsal import Rehearsal, format_rehearsal, hold_versions, not_proven
from tests.conftest import MINIMAL_SPEC, processes_using, write_spec

# MINIMAL_SPEC in the cells layout with a second edge and a rollout of two waves
EDGE = "      us-east-2: {cidr: 10.11.0.0/16}\n"
OLD = MINIMAL_SPEC.replace("project: mini\n", "project: mini\nlayout: cells\n"
                           "rollout: {waves: [[us-east-2], [us-west-2]], bake: 24h}\n").replace(
    EDGE, EDGE + "      us-west-2: {cidr: 10.12.0.0/16}\n")
REPLACED = "that a replaced node group runs before the old one goes (provider 3.39 has no node_group_name_prefix: " \
           "the double replaces it destroy-first): development/{}"


def _specs(tmp_path: Path, monkeypatch) -> tuple[tfgen.Fleet, tfgen.Fleet]:
    """OLD, and NEW: OLD after `tfgen upgrade --to 1.36 --write` (wave 1's control plane to 1.36, its nodes and
    CoreDNS pinned to 1.35's) with every node group on t3.large (a replacement)."""
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    old = write_spec(tmp_path, OLD, "old.yaml")
    new = write_spec(tmp_path, OLD, "new.yaml")
    assert main(["upgrade", str(new), "--to", "1.36", "--write"]) == 0
    new.write_text(new.read_text().replace("t3.medium", "t3.large"))
    return tfgen.load(old), tfgen.load(new)


def test_versions_the_double_cannot_update_are_held_and_named(tmp_path, monkeypatch, capsys):
    old, new = _specs(tmp_path, monkeypatch)
    new.environment("development").region("us-west-2").cluster("edge").node_groups["workers"].version = "1.34"
    carried, held = hold_versions(old, new)
    assert held == ["development/us-east-2/edge: control plane 1.35 -> 1.36",
                    "development/us-west-2/edge/workers: node group 1.35 -> 1.34"]
    clusters = {(r.name, c.name): c for r, c in carried.environment("development").clusters()}
    assert clusters["us-east-2", "edge"].kubernetes_version == "1.35"
    assert clusters["us-west-2", "edge"].node_groups["workers"].version == "1.35"
    assert clusters["us-east-2", "edge"].node_groups["workers"].instance_types == ["t3.large"], "the rest is kept"
    assert new.environment("development").region("us-east-2").cluster("edge").kubernetes_version == "1.36", \
        "NEW itself is untouched"


def test_waves_need_a_change_to_rehearse(tmp_path, capsys):
    spec = write_spec(tmp_path, OLD)
    assert main(["sandbox", str(spec), "--waves"]) == 2
    assert "give --from OLD_SPEC" in capsys.readouterr().err


@pytest.mark.slow
def test_an_upgrade_step_applied_wave_by_wave_on_the_double(tmp_path, monkeypatch):
    old, new = _specs(tmp_path, monkeypatch)
    workdir = tmp_path / "scratch"
    lines: list[str] = []
    with Rehearsal(old, new, workdir=workdir) as rehearsal:
        sandbox = rehearsal.sandbox
        before = rehearsal.apply_old()
        assert before.ok, _failed(before)
        report = rehearsal.step_waves(new, log=lines.append)
        assert report.ok, format_rehearsal(report)

        # the waves as the runner applied them: canary edge, the other edge, the hub, then the links
        assert [(w.number, w.roots) for w in report.waves.waves] == [
            (1, ["development--us-east-2"]), (2, ["development--us-west-2"]), (3, ["development--us-east-1"])]
        runs = sorted((workdir / "runs" / "waves").iterdir())
        ran = [(run.name, sorted(p.name for p in (run / "logs").iterdir())) for run in runs]
        assert ran == [("01-apply", ["development--us-east-2"]), ("02-plan", ["development--us-east-2"]),
                       ("03-apply", ["development--us-west-2"]), ("04-plan", ["development--us-west-2"]),
                       ("05-apply", ["development--us-east-1"]), ("06-plan", ["development--us-east-1"]),
                       ("07-apply", ["development--us-east-1--us-east-2", "development--us-east-1--us-west-2"])]
        for run, root, key in (("01-apply", "development--us-east-2", "us_east_2_edge"),
                               ("03-apply", "development--us-west-2", "us_west_2_edge"),
                               ("05-apply", "development--us-east-1", "us_east_1_hub")):
            log = (workdir / "runs" / "waves" / run / "logs" / root / "apply" / "apply.log").read_text()
            assert re.search(rf"aws_eks_node_group\.{key}__workers: Destroying.*\n(.*\n)*"
                             rf"aws_eks_node_group\.{key}__workers: Creation complete", log), log
        assert lines[0] == "development wave 1: development--us-east-2 (development/us-east-2/edge)"
        assert not any("FAILED" in line or "not verified" in line for line in lines), lines
        assert all(w.failed == {} and w.unverified == [] for w in report.waves.waves), "read back through EKS"
        for region, cluster in (("us-east-1", "hub"), ("us-east-2", "edge"), ("us-west-2", "edge")):
            eks = sandbox.client("eks", region, "development")
            name = f"mini-development-{region}-{cluster}"
            assert eks.describe_nodegroup(clusterName=name, nodegroupName="workers")["nodegroup"][
                "instanceTypes"] == ["t3.large"], name
            assert eks.describe_cluster(name=name)["cluster"]["version"] == "1.35", "held: the double cannot update"
        assert [p.status for p in report.verified] == ["ok"]

        assert report.held == ["development/us-east-2/edge: control plane 1.35 -> 1.36"]
        assert sorted(report.not_proven) == sorted([
            "EKS add-on updates (moto has no EKS add-ons; the sandbox leaves them out): development/us-east-2/edge",
            "the control plane's version update (moto has no UpdateClusterVersion): development/us-east-2/edge",
            REPLACED.format("us-east-1/hub"), REPLACED.format("us-east-2/edge"), REPLACED.format("us-west-2/edge")])
        assert report.not_proven == not_proven(report.diff)
        text = format_rehearsal(report)
        assert "held at the applied version on the double" in text and "not proven (the double cannot show it):" \
            in text and text.endswith("rehearsal passed")

        destroyed = rehearsal.destroy()
        assert all(p.ok for p in destroyed), [(p.root, p.reason) for p in destroyed]
    assert processes_using(workdir) == []


def _failed(report) -> list:
    return [(e.name, p.phase, p.reason, p.details[:3]) for e in report.environments for p in e.phases if not p.ok]
