"""The writer owns only its files: deterministic, atomic, stale files removed, the rest untouched."""

from __future__ import annotations

import json

import pytest

import tfgen
from tfgen.cli import main
from tfgen.write import MANIFEST
from tests.conftest import EXAMPLE


def _snapshot(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_rebuild_is_byte_identical_and_rewrites_nothing(tmp_path):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(EXAMPLE), out)
    first = _snapshot(out)
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.json")}
    result = tfgen.build(tfgen.load(EXAMPLE), out)
    assert _snapshot(out) == first
    assert not (result.changes.added or result.changes.changed or result.changes.removed)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.json")} == mtimes


def test_files_end_with_newline_and_are_sorted_json(example_out):
    for path in example_out.rglob("*.json"):
        text = path.read_text()
        assert text.endswith("}\n"), path
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n", path


def test_removed_environment_files_go_and_terraform_state_stays(tmp_path):
    out = tmp_path / "out"
    fleet = tfgen.load(EXAMPLE)
    tfgen.build(fleet, out)
    prod = out / "production"
    (prod / ".terraform").mkdir()
    (prod / ".terraform" / "marker").write_text("x")
    (prod / ".terraform.lock.hcl").write_text("lock")
    (prod / "terraform.tfstate").write_text("{}")
    (out / "development" / "mine.tf").write_text("# user's own")
    del fleet.environments["production"]
    result = tfgen.build(fleet, out, allow_destroy=["production"])
    assert "production/network.tf.json" in result.changes.removed
    assert not (prod / "network.tf.json").exists()
    # a retiring root until its retirement is applied: its settings and providers, which destroy what it holds
    assert sorted(p.name for p in prod.glob("*.tf.json")) == ["providers.tf.json", "terraform.tf.json"]
    assert (prod / ".terraform" / "marker").read_text() == "x"
    assert (prod / ".terraform.lock.hcl").read_text() == "lock"
    assert (prod / "terraform.tfstate").read_text() == "{}"
    assert (out / "development" / "mine.tf").read_text() == "# user's own"
    result = tfgen.build(fleet, out, retired=["production"])
    assert sorted(result.changes.removed) == ["production/providers.tf.json", "production/terraform.tf.json"]
    assert (prod / "terraform.tfstate").read_text() == "{}"
    assert json.loads((out / MANIFEST).read_text())["files"] == sorted(
        f"{root}/{p.name}" for root in ("_state", "development") for p in (out / root).glob("*.tf.json"))


def test_failed_build_writes_nothing(tmp_path):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(EXAMPLE), out)
    before = _snapshot(out)
    fleet = tfgen.load(EXAMPLE)
    fleet.environment("development").add_region("us-west-1", cidr="10.10.0.0/16")  # overlaps the hub
    with pytest.raises(tfgen.FindingsError) as error:
        tfgen.build(fleet, out)
    assert any(f.code == "NET211" for f in error.value.findings)
    assert _snapshot(out) == before


def test_a_file_tfgen_does_not_own_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "development").mkdir(parents=True)
    (out / "development" / "network.tf.json").write_text('{"hand": "written"}\n')
    status = main(["build", str(EXAMPLE), "--out", str(out)])
    assert status == 2
    assert "was not written by tfgen" in capsys.readouterr().err
    assert (out / "development" / "network.tf.json").read_text() == '{"hand": "written"}\n'
    assert not (out / "production").exists()


def test_check_reports_stale_files_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 0
    assert main(["build", str(EXAMPLE), "--out", str(out), "--check"]) == 0
    network = out / "development" / "network.tf.json"
    network.write_text(network.read_text().replace("10.11.0.0/16", "10.99.0.0/16"))
    (out / "production" / "outputs.tf.json").unlink()
    before = _snapshot(out)
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert "changed development/network.tf.json" in err
    assert "added   production/outputs.tf.json" in err
    assert _snapshot(out) == before
