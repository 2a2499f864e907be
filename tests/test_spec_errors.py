"""Behaviour around bad input: every finding at once, usage errors, a good spec, numbers YAML readers disagree on."""

from __future__ import annotations

import pytest

import tfgen
from tfgen.cli import main
from tfgen.errors import SpecError
from tests.conftest import write_spec

GOOD = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    hub: {region: us-east-1, cidr: 10.10.0.0/16}
    regions:
      us-east-2: {cidr: 10.11.0.0/16}
"""

def test_every_finding_is_reported_at_once(tmp_path, capsys):
    text = GOOD.replace("regions:", "regoins:").replace("us-east-1", "us-east-9")
    status = main(["build", str(write_spec(tmp_path, text)), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1
    assert "SPEC011" in err and "VAL131" in err, err


def test_missing_spec_file_is_a_usage_error(tmp_path, capsys):
    status = main(["build", str(tmp_path / "nope.yaml")])
    err = capsys.readouterr().err
    assert status == 2 and "no such spec file" in err and "Traceback" not in err


def test_bad_arguments_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["build"])
    assert exit_.value.code == 2
    assert "fix:" in capsys.readouterr().err


def test_good_spec_builds(tmp_path, capsys):
    status = main(["build", str(write_spec(tmp_path, GOOD)), "--out", str(tmp_path / "out")])
    assert status == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "dev" / "network.tf.json").is_file()


# YAML 1.1 (what tfgen reads) and YAML 1.2 readers read these plain scalars differently: SPEC016, never a silent value.
DISPUTED = {
    "0100": "reads 0100 as the octal number 64, YAML 1.2 readers as 100",
    "-010": "reads -010 as the octal number -8, YAML 1.2 readers as -10",
    "0o100": "YAML 1.2 readers take 0o100 for the octal number 64",
    "1:20": "reads 1:20 as the base-60 number 80",
    "1:20.5": "reads 1:20.5 as the base-60 number 80.5",
    "1_000": "reads 1_000 as the number 1000, YAML 1.2 readers as text",
    "0b101": "reads 0b101 as the binary number 5",
}
FIXES = {"0100": "write 100 (or 64, if octal was meant)", "-010": "write -10", "0o100": "write 64",
         "1:20": 'quote it ("1:20")', "1:20.5": "or write 80.5", "1_000": "write 1000", "0b101": "write 5"}
NODE_GROUP = GOOD.replace("    hub:", "    defaults:\n      node_groups: {workers: {disk_size: VALUE}}\n    hub:")


@pytest.mark.parametrize("form", sorted(DISPUTED))
def test_a_number_yaml_readers_disagree_on_is_refused_at_its_line(form):
    with pytest.raises(SpecError) as caught:
        tfgen.loads(NODE_GROUP.replace("VALUE", form), filename="fleet.yaml")
    findings = caught.value.findings
    assert [(f.code, f.origin.line) for f in findings] == [("SPEC016", 6)], [f.format() for f in findings]
    assert DISPUTED[form] in findings[0].message and FIXES[form] in findings[0].hint, findings[0].format()
    assert findings[0].path == "environments.dev.defaults.node_groups.workers.disk_size"


def test_disk_size_0100_never_becomes_64(tmp_path, capsys):
    spec = write_spec(tmp_path, NODE_GROUP.replace("VALUE", "0100"))
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:6: error SPEC016" in err and "fix: write 100" in err, err
    assert not (tmp_path / "out").exists()


def test_a_disputed_key_is_refused_too():
    with pytest.raises(SpecError) as caught:
        tfgen.loads(NODE_GROUP.replace("workers: {disk_size: VALUE}", "0100: {}"), filename="fleet.yaml")
    assert [(f.code, f.origin.line) for f in caught.value.findings] == [("SPEC016", 6)]


def test_forms_every_reader_agrees_on_are_read():
    fleet = tfgen.loads(NODE_GROUP.replace("VALUE", "0x20"), filename="fleet.yaml")
    assert fleet.environment("dev").defaults.node_groups["workers"].disk_size == 32  # hex: 32 in YAML 1.1 and 1.2
    fleet = tfgen.loads(GOOD.replace("project: demo", 'project: demo\ntags: {Build: "0100", Ratio: "1:20"}'))
    assert fleet.tags == {"Build": "0100", "Ratio": "1:20"}  # quoted: text for every reader


def test_an_explicit_number_tag_on_text_is_a_finding_not_a_traceback():
    with pytest.raises(SpecError) as caught:
        tfgen.loads(NODE_GROUP.replace("VALUE", "!!int x"), filename="fleet.yaml")
    assert [(f.code, f.origin.line) for f in caught.value.findings] == [("SPEC005", 6)]
