"""CLI behaviour around bad input: every finding at once, usage errors, a good spec."""

from __future__ import annotations

import pytest

from tfgen.cli import main
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
