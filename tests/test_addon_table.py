"""EKS add-ons carry explicit versions for their cluster's Kubernetes minor, from a committed table with a source
for every row; gaps say so; a pin wins; kube-proxy stays within the control plane's skew; the VPC CNI moves one
add-on minor at a time; and tools/addon_versions.py rewrites the table from DescribeAddonVersions responses."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

import tfgen
from tfgen.lifecycle.versions import check_version_steps
from tfgen.model import ADDONS
from tfgen.model.addons import REGENERATE, row, rows, sources, table_version
from tfgen.model.kubernetes import EKS_VERSIONS
from tests.conftest import ROOT, write_spec

sys.path.insert(0, str(ROOT / "tools"))
import addon_versions as tool  # noqa: E402

sys.path.remove(str(ROOT / "tools"))

TABLE = ROOT / "tfgen" / "model" / "addon_versions.json"
RESPONSES = ROOT / "tests" / "addon_responses"
SPEC = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    access: {{admins: ["arn:aws:iam::123456789012:role/platform-admin"]}}
    defaults: {{kubernetes_version: "{version}"}}
{addons}    hub: {{region: us-east-1, cidr: 10.10.0.0/16}}
    regions:
      us-east-2: {{cidr: 10.11.0.0/16{edge}}}
"""


def _spec(tmp_path, version="1.35", addons="", edge=""):
    return write_spec(tmp_path, SPEC.format(version=version, addons=addons, edge=edge))


def _addons(tmp_path, spec):
    tfgen.build(tfgen.load(spec), tmp_path / "out")
    return json.loads((tmp_path / "out" / "dev" / "addons.tf.json").read_text())["resource"]["aws_eks_addon"]


def _minor(version):
    return tuple(int(p) for p in version.lstrip("v").split("-")[0].split(".")[:2])


# -- the table ----------------------------------------------------------------------------------------------


def test_the_table_has_a_sourced_row_per_addon_and_calendar_minor():
    assert set(rows()) == {(a, m) for a in ADDONS for m in EKS_VERSIONS}
    for (addon, minor), r in rows().items():
        if r.version is None:
            assert (r.basis, r.source) == (None, None), (addon, minor)
            continue
        assert r.basis in ("default", "newest") and r.source in sources(), (addon, minor, r)
        assert {"what", "where", "date"} <= set(sources()[r.source]), r.source


def test_lookup_and_gaps():
    assert table_version("kube-proxy", "1.35") == "v1.35.3-eksbuild.2"
    assert row("kube-proxy", "1.35").source == "wandb" and row("kube-proxy", "1.35").basis == "default"
    assert table_version("vpc-cni", "1.29") == "v1.19.2-eksbuild.5" and row("vpc-cni", "1.29").basis == "newest"
    assert [a for a in ADDONS if table_version(a, "1.36") is None] == [a for a in ADDONS if a != "coredns"], \
        "1.36: only CoreDNS has a citable source (eksctl)"
    assert row("coredns", "1.36").source == "eksctl-coredns" and row("coredns", "1.36").basis == "newest"
    assert table_version("vpc-cni", "1.20") is None and row("vpc-cni", "1.20") is None, "a minor the table lacks"


def test_the_vpc_cni_moves_one_addon_minor_per_kubernetes_minor():
    """The EKS API refuses a larger VPC CNI step, and an unpinned add-on follows the table on each upgrade."""
    minors = list(EKS_VERSIONS)
    for old, new in zip(minors, minors[1:]):
        a, b = table_version("vpc-cni", old), table_version("vpc-cni", new)
        if a and b:
            assert 0 <= _minor(b)[1] - _minor(a)[1] <= 1, (old, a, new, b)


def test_kube_proxy_carries_its_rows_kubernetes_minor():
    for minor in EKS_VERSIONS:
        version = table_version("kube-proxy", minor)
        assert version is None or version.startswith(f"v{minor}."), (minor, version)


