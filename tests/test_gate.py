"""The policy gate: checkov plus tfgen's policies (`tfgen check`).

checkov takes seconds to start, so each directory is scanned once per session
and the tests ask questions of the reports.
"""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tfgen.cli import main
from tfgen.errors import PolicyError
from tfgen.gate import (
    FAILED,
    PASSED,
    SUPPRESSED,
    check_output,
    load_suppressions,
    policy_dir,
    render_report,
)
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "policy_fixtures"

# fixture -> (check id, resource it fails on)
BAD = {
    "ssh_open_to_world": ("CKV_TFGEN_4", "aws_security_group.admin"),
    "public_eks_endpoint": ("CKV_TFGEN_5", "aws_eks_cluster.hub"),
    "missing_tags": ("CKV_TFGEN_1", "provider.aws.us_east_2"),
    "resource_without_tags": ("CKV_TFGEN_2", "aws_vpc.edge"),
    "no_provider_alias": ("CKV_TFGEN_3", "aws_vpc.edge"),
    "secret_in_user_data": ("CKV_TFGEN_8", "aws_launch_template.nodes"),
    "secret_in_bootstrap_document": ("CKV_TFGEN_8", "aws_ssm_document.bootstrap"),
    "secret_in_output": ("TFGEN_9", "output.admin_password"),
    "peering_without_routes": ("CKV2_TFGEN_7", "aws_vpc_peering_connection_accepter.hub__edge"),
    "peering_without_accepter": ("CKV2_TFGEN_6", "aws_vpc_peering_connection.hub__edge"),
    "peering_routes_on_one_side": ("TFGEN_10", "aws_vpc_peering_connection.hub__edge"),
    "unencrypted_cluster": ("CKV_AWS_58", "aws_eks_cluster.hub"),
    "iam_wildcard_policy": ("CKV_TFGEN_11", "aws_iam_role_policy.flow_logs"),
    "secret_in_default_tags": ("CKV_TFGEN_12", "provider.aws.us_east_2"),
    "instance_with_imdsv1": ("CKV_TFGEN_13", "aws_instance.bastion"),
    "instance_with_public_ip": ("CKV_TFGEN_13", "aws_instance.bastion"),
    "instance_with_key_pair": ("CKV_TFGEN_13", "aws_instance.bastion"),
    "bastion_with_ingress_rule": ("TFGEN_14", "aws_security_group.bastion"),
    "bastion_with_inline_ingress": ("TFGEN_14", "aws_security_group.bastion"),
    "wildcard_access_entry": ("CKV_TFGEN_15", "aws_eks_access_entry.admins"),
    "wildcard_cluster_admin": ("CKV_TFGEN_15", "aws_eks_access_policy_association.admins_cluster_admin"),
    # 48 edges' CA certificates: at least 66 KB once applied (the rule build runs, VAL444)
    "ssm_document_too_large": ("VAL444", "aws_ssm_document.bootstrap"),
    # the hub path (an API security group admitting a CIDR) on a public endpoint: CKV_TFGEN_5 refuses
    # every public endpoint, so it needs no rule of its own
    "public_endpoint_on_the_hub_path": ("CKV_TFGEN_5", "aws_eks_cluster.hub"),
}
# waived on the state bootstrap root's bucket and key only (policies/suppressions.toml)
STATE_WAIVERS = {"CKV_AWS_18", "CKV_AWS_144", "CKV2_AWS_62", "CKV2_AWS_64"}
BOOTSTRAP_WAIVERS = {"CKV_AWS_18", "CKV_AWS_144", "CKV2_AWS_62"}
TFGEN_POLICIES = {"CKV_TFGEN_1", "CKV_TFGEN_2", "CKV_TFGEN_3", "CKV_TFGEN_4", "CKV_TFGEN_5",
                  "CKV2_TFGEN_6", "CKV2_TFGEN_7", "CKV_TFGEN_8", "TFGEN_9", "TFGEN_10", "CKV_TFGEN_11",
                  "CKV_TFGEN_12", "CKV_TFGEN_13", "TFGEN_14", "CKV_TFGEN_15", "VAL444"}


