"""tfgen upgrade: the plan keeps EKS's rules on every step (one minor per control-plane step, nodes and add-ons
after their control plane, node skew, waves in order) on the 2 x 33-region fleet and on random fleets; it refuses
targets EKS does not offer; --write takes the example from 1.34 to 1.36 one reviewed step at a time, each step's
build passing the version guards against the previous step's build and changing only that step's clusters; the
rollout keys read in YAML and Python."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tfgen
from tfgen.cli import main
from tfgen.derive import naming
from tfgen.lifecycle.versions import check_version_steps, minor
from tfgen.model.regions import REGIONS
from tfgen.model.rollout import resolve_waves
from tfgen.terraform.roots import read_root
from tfgen.upgrade import plan_upgrade
from tfgen.upgrade.planner import CONTROL_PLANE, NODES_AND_ADDONS, VPC_CNI, apply_step, read_state

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 7)
ROLLOUT = "# the canary first, then the rest of the edges; the hub goes last\nrollout: {waves: [[us-east-2], [us-west-2, eu-west-1]], bake: 24h}\n"


def _example_at_134(tmp_path: Path) -> Path:
    """The reference example on 1.34 with extended support (1.34 left standard support on 2026-12-02), with a
    top-level rollout and its comment."""
    text = (ROOT / "examples" / "multi-region-eks.yaml").read_text()
    text = text.replace('      kubernetes_version: "1.35"\n', '      kubernetes_version: "1.34"\n      support: extended\n')
    text = text.replace("\nenvironments:\n", "\n" + ROLLOUT + "environments:\n", 1)
    spec = tmp_path / "fleet.yaml"
    spec.write_text(text)
    return spec


def _fleet_33(waves: list[list[str]]) -> tfgen.Fleet:
    """Two environments of 33 regions each: a hub in us-east-1 and an edge in every region (68 clusters)."""
    fleet = tfgen.Fleet(project="wide", rollout=tfgen.Rollout(waves=waves, bake="12h"))
    for i, name in enumerate(("staging", "production")):
        env = fleet.add_environment(name, account_id=f"{i + 1}" * 12, cidr_pool=f"10.{64 * i}.0.0/10")
        env.defaults.kubernetes_version = "1.34"
        env.defaults.support = "extended"
        env.add_hub("us-east-1")
        for region in sorted(REGIONS):
            env.add_region(region)
    return fleet


def _check_plan(fleet: tfgen.Fleet, target: str) -> None:
    """Every step of the plan under EKS's rules, the waves in order, every cluster at `target` at the end."""
    plan = plan_upgrade(fleet, target, today=TODAY)
    for env_plan in plan.environments:
        env = fleet.environment(env_plan.name)
        waves = resolve_waves(env, fleet.rollout_of(env))
        wave_of = {path: i + 1 for i, wave in enumerate(waves) for path in wave}
        state = env_plan.start
        # cluster -> the step that last moved its control plane (0: before the plan, nodes still held)
        moved_in = {p: 0 for p, s in state.items() if s.nodes_held or s.held}
        for step in env_plan.steps:
            assert {wave_of[p] for p in step.clusters} == {step.wave}, f"step {step.number} spans waves"
            if step.kind == CONTROL_PLANE:
                for path in step.clusters:
                    old, new = minor(state[path].control), minor(step.after)
                    assert new[1] - old[1] == 1, f"{env.name}/{path} step {step.number}: {old} -> {new}"
                    assert not state[path].nodes_held and not state[path].held, f"{path} moved with work pending"
                    moved_in[path] = step.number
                lower = [p for p, s in state.items() if minor(s.control) < minor(step.before)]
                assert lower == [], f"step {step.number} moves {step.before} while {lower} are further behind"
                earlier = [p for p, s in state.items() if wave_of[p] < step.wave and s.control == step.before]
                assert earlier == [], f"step {step.number} (wave {step.wave}) before earlier waves {earlier}"
                assert step.bake == env_plan.bake
            else:
                assert all(p in moved_in and moved_in[p] < step.number for p in step.clusters), step
            state = apply_step(state, step)
            for path, s in state.items():
                for group, version in s.nodes:
                    behind = minor(s.control)[1] - minor(version)[1]
                    assert 0 <= behind <= 1, f"{env.name}/{path}/{group}: nodes {version}, control {s.control}"
            assert step.skew == max(s.skew for s in state.values())
        for path, s in state.items():
            assert (s.control, s.nodes_held, s.held) == (target, False, frozenset()), f"{env.name}/{path}: {s}"


