"""Upgrades EKS accepts: a cluster's Kubernetes version rises one minor per build and never falls (against the
previous build and against a real plan's state), and managed node groups follow the control plane within the
node skew Kubernetes allows."""

from __future__ import annotations

import json

import pytest

import tfgen
from tfgen.lifecycle.versions import check_planned_versions, check_version_steps, step_problem, versions_between
from tfgen.terraform.changes import Action, ResourceChange
from tests.conftest import write_spec

SPEC = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    access: {{admins: ["arn:aws:iam::123456789012:role/platform-admin"]}}
    defaults:
      kubernetes_version: "{version}"
      node_groups: {{workers: {{instance_types: [t3.medium]{group}}}}}
    hub: {{region: us-east-1, cidr: 10.10.0.0/16}}
    regions:
      us-east-2: {{cidr: 10.11.0.0/16{edge}}}
"""
EDGE = "dev/us-east-2/edge"
HUB = "dev/us-east-1/hub"


def _fleet(tmp_path, version="1.35", group="", edge=""):
    tmp_path.mkdir(parents=True, exist_ok=True)
    return tfgen.load(write_spec(tmp_path, SPEC.format(version=version, group=group, edge=edge)))


# -- one minor per build, never down ---------------------------------------------------------------------


def test_two_minors_up_is_refused_naming_each_version_on_the_way(tmp_path):
    fleet = _fleet(tmp_path, version="1.36")
    (jump,) = [f for f in check_version_steps(fleet, {EDGE: "1.34", HUB: "1.35"})]
    assert (jump.code, jump.path) == ("CHG530", EDGE)
    assert "1.34 -> 1.36 skips 1.35" in jump.message and "the previous build has 1.34" in jump.message
    assert jump.hint == 'build with kubernetes_version: "1.35" first, apply it, then "1.36"'
    assert jump.origin is not None and jump.origin.line == 7, "the line of the version written"


def test_three_minors_up_names_both_intermediate_versions(tmp_path):
    (jump,) = check_version_steps(_fleet(tmp_path, version="1.36"), {HUB: "1.33"})
    assert jump.hint == 'build with kubernetes_version: "1.34" first, apply it, then "1.35", apply it, then "1.36"'
    assert versions_between("1.33", "1.36") == ["1.34", "1.35", "1.36"]


def test_one_minor_up_the_same_version_and_a_new_cluster_pass(tmp_path):
    fleet = _fleet(tmp_path, version="1.35")
    assert check_version_steps(fleet, {EDGE: "1.34", HUB: "1.35", "dev/eu-west-1/edge": "1.30"}) == []
    assert check_version_steps(fleet, {}) == [], "a first build: every cluster is new"


def test_a_downgrade_is_refused_with_the_previous_version_as_the_fix(tmp_path):
    (down,) = check_version_steps(_fleet(tmp_path, version="1.35"), {EDGE: "1.36", HUB: "1.35"})
    assert (down.code, down.path, down.hint) == ("CHG531", EDGE, 'keep kubernetes_version: "1.36"')
    assert "EKS cannot downgrade a control plane" in down.message and "#48751" in down.message


def test_a_rollback_done_with_eks_is_followed_only_one_minor_down(tmp_path):
    fleet = _fleet(tmp_path, version="1.34")
    assert check_version_steps(fleet, {EDGE: "1.35"}, rolled_back={EDGE}) == []
    assert [f.code for f in check_version_steps(fleet, {EDGE: "1.36"}, rolled_back={EDGE})] == ["CHG531"]
    assert [f.code for f in check_version_steps(fleet, {EDGE: "1.35", HUB: "1.35"}, rolled_back={EDGE})] == \
        ["CHG531"], "only the cluster named"


@pytest.mark.parametrize("before, after, code", [
    ("1.34", "1.35", None), ("1.35", "1.35", None), ("1.34", "1.36", "CHG530"), ("1.36", "1.35", "CHG531"),
    ("1.35.2", "1.36", None), ("latest", "1.36", None), ("1.9", "1.11", "CHG530"),
])
def test_the_one_rule(before, after, code):
    problem = step_problem(before, after)
    assert (problem[0] if problem else None) == code, (before, after)


# -- the same rule on a real plan ------------------------------------------------------------------------------


def _cluster_change(before: str, after: str, action=Action.UPDATE) -> ResourceChange:
    return ResourceChange(root="dev", address="aws_eks_cluster.us_east_2_edge", type="aws_eks_cluster",
                          action=action, reasons=(), before={"name": "demo-dev-us-east-2-edge", "version": before},
                          after={"name": "demo-dev-us-east-2-edge", "version": after})


def test_a_plan_that_jumps_or_falls_is_refused_naming_the_eks_cluster():
    node_group = ResourceChange(root="dev", address="aws_eks_node_group.us_east_2_edge__workers",
                                type="aws_eks_node_group", action=Action.UPDATE, reasons=(),
                                before={"version": "1.33"}, after={"version": "1.35"})
    created = ResourceChange(root="dev", address="aws_eks_cluster.us_west_2_edge", type="aws_eks_cluster",
                             action=Action.CREATE, reasons=(), before=None, after={"version": "1.36"})
    findings = check_planned_versions([_cluster_change("1.34", "1.36"), _cluster_change("1.35", "1.36"),
                                       _cluster_change("1.36", "1.35"), node_group, created])
    assert [(f.code, f.path) for f in findings] == [("CHG530", "dev/aws_eks_cluster.us_east_2_edge"),
                                                    ("CHG531", "dev/aws_eks_cluster.us_east_2_edge")]
    assert "EKS cluster demo-dev-us-east-2-edge runs 1.34" in findings[0].message
    assert findings[0].hint == 'build with kubernetes_version: "1.35" first, apply it, then "1.36"'
    assert json.loads(json.dumps(findings[0].as_dict()))["code"] == "CHG530"


# -- managed node groups follow the control plane -------------------------------------------------------------


def _node_groups(tmp_path, fleet):
    tfgen.build(fleet, tmp_path / "out")
    clusters = json.loads((tmp_path / "out" / "dev" / "clusters.tf.json").read_text())["resource"]
    return clusters["aws_eks_node_group"], clusters["aws_eks_cluster"]


def test_node_groups_carry_their_clusters_version_and_move_with_it(tmp_path):
    groups, clusters = _node_groups(tmp_path / "a", _fleet(tmp_path / "a", version="1.35"))
    assert {name: g["version"] for name, g in groups.items()} == {
        "us_east_1_hub__workers": "1.35", "us_east_2_edge__workers": "1.35"}
    # updated after the control plane: the group refers to its cluster, so Terraform updates the cluster first
    assert groups["us_east_2_edge__workers"]["cluster_name"] == "${aws_eks_cluster.us_east_2_edge.name}"
    groups, clusters = _node_groups(tmp_path / "b", _fleet(tmp_path / "b", version="1.36"))
    assert clusters["us_east_2_edge"]["version"] == groups["us_east_2_edge__workers"]["version"] == "1.36"


def test_a_pinned_node_group_keeps_its_version_while_the_control_plane_bakes(tmp_path):
    fleet = _fleet(tmp_path, version="1.35", edge=', kubernetes_version: "1.36", node_groups: {workers: '
                   '{instance_types: [t3.medium], version: "1.35"}}')
    groups, clusters = _node_groups(tmp_path, fleet)
    assert clusters["us_east_2_edge"]["version"] == "1.36"
    assert groups["us_east_2_edge__workers"]["version"] == "1.35"
    assert groups["us_east_1_hub__workers"]["version"] == "1.35", "the hub follows its own cluster"
    previous = {EDGE: "1.35", f"{EDGE}/workers": "1.35", HUB: "1.35", f"{HUB}/workers": "1.35"}
    assert check_version_steps(fleet, previous) == [], "one minor up, the nodes kept where they run"


def test_a_python_node_group_takes_a_version_keyword():
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012")
    env.add_hub("us-east-1", cidr="10.10.0.0/16", kubernetes_version="1.36",
                node_groups={"workers": tfgen.NodeGroup(name="workers", version="1.32")})
    (skew,) = [f for f in tfgen.validate(fleet) if f.code == "VAL408"]
    assert "1.32 is 4 minors behind the control plane's 1.36" in skew.message
    assert skew.hint == 'raise it to "1.33" or later, or leave it out to follow the cluster'


@pytest.mark.parametrize("cluster, node, fine", [
    ("1.36", "1.36", True), ("1.36", "1.33", True), ("1.36", "1.32", False), ("1.35", "1.36", False),
])
def test_the_node_skew_rule(tmp_path, cluster, node, fine):
    fleet = _fleet(tmp_path, version=cluster, group=f', version: "{node}"')
    codes = {f.code for f in tfgen.validate(fleet)}
    assert ("VAL408" not in codes) is fine, (cluster, node, codes)


def test_a_node_group_pinned_below_its_cluster_must_already_run_that_version(tmp_path):
    fleet = _fleet(tmp_path, version="1.35", edge=', kubernetes_version: "1.36", node_groups: {workers: '
                   '{instance_types: [t3.medium], version: "1.35"}, gpu: {instance_types: [g5.xlarge], '
                   'version: "1.35"}}')
    findings = check_version_steps(fleet, {EDGE: "1.35", f"{EDGE}/workers": "1.34"})
    assert [(f.code, f.path) for f in findings] == [("CHG532", f"{EDGE}/gpu"), ("CHG532", f"{EDGE}/workers")]
    new, moved = findings
    assert "new at Kubernetes 1.35, not its cluster's 1.36" in new.message
    assert new.hint == 'leave `version` out (the group starts at "1.36"), or pin it only once it runs'
    assert "runs Kubernetes 1.34 and is pinned to 1.35" in moved.message
    assert moved.hint == 'keep version: "1.34" while the control plane bakes, then leave it out (to "1.36")'
    assert moved.origin is not None and moved.origin.line == 11, "the edge's line"


def test_a_node_group_pinned_ahead_is_the_skew_rules_alone(tmp_path):
    fleet = _fleet(tmp_path, version="1.35", group=', version: "1.36"')
    assert check_version_steps(fleet, {EDGE: "1.35"}) == []
    assert "VAL408" in {f.code for f in tfgen.validate(fleet)}