@pytest.fixture(scope="session")
def fixture_report():
    return check_output(FIXTURES)


@pytest.fixture(scope="session")
def example_report(example_out):
    return check_output(example_out)


def _line_of(path: Path, type_: str, name: str) -> int:
    """The line where block `type_.name` opens in a fixture (the location a finding must name)."""
    inside = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        inside = inside or line.strip().startswith(f'"{type_}": {{')
        if inside and line.strip().startswith(f'"{name}": {{'):
            return number
    raise AssertionError(f"{type_}.{name} not in {path}")


def test_example_output_passes_with_every_suppression_explained(example_report):
    failed = example_report.of(FAILED)
    assert failed == [], "\n".join(f"{r.check_id} {r.resource} {r.location}" for r in failed)
    assert example_report.ok and example_report.exit_code == 0
    waived = example_report.of(SUPPRESSED)
    assert {r.check_id for r in waived} == {"CKV2_AWS_19", *STATE_WAIVERS}, sorted({r.check_id for r in waived})
    assert all(r.reason for r in waived)
    assert all(r.resource.startswith("aws_eip.") for r in waived if r.check_id == "CKV2_AWS_19")
    # The state bucket's waivers, and three of them on each environment's bootstrap output bucket.
    assert all((r.environment == "_state" and r.resource in ("aws_s3_bucket.state", "aws_kms_key.state"))
               or (r.resource == "aws_s3_bucket.us_east_1_hub_bootstrap" and r.check_id in BOOTSTRAP_WAIVERS)
               for r in waived if r.check_id in STATE_WAIVERS)
    assert sorted(example_report.roots) == ["_state", "development", "production"]
    assert [f for f, _ in example_report.unscanned] and all(r for _, r in example_report.unscanned)


def test_example_output_runs_every_tfgen_policy(example_report):
    ran = {r.check_id for r in example_report.of(PASSED)}
    missing = TFGEN_POLICIES - ran - {"CKV_TFGEN_4"}  # the example has no security group with ingress rules
    assert not missing, f"tfgen policies that never ran on the example: {sorted(missing)}"


@pytest.mark.parametrize("fixture", sorted(BAD))
def test_bad_fixture_fails_with_its_check_at_the_resource(fixture_report, fixture):
    check_id, resource = BAD[fixture]
    failed = [r for r in fixture_report.of(FAILED, fixture) if r.check_id == check_id]
    assert [r.resource for r in failed] == [resource], f"{fixture}: {[(r.check_id, r.resource) for r in fixture_report.of(FAILED, fixture)]}"
    path = FIXTURES / fixture / "main.tf.json"
    assert failed[0].file.endswith(f"policy_fixtures/{fixture}/main.tf.json"), failed[0].file
    if not resource.startswith("provider."):
        type_, name = resource.split(".")
        assert failed[0].line == _line_of(path, type_, name), f"{fixture}: {failed[0].location}"
    else:
        text = path.read_text().splitlines()
        assert '"alias": "us_east_2"' in "".join(text[failed[0].line - 1: failed[0].line + 2]), failed[0].location


@pytest.mark.parametrize("check_id", sorted(TFGEN_POLICIES | {"CKV_AWS_58"}))
def test_good_fixture_passes_each_policy(fixture_report, check_id):
    failed = [r for r in fixture_report.of(FAILED, "good") if r.check_id == check_id]
    passed = [r for r in fixture_report.of(PASSED, "good") if r.check_id == check_id]
    assert not failed, f"good fails {check_id}: {[r.resource for r in failed]}"
    assert passed, f"{check_id} never ran on the good fixture"


def test_load_balancer_group_may_take_https_from_the_world(fixture_report):
    results = [r for r in fixture_report.results if r.environment == "good" and r.check_id == "CKV_TFGEN_4"]
    assert {(r.resource, r.status) for r in results} >= {("aws_security_group.web_lb", PASSED),
                                                         ("aws_security_group_rule.web_lb_http", PASSED)}