def test_the_committed_table_is_in_the_tools_form():
    assert TABLE.read_text() == tool.render(json.loads(TABLE.read_text())), \
        "rewrite it with tools/addon_versions.py (or its render)"


# -- what is emitted ----------------------------------------------------------------------------------------


def test_every_addon_carries_the_tables_version_and_follows_its_cluster(tmp_path):
    addons = _addons(tmp_path, _spec(tmp_path))
    for name in ADDONS:
        address = f"us_east_2_edge__{name.replace('-', '_')}"
        assert addons[address]["addon_version"] == table_version(name, "1.35"), address
        # updated after the control plane: each add-on names its cluster
        assert addons[address]["cluster_name"] == "${aws_eks_cluster.us_east_2_edge.name}", address


def test_a_pin_wins_over_the_table_at_either_level(tmp_path):
    spec = _spec(tmp_path, addons="    addons: {coredns: {version: v1.11.4-eksbuild.2}}\n",
                 edge=", addons: {vpc-cni: {version: v1.20.5-eksbuild.1}}")
    addons = _addons(tmp_path, spec)
    assert addons["us_east_2_edge__coredns"]["addon_version"] == "v1.11.4-eksbuild.2"
    assert addons["us_east_2_edge__vpc_cni"]["addon_version"] == "v1.20.5-eksbuild.1"
    assert addons["us_east_1_hub__vpc_cni"]["addon_version"] == table_version("vpc-cni", "1.35")


def test_a_gap_keeps_eks_default_and_warns_naming_the_script(tmp_path):
    spec = _spec(tmp_path, version="1.36", addons="    addons: {kube-proxy: {version: v1.36.1-eksbuild.1}}\n")
    result = tfgen.build(tfgen.load(spec), tmp_path / "out")
    addons = json.loads((tmp_path / "out" / "dev" / "addons.tf.json").read_text())["resource"]["aws_eks_addon"]
    assert "addon_version" not in addons["us_east_1_hub__aws_ebs_csi_driver"]
    assert addons["us_east_2_edge__kube_proxy"]["addon_version"] == "v1.36.1-eksbuild.1"
    gaps = {f.path: f for f in result.warnings if f.code == "VAL423"}
    assert set(gaps) == {"dev/us-east-1/hub"} and gaps["dev/us-east-1/hub"].count == 2, \
        "one finding per cluster, the two clusters' alike condensed"
    hub = gaps["dev/us-east-1/hub"]
    assert "no version of vpc-cni, eks-pod-identity-agent, aws-ebs-csi-driver for Kubernetes 1.36" \
        in hub.message and "will not follow an upgrade unless pinned" in hub.message
    assert REGENERATE in hub.hint and "addons.<name>.version" in hub.hint
    assert hub.others == ("dev/us-east-2/edge",)


@pytest.mark.parametrize("pin, fine", [
    ("v1.35.3-eksbuild.2", True), ("v1.32.13-eksbuild.5", True), ("v1.36.1-eksbuild.1", False),
    ("v1.31.14-eksbuild.9", False),
])
def test_kube_proxy_pins_stay_within_the_control_planes_skew(tmp_path, pin, fine):
    findings = tfgen.validate(tfgen.load(_spec(tmp_path, edge=f", addons: {{kube-proxy: {{version: {pin}}}}}")))
    bad = [f for f in findings if f.code == "VAL424"]
    assert (bad == []) is fine, [f.format() for f in bad]
    if bad:
        assert bad[0].path == "dev/us-east-2/edge" and bad[0].origin.line == 9


