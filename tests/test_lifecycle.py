"""Living with a fleet, offline: every build is compared with the previous one in OUT (the fleet diff, in the
fleet's words), a change that replaces or destroys what cannot come back is refused unless named, what the spec
no longer has retires (providers and roots kept until an apply destroyed it, allocations kept as tombstones), and
`tfgen diff` says all of it writing nothing. The same changes applied on the double: test_lifecycle_runs.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import main
from tfgen.errors import FindingsError
from tfgen.lifecycle.summary import Status
from tfgen.orchestrate import read_graph
from tfgen.pipeline import diff
from tests.conftest import MINIMAL_SPEC, POOL_SPEC, write_spec

EDGE = "      us-east-2: {cidr: 10.11.0.0/16}\n"
WEST = "      us-west-2: {cidr: 10.12.0.0/16}\n"
TWO_REGIONS = MINIMAL_SPEC.replace(EDGE, EDGE + WEST)
LINK = "development/us-east-1/hub<->us-east-2/edge"
# An edge with no node groups (and no GitOps bootstrap, as MINIMAL_SPEC): nothing create_before_destroy depends on
# its EKS cluster, so Terraform replaces it destroy-first and a replacement can be allowed.
NODELESS = MINIMAL_SPEC.replace(EDGE, "      us-east-2: {cidr: 10.11.0.0/16, node_groups: {}}\n")
MOVED = "10.16.0.0/16"


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """MINIMAL_SPEC (a hub and one edge) built once; the tests only diff against it (nothing written)."""
    base = tmp_path_factory.mktemp("baseline")
    tfgen.build(tfgen.load(write_spec(base, MINIMAL_SPEC)), base / "out")
    return base / "out"


def _diff(tmp_path: Path, out: Path, text: str, **allow):
    before = _snapshot(out)
    found = diff(tfgen.load(write_spec(tmp_path, text)), out, **allow)
    assert _snapshot(out) == before, "tfgen diff wrote into OUT"
    return found


# Every kind of change the issue lists: spec change -> the changed objects' statuses, and the guards' codes.
CHANGES = {
    "add a region": (TWO_REGIONS, {
        "development/us-east-1/hub": Status.UPDATED,  # its routes to the new edge
        "development/us-east-1/hub<->us-west-2/edge": Status.NEW,
        "development/us-west-2": Status.NEW, "development/us-west-2/edge": Status.NEW}, []),
    "node group sizes": (MINIMAL_SPEC.replace("max: 1, desired: 1", "max: 3, desired: 2"), {
        "development/us-east-1/hub": Status.UPDATED, "development/us-east-2/edge": Status.UPDATED}, []),
    # node groups are replaced (not a guarded kind): the clusters stay, updated in place
    "instance types": (MINIMAL_SPEC.replace("[t3.medium]", "[m5.large]"), {
        "development/us-east-1/hub": Status.UPDATED, "development/us-east-2/edge": Status.UPDATED}, []),
    "kubernetes version": (MINIMAL_SPEC.replace('"1.35"', '"1.36"'), {
        "development/us-east-1/hub": Status.UPDATED, "development/us-east-2/edge": Status.UPDATED}, []),
    "vpc cidr": (MINIMAL_SPEC.replace("10.11.0.0/16", "10.16.0.0/16"), {
        "development/us-east-2/edge": Status.REPLACED, LINK: Status.REPLACED}, ["CHG506 development/us-east-2/edge"]),
    "cluster renamed": (MINIMAL_SPEC.replace(EDGE, "      us-east-2: {clusters: {edge2: {cidr: 10.11.0.0/16}}}\n"), {
        "development/us-east-1/hub": Status.UPDATED, LINK: Status.DESTROYED, LINK + "2": Status.NEW,
        "development/us-east-2/edge": Status.DESTROYED, "development/us-east-2/edge2": Status.NEW},
        ["CHG501 development/us-east-2/edge"]),
    "environment renamed": (MINIMAL_SPEC.replace("  development:", "  dev:"), {
        **{p: Status.NEW for p in ("dev", "dev/us-east-1", "dev/us-east-1/hub", "dev/us-east-1/hub<->us-east-2/edge",
                                   "dev/us-east-2", "dev/us-east-2/edge")},
        **{p: Status.DESTROYED for p in ("development", "development/us-east-1", "development/us-east-1/hub", LINK,
                                         "development/us-east-2", "development/us-east-2/edge")}},
        ["CHG502 development"]),
    "hub-and-spoke to transit gateway": (MINIMAL_SPEC.replace("    bastion:", "    connectivity: transit-gateway\n"
                                                                            "    bastion:"), {
        "development/us-east-1": Status.NEW, "development/us-east-2": Status.NEW,  # their gateways
        "development/us-east-1<->us-east-2": Status.NEW, LINK: Status.DESTROYED,
        "development/us-east-1/hub": Status.UPDATED, "development/us-east-2/edge": Status.UPDATED}, []),
    "reordered keys": (MINIMAL_SPEC.replace("      az_count: 2\n", "").replace(
        "      kubernetes_version:", "      az_count: 2\n      kubernetes_version:"), {}, []),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_kind_of_change_reads_in_the_fleets_words_and_the_guards_name_what_is_lost(tmp_path, baseline, change):
    text, statuses, codes = CHANGES[change]
    unchanged = {"add a region": 4, "cluster renamed": 2, "environment renamed": 0,
                 "hub-and-spoke to transit gateway": 0, "reordered keys": 5}.get(change, 3)
    fleet_diff, findings = _diff(tmp_path, baseline, text)
    assert {o.path: o.status for o in fleet_diff.objects} == statuses
    assert [f"{f.code} {f.path}" for f in findings if f.code.startswith("CHG")] == codes
    assert fleet_diff.unchanged == unchanged


def test_a_replacement_says_why_in_the_fleets_words_and_the_finding_names_the_flag(tmp_path):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(write_spec(tmp_path, NODELESS, "old.yaml")), out)
    fleet_diff, findings = _diff(tmp_path, out, NODELESS.replace("10.11.0.0/16", MOVED))
    edge = next(o for o in fleet_diff.objects if o.path == "development/us-east-2/edge")
    assert edge.why == ("vpc cidr 10.11.0.0/16 -> 10.16.0.0/16",)
    assert re.search(r"\n  development/us-east-2/edge +REPLACED \(why: vpc cidr 10.11.0.0/16 -> 10.16.0.0/16\)",
                     fleet_diff.text()), fleet_diff.text()
    [refused] = [f for f in findings if f.code.startswith("CHG")]
    assert refused.code == "CHG500" and "--allow-replace development/us-east-2/edge" in refused.hint
    # EKS keeps a cluster in its VPC: the cluster goes with it (replace_triggered_by), whatever 6.x's table says
    assert "EKS cluster and VPC (aws_eks_cluster.us_east_2_edge, aws_vpc.us_east_2_edge)" in refused.message
    # named, it passes; a name that allows nothing is a warning
    _, allowed = _diff(tmp_path, out, NODELESS.replace("10.11.0.0/16", MOVED),
                       allow_replace=["development/us-east-2"], allow_destroy=["development/us-west-2"])
    assert [(f.code, f.severity.value) for f in allowed if f.code.startswith("CHG")] == [("CHG505", "warning")]


def test_a_cluster_replaced_create_first_under_its_own_name_is_refused_even_when_allowed(tmp_path, baseline):
    """Its node groups are create_before_destroy, so the new cluster would be created beside the old one, under
    the name the old one holds: no flag allows that; the finding names the two ways that apply."""
    changes = diff(tfgen.load(write_spec(tmp_path, MINIMAL_SPEC.replace("10.11.0.0/16", MOVED))), baseline,
                   allow_replace=["development/us-east-2/edge"])[0]
    cluster = next(c for o in changes.objects for c in o.changes if c.address == "aws_eks_cluster.us_east_2_edge")
    assert (cluster.action.value, cluster.create_first) == ("replace", True)
    _, findings = _diff(tmp_path, baseline, MINIMAL_SPEC.replace("10.11.0.0/16", MOVED),
                        allow_replace=["development/us-east-2/edge"])
    [refused] = findings
    assert (refused.code, refused.path) == ("CHG506", "development/us-east-2/edge")
    assert "under the name it holds (mini-development-us-east-2-edge)" in refused.message
    assert "`--allow-destroy development/us-east-2/edge`" in refused.hint and "rename the cluster" in refused.hint
    # the way that applies in one step: a new name beside it, the old one destroyed
    beside = MINIMAL_SPEC.replace(EDGE, f"      us-east-2: {{clusters: {{edge-b: {{cidr: {MOVED}}}}}}}\n")
    fleet_diff, findings = _diff(tmp_path, baseline, beside, allow_destroy=["development/us-east-2/edge"])
    assert [f.code for f in findings] == []
    assert {o.path: o.status for o in fleet_diff.objects if "/us-east-2/" in o.path} == {
        "development/us-east-2/edge": Status.DESTROYED, "development/us-east-2/edge-b": Status.NEW}


def test_build_refuses_writing_nothing_then_builds_what_is_named_and_the_next_build_has_no_changes(tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(write_spec(tmp_path, NODELESS, "old.yaml")), "--out", str(out)]) == 0
    before = _snapshot(out)
    changed = write_spec(tmp_path, NODELESS.replace("10.11.0.0/16", MOVED), "new.yaml")
    assert main(["build", str(changed), "--out", str(out)]) == 1
    assert _snapshot(out) == before
    with pytest.raises(FindingsError):
        tfgen.build(tfgen.load(changed), out)
    result = tfgen.build(tfgen.load(changed), out, allow_replace=["development/us-east-2/edge"])
    assert [o.path for o in result.diff.of(Status.REPLACED)] == [LINK, "development/us-east-2/edge"]
    again = tfgen.build(tfgen.load(changed), out)
    assert (again.diff.objects, again.diff.unchanged) == ((), 5)


def test_build_prints_the_fleet_diff_and_tfgen_diff_prints_it_as_json_too(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", str(write_spec(tmp_path, MINIMAL_SPEC, "old.yaml")), "--out", str(out)]) == 0
    first = capsys.readouterr().out
    assert f"fleet diff against {out} (no previous build: everything is new):" in first
    assert "  development/us-east-2/edge  " in first and "new" in first
    new = write_spec(tmp_path, TWO_REGIONS, "new.yaml")
    before = _snapshot(out)
    assert main(["diff", str(new), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert main(["diff", str(new), "--out", str(out), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert _snapshot(out) == before
    assert {o["path"]: o["status"] for o in data["objects"]} == {
        "development/us-east-1/hub": "updated in place", "development/us-east-1/hub<->us-west-2/edge": "new",
        "development/us-west-2": "new", "development/us-west-2/edge": "new"}
    for obj in data["objects"]:
        assert f"{obj['path']}" in text and obj["status"] in text
    assert data["unchanged"] == 4 and "4 object(s) unchanged" in text and data["findings"] == []
    assert main(["build", str(new), "--out", str(out)]) == 0
    assert text in capsys.readouterr().out  # what the build prints is what diff said
    # a refused change: diff exits 1 and prints the finding, still writing nothing
    assert main(["diff", str(write_spec(tmp_path, MINIMAL_SPEC, "less.yaml")), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "CHG501" in captured.err and re.search(r"\n  development/us-west-2/edge +DESTROYED", captured.out)


def test_a_removed_region_keeps_its_providers_until_its_retirement_is_applied(tmp_path):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(write_spec(tmp_path, TWO_REGIONS, "old.yaml")), out)
    old_providers = json.loads((out / "development" / "providers.tf.json").read_text())
    removed = tfgen.load(write_spec(tmp_path, MINIMAL_SPEC, "new.yaml"))
    with pytest.raises(FindingsError) as refused:
        tfgen.build(removed, out)
    assert sorted(f"{f.code} {f.path}" for f in refused.value.findings) == [
        "CHG501 development/us-west-2", "CHG501 development/us-west-2/edge"]
    result = tfgen.build(removed, out, allow_destroy=["development/us-west-2"])
    assert result.diff.of(Status.DESTROYED)[-1].path == "development/us-west-2/edge"
    kept = json.loads((out / "development" / "providers.tf.json").read_text())
    assert kept == old_providers  # the us-west-2 alias stays: Terraform needs it to destroy what it made
    assert not any("us_west_2" in k for k in json.loads((out / "development" / "network.tf.json").read_text())
                   ["resource"]["aws_vpc"])
    manifest = json.loads((out / ".tfgen-manifest.json").read_text())
    assert list(manifest["fleet"]["retiring"]) == ["development/us-west-2"]
    # the next build keeps it retiring, and says so
    again = tfgen.build(removed, out)
    assert [(o.path, o.status) for o in again.diff.objects] == [("development/us-west-2", Status.RETIRING)]
    assert json.loads((out / "development" / "providers.tf.json").read_text()) == old_providers
    # the user says it was applied (CI): the alias goes
    with pytest.raises(tfgen.TfgenError, match="development/us-east-9"):
        tfgen.build(removed, out, retired=["development/us-east-9"])
    tfgen.build(removed, out, retired=["development/us-west-2"])
    assert "us-west-2" not in (out / "development" / "providers.tf.json").read_text()
    assert json.loads((out / ".tfgen-manifest.json").read_text())["fleet"].get("retiring", {}) == {}


def test_a_removed_cells_root_retires_after_the_roots_that_needed_it(tmp_path):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(write_spec(tmp_path, "layout: cells\n" + TWO_REGIONS, "old.yaml")), out)
    removed = tfgen.load(write_spec(tmp_path, "layout: cells\n" + MINIMAL_SPEC, "new.yaml"))
    with pytest.raises(FindingsError) as refused:
        tfgen.build(removed, out)
    assert {f.code for f in refused.value.findings} == {"CHG501", "CHG503"}
    result = tfgen.build(removed, out, allow_destroy=["development/us-west-2"])
    region, link = "development--us-west-2", "development--us-east-1--us-west-2"
    assert {o.path: o.status for o in result.diff.objects if o.kind == "root"} == {
        region: Status.DESTROYED, link: Status.DESTROYED}
    for root in (region, link):  # a retiring root: settings and providers, nothing else; applying it destroys
        assert sorted(p.name for p in (out / root).iterdir()) == ["providers.tf.json", "terraform.tf.json"]
    needs = read_graph(out).needs
    assert needs[region] == (link,), needs  # the link root (its dependent) retires first
    tfgen.build(removed, out, retired=["development/us-west-2"])
    assert not (out / region).exists() and not (out / link).exists()


def test_a_removed_clusters_allocation_is_a_tombstone_until_its_retirement_ended(tmp_path):
    spec = write_spec(tmp_path, POOL_SPEC.replace("      us-east-2: {}\n", "      us-east-2: {}\n      us-west-2: {}\n"))
    out = tmp_path / "out"
    tfgen.build(tfgen.load(spec), out)
    record = spec.with_name(spec.stem + ".allocations.yaml")
    west = next(line for line in record.read_text().splitlines() if "us-west-2/edge" in line).split(":", 1)[1].strip()
    spec.write_text(POOL_SPEC)
    tfgen.build(tfgen.load(spec), out, allow_destroy=["dev/us-west-2"])
    text = record.read_text()
    assert "_retired:" in text and text.split("_retired:", 1)[1].count(west) == 1, text
    # a new region while the old VPC may still exist gets another block
    spec.write_text(POOL_SPEC.replace("      us-east-2: {}\n", "      us-east-2: {}\n      eu-west-1: {}\n"))
    added = tfgen.build(tfgen.load(spec), out, allow_destroy=["dev/us-west-2"])
    fresh = next(line for line in record.read_text().splitlines() if "eu-west-1/edge" in line).split(":", 1)[1].strip()
    assert fresh != west and "dev/eu-west-1/edge" in {o.path for o in added.diff.of(Status.NEW)}
    # once the retirement is applied, the tombstone goes (its block may be handed out again)
    tfgen.build(tfgen.load(spec), out, retired=["dev/us-west-2"])
    assert "_retired" not in record.read_text()


def test_an_environment_named_like_another_ones_cells_root_is_refused_writing_nothing(tmp_path, capsys):
    text = ("layout: cells\n" + MINIMAL_SPEC + MINIMAL_SPEC.split("environments:\n")[1]
            .replace("  development:", "  development--us-east-1:\n    layout: environment")
            .replace("10.10.", "10.20.").replace("10.11.", "10.21."))
    out = tmp_path / "out"
    assert main(["build", str(write_spec(tmp_path, text)), "--out", str(out)]) == 1
    assert "CHG510" in capsys.readouterr().err and not out.exists()


def test_protect_emits_prevent_destroy_and_refuses_even_when_allowed(tmp_path):
    protected = MINIMAL_SPEC.replace("us-east-2: {cidr: 10.11.0.0/16}", "us-east-2: {cidr: 10.11.0.0/16, protect: true}")
    out = tmp_path / "out"
    tfgen.build(tfgen.load(write_spec(tmp_path, protected, "old.yaml")), out)
    documents = {p.name: json.loads(p.read_text()) for p in (out / "development").glob("*.tf.json")}
    kept = {f"{kind}.{name}" for doc in documents.values() for kind, blocks in doc.get("resource", {}).items()
            for name, body in blocks.items() if body.get("lifecycle", {}).get("prevent_destroy")}
    assert {k for k in kept if k.split(".")[0] in ("aws_eks_cluster", "aws_vpc")} == {
        "aws_eks_cluster.us_east_2_edge", "aws_vpc.us_east_2_edge"}
    assert not any("us_east_1_hub" in k for k in kept)
    moved = tfgen.load(write_spec(tmp_path, protected.replace("10.11.0.0/16", "10.16.0.0/16"), "new.yaml"))
    with pytest.raises(FindingsError) as refused:
        tfgen.build(moved, out, allow_replace=["development/us-east-2/edge"])
    assert [f.code for f in refused.value.findings] == ["CHG506", "CHG504"]


def test_the_replacement_table_knows_every_resource_type_the_examples_emit():
    from tfgen.lifecycle.replacement import table
    from tests.conftest import ROOT

    emitted = {kind for path in (ROOT / "out").rglob("*.tf.json")
               for kind in json.loads(path.read_text()).get("resource", {})}
    assert emitted and sorted(emitted - set(table().rows)) == []
    assert table().version == "6.58.0" and "terraform-provider-aws" in table().source


def test_an_apply_that_emptied_what_retires_ends_the_retirement_and_one_that_did_not_leaves_it(tmp_path):
    from tfgen.lifecycle.settle import settle

    out = tmp_path / "out"
    tfgen.build(tfgen.load(write_spec(tmp_path, TWO_REGIONS, "old.yaml")), out)
    removed = tfgen.load(write_spec(tmp_path, MINIMAL_SPEC, "new.yaml"))
    tfgen.build(removed, out, allow_destroy=["development/us-west-2"])
    live = ["aws_vpc.us_east_2_edge", "aws_eks_cluster.us_east_1_hub"]
    # the state still holds the removed edge's VPC (a failed or partial apply): nothing ends
    assert settle(out, ["development"], lambda root: [*live, "aws_vpc.us_west_2_edge"]) == []
    assert settle(out, ["development"], lambda root: None) == []  # `terraform state list` failed
    assert json.loads((out / ".tfgen-manifest.json").read_text())["fleet"]["retiring"]["development/us-west-2"][
        "applied"] == []
    assert settle(out, ["development"], lambda root: live) == [
        "retirement of development/us-west-2 applied: the next `tfgen build` drops what was kept for it"]
    assert tfgen.build(removed, out).diff.notes == (
        "development/us-west-2: retirement ended (applied (development)); its kept providers and roots are dropped",)
    assert "us-west-2" not in (out / "development" / "providers.tf.json").read_text()


def test_build_refuses_two_kubernetes_minors_at_once_against_the_previous_build(tmp_path, capsys):
    out = tmp_path / "out"
    old = MINIMAL_SPEC.replace('"1.35"', '"1.34"').replace("    defaults:\n", "    defaults:\n      support: extended\n")
    assert main(["build", str(write_spec(tmp_path, old, "old.yaml")), "--out", str(out)]) == 0
    before = _snapshot(out)
    capsys.readouterr()
    jump = write_spec(tmp_path, old.replace('"1.34"', '"1.36"'), "jump.yaml")
    assert main(["build", str(jump), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "CHG530" in err and "1.35" in err, err  # the fix names the version on the way
    assert _snapshot(out) == before
    with pytest.raises(FindingsError) as refused:
        tfgen.build(tfgen.load(jump), out)
    assert sorted(f"{f.code} {f.path}" for f in refused.value.findings if f.code.startswith("CHG")) == [
        "CHG530 development/us-east-1/hub", "CHG530 development/us-east-2/edge"]
    step = tfgen.build(tfgen.load(write_spec(tmp_path, old.replace('"1.34"', '"1.35"'), "step.yaml")), out)
    assert {o.status for o in step.diff.objects} == {Status.UPDATED}


def test_the_markdown_diff_keeps_each_object_in_its_row_whatever_its_why_quotes():
    from tfgen.lifecycle.summary import FleetDiff, ObjectChange

    why = ("user data: echo a | tee b -> echo c\nexit",)
    text = FleetDiff((ObjectChange("development/us-east-2/edge", "cluster", Status.REPLACED, why),), 2).markdown()
    [row] = [line for line in text.splitlines() if line.startswith("| `development")]
    assert row == "| `development/us-east-2/edge` | REPLACED | user data: echo a \\| tee b -> echo c exit |  |"
    assert "2 object(s) unchanged." in text
