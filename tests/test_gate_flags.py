"""The gate in checkov's terms: `--check`/`--skip-check`, `--soft-fail`, `--compact`, `--list`, waivers in
`tfgen-waivers.toml`, SARIF results on the spec line that produced the resource, and quiet runs.

Fast tests drive the waiver file, the selection and the formats on reports made here; the slow ones run
checkov (a scan, or the list of its checks) through `tfgen check`."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ElementTree
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from tfgen.cli import main
from tfgen.errors import PolicyError
from tfgen.gate import FAILED, PASSED, SUPPRESSED, GateReport, GateResult, check_output, render_report
from tfgen.gate.catalog import Check, select
from tfgen.gate.results import Suppression
from tfgen.gate.waivers import EXPIRED, UNREADABLE, UNUSED, WAIVERS_FILE, apply_waivers, find_waivers, load_waivers
from tests.conftest import EXAMPLE, ROOT

FIXTURES = ROOT / "tests" / "policy_fixtures"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text())
EXAMPLE_WAIVERS = ROOT / "examples" / "waivers" / WAIVERS_FILE
KNOWN = {"CKV_AWS_58", "CKV_AWS_18", "TFGEN_10", "TFGEN_READ"}
GOOD = '[[waiver]]\ncheck = "CKV_AWS_58"\nresource = "aws_eks_cluster.hub"\nreason = "legacy"\n'


def _line(text: str, fragment: str) -> int:
    """The 1-based line of `text` holding `fragment` (a location a finding must name)."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


# -- the waivers file -------------------------------------------------------------------------------------


@pytest.mark.parametrize("waiver, message, fix", [
    ('check = "CKV_AWS_58"\nresource = "aws_eks_cluster.hub"\n', "gives no `reason`", "say in `reason` why"),
    ('check = "CKV_AWS_58"\nresource = "aws_eks_cluster.hub"\nreason = "  "\n', "gives no `reason`", "reviewer"),
    ('check = "CKV_AWS_85"\nresource = "aws_eks_cluster.hub"\nreason = "r"\n', "waives CKV_AWS_85, which the gate "
     "does not run", "did you mean CKV_AWS_58"),
    ('check = "CKV_AWS_58"\nresource = "*"\nreason = "r"\n', "does not start with a resource type", "aws_s3_bucket.logs"),
    ('check = "CKV_AWS_58"\nreason = "r"\n', "names no `resource`", "aws_s3_bucket.logs"),
    ('check = "CKV_AWS_58"\nresource = "aws_eks_cluster.hub"\nreson = "r"\n', "unknown keys reson", "did you mean 'reason'"),
    ('check = "CKV_AWS_58"\nresource = "aws_eks_cluster.hub"\nreason = "r"\nexpires = "someday"\n', "not a date",
     "expires = 2027-06-30"),
    ('resource = "aws_eks_cluster.hub"\nreason = "r"\n', "names no `check`", "tfgen check --list"),
    ('check = "TFGEN_READ"\nresource = "main.tf.json"\nreason = "r"\n', "cannot be waived", "fix what the finding"),
])
def test_a_bad_waiver_is_a_finding_at_its_line_with_a_fix_and_the_others_still_hold(tmp_path, waiver, message, fix):
    text = GOOD + "\n# the one under test\n[[waiver]]\n" + waiver
    path = tmp_path / WAIVERS_FILE
    path.write_text(text)
    waivers, problems = load_waivers(path, KNOWN)
    assert [(p.check_id, p.line, p.status) for p in problems] == [(UNREADABLE, _line(text, "the one under test") + 1,
                                                                   FAILED)]
    said, _, advice = problems[0].check_name.partition("; fix: ")
    assert message in said and fix in advice, problems[0].check_name
    assert problems[0].file.endswith(WAIVERS_FILE)
    assert [(w.check_id, w.resources, w.reason, w.line) for w in waivers] == [
        ("CKV_AWS_58", ("aws_eks_cluster.hub",), "legacy", 1)]


def test_a_waivers_file_that_is_not_toml_is_one_finding_at_the_line_toml_names(tmp_path):
    path = tmp_path / WAIVERS_FILE
    path.write_text(GOOD + '[[waiver]]\ncheck = "CKV_AWS_58\n')
    waivers, problems = load_waivers(path, KNOWN)
    assert waivers == []
    assert [(p.check_id, p.line) for p in problems] == [(UNREADABLE, 6)]
    assert "is not TOML" in problems[0].check_name and "fix: fix the syntax" in problems[0].check_name