def test_the_vpc_cni_step_from_the_previous_build_is_one_addon_minor(tmp_path):
    fleet = tfgen.load(_spec(tmp_path, edge=", addons: {vpc-cni: {version: v1.21.1-eksbuild.3}}"))
    previous = {"dev/us-east-2/edge": "1.35", "dev/us-east-1/hub": "1.34"}
    (jump,) = check_version_steps(fleet, previous, addons={"dev/us-east-2/edge/vpc-cni": "v1.19.2-eksbuild.5",
                                                           "dev/us-east-1/hub/vpc-cni": "v1.20.5-eksbuild.1"})
    assert (jump.code, jump.path) == ("CHG533", "dev/us-east-2/edge")
    assert "v1.19.2-eksbuild.5 -> v1.21.1-eksbuild.3 (as the spec pins it)" in jump.message
    assert jump.hint.startswith("pin addons.vpc-cni.version to a v1.20 build first") and "your version" in jump.hint
    down = check_version_steps(fleet, previous, addons={"dev/us-east-1/hub/vpc-cni": "v1.23.0-eksbuild.1"})
    assert [f.path for f in down] == ["dev/us-east-1/hub"]
    assert "as tfgen's table gives Kubernetes 1.35" in down[0].message
    assert "to a v1.22 build first" in down[0].hint and down[0].hint.endswith("leave the pin out")


# -- the regeneration script --------------------------------------------------------------------------------


def test_select_takes_the_default_of_that_minor_else_the_newest_build():
    found = tool.read_responses([(RESPONSES / "page-1.json").read_text(), (RESPONSES / "page-2.json").read_text()])
    assert sorted(found) == ["kube-proxy", "some-marketplace-addon", "vpc-cni"]
    assert tool.select(found["vpc-cni"], "1.36") == ("v9.1.10-eksbuild.2", "default"), "flagged for 1.36 only"
    assert tool.select(found["vpc-cni"], "1.35") == ("v9.2.0-eksbuild.1", "newest")
    assert tool.select(found["kube-proxy"], "1.36") == ("v1.36.10-eksbuild.3", "newest"), "10 > 9 > 2, across pages"
    assert tool.select(found["kube-proxy"], "1.35") is None


def test_the_script_rewrites_the_table_from_recorded_pages(tmp_path, capsys):
    table = tmp_path / "addon_versions.json"
    shutil.copyfile(TABLE, table)
    pages = [str(RESPONSES / "page-1.json"), str(RESPONSES / "page-2.json")]
    assert tool.main([*pages, "--table", str(table), "--date", "2027-01-15"]) == 0
    written = {(r["addon"], r["kubernetes"]): r for r in json.loads(table.read_text())["rows"]}
    assert written["vpc-cni", "1.36"] == {"addon": "vpc-cni", "kubernetes": "1.36", "version": "v9.1.10-eksbuild.2",
                                          "basis": "default", "source": "describe-addon-versions-2027-01-15",
                                          "note": None}
    assert written["kube-proxy", "1.36"]["version"] == "v1.36.10-eksbuild.3"
    committed = {(r["addon"], r["kubernetes"]): r for r in json.loads(TABLE.read_text())["rows"]}
    assert written["coredns", "1.35"] == committed["coredns", "1.35"], "rows the pages say nothing about are kept"
    assert written["aws-ebs-csi-driver", "1.36"]["version"] is None, "still a gap"
    assert len(written) == len(rows()) and "some-marketplace-addon" not in {a for a, _ in written}
    described = json.loads(table.read_text())["sources"]["describe-addon-versions-2027-01-15"]
    assert described["date"] == "2027-01-15" and described["where"] == "page-1.json, page-2.json"
    err = capsys.readouterr().err
    assert "3 row(s) changed, 2 gap(s)" in err and "vpc-cni 1.36: None -> v9.1.10-eksbuild.2" in err, err
    assert table.read_text() == tool.render(json.loads(table.read_text()))


def test_the_script_needs_responses_or_the_aws_cli(capsys):
    with pytest.raises(SystemExit) as usage:
        tool.main([])
    assert usage.value.code == 2 and "give recorded responses or --aws" in capsys.readouterr().err