def test_sarif_is_structurally_valid(fixture_report):
    sarif = json.loads(render_report(fixture_report, "sarif"))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert run["tool"]["driver"]["name"] == "tfgen check"
    assert len(run["results"]) == len(fixture_report.of(FAILED)) + len(fixture_report.of(SUPPRESSED))
    for result in run["results"]:
        assert result["ruleId"] == rules[result["ruleIndex"]], result
        assert result["level"] == "error" and result["message"]["text"], result
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith(".tf.json"), result
        assert physical["region"]["startLine"] >= 1, result
    ids = {r["ruleId"] for r in run["results"]}
    assert {check for check, _ in BAD.values()} <= ids


def test_sarif_marks_suppressions_with_their_reason(example_report):
    sarif = json.loads(render_report(example_report, "sarif"))
    results = sarif["runs"][0]["results"]
    assert results and all(r["suppressions"][0]["kind"] == "external" and r["suppressions"][0]["justification"]
                           for r in results)


def test_junit_xml_is_structurally_valid(fixture_report):
    root = ElementTree.fromstring(render_report(fixture_report, "junitxml"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert sorted(s.get("name") for s in suites) == sorted(fixture_report.roots)
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases), suite.get("name")
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
    assert int(root.get("failures")) == len(fixture_report.of(FAILED))
    failing = {c.get("name").split(" ")[0] for c in root.iter("testcase") if c.find("failure") is not None}
    assert {check for check, _ in BAD.values()} <= failing


def test_json_report_has_a_summary_per_environment(fixture_report):
    data = json.loads(render_report(fixture_report, "json"))
    assert data["ok"] is False
    for env in BAD:
        assert data["environments"][env]["failed"] >= 1, env
        assert data["environments"][env]["results"], env


@pytest.mark.slow
def test_cli_exits_1_on_failure_and_writes_sarif(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    for fixture in ("good", "ssh_open_to_world"):
        shutil.copytree(FIXTURES / fixture, out / fixture)
    # checkov merges .checkov.yaml files from the scanned and working directories; the gate must not.
    stray = "skip-check: [CKV_TFGEN_4, CKV_AWS_24]\nsoft-fail: true\n"
    (out / "ssh_open_to_world" / ".checkov.yaml").write_text(stray)
    (tmp_path / ".checkov.yaml").write_text(stray)
    sarif = tmp_path / "report.sarif"
    monkeypatch.chdir(tmp_path)  # a relative OUT, as in CI
    assert main(["check", "out", "--format", "sarif", "--output", str(sarif)]) == 1
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    printed = capsys.readouterr()
    assert "FAILED CKV_TFGEN_4 aws_security_group.admin at out/ssh_open_to_world/main.tf.json:" in printed.out, printed.out
    assert "resource.admin" not in printed.out, "a Python check's result lost its resource type"
    assert "Traceback" not in printed.err


@pytest.mark.slow
def test_cli_exits_0_on_the_example_with_text_summary(example_out, capsys):
    assert main(["check", str(example_out)]) == 0
    text = capsys.readouterr().out
    assert "development" in text and "production" in text and "0 failed" in text
    assert "suppressed CKV2_AWS_19" in text and "NAT gateway" in text


@pytest.mark.parametrize("argv,fragment", [
    (["check", "/nonexistent/out"], "is not a directory"),
    (["check", "{tmp}"], "no *.tf.json root modules"),
    (["check", "{example}", "--policies", "/nonexistent/policies"], "does not exist"),
])
def test_cli_usage_errors_exit_2_without_traceback(argv, fragment, tmp_path, example_out, capsys):
    argv = [a.format(tmp=tmp_path, example=example_out) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err, err


def test_bad_format_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["check", "out", "--format", "xml"])
    assert exit_.value.code == 2


@pytest.mark.slow
def test_user_policy_directory_is_loaded(tmp_path, capsys):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "no_launch_templates.yaml").write_text(
        "metadata: {id: CKV2_ORG_1, name: no launch templates, category: GENERAL_SECURITY}\n"
        "definition: {cond_type: attribute, resource_types: [aws_launch_template], attribute: name,"
        " operator: not_exists}\n"
    )
    out = tmp_path / "out"
    shutil.copytree(FIXTURES / "good", out / "good")
    report = check_output(out, policies=[policies])
    assert [r.resource for r in report.of(FAILED) if r.check_id == "CKV2_ORG_1"] == ["aws_launch_template.nodes"]


def test_shipped_policies_are_found_and_suppressions_have_reasons():
    directory = policy_dir()
    assert (directory / "__init__.py").is_file() and (directory / "suppressions.toml").is_file()
    for waiver in load_suppressions(directory / "suppressions.toml"):
        assert waiver.reason.strip() and "\n" not in waiver.reason, waiver
        assert waiver.check_id or waiver.path, waiver
        if waiver.check_id:
            assert "*" not in waiver.resources, f"{waiver.check_id} is waived on every resource"


def test_suppressions_without_reason_are_rejected(tmp_path):
    bad = tmp_path / "suppressions.toml"
    bad.write_text('[[check]]\nid = "CKV_AWS_1"\n')
    with pytest.raises(PolicyError, match="reason"):
        load_suppressions(bad)


@pytest.mark.slow
def test_plan_scan_of_the_example_passes(example_out, tmp_path):
    report = check_output(example_out, plan=True, workdir=tmp_path)
    plan_results = [r for r in report.results if r.framework == "terraform_plan"]
    assert plan_results, "no results from the plan scan"
    assert not report.of(FAILED), [(r.check_id, r.resource) for r in report.of(FAILED)]
    tags = [r for r in plan_results if r.check_id == "CKV_TFGEN_2"]
    assert tags and all(r.status == PASSED for r in tags), "default_tags did not reach tags_all in the plan"
    located = [r for r in plan_results if r.resource.startswith("aws_vpc.")]
    assert located and all(r.file.endswith("network.tf.json") and r.line for r in located)
    # The plans ran on copies lowered to 3.39; the report says what they left out.
    left_out = {c.address.split(".")[0] for c in report.lowered["development"].changes if c.action == "left out"}
    assert {"aws_eks_access_entry", "aws_eks_pod_identity_association"} <= left_out, left_out
    text = render_report(report, "text")
    assert "plan of development lowered to provider 3.39.0:" in text and "aws_eks_access_entry x" in text
    assert json.loads(render_report(report, "json"))["lowered"]["production"]["target"] == "3.39.0"


@pytest.mark.slow
def test_plan_scan_of_the_transit_gateway_example_passes(tmp_path):
    report = check_output(ROOT / "out" / "transit-gateway", plan=True, workdir=tmp_path)
    assert not report.of(FAILED), [(r.check_id, r.resource) for r in report.of(FAILED)]
    routes = [r for r in report.results if r.resource.startswith("aws_ec2_transit_gateway_route.")]
    assert routes, "the transit gateway routes were not scanned"


def test_ci_recipe_runs_build_validate_and_check_with_arguments_the_cli_accepts():
    import shlex

    import yaml

    from tfgen.cli import _parser

    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
    commands = [line.strip() for step in workflow["jobs"]["gate"]["steps"]
                for line in str(step.get("run", "")).splitlines() if line.strip().startswith("tfgen ")]
    verbs = [shlex.split(c)[1] for c in commands]
    assert verbs[:3] == ["build", "validate", "check"], commands
    assert any("--format sarif" in c for c in commands), commands
    known = set(_parser()._subparsers._group_actions[0].choices)
    for command in commands:
        argv = [a.replace("$SPEC", "spec.yaml").replace("$OUT", "out") for a in shlex.split(command)[1:]]
        if argv[0] not in known:
            continue  # `tfgen validate` arrives with its own issue; the recipe already runs it
        _parser().parse_args(argv)


def _can_drop_network() -> bool:
    import subprocess

    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _can_drop_network(), reason="needs `unshare -rn` to run without a network")
