"""A damaged allocations file never moves a VPC: every unreadable or duplicated
record is an error at its line (NET206, NET207), a record outside the pool a
warning (NET208), and nothing is allocated afresh or written. A hostile record
(a device, a FIFO, an alias bomb) is a finding, never a hang; a spec read from
a pipe records its allocations only where `--allocations` says."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import main
from tfgen.spec import record_beside
from tfgen.spec.loader import MAX_SPEC_BYTES
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


# -- the record as untrusted input: read through the spec's bounded loader, never a hang -------------------------

@contextlib.contextmanager
def _deadline(seconds: int):
    """Fail (instead of hanging the suite) when the body blocks, e.g. on a FIFO nobody writes to."""
    def expired(signum, frame):
        raise AssertionError(f"blocked for {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


HOSTILE = {  # name -> (make the record at `path`, line, message fragment)
    "not utf-8": (lambda p: p.write_bytes(b"dev:\n  us-east-1/hub: \xff10.0.0.0/16\n"), 2,
                  "not UTF-8 text: byte 0xff at column 18"),
    "too large": (lambda p: p.write_bytes(b"dev: {}\n" + b"# pad\n" * (MAX_SPEC_BYTES // 6 + 1)),
                  2 + (MAX_SPEC_BYTES - 8) // 6, "larger than 2 MiB"),  # the line where the limit falls
    "link to /dev/zero": (lambda p: p.symlink_to("/dev/zero"), None, "is a character device"),
    "too deep": (lambda p: p.write_text("dev: " + "[" * 200 + "]" * 200 + "\n"), 1, "nests deeper than 50"),
    "alias bomb": (lambda p: p.write_text(_alias_bomb()), 6, "expand the allocations file to more than"),
    "directory": (lambda p: p.mkdir(), None, "is a directory"),
    "fifo": (lambda p: os.mkfifo(p), None, "is a pipe (FIFO)"),
    "nul byte": (lambda p: p.write_bytes(b"dev:\n  us-east-1/hub: 10.0.0.0/16\0\n"), 2, "a NUL byte"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_record_is_a_finding_at_its_file_not_a_traceback_or_a_hang(tmp_path, capsys, case):
    make, line, message = HOSTILE[case]
    spec = write_spec(tmp_path, SPEC)
    record = tmp_path / "fleet.allocations.yaml"
    make(record)
    where = f"{record}:{line}: error NET206" if line else f"{record}: error NET206"
    with _deadline(20):
        assert main(["validate", str(spec)]) == 1
        out = capsys.readouterr().out
        assert where in out and message in out and "fix:" in out, out
        assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert where in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_record_is_a_finding(tmp_path, capsys):
    spec, record = _fleet(tmp_path, "dev: {}\n")
    record.chmod(0)
    assert main(["validate", str(spec)]) == 1
    out = capsys.readouterr().out
    assert f"{record}: error NET206" in out and "cannot read the allocations file" in out, out


# -- a spec without a real path records nowhere unless told where ---------------------------------------------

def _pipe(text: str) -> str:
    """A spec read from a pipe, as `cat fleet.yaml | tfgen build /dev/stdin` gives it: /dev/fd/N."""
    read, write = os.pipe()
    os.write(write, text.encode())
    os.close(write)
    return f"/dev/fd/{read}"


def test_a_spec_from_a_pipe_refuses_to_allocate_and_names_the_fix(tmp_path, capsys):
    spec = _pipe(SPEC)
    assert main(["build", spec, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:5: error NET204 [dev]" in err and "--allocations FILE" in err and "every VPC a cidr" in err, err
    assert not (tmp_path / "out").exists()
    assert main(["validate", _pipe(SPEC)]) == 1, "validate must say what build refuses"
    assert "NET204" in capsys.readouterr().out


def test_a_spec_from_a_pipe_allocates_into_the_record_it_is_given(tmp_path, capsys):
    record = tmp_path / "fleet.allocations.yaml"
    assert main(["build", _pipe(SPEC), "--out", str(tmp_path / "out"), "--allocations", str(record)]) == 0
    assert "us-east-2/edge: 10.1.0.0/16" in record.read_text()
    assert main(["build", _pipe(SPEC), "--out", str(tmp_path / "out"), "--allocations", str(record),
                 "--check"]) == 0, capsys.readouterr().err
    assert main(["validate", _pipe(SPEC), "--allocations", str(record)]) == 0


def test_a_spec_from_a_pipe_without_pool_allocations_needs_no_record(tmp_path, capsys):
    spec = SPEC.replace("{region: us-east-1}", "{region: us-east-1, cidr: 10.0.0.0/16}").replace(
        "us-east-2: {}", "us-east-2: {cidr: 10.1.0.0/16}")
    assert main(["build", _pipe(spec), "--out", str(tmp_path / "out")]) == 0, capsys.readouterr().err


def test_allocations_moves_the_record_of_a_spec_file(tmp_path):
    spec = write_spec(tmp_path, SPEC)
    record = tmp_path / "elsewhere" / "dev.allocations.yaml"
    record.parent.mkdir()
    assert main(["build", str(spec), "--out", str(tmp_path / "out"), "--allocations", str(record)]) == 0
    assert "us-east-1/hub: 10.0.0.0/16" in record.read_text()
    assert not (tmp_path / "fleet.allocations.yaml").exists()


def test_only_a_regular_file_outside_dev_and_proc_has_a_record_beside_it(tmp_path):
    spec = write_spec(tmp_path, SPEC)
    assert record_beside(spec) == tmp_path / "fleet.allocations.yaml"
    (tmp_path / "link.yaml").symlink_to(spec)
    assert record_beside(tmp_path / "link.yaml") == tmp_path / "link.allocations.yaml"
    os.mkfifo(tmp_path / "fifo.yaml")
    with open(spec) as opened:  # /dev/stdin < fleet.yaml: a regular file, reached through a descriptor
        descriptors = [f"/dev/fd/{opened.fileno()}", f"/proc/self/fd/{opened.fileno()}"]
        assert [record_beside(p) for p in descriptors] == [None, None]
    assert [record_beside(p) for p in (tmp_path / "fifo.yaml", "/dev/null", tmp_path, tmp_path / "nope")] == [
        None, None, None, None]


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no /dev/shm here")
def test_a_spec_in_dev_shm_has_its_record_beside_it():
    """/dev/shm holds ordinary files (a CI workspace in memory): a spec there is built as anywhere else."""
    with tempfile.TemporaryDirectory(dir="/dev/shm") as directory:
        spec = write_spec(Path(directory), SPEC)
        assert record_beside(spec) == Path(directory) / "fleet.allocations.yaml"
        assert main(["build", str(spec), "--out", str(Path(directory) / "out")]) == 0
        assert (Path(directory) / "fleet.allocations.yaml").is_file()


def test_a_python_fleet_takes_its_record_path_as_a_str(tmp_path):
    fleet = tfgen.loads(SPEC, filename="fleet.yaml")
    fleet.allocations_file = str(tmp_path / "dev.allocations.yaml")
    tfgen.build(fleet, out=str(tmp_path / "out"))
    assert "us-east-2/edge: 10.1.0.0/16" in (tmp_path / "dev.allocations.yaml").read_text()
    fleet.allocations_file = 42
    assert [f.code for f in tfgen.validate(fleet)] == ["VAL100"]