def test_the_plan_for_2_x_33_regions_keeps_every_rule_and_reaches_the_target():
    fleet = _fleet_33([["us-east-2"], ["us-west-2", "eu-west-1"], ["ap-south-1/edge"]])
    _check_plan(fleet, "1.36")
    plan = plan_upgrade(fleet, "1.36", today=TODAY)
    production = plan.environments[1]
    assert [len(w) for w in production.waves] == [1, 2, 1, 29, 1]  # three named, the other edges, the hub
    assert production.waves[-1] == ["us-east-1/hub"]
    # two minors x five waves x (control planes, nodes and add-ons) + the VPC CNI's steps on 1.35 (the table has
    # no 1.36 row, so on 1.36 it stays)
    kinds = [s.kind for s in production.steps]
    assert (kinds.count(CONTROL_PLANE), kinds.count(NODES_AND_ADDONS), kinds.count(VPC_CNI)) == (10, 10, 5)
    assert len(plan.costs) == 2 and plan.costs[0].clusters == 68, plan.costs
    assert plan.costs[0].extended_month == pytest.approx(68 * 0.60 * 730)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_plan_keeps_every_rule_on_random_fleets_and_waves(data):
    regions = data.draw(st.lists(st.sampled_from(sorted(REGIONS)), min_size=1, max_size=6, unique=True))
    fleet = tfgen.Fleet(project="random")
    env = fleet.add_environment("dev", account_id="123456789012")
    env.add_hub(regions[0], kubernetes_version=data.draw(st.sampled_from(["1.33", "1.34", "1.35"])))
    for region in regions:
        for name in data.draw(st.lists(st.sampled_from(["edge", "edge-b"]), min_size=1, max_size=2, unique=True)):
            version = data.draw(st.sampled_from(["1.32", "1.33", "1.34", "1.35", "1.36"]))
            held = data.draw(st.booleans()) and minor(version)[1] > 32
            groups = {"workers": tfgen.NodeGroup(name="workers", version=f"1.{minor(version)[1] - 1}" if held else None)}
            env.add_region(region, name=name, kubernetes_version=version, node_groups=groups)
    names = [f"{r.name}/{c.name}" for r, c in env.clusters()] + regions
    waves = data.draw(st.lists(st.lists(st.sampled_from(names), min_size=1, max_size=3), max_size=4))
    fleet.rollout = tfgen.Rollout(waves=waves)
    _check_plan(fleet, "1.36")


def test_targets_eks_does_not_offer_or_below_a_cluster_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    spec = _example_at_134(tmp_path)
    before = spec.read_text()
    assert main(["upgrade", str(spec), "--to", "1.38", "--write"]) == 1
    assert "CHG570" in capsys.readouterr().err
    assert main(["upgrade", str(spec), "--to", "1.33", "--write"]) == 1
    err = capsys.readouterr().err
    assert "CHG571" in err and "production/us-east-2/edge" in err, err
    assert spec.read_text() == before