def test_same_report_with_and_without_a_network(example_out, tmp_path):
    import subprocess

    tfgen = [sys.executable, "-m", "tfgen.cli", "check", str(example_out), "--format", "json", "--output"]
    reports = {}
    for name, prefix in (("online", []), ("offline", [shutil.which("unshare"), "-rn"])):
        target = tmp_path / f"{name}.json"
        done = subprocess.run(prefix + tfgen + [str(target)], capture_output=True, text=True)
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
        report = json.loads(target.read_text())
        for timing in ("seconds", "checkov_seconds", "plan_seconds"):
            report.pop(timing)
        reports[name] = report
    assert reports["offline"] == reports["online"]


def test_roots_are_found_below_out_or_at_out_itself(example_out, tmp_path):
    from tfgen.gate import find_roots

    assert sorted(find_roots(example_out)) == ["_state", "development", "production"]
    assert list(find_roots(example_out / "development")) == ["development"]
    (tmp_path / "development" / ".terraform" / "modules" / "m").mkdir(parents=True)
    (tmp_path / "development" / ".terraform" / "modules" / "m" / "main.tf.json").write_text("{}")
    with pytest.raises(PolicyError, match="no \\*.tf.json root modules"):
        find_roots(tmp_path)


@pytest.mark.parametrize("resources", [None, [], ["*"], ["*.*"], ["aws_*"], ["aws_eks_cluster.hub", "*"], "aws_eip.*"])
def test_a_suppression_on_every_resource_is_refused(tmp_path, capsys, resources):
    policies = tmp_path / "policies"
    policies.mkdir()
    line = "" if resources is None else f"resources = {json.dumps(resources)}\n"
    (policies / "suppressions.toml").write_text(
        f'[[check]]\nid = "CKV_TFGEN_5"\n{line}reason = "public endpoint is fine"\n')
    out = tmp_path / "out"
    shutil.copytree(FIXTURES / "public_eks_endpoint", out / "public_eks_endpoint")
    assert main(["check", str(out), "--policies", str(policies)]) == 2
    err = capsys.readouterr().err
    assert str(policies / "suppressions.toml") in err and "CKV_TFGEN_5" in err and "resources" in err, err
    assert "Traceback" not in err


