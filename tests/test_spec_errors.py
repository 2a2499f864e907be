"""Bad specs end in file:line, a fix hint, exit 1, no traceback and nothing written."""

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

# (name, spec text, finding code, fragment of the message, expected line)
CASES = [
    ("yaml syntax", GOOD.replace("hub: {region", "hub: {region: [") , "SPEC001", "not valid YAML", None),
    ("typo regoins", GOOD.replace("regions:", "regoins:"), "SPEC011", "did you mean `regions`", 6),
    ("unknown top key", "projet: demo\n" + GOOD, "SPEC011", "did you mean `project`", 1),
    ("cidr is a number", GOOD.replace("cidr: 10.11.0.0/16", "cidr: 10"), "SPEC013", "must be a string", 7),
    ("k8s version unquoted", GOOD.replace("cidr: 10.10.0.0/16}", "cidr: 10.10.0.0/16, kubernetes_version: 1.29}"),
     "SPEC013", 'quote it: "1.29"', 5),
    ("duplicate key", GOOD + "      us-east-2: {cidr: 10.12.0.0/16}\n", "SPEC004", "appears twice", 8),
    ("malformed cidr", GOOD.replace("10.11.0.0/16", "10.11.0.0/33"), "VAL163", "not an IPv4 CIDR", 7),
    ("host bits", GOOD.replace("10.11.0.0/16", "10.11.0.1/16"), "VAL163", "the block is 10.11.0.0/16", 7),
    ("unknown region", GOOD.replace("us-east-2", "us-esat-2"), "VAL131", "did you mean us-east-2", 7),
    ("no hub", GOOD.replace("    hub: {region: us-east-1, cidr: 10.10.0.0/16}\n", ""), "SPEC012", "needs `hub`", 3),
    ("hub without region", GOOD.replace("region: us-east-1, ", ""), "SPEC012", "needs `region`", 5),
    ("vpc too large", GOOD.replace("10.11.0.0/16", "10.0.0.0/8"), "VAL164", "/16 to /28", 7),
    ("overlap with hub", GOOD.replace("10.11.0.0/16", "10.10.128.0/17"), "VAL191", "overlaps the hub", 7),
    ("node group sizes", GOOD.replace("cidr: 10.11.0.0/16}", "cidr: 10.11.0.0/16, node_groups: {w: {min: 3, max: 2}}}"),
     "VAL152", "inconsistent", 7),
    ("too many zones", GOOD.replace("cidr: 10.11.0.0/16}", "cidr: 10.11.0.0/16, az_count: 9}"), "VAL167",
     "knows 3 zones", 7),
    ("subnet outside vpc", GOOD.replace("cidr: 10.11.0.0/16}", "cidr: 10.11.0.0/16, private_subnets: [10.99.0.0/20],"
     " availability_zones: [us-east-2a]}"), "VAL170", "outside the VPC", 7),
    ("bad nat", GOOD.replace("cidr: 10.11.0.0/16}", "cidr: 10.11.0.0/16, nat: many}"), "VAL161", "not a NAT layout", 7),
    ("s3 state without bucket", "state: {backend: s3, region: us-east-1}\n" + GOOD, "VAL112", "needs `bucket`", 1),
    ("account id unquoted", GOOD.replace('"123456789012"', "123456789012"), "SPEC013", 'quote it', 4),
    ("account id short", GOOD.replace('"123456789012"', '"1234"'), "VAL128", "not an AWS account id", 4),
    ("no account", GOOD.replace('    account_id: "123456789012"\n', ""), "VAL129", "names no AWS account", 3),
    ("empty", "", "SPEC002", "empty", None),
]


@pytest.mark.parametrize("name,text,code,fragment,line", CASES, ids=[c[0] for c in CASES])
def test_bad_spec_is_rejected_with_location_and_hint(tmp_path, capsys, name, text, code, fragment, line):
    spec = write_spec(tmp_path, text)
    out = tmp_path / "out"
    status = main(["build", str(spec), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1, err
    assert "Traceback" not in err
    assert code in err, err
    assert fragment in err, err
    assert "fix:" in err, err
    where = f"{spec}:{line}:" if line else f"{spec}"
    assert where in err, err
    assert not out.exists(), f"{name}: something was written"


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