def test_the_example_waivers_file_loads_without_problems():
    waivers, problems = load_waivers(EXAMPLE_WAIVERS, KNOWN)
    assert problems == []
    assert [(w.check_id, w.roots, w.resources, w.expires) for w in waivers] == [
        ("CKV_AWS_58", ("legacy",), ("aws_eks_cluster.hub",), date(2099, 12, 31))]


def _failed(check: str, env: str, resource: str) -> GateResult:
    return GateResult(check_id=check, check_name="a check", status=FAILED, environment=env, resource=resource,
                      file=f"out/{env}/main.tf.json", line=3, framework="terraform_json")


def _waiver(check: str, resource: str, *, root: str = "*", expires: date | None = None, line: int = 1) -> Suppression:
    return Suppression(reason=f"why {line}", check_id=check, resources=(resource,), roots=(root,),
                       source=WAIVERS_FILE, line=line, expires=expires)


def test_waivers_suppress_with_their_reason_and_report_expired_and_unused_ones():
    report = GateReport(roots={"legacy": Path("out/legacy"), "other": Path("out/other")},
                        results=[_failed("CKV_AWS_58", "legacy", "aws_eks_cluster.hub"),
                                 _failed("CKV_AWS_58", "other", "aws_eks_cluster.hub"),
                                 _failed("CKV_AWS_18", "other", "aws_s3_bucket.logs")])
    waivers = [
        _waiver("CKV_AWS_58", "aws_eks_cluster.*", root="legacy", line=1),
        _waiver("CKV_AWS_18", "aws_s3_bucket.logs", expires=date(2026, 12, 6), line=7),  # yesterday
        _waiver("TFGEN_10", "aws_vpc_peering_connection.hub__edge", line=13),  # ran, matches no failure
        _waiver("CKV_AWS_58", "aws_eks_cluster.hub", root="staging", line=19),  # a root this run did not scan
        _waiver("CKV_AWS_145", "aws_s3_bucket.logs", line=25),  # a check this run did not select
    ]
    apply_waivers(report, waivers, date(2026, 12, 7), ran={"CKV_AWS_58", "CKV_AWS_18", "TFGEN_10"})
    got = sorted((r.check_id, r.status, r.environment, r.resource, r.reason, r.waiver, r.line) for r in report.results)
    assert got == sorted([
        ("CKV_AWS_58", SUPPRESSED, "legacy", "aws_eks_cluster.hub", "why 1", f"{WAIVERS_FILE}:1", 3),
        ("CKV_AWS_58", FAILED, "other", "aws_eks_cluster.hub", "", "", 3),
        ("CKV_AWS_18", FAILED, "other", "aws_s3_bucket.logs", "", "", 3),  # its waiver expired: it fails again
        (EXPIRED, FAILED, "", "waiver.CKV_AWS_18", "", "", 7),
        (UNUSED, FAILED, "", "waiver.TFGEN_10", "", "", 13),
    ])
    expired = next(r for r in report.results if r.check_id == EXPIRED)
    assert "expired on 2026-12-06" in expired.check_name and "fix: fix the findings" in expired.check_name


def test_the_waivers_file_is_found_beside_the_spec_in_out_or_above_it(tmp_path, monkeypatch):
    out = tmp_path / "repo" / "out" / "production"
    out.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo")
    assert find_waivers(out) is None
    (tmp_path / "repo" / WAIVERS_FILE).write_text("")
    assert find_waivers(out) == tmp_path / "repo" / WAIVERS_FILE
    (out / WAIVERS_FILE).write_text("")
    assert find_waivers(out) == out / WAIVERS_FILE
    spec = tmp_path / "specs" / "fleet.yaml"
    spec.parent.mkdir()
    (spec.parent / WAIVERS_FILE).write_text("")
    assert find_waivers(out, spec) == spec.parent / WAIVERS_FILE
    given = tmp_path / "mine.toml"
    given.write_text("")
    assert find_waivers(out, spec, given) == given
    with pytest.raises(PolicyError, match="waivers file .*missing.toml does not exist"):
        find_waivers(out, spec, tmp_path / "missing.toml")


# -- --check, --skip-check --------------------------------------------------------------------------------


def test_check_ids_are_comma_lists_or_repeated_and_an_unknown_one_names_the_closest():
    known = {c: Check(c, "t", "checkov") for c in ("CKV_AWS_18", "CKV_AWS_58", "CKV_AWS_5", "TFGEN_10")}
    assert select(known, ["CKV_AWS_18,CKV_AWS_58", "TFGEN_10"], ["CKV_AWS_5"]) == (
        {"CKV_AWS_18", "CKV_AWS_58", "TFGEN_10"}, {"CKV_AWS_5"})
    with pytest.raises(PolicyError) as refused:
        select(known, [], ["CKV_AWS_85"])
    assert "--skip-check names checks the gate does not run: CKV_AWS_85 (did you mean CKV_AWS_5 or CKV_AWS_58" in str(refused.value)
    assert "tfgen check --list" in str(refused.value)