def test_a_suppression_naming_its_resources_is_accepted(tmp_path):
    path = tmp_path / "suppressions.toml"
    path.write_text('[[check]]\nid = "CKV_TFGEN_5"\nresources = ["aws_eks_cluster.hub"]\nreason = "lab"\n')
    [waiver] = load_suppressions(path)
    assert waiver.covers("CKV_TFGEN_5", "aws_eks_cluster.hub") and not waiver.covers("CKV_TFGEN_5", "aws_eks_cluster.edge")


@pytest.mark.slow
def test_checkov_and_user_policies_never_see_credentials(tmp_path, monkeypatch):
    seen = tmp_path / "seen.json"
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "__init__.py").write_text("")
    (policies / "spy.py").write_text(f"import json, os\nopen({str(seen)!r}, 'w').write(json.dumps(sorted(os.environ)))\n")
    secrets = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "GITHUB_TOKEN", "GH_TOKEN",
               "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "CI_JOB_TOKEN", "GITLAB_TOKEN",
               "NPM_TOKEN", "DB_PASSWORD", "CLIENT_SECRET", "ARM_CLIENT_SECRET", "my_api_token"]
    for name in secrets:
        monkeypatch.setenv(name, "s3cr3t-value")
    monkeypatch.setenv("TFGEN_HARMLESS", "1")
    out = tmp_path / "out"
    shutil.copytree(FIXTURES / "good", out / "good")
    check_output(out, policies=[policies])
    names = set(json.loads(seen.read_text()))
    assert not names & set(secrets), sorted(names & set(secrets))
    assert "TFGEN_HARMLESS" in names and "PATH" in names


def test_example_output_matches_both_provider_schemas(example_report):
    passed = sorted((r.environment, r.resource) for r in example_report.of(PASSED) if r.check_id == "TFGEN_SCHEMA")
    assert passed == [(env, f"provider hashicorp/aws {v}") for env in ("_state", "development", "production")
                      for v in ("5.100.0", "6.25.0")], passed