def test_the_plan_names_add_on_hops_the_calendar_and_what_stalling_costs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    spec = _example_at_134(tmp_path)
    assert main(["upgrade", str(spec), "--to", "1.36", "--env", "production", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    first, second, third = plan["environments"][0]["steps"][:3]
    assert (first["kind"], first["clusters"], first["control_plane"]) == \
        ("control-plane", ["us-east-2/edge"], {"before": "1.34", "after": "1.35"})
    assert first["node_groups"] == [{"cluster": "us-east-2/edge", "group": "workers", "before": "1.34", "after": "1.34"}]
    assert first["skew_after"] == 1 and first["bake"] == "24h"
    held = {a["addon"]: (a["before"], a["after"]) for a in first["addons"]}
    assert held["kube-proxy"] == ("v1.34.6-eksbuild.2", "v1.35.3-eksbuild.2")
    assert (second["kind"], second["skew_after"]) == ("nodes-and-addons", 0)
    assert [a["addon"] for a in second["addons"]] == ["kube-proxy", "coredns"]
    assert [(a["addon"], a["before"], a["after"]) for a in third["addons"]] == \
        [("vpc-cni", "v1.20.5-eksbuild.1", "v1.21.1-eksbuild.1")]
    assert [(v["version"], v["standard_end"], v["phase"]) for v in plan["calendar"]] == \
        [("1.34", "2026-12-02", "extended"), ("1.35", "2027-03-27", "standard"), ("1.36", "2027-08-02", "standard")]
    cost = plan["costs"][0]
    assert (cost["version"], cost["clusters"], cost["extended_month"], cost["standard_month"]) == \
        ("1.34", 4, 4 * 0.60 * 730, 4 * 0.10 * 730)
    assert any("no 1.36 version" in note for note in plan["notes"]), plan["notes"]


def test_the_examples_1_36_steps_take_the_tables_hops_and_name_its_gaps(capsys, monkeypatch):
    """On 1.36 the committed table sources CoreDNS only (eksctl): its hop follows the node groups, held until the
    bake ends; every other add-on is a gap the plan names instead of inventing a version."""
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    for example in ("multi-region-eks.yaml", "cells.yaml", "mesh.yaml", "transit-gateway.yaml"):
        assert main(["upgrade", str(ROOT / "examples" / example), "--to", "1.36", "--format", "json"]) == 0, example
        plan = json.loads(capsys.readouterr().out)
        for env in plan["environments"]:
            for step in env["steps"]:
                moves = {a["addon"]: (a["before"], a["after"], a["note"]) for a in step["addons"]}
                if step["kind"] == "control-plane":
                    assert moves["coredns"] == ("v1.13.2-eksbuild.4", "v1.14.3-eksbuild.11",
                                                "held at the 1.35 version until the bake ends"), (example, step)
                    assert moves["kube-proxy"][1] is None and "none in tfgen's table for 1.36" in moves["kube-proxy"][2]
                else:
                    assert moves == {"coredns": ("v1.13.2-eksbuild.4", "v1.14.3-eksbuild.11", "")}, (example, step)
        assert any("no 1.36 version of aws-ebs-csi-driver, eks-pod-identity-agent, kube-proxy, vpc-cni" in note
                   for note in plan["notes"]), (example, plan["notes"])
    assert main(["upgrade", str(ROOT / "examples" / "multi-region-eks.yaml"), "--to", "1.36"]) == 0
    text = capsys.readouterr().out
    assert "add-on coredns: v1.13.2-eksbuild.4 -> v1.14.3-eksbuild.11" in text
    assert "add-on kube-proxy: stays v1.35.3-eksbuild.2: none in tfgen's table for 1.36" in text


def _previous(out: Path, fleet: tfgen.Fleet) -> tuple[dict[str, str], dict[str, str]]:
    """What a build in `out` gave each cluster, node group and VPC CNI add-on (the lifecycle's baseline)."""
    versions, addons = {}, {}
    for env in fleet.environments.values():
        root = read_root(out / env.name)
        for region, cluster in env.clusters():
            key, path = naming.cluster_key(region.name, cluster.name), f"{env.name}/{region.name}/{cluster.name}"
            versions[path] = root.body(f"aws_eks_cluster.{key}")["version"]
            for group in cluster.node_groups:
                versions[f"{path}/{group}"] = root.body(f"aws_eks_node_group.{naming.node_group_name(key, group)}")["version"]
            cni = root.body(f"aws_eks_addon.{naming.addon_name(key, 'vpc-cni')}").get("addon_version")
            if cni:
                addons[f"{path}/vpc-cni"] = cni
    return versions, addons


def _resources(out: Path, fleet: tfgen.Fleet) -> dict[str, dict]:
    found = {}
    for env in fleet.environments:
        root = read_root(out / env)
        for type_ in ("aws_eks_cluster", "aws_eks_node_group", "aws_eks_addon"):
            found.update({f"{env}/{b.address}": b.body for b in root.of_type(type_)})
    return found


def test_write_takes_the_example_from_134_to_136_one_guarded_step_at_a_time(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    spec, out = _example_at_134(tmp_path), tmp_path / "out"
    original = spec.read_text()
    tfgen.build(tfgen.load(spec), out)
    jump = tfgen.load(spec)
    for env in jump.environments.values():
        for _, cluster in env.clusters():
            cluster.kubernetes_version = "1.36"
    assert {f.code for f in check_version_steps(jump, _previous(out, jump)[0])} == {"CHG530"}  # the guard bites

    written = 0
    while True:
        fleet = tfgen.load(spec)
        plan = plan_upgrade(fleet, "1.36")
        steps = [e.steps[0] for e in plan.environments if e.steps]
        assert main(["upgrade", str(spec), "--to", "1.36", "--write"]) == 0
        capsys.readouterr()
        if not steps:
            break
        written += 1
        after = tfgen.load(spec)
        assert "# the canary first, then the rest of the edges; the hub goes last" in spec.read_text()
        versions, addons = _previous(out, after)
        assert check_version_steps(after, versions, addons=addons) == [], f"step {written}"
        old = _resources(out, after)
        tfgen.build(after, out)
        new = _resources(out, after)
        touched = {a for a in old.keys() | new.keys() if old.get(a) != new.get(a)}
        keys = {f"{s.environment}/{naming.cluster_key(*p.split('/'))}" for s in steps for p in s.clusters}
        strays = {a for a in touched if not any(f"{k.split('/')[0]}/" in a and f".{k.split('/')[1]}" in a for k in keys)}
        assert touched and strays == set(), f"step {written} changed {sorted(strays)} outside {sorted(keys)}"
    assert written == 15, written  # per environment: 3 waves x (3 steps on 1.35 + 2 on 1.36)
    final = spec.read_text()
    assert final == original.replace('kubernetes_version: "1.34"', 'kubernetes_version: "1.36"')
    assert set(_previous(out, tfgen.load(spec))[0].values()) == {"1.36"}


def test_write_refuses_a_python_spec(tmp_path, capsys):
    spec = tmp_path / "fleet.py"
    spec.write_text((ROOT / "examples" / "multi_region_eks.py").read_text())
    fleet = tfgen.load(_example_at_134(tmp_path))
    from tfgen.upgrade.writer import WriteError, write_steps

    steps = [plan_upgrade(fleet, "1.36", today=TODAY).environments[0].steps[0]]
    with pytest.raises(WriteError, match="YAML only"):
        write_steps(spec, fleet, steps)


def test_rollout_reads_in_yaml_and_python_alike(tmp_path):
    fleet = tfgen.load(_example_at_134(tmp_path))
    assert (fleet.rollout.waves, fleet.rollout.bake, fleet.rollout.failure_tolerance) == \
        ([["us-east-2"], ["us-west-2", "eu-west-1"]], "24h", 0)
    production = fleet.environment("production")
    assert resolve_waves(production, fleet.rollout_of(production)) == \
        [["us-east-2/edge"], ["us-west-2/edge", "eu-west-1/edge"], ["us-east-1/hub"]]
    python = tfgen.Fleet(project="demo")
    env = python.add_environment("dev", rollout=tfgen.Rollout(waves=[["us-east-1/hub"]], bake="2d"))
    env.add_hub("us-east-1")
    env.add_region("us-east-2")
    assert python.rollout_of(env).bake == "2d"
    assert resolve_waves(env, python.rollout_of(env)) == [["us-east-1/hub"], ["us-east-2/edge"]]
    state = read_state(env, "us-east-1", env.hub)
    assert (state.control, state.skew) == ("1.35", 0)


def test_write_reaches_the_target_on_a_spec_with_every_key(tmp_path, capsys, monkeypatch):
    """Several clusters in a region, a hub with its own node groups and add-on pin, an environment-wide add-on
    pin, an environment without `defaults`: every step writes, reads back as planned, and the pins the user
    wrote stay."""
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    spec = tmp_path / "every-key.yaml"
    spec.write_text((ROOT / "tests" / "good_specs" / "every-key.yaml").read_text())
    for _ in range(20):
        assert main(["upgrade", str(spec), "--to", "1.36", "--write"]) == 0, capsys.readouterr().err
        if "nothing to write" in capsys.readouterr().out:
            break
    fleet = tfgen.load(spec)
    assert {c.kubernetes_version for e in fleet.environments.values() for _, c in e.clusters()} == {"1.36"}
    production = fleet.environment("production")
    assert production.addons["vpc-cni"].version == "v1.19.2-eksbuild.1"  # the user's pin, named in the plan
    assert production.hub.addons["coredns"].version == "v1.11.4-eksbuild.2"
    assert "edge-b: {cidr: 10.14.0.0/16}" in spec.read_text()


def test_a_vpc_cni_hop_of_two_add_on_minors_is_named_in_its_step(tmp_path, monkeypatch):
    from tfgen.upgrade import planner

    real = planner.table_version
    monkeypatch.setattr(planner, "table_version",
                        lambda addon, k: "v1.19.2-eksbuild.5" if (addon, k) == ("vpc-cni", "1.34") else real(addon, k))
    fleet = tfgen.load(_example_at_134(tmp_path))
    steps = plan_upgrade(fleet, "1.35", environments=["production"], today=TODAY).environments[0].steps
    (cni,) = [s.addons[0] for s in steps if s.kind == VPC_CNI and s.wave == 1]
    assert (cni.before, cni.after) == ("v1.19.2-eksbuild.5", "v1.21.1-eksbuild.1")
    assert "2 add-on minors" in cni.note and "CHG533" in cni.note, cni.note


def test_a_fleet_past_standard_support_is_planned_and_told_what_eks_will_do(tmp_path, capsys, monkeypatch):
    """1.34 with `support: standard` after 2026-12-02 fails validation (VAL403: EKS upgrades it out from under
    Terraform); that is what the plan is for, so it plans, and says so. Any other error still refuses."""
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    spec = _example_at_134(tmp_path)
    spec.write_text(spec.read_text().replace("      support: extended\n", ""))
    assert main(["validate", str(spec)]) == 1
    capsys.readouterr()
    assert main(["upgrade", str(spec), "--to", "1.36"]) == 0
    out = capsys.readouterr().out
    assert "VAL403" not in out and "left standard support on 2026-12-02" in out, out
    assert "1. wave 1 control planes: us-east-2/edge" in out
    spec.write_text(spec.read_text().replace("nat: per_az", "nat: every_az"))
    assert main(["upgrade", str(spec), "--to", "1.36"]) == 1