@pytest.mark.parametrize("argv, fragment", [
    (["check"], "OUT is missing"),
    (["check", "--list", "out"], "--list takes no OUT"),
    (["check", "--list", "--format", "sarif"], "--list prints text or json"),
])
def test_check_usage_errors_exit_2_before_anything_runs(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and "fix:" in err and "Traceback" not in err, err


def test_a_python_spec_is_refused_for_spec_lines(tmp_path, capsys):
    shutil.copytree(FIXTURES / "good", tmp_path / "out" / "good")
    assert main(["check", str(tmp_path / "out"), "--spec", str(ROOT / "examples" / "multi_region_eks.py")]) == 2
    err = capsys.readouterr().err
    assert "--spec takes the YAML spec" in err and "Traceback" not in err, err


# -- the formats ------------------------------------------------------------------------------------------


def _report() -> GateReport:
    spec = "examples/multi-region-eks.yaml"
    return GateReport(roots={"production": Path("out/production")}, waivers=WAIVERS_FILE, results=[
        GateResult("CKV_AWS_58", "EKS secrets are encrypted", FAILED, "production", "aws_eks_cluster.us_east_2_edge",
                   "out/production/clusters.tf.json", 40, "terraform_json", spec_file=spec, spec_line=52),
        GateResult("CKV_AWS_18", "S3 access logging", SUPPRESSED, "production", "aws_s3_bucket.us_east_1_hub_bootstrap",
                   "out/production/bootstrap.tf.json", 12, "terraform_json", reason="run logs only",
                   waiver=f"{WAIVERS_FILE}:4", spec_file=spec, spec_line=50),
        GateResult("CKV_AWS_144", "S3 replication", SUPPRESSED, "production", "aws_s3_bucket.us_east_1_hub_bootstrap",
                   "out/production/bootstrap.tf.json", 12, "terraform_json", reason="tfgen's reviewed reason"),
        GateResult("TFGEN_10", "peering has routes both ways", PASSED, "production",
                   "aws_vpc_peering_connection.us_east_1_hub__us_east_2_edge", "out/production/peering.tf.json", 5,
                   "tfgen"),
        GateResult(UNUSED, "waiver TFGEN_9 on output.x in root * matches no failure; fix: remove it", FAILED, "",
                   "waiver.TFGEN_9", WAIVERS_FILE, 10, "tfgen"),
    ])


def test_text_names_the_spec_line_and_the_waiver_and_compact_is_one_line_per_finding():
    text = render_report(_report(), "text")
    assert ("  FAILED CKV_AWS_58 aws_eks_cluster.us_east_2_edge at examples/multi-region-eks.yaml:52 "
            "(out/production/clusters.tf.json:40) [terraform_json]: EKS secrets are encrypted") in text, text
    assert (f"  waived CKV_AWS_18 aws_s3_bucket.us_east_1_hub_bootstrap by {WAIVERS_FILE}:4: run logs only"
            in text), text
    assert f"waivers ({WAIVERS_FILE}): FAILED: 1 waived, 1 failed" in text
    compact = render_report(_report(), "text", compact=True).splitlines()
    assert "  FAILED CKV_AWS_58 aws_eks_cluster.us_east_2_edge at examples/multi-region-eks.yaml:52" in compact
    assert f"  waived CKV_AWS_18 aws_s3_bucket.us_east_1_hub_bootstrap by {WAIVERS_FILE}:4" in compact
    assert f"  FAILED {UNUSED} waiver.TFGEN_9 at {WAIVERS_FILE}:10" in compact
    assert not [line for line in compact if "reason" in line or "encrypted" in line or "fix:" in line], compact


def test_json_and_junit_keep_waived_results_with_their_reason_and_waiver():
    body = json.loads(render_report(_report(), "json"))
    results = body["environments"]["production"]["results"]
    waived = next(r for r in results if r["check_id"] == "CKV_AWS_18")
    assert (waived["status"], waived["reason"], waived["waiver"]) == (SUPPRESSED, "run logs only", f"{WAIVERS_FILE}:4")
    assert waived["spec"] == {"file": "examples/multi-region-eks.yaml", "line": 50}
    assert [r["check_id"] for r in body["waivers"]["results"]] == [UNUSED] and body["ok"] is False
    suites = ElementTree.fromstring(render_report(_report(), "junitxml"))
    skipped = [case.find("skipped").get("message") for case in suites.iter("testcase")
               if case.find("skipped") is not None]
    assert f"waived by {WAIVERS_FILE}:4: run logs only" in skipped, skipped
    assert [s.get("name") for s in suites.iter("testsuite")] == ["production", f"waivers {WAIVERS_FILE}"]


def test_sarif_puts_alerts_on_the_spec_line_with_the_generated_file_related_and_validates():
    sarif = json.loads(render_report(_report(), "sarif"))
    jsonschema.validate(sarif, SARIF_SCHEMA)
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    failed = results["CKV_AWS_58"]
    assert failed["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "examples/multi-region-eks.yaml"}, "region": {"startLine": 52}}
    assert failed["relatedLocations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "out/production/clusters.tf.json"}, "region": {"startLine": 40}}
    waived = results["CKV_AWS_18"]["suppressions"][0]
    assert waived["kind"] == "external" and waived["justification"] == "run logs only"
    assert waived["location"]["physicalLocation"] == {"artifactLocation": {"uri": WAIVERS_FILE},
                                                      "region": {"startLine": 4}}
    unlocated = results["CKV_AWS_144"]  # no spec line: the generated file, nothing related
    assert unlocated["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "out/production/bootstrap.tf.json"
    assert "relatedLocations" not in unlocated


# -- spec lines ---------------------------------------------------------------------------------------------


def test_each_resource_maps_to_the_spec_line_of_the_object_that_made_it(monkeypatch):
    from tfgen.gate.sources import spec_origins

    monkeypatch.chdir(ROOT)
    text = EXAMPLE.read_text()
    production = text[text.index("  production:"):]
    offset = text[:text.index("  production:")].count("\n")
    edge = offset + _line(production, "us-east-2: {cidr: 10.21.0.0/16}")
    origin = spec_origins(EXAMPLE.relative_to(ROOT))
    cases = {
        ("production", "aws_eks_cluster.us_east_2_edge"): edge,
        ("production", "aws_subnet.us_east_2_edge_private_a"): edge,
        # a link belongs to its edge end, whichever side's resource it is
        ("production", "aws_vpc_peering_connection.us_east_1_hub__us_east_2_edge"): edge,
        ("production", "aws_route.us_east_1_hub_private_a__to__us_east_2_edge"): edge,
        ("production", "aws_route.us_east_2_edge_private_a__to__us_east_1_hub"): edge,
        ("production", "aws_eks_cluster.us_east_1_hub"): offset + _line(production, "hub: {region: us-east-1"),
        ("production", "aws_eks_node_group.us_east_1_hub__workers"): offset + _line(production, "workers: {"),
        ("_state", "aws_s3_bucket.state"): _line(text, "state:"),
    }
    got = {key: (o.file, o.line) for key in cases if (o := origin(*key)) is not None}
    assert got == {key: ("examples/multi-region-eks.yaml", line) for key, line in cases.items()}
    assert origin("staging", "aws_vpc.x") is None  # not an environment of this spec


# -- runs of checkov ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def waived_tree(tmp_path_factory) -> Path:
    """Two failing roots beside the example waivers file: `legacy` (CKV_AWS_58, waived there) and `other`."""
    tree = tmp_path_factory.mktemp("waived")
    shutil.copytree(FIXTURES / "unencrypted_cluster", tree / "out" / "legacy")
    shutil.copytree(FIXTURES / "unencrypted_cluster", tree / "out" / "other")
    shutil.copy(EXAMPLE_WAIVERS, tree / WAIVERS_FILE)
    return tree


@pytest.mark.slow
def test_list_names_every_check_with_its_source_in_text_and_json(capsys):
    from tfgen.rules import registry

    assert main(["check", "--list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[:-1]}
    assert lines["CKV_AWS_58"].split()[1] == "checkov"
    assert lines["CKV_TFGEN_5"].split()[1:3] == ["tfgen", "policy"]
    assert lines["TFGEN_10"].split()[1:3] == ["tfgen", "rule"]
    gate = {c for c, r in registry().rules.items() if r.family in ("gate", "gitops")} | {"VAL444"}
    assert sorted(gate - set(lines)) == []
    assert main(["check", "--list", "--format", "json"]) == 0
    listed = {c["id"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert listed["TFGEN_10"] == {"id": "TFGEN_10", "title": registry().rules["TFGEN_10"].title, "source": "tfgen rule"}
    assert set(listed) == set(lines)


@pytest.mark.slow
def test_an_unknown_check_id_is_refused_with_the_closest_before_scanning(waived_tree, capsys):
    assert main(["check", str(waived_tree / "out"), "--check", "CKV_AWS_5B", "--skip-check", "ckv_tfgen_5"]) == 2
    err = capsys.readouterr().err
    assert "--check names checks the gate does not run: CKV_AWS_5B (did you mean CKV_AWS_5 " in err, err
    assert "--skip-check names checks the gate does not run: ckv_tfgen_5 (did you mean CKV_TFGEN_5 " in err, err
    assert "Traceback" not in err


@pytest.mark.slow
def test_waived_findings_stay_in_every_format_and_soft_fail_exits_0(waived_tree, capsys, monkeypatch):
    monkeypatch.chdir(waived_tree)
    sarif = waived_tree / "gate.sarif"
    argv = ["check", "out", "--check", "CKV_AWS_58,CKV_TFGEN_5", "--check", "TFGEN_10"]
    assert main([*argv, "--format", "sarif", "--output", str(sarif)]) == 1
    text = capsys.readouterr().out
    at = _line(EXAMPLE_WAIVERS.read_text(), "[[waiver]]")
    assert f"waived CKV_AWS_58 aws_eks_cluster.hub by {WAIVERS_FILE}:{at}: the legacy hub predates" in text, text
    assert "FAILED CKV_AWS_58 aws_eks_cluster.hub at out/other/main.tf.json:" in text, text
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    jsonschema.validate(json.loads(sarif.read_text()), SARIF_SCHEMA)
    assert sorted((r["ruleId"], bool(r.get("suppressions"))) for r in results) == [("CKV_AWS_58", False),
                                                                                 ("CKV_AWS_58", True)]
    assert main([*argv, "--soft-fail"]) == 0
    assert "tfgen check: FAILED" in capsys.readouterr().out


@pytest.mark.slow
def test_check_and_skip_check_choose_what_runs(waived_tree):
    only = check_output(waived_tree / "out", checks=["CKV_AWS_58", "TFGEN_10"])
    assert {r.check_id for r in only.results} == {"CKV_AWS_58", "TFGEN_10"}
    skipped = check_output(waived_tree / "out", skip_checks=["CKV_AWS_58,CKV_AWS_39"])
    ran = {r.check_id for r in skipped.results}
    assert not {"CKV_AWS_58", "CKV_AWS_39"} & ran and {"CKV_AWS_38", "TFGEN_10"} <= ran, sorted(ran)


@pytest.mark.slow
def test_a_run_is_quiet_about_settings_files_but_not_about_a_file_checkov_cannot_read(tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(ROOT / "out" / "_state", out / "_state")  # its terraform.tf.json holds only settings
    shutil.copytree(FIXTURES / "good", out / "mixed")
    document = json.loads((out / "mixed" / "main.tf.json").read_text())
    document["terraform"] = {"required_version": ">= 1.10"}  # beside resources, which must be scanned
    (out / "mixed" / "main.tf.json").write_text(json.dumps(document, indent=2))
    assert main(["check", str(out)]) == 1
    text = capsys.readouterr().out
    assert "not scanned" not in text, text
    assert f"ERROR {out / 'mixed' / 'main.tf.json'}: checkov could not parse it" in text, text


@pytest.mark.slow
def test_sarif_of_an_example_resource_lands_on_its_yaml_line(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    shutil.copytree(ROOT / "out" / "production", out / "production")
    peering = out / "production" / "peering.tf.json"
    document = json.loads(peering.read_text())
    routes = document["resource"]["aws_route"]
    for name in [n for n in routes if n.startswith("us_east_2_edge_") and n.endswith("__to__us_east_1_hub")]:
        del routes[name]  # the edge no longer routes back: TFGEN_10 fails on the hub-edge peering
    peering.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    report = check_output(out, checks=["TFGEN_10"], spec=EXAMPLE.relative_to(ROOT))
    sarif = json.loads(render_report(report, "sarif"))
    jsonschema.validate(sarif, SARIF_SCHEMA)
    [result] = sarif["runs"][0]["results"]
    text = EXAMPLE.read_text()
    edge = text[:text.index("  production:")].count("\n") + _line(text[text.index("  production:"):],
                                                                   "us-east-2: {cidr: 10.21.0.0/16}")
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "examples/multi-region-eks.yaml"}, "region": {"startLine": edge}}
    related = result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert related == peering.as_uri(), related
    # Without a spec (a Python-defined fleet has no YAML), the alert stays on the generated file.
    [plain] = json.loads(render_report(check_output(out, checks=["TFGEN_10"]), "sarif"))["runs"][0]["results"]
    assert Path(plain["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).name == "peering.tf.json"
    assert "relatedLocations" not in plain