@pytest.mark.slow
def test_an_argument_6_0_removed_fails_the_gate_on_6_only(example_out, tmp_path):
    root = tmp_path / "out" / "development"
    shutil.copytree(example_out / "development", root)
    network = root / "network.tf.json"
    document = json.loads(network.read_text())
    eip = sorted(document["resource"]["aws_eip"])[0]
    document["resource"]["aws_eip"][eip]["vpc"] = True
    network.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    report = check_output(tmp_path / "out")
    failed = [r for r in report.of(FAILED) if r.check_id == "TFGEN_SCHEMA"]
    assert [(r.resource, r.file.endswith("network.tf.json")) for r in failed] == [(f"aws_eip.{eip}", True)]
    assert "6.25.0" in failed[0].check_name and "removed in 6.0.0" in failed[0].check_name
    assert not report.ok


def test_sarif_rule_description_does_not_depend_on_result_order(tmp_path):
    from tfgen.gate import GateReport, GateResult
    from tfgen.gate.results import RULE_DESCRIPTIONS, SCHEMA_CHECK

    results = [GateResult(check_id=SCHEMA_CHECK, check_name=f"arguments match: aws_vpc.{n}: unknown argument",
                          status="failed", environment="e", resource=f"aws_vpc.{n}", file="f", line=1,
                          framework="tfgen") for n in ("a", "b")]
    rules = []
    for ordered in (results, results[::-1]):
        report = GateReport(roots={"e": tmp_path}, results=list(ordered))
        rules.append(json.loads(render_report(report, "sarif"))["runs"][0]["tool"]["driver"]["rules"])
    assert rules[0] == rules[1]
    assert rules[0][0]["shortDescription"]["text"] == RULE_DESCRIPTIONS[SCHEMA_CHECK]


@pytest.mark.slow
def test_plan_root_and_check_plan_leave_nothing_in_the_temp_directory(example_out, tmp_path, monkeypatch):
    import tempfile

    from tfgen.gate import check_output
    from tfgen.testing import plan_root

    # A temp directory of this test's own: other processes on the machine make tfgen-* directories too.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def scratch() -> set[str]:
        return {p.name for p in Path(tempfile.gettempdir()).iterdir()}

    before = scratch()
    plan = plan_root(example_out / "_state")
    assert plan.resources and scratch() == before
    report = check_output(example_out / "_state", plan=True)
    assert report.plan_seconds > 0 and scratch() == before


def test_a_cells_environment_found_under_a_larger_tree_maps_its_joined_files_back_to_its_roots():
    """`tfgen check out/` names the cells roots `cells/<root>`: each joined file maps back to one of them."""
    from tfgen.gate.environments import environments
    from tfgen.gate.locate import Locator
    from tfgen.terraform.roots import read_root

    found = {f"cells/{p.name}": Locator(read_root(p)) for p in sorted((ROOT / "out" / "cells").iterdir())
             if p.is_dir() and "--" in p.name}
    ((name, joined, where),) = environments(found)  # one environment, its roots joined
    assert joined.documents, "no joined documents"
    from tfgen.checks.gitops_output import evaluate

    broken = [v for v in evaluate(name, joined) if not v.holds]
    assert broken == [], "the joined roots lost their reads of each other's state"
    for file in joined.documents:
        root, name = where(file)
        assert root in found and name in found[root].root.documents, (file, root, name)


def test_the_policies_read_checkovs_shapes_through_the_grammar_and_the_statement_normaliser():
    from tfgen.policies.tfgen_policy_support import literal_text, pins_alias, policy_statements

    assert pins_alias({"provider": ["aws.us_east_1"]}) and pins_alias({"provider": "aws.eu-west-1"})
    assert not any(pins_alias(c) for c in ({}, {"provider": ["aws"]}, {"provider": ["google.x"]},
                                           {"provider": ["${aws.x}"]}))
    assert literal_text("arn:aws:iam::${var.account}:role/*") == "arn:aws:iam:::role/*"
    assert literal_text("${aws_iam_role.r.arn}") == "" and literal_text(["*"]) == ""
    (statement,) = policy_statements({"policy": [json.dumps({"Statement": {"Effect": "Allow", "Action": "*",
                                                                           "Resource": "*"}})]})
    assert (statement.effect, statement.actions, statement.resources) == ("Allow", ("*",), ("*",))
    assert policy_statements({"policy": ["${data.aws_iam_policy_document.p.json}"]}) is None
