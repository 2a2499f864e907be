"""Messages that fix a mistake in one round: the fix a finding proposes is one the next run accepts, one
mistake gives one finding, instance types are checked against EC2's list, and `tfgen gitops` on a root
that was never applied says so."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import stat
import sys

import pytest

from tfgen.checks.instance_types import instance_type_problem, table_source
from tfgen.cli import main
from tfgen.errors import Severity
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import instance_types as instance_types_tool  # noqa: E402

sys.path.remove(str(ROOT / "tools"))

SPEC = """project: demo
environments:
  dev:
    account_id: "123456789012"
    access: {{admins: ["arn:aws:iam::123456789012:role/admins"]}}
    hub: {{region: us-east-1, cidr: {hub}}}
    regions:
      us-east-2: {{cidr: {edge}{extra}}}
      us-west-2: {{cidr: 10.13.0.0/16}}
"""


def _validate(tmp_path, capsys, text: str) -> tuple[int, list[dict]]:
    spec = tmp_path / "fleet.yaml"
    spec.write_text(text)
    status = main(["validate", str(spec), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    return status, report["fleet"] + [f for fs in report["environments"].values() for f in fs]


# -- a CIDR's fix is one the next run accepts ------------------------------------------------------------

@pytest.mark.parametrize("hub, edge, extra, code", [
    ("10.10.0.0/16", "10.41.0.0/12", "", "VAL164"),          # host bits and too large: the size rule speaks
    ("10.10.0.0/16", "10.10.0.0/8", "", "VAL164"),           # too large, its /16 is the hub's: the next free one
    ("10.10.0.0/16", "10.11.0.1/16", "", "VAL163"),          # host bits
    ("10.10.0.0/16", "10.11.0.7/30", "", "VAL164"),          # too small to carve subnets from
    ("10.10.0.0/16", "010.11.0.0/16", "", "VAL163"),         # spelling
    # too large, and the subnets given are in another /16 of it: the /16 that holds them
    ("10.10.0.0/16", "10.11.0.0/12", ", az_count: 1, private_subnets: [10.12.0.0/19]", "VAL164"),
])
def test_a_cidr_fix_is_accepted_by_the_next_run(tmp_path, capsys, hub, edge, extra, code):
    status, findings = _validate(tmp_path, capsys, SPEC.format(hub=hub, edge=edge, extra=extra))
    errors = [f for f in findings if f["severity"] == "error"]
    assert (status, [f["code"] for f in errors]) == (1, [code]), errors
    fix = re.fullmatch(r"write (\S+)", errors[0]["hint"])
    assert fix, errors[0]["hint"]
    status, findings = _validate(tmp_path, capsys, SPEC.format(hub=hub, edge=fix[1], extra=extra))
    assert (status, [f for f in findings if f["severity"] == "error"]) == (0, []), f"after {fix[0]}"


def test_a_host_bits_fix_that_would_overlap_says_so(tmp_path, capsys):
    status, findings = _validate(tmp_path, capsys, SPEC.format(hub="10.11.0.0/16", edge="10.11.0.1/16", extra=""))
    (finding,) = [f for f in findings if f["severity"] == "error"]
    assert finding["code"] == "VAL163"
    assert finding["hint"] == ("write 10.11.0.0/16, but that overlaps the VPC of us-east-1/hub (10.11.0.0/16): "
                               "choose a block free in the environment")


# -- one mistake, one finding; two mistakes, two ---------------------------------------------------------

def test_a_shape_finding_keeps_the_other_mistakes_of_the_spec(tmp_path, capsys):
    text = SPEC.format(hub="10.10.0.0/16", edge="10.11.0.1/16", extra="").replace(
        'account_id: "123456789012"', "account_id: 123456789012")
    status, findings = _validate(tmp_path, capsys, text)
    assert (status, sorted(f["code"] for f in findings if f["severity"] == "error")) == (1, ["SPEC013", "VAL163"])


def test_a_spec_without_shape_findings_reports_the_cascaded_codes_as_before(tmp_path, capsys):
    text = SPEC.format(hub="10.10.0.0/16", edge="10.11.0.0/16", extra="").replace(
        '    account_id: "123456789012"\n', "")
    status, findings = _validate(tmp_path, capsys, text)
    assert (status, [f["code"] for f in findings if f["severity"] == "error"]) == (1, ["VAL129"])


# -- instance types -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, severity, fix", [
    ("t3.lrage", Severity.ERROR, "did you mean t3.large?"),
    ("t3.mikro", Severity.ERROR, "did you mean t3.micro?"),
    ("m9g.large", Severity.WARNING, "did you mean m8g.large?"),
    ("c6in.metal-48xl", Severity.WARNING, "did you mean c6in.metal?"),
    ("zz9.bogus", Severity.ERROR, "write an EC2 instance type such as t3.medium"),
])
def test_an_instance_type_not_in_the_table_gets_the_closest(kind, severity, fix):
    problem = instance_type_problem(kind)
    assert problem is not None and (problem[0], problem[2].startswith(fix)) == (severity, True), problem


@pytest.mark.parametrize("kind", ["t3.medium", "t3.micro", "m7g.2xlarge", "c7i.metal-24xl", "u-6tb1.metal",
                                  "m7i-flex.large", "t4g.nano", "p5.48xlarge"])
def test_real_instance_types_pass(kind):
    assert instance_type_problem(kind) is None


def test_the_table_is_botocores_list(tmp_path):
    """The tool's table from a service model, and the committed table from the installed botocore when it is
    the version the table names."""
    model = tmp_path / "service-2.json.gz"
    model.write_bytes(gzip.compress(json.dumps({"shapes": {"InstanceType": {"type": "string", "enum": [
        "t3.nano", "t3.micro", "m7g.large", "m7g.metal", "t3.small"]}}}).encode()))
    assert instance_types_tool.main(["--model", str(model), "--output", str(tmp_path / "table.json")]) == 0
    written = json.loads((tmp_path / "table.json").read_text())
    assert written["families"] == {"m7g": ["large", "metal"], "t3": ["nano", "micro", "small"]}
    committed = (ROOT / "tfgen" / "checks" / "instance_types.json").read_text()
    path, source = instance_types_tool.default_model()
    if source != table_source():
        pytest.skip(f"the installed {source} is not the table's {table_source()}")
    regenerated = instance_types_tool.render(instance_types_tool.table(instance_types_tool.read_model(path), source))
    assert committed == regenerated, "run `python tools/instance_types.py` and commit the table"


# -- tfgen gitops on a root that was never applied ---------------------------------------------------------

def test_gitops_on_a_root_never_initialised_says_it_is_not_applied(tmp_path, capsys):
    root = tmp_path / "development"
    shutil.copytree(ROOT / "out" / "development", root)
    assert main(["gitops", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"{root} is not applied" in err and "--outputs FILE" in err and "Traceback" not in err, err


def _terraform(tmp_path, script: str) -> str:
    binary = tmp_path / "terraform"
    binary.write_text("#!/bin/sh\n" + script)
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return str(binary)


def test_gitops_on_a_root_with_no_outputs_says_it_is_not_applied(tmp_path):
    from tfgen.gitops import GitOpsError, terraform_outputs

    (tmp_path / ".terraform").mkdir()
    with pytest.raises(GitOpsError, match=r"is not applied \(its state holds no outputs\).*--outputs FILE"):
        terraform_outputs(tmp_path, terraform=_terraform(tmp_path, "echo '{}'\n"), env=dict(os.environ))


def test_a_terraform_error_is_shown_in_whole_lines(tmp_path):
    from tfgen.gitops import GitOpsError, terraform_outputs

    (tmp_path / ".terraform").mkdir()
    lines = [f"line {i}: Error: Backend initialization required, please run terraform init" for i in range(40)]
    script = "cat >&2 <<'EOF'\n" + "\n".join(lines) + "\nEOF\nexit 1\n"
    with pytest.raises(GitOpsError) as raised:
        terraform_outputs(tmp_path, terraform=_terraform(tmp_path, script), env=dict(os.environ))
    shown = str(raised.value).split("\n")[1:]
    assert shown == lines[-len(shown):] and 1 < len(shown) < len(lines), shown
