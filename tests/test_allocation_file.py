"""A damaged allocations file never moves a VPC: every unreadable or duplicated
record is an error at its line (NET206, NET207), a record outside the pool a
warning (NET208), and nothing is allocated afresh or written."""

from __future__ import annotations

import pytest

from tfgen.cli import main
from tests.conftest import POOL_SPEC, write_spec

SPEC = POOL_SPEC
HEADER = "# VPC CIDRs tfgen allocated from each environment's cidr_pool.\n"


def _fleet(tmp_path, record: str):
    spec = write_spec(tmp_path, SPEC)
    allocations = tmp_path / "fleet.allocations.yaml"
    allocations.write_text(HEADER + record)
    return spec, allocations


BROKEN = {
    "typo": ("dev:\n  us-east-1/hub: 10.0.0.0/16\n  us-east-2/edge: 10.1.0.0/1g\n", "NET206", 4,
             "'10.1.0.0/1g' is not a CIDR block"),
    "host bits": ("dev:\n  us-east-1/hub: 10.0.0.0/16\n  us-east-2/edge: 10.1.0.1/16\n", "NET206", 4,
                  "10.1.0.1/16 has host bits set"),
    "ipv6": ("dev:\n  us-east-1/hub: 10.0.0.0/16\n  us-east-2/edge: fd00::/48\n", "NET206", 4, "an IPv6 block"),
    "not text": ("dev:\n  us-east-1/hub: 10.0.0.0/16\n  us-east-2/edge: [10.1.0.0/16]\n", "NET206", 4,
                 "expected `region/cluster: cidr`"),
    "yaml syntax": ("dev:\n  us-east-1/hub: 10.0.0.0/16\n us-east-2/edge: 10.1.0.0/16\n", "NET206", 4,
                    "not valid YAML"),
    "environment twice": ("dev:\n  us-east-2/edge: 10.1.0.0/16\ndev:\n  us-east-1/hub: 10.0.0.0/16\n", "NET207", 4,
                          "environment dev is recorded twice (first on line 2)"),
    "entry twice": ("dev:\n  us-east-1/hub: 10.0.0.0/16\n  us-east-2/edge: 10.1.0.0/16\n"
                    "  us-east-2/edge: 10.2.0.0/16\n", "NET207", 5, "us-east-2/edge is recorded twice"),
    "one block twice": ("dev:\n  us-east-1/hub: 10.0.0.0/16\n  us-east-2/edge: 10.0.0.0/16\n", "NET207", 4,
                        "us-east-2/edge (10.0.0.0/16) overlaps us-east-1/hub"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_damaged_record_is_an_error_at_its_line_and_nothing_moves(tmp_path, capsys, case):
    record, code, line, message = BROKEN[case]
    spec, allocations = _fleet(tmp_path, record)
    assert main(["validate", str(spec)]) == 1
    out = capsys.readouterr().out
    assert f"{allocations}:{line}: error {code}" in out and message in out, out
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{allocations}:{line}: error {code}" in err and "fix:" in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()
    assert allocations.read_text() == HEADER + record


def test_a_record_outside_the_pool_is_kept_with_a_warning(tmp_path, capsys):
    spec, allocations = _fleet(tmp_path, "dev:\n  us-east-1/hub: 10.0.0.0/16\n  us-east-2/edge: 10.200.0.0/16\n")
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"{allocations}:4: warning NET208" in err and "outside the environment's cidr_pool 10.0.0.0/12" in err, err
    assert '"cidr_block": "10.200.0.0/16"' in (tmp_path / "out" / "dev" / "network.tf.json").read_text()
    assert "us-east-2/edge: 10.200.0.0/16" in allocations.read_text()


def test_a_good_record_is_kept_and_read_back_unchanged(tmp_path, capsys):
    spec, allocations = _fleet(tmp_path, "dev:\n  us-east-1/hub: 10.0.0.0/16\n  us-east-2/edge: 10.5.0.0/16\n")
    before = allocations.read_text()
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    assert "10.5.0.0/16" in (tmp_path / "out" / "dev" / "network.tf.json").read_text()
    assert allocations.read_text().splitlines()[-2:] == before.splitlines()[-2:]
