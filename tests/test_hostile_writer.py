"""The writer against a hostile or broken output directory: links committed inside
OUT, tampered manifests, concurrent builds, failures and kills part-way through.
Each case ends in exit 2 with nothing touched, or in a build the next one recovers."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import sys
import threading

import pytest

import tfgen
from tfgen import write
from tfgen.cli import main
from tfgen.write import LOCK, MANIFEST
from tests.conftest import EXAMPLE, POOL_SPEC, ROOT, write_spec


def _snapshot(path):
    return {str(p.relative_to(path)): (p.is_symlink(), p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(path.rglob("*"))}


def _built(tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 0
    return out


def _set_manifest(out, files):
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"] = files
    (out / MANIFEST).write_text(json.dumps(manifest))


def _leftovers(out):
    return sorted(str(p.relative_to(out)) for p in out.rglob(".*") if p.name not in (MANIFEST,))


@pytest.mark.parametrize("absolute", [False, True])
def test_a_manifest_entry_through_a_symlinked_root_deletes_nothing_outside(tmp_path, capsys, absolute):
    out = _built(tmp_path)
    victim = tmp_path / "repo"
    (victim / ".git").mkdir(parents=True)
    (victim / "main.tf.json").write_text("{}\n")
    (victim / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    os.symlink(victim if absolute else os.path.relpath(victim, out), out / "vendored")
    manifest = json.loads((out / MANIFEST).read_text())
    _set_manifest(out, manifest["files"] + ["vendored/main.tf.json"])
    before = _snapshot(tmp_path)
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'vendored'} is a symbolic link" in err and "Traceback" not in err, err
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("entry", ["development/terraform.tfstate", "development/.terraform.lock.hcl",
                                   "development/mine.tf", "development/.terraform/x.tf.json", "../victim.tf.json",
                                   "/etc/passwd", ".git/config", "production", 7])
def test_a_manifest_naming_what_tfgen_does_not_produce_is_refused_and_nothing_touched(tmp_path, capsys, entry):
    out = _built(tmp_path)
    (out / "development" / ".terraform").mkdir()
    for name in ("terraform.tfstate", ".terraform.lock.hcl", "mine.tf", ".terraform/x.tf.json"):
        (out / "development" / name).write_text("keep")
    manifest = json.loads((out / MANIFEST).read_text())
    _set_manifest(out, manifest["files"] + [entry])
    before = _snapshot(tmp_path)
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out / MANIFEST} is not a manifest tfgen wrote" in err and "restore the manifest" in err, err
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("files", ["ed", {"development/network.tf.json": 1}, None,
                                   ["development/network.tf.json", "development/network.tf.json"]])
def test_a_manifest_whose_files_are_not_a_list_of_paths_is_refused(tmp_path, capsys, files):
    out = _built(tmp_path)
    (out / "e").write_text("keep")
    (out / "d").write_text("keep")
    _set_manifest(out, files)
    before = _snapshot(tmp_path)
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    assert main(["build", str(EXAMPLE), "--out", str(out), "--check"]) == 2
    assert "is not a manifest tfgen wrote" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before


def test_writes_never_follow_a_symlinked_environment_directory(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(elsewhere, out / "development")
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    assert "development is a symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["development"], "something was written"


def test_a_generated_file_replaced_by_a_symlink_is_refused(tmp_path, capsys):
    out = _built(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (out / "development" / "network.tf.json").unlink()
    os.symlink(victim, out / "development" / "network.tf.json")
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    assert "network.tf.json is a symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "keep"


def test_a_second_build_waits_for_the_lock_and_then_fails_with_a_clear_message(tmp_path, capsys, monkeypatch):
    out = _built(tmp_path)
    monkeypatch.setattr(write, "LOCK_WAIT", 0.3)
    holder = os.open(out / LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        capsys.readouterr()
        assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "another tfgen build has been writing" in err and str(out / LOCK) in err, err
    finally:
        os.close(holder)
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 0
    assert not (out / LOCK).exists()


def test_concurrent_builds_of_two_specs_leave_one_owned_output(tmp_path):
    out = tmp_path / "out"
    specs = [EXAMPLE, ROOT / "examples" / "mesh.yaml"]
    for _ in range(4):
        errors = []

        def run(spec):
            try:
                tfgen.build(tfgen.load(spec), out)
            except tfgen.FindingsError as refused:  # the other spec's environments would be orphaned: refused
                assert {f.code for f in refused.findings} == {"CHG502"}, refused
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(spec,)) for spec in specs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        owned = set(json.loads((out / MANIFEST).read_text())["files"])
        present = {str(p.relative_to(out)) for p in out.rglob("*.tf.json")}
        assert present == owned, f"unowned: {sorted(present - owned)}, missing: {sorted(owned - present)}"


def _changed_fleet():
    fleet = tfgen.load(EXAMPLE)
    fleet.environment("development").add_region("eu-west-1", cidr="10.13.0.0/16")
    fleet.environment("production").remove_region("us-west-2")
    return fleet


RETIRE = ["production/us-west-2"]  # the removed region, named as a build that removes it must name it

def _failing_rename(monkeypatch, name, error):
    real = os.rename

    def rename(src, dst, **kwargs):
        if dst == name and src.endswith(".tfgen-new"):  # the swap, not its rollback
            raise error
        return real(src, dst, **kwargs)

    monkeypatch.setattr(os, "rename", rename)


def test_a_file_that_cannot_be_replaced_leaves_the_old_output_whole(tmp_path, monkeypatch):
    out = _built(tmp_path)
    before = _snapshot(out)
    _failing_rename(monkeypatch, "peering.tf.json", OSError(errno.EBUSY, "Device or resource busy"))
    with pytest.raises(tfgen.TfgenError) as error:
        tfgen.build(_changed_fleet(), out, allow_destroy=RETIRE)
    assert "peering.tf.json: cannot replace it (Device or resource busy)" in str(error.value)
    assert "tfgen-" not in str(error.value) and ".tmp" not in str(error.value)
    assert _snapshot(out) == before


def test_a_full_disk_while_staging_leaves_the_old_output_whole(tmp_path, monkeypatch):
    out = _built(tmp_path)
    before = _snapshot(out)
    real, calls = os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(tfgen.TfgenError) as error:
        tfgen.build(_changed_fleet(), out, allow_destroy=RETIRE)
    assert "cannot write it (No space left on device)" in str(error.value)
    assert str(out) in str(error.value) and "tfgen-new" not in str(error.value)
    assert _snapshot(out) == before


def test_an_interrupt_part_way_leaves_the_old_output_and_no_temporary_files(tmp_path, monkeypatch):
    out = _built(tmp_path)
    before = _snapshot(out)
    _failing_rename(monkeypatch, "outputs.tf.json", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        tfgen.build(_changed_fleet(), out, allow_destroy=RETIRE)
    assert _snapshot(out) == before
    assert _leftovers(out) == []


def test_an_allocations_file_that_cannot_be_written_stops_the_build_before_the_output(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, POOL_SPEC)
    out = tmp_path / "out"
    _failing_rename(monkeypatch, "fleet.allocations.yaml", OSError(errno.EROFS, "Read-only file system"))
    with pytest.raises(tfgen.TfgenError) as error:
        tfgen.build(tfgen.load(spec), out)
    assert f"{tmp_path / 'fleet.allocations.yaml'}: cannot replace it (Read-only file system)" in str(error.value)
    assert not out.exists(), "output was written without its allocations record"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]


_KILL = """
import os, sys
import tfgen
real, seen = os.rename, []
def rename(src, dst, **kwargs):
    seen.append(dst)
    if len(seen) == int(sys.argv[2]):
        os._exit(9)
    return real(src, dst, **kwargs)
os.rename = rename
fleet = tfgen.load(sys.argv[3])
fleet.environment("development").add_region("eu-west-1", cidr="10.13.0.0/16")
fleet.environment("production").remove_region("us-west-2")
tfgen.build(fleet, sys.argv[1], allow_destroy=["production/us-west-2"])
"""


@pytest.mark.parametrize("renames", [1, 2, 5, 9])
def test_a_build_killed_mid_swap_is_recovered_by_the_next(tmp_path, capsys, renames):
    out = _built(tmp_path)
    killed = subprocess.run([sys.executable, "-c", _KILL, str(out), str(renames), str(EXAMPLE)],
                            cwd=ROOT, capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    owned = set(json.loads((out / MANIFEST).read_text())["files"])
    present = {str(p.relative_to(out)) for p in out.rglob("*.tf.json")}
    assert present <= owned, f"files no manifest lists: {sorted(present - owned)}"
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 0, capsys.readouterr().err
    assert main(["build", str(EXAMPLE), "--out", str(out), "--check"]) == 0
    assert _leftovers(out) == []


def test_staging_files_of_earlier_versions_are_cleaned_and_user_dotfiles_kept(tmp_path):
    out = _built(tmp_path)
    dev = out / "development"
    for name in (".network.tf.json.k2j4_9ab.tmp", ".iam.tf.json.tfgen-new", f".{MANIFEST}.abcdefgh.tmp"):
        (out / name if MANIFEST in name else dev / name).write_bytes(b"")
    (dev / ".envrc").write_text("mine")
    (dev / ".notes.tmp").write_text("mine")
    tfgen.build(tfgen.load(EXAMPLE), out)
    assert _leftovers(out) == ["development/.envrc", "development/.notes.tmp"]


def test_written_files_respect_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        out = tmp_path / "out"
        tfgen.build(tfgen.load(EXAMPLE), out)
    finally:
        os.umask(old)
    modes = {oct(p.stat().st_mode & 0o777) for p in out.rglob("*.json")}
    assert modes == {oct(0o640)}, modes


def test_a_file_tfgen_removes_in_the_same_run_is_not_called_foreign(tmp_path, capsys):
    out = _built(tmp_path)
    (out / "development" / "retired.tf.json").write_text("{}\n")
    manifest = json.loads((out / MANIFEST).read_text())
    _set_manifest(out, manifest["files"] + ["development/retired.tf.json"])
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "not tfgen's" not in captured.err and "1 removed" in captured.out, captured
    assert not (out / "development" / "retired.tf.json").exists()


def _graph_with_cluster_named(name):
    from tfgen.pipeline import prepare
    from tfgen.checks.topology import build_graph

    graph = build_graph(prepare(tfgen.load(EXAMPLE)).fleet.environment("production"))
    graph.nodes["production/us-east-2/edge"]["cluster"] = name
    return graph


_INJECTION = 'x"]\n  click production_us_east_1_hub href "javascript:alert(1)"\n  %%{init: {}}%%\n  a["<img src=x>'


def test_mermaid_labels_cannot_add_a_click_link_or_directive():
    from tfgen.diagram import to_mermaid

    text = to_mermaid([_graph_with_cluster_named(_INJECTION)])
    lines = text.splitlines()
    assert not any(line.lstrip().startswith(("click", "%%", 'a["')) for line in lines), text
    edge = next(line for line in lines if line.lstrip().startswith("production_us_east_2_edge["))
    assert edge.count('"') == 2 and edge.endswith('"]') and "<img" not in edge, edge


def test_dot_labels_stay_inside_their_string():
    from tfgen.diagram import to_dot

    text = to_dot([_graph_with_cluster_named('e" URL="javascript:alert(1)" x="\\')])
    node = next(line for line in text.splitlines() if line.lstrip().startswith('"production/us-east-2/edge"'))
    assert 'label="e\\" URL=\\"javascript:alert(1)\\" x=\\"\\\\ (edge)\\n10.21.0.0/16", shape=box' in node, node


def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path, capsys):
    out = _built(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    os.symlink(victim, out / LOCK)
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out / LOCK}: cannot open the build lock" in err and "Traceback" not in err, err
    assert victim.read_text() == "keep" and (out / LOCK).is_symlink()


@pytest.mark.parametrize("shared", [True, False], ids=["link-to-a-shared-record", "dangling-link"])
def test_an_allocations_record_that_is_a_symlink_is_refused_and_its_target_untouched(tmp_path, capsys, shared):
    spec = write_spec(tmp_path, POOL_SPEC)
    target = tmp_path / "elsewhere" / "authorized_keys"
    target.parent.mkdir()
    if shared:
        target.write_text("dev:\n  us-east-1/hub: 10.0.0.0/16\n")  # a record tfgen reads, then must change
    os.symlink(target, tmp_path / "fleet.allocations.yaml")
    before = _snapshot(tmp_path)
    capsys.readouterr()
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'fleet.allocations.yaml'} is a symbolic link to {target}" in err, err
    assert "cp --remove-destination" in err and "Traceback" not in err, err
    after = _snapshot(tmp_path)
    assert after == before, "the link, its target or the output changed"


def test_a_journal_naming_what_tfgen_does_not_write_is_refused_and_nothing_touched(tmp_path, capsys):
    out = _built(tmp_path)
    (out / ".tfgen-journal").write_text(json.dumps({"files": {"../victim.tf.json": None}, "added": [],
                                                   "roots": [], "emptied": [], "record": None}))
    before = _snapshot(tmp_path)
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out / '.tfgen-journal'} is not a journal tfgen wrote" in err and "Traceback" not in err, err
    assert _snapshot(tmp_path) == before


def test_a_committed_journal_cannot_aim_the_undo_at_a_file_outside_out(tmp_path, capsys):
    """OUT is committed input: a crafted journal naming another file as an added record, with that
    file's real digest, must not get it deleted by the next build's undo."""
    import hashlib

    out = _built(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"somebody's notes\n")
    record = {"path": str(victim), "sha256": hashlib.sha256(victim.read_bytes()).hexdigest(), "added": True}
    (out / ".tfgen-journal").write_text(json.dumps({"files": {}, "added": [], "roots": [], "emptied": [],
                                                   "record": record}))
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 0, capsys.readouterr().err
    assert victim.read_bytes() == b"somebody's notes\n"
    assert not (out / ".tfgen-journal").exists()


def test_the_writer_knows_records_by_the_name_the_spec_gives_them():
    from tfgen.spec import allocations_path
    from tfgen.write.journal import RECORD_SUFFIX

    assert allocations_path("fleets/prod.yaml").name.endswith(RECORD_SUFFIX)


def test_check_reports_an_interrupted_build_and_the_next_build_recovers_it(tmp_path, capsys):
    out = _built(tmp_path)
    network = out / "development" / "network.tf.json"
    os.rename(network, out / "development" / ".network.tf.json.tfgen-old")  # killed after its first rename
    network.write_text("{}\n")
    (out / ".tfgen-journal").write_text(json.dumps({
        "files": {"development/network.tf.json": "0" * 64}, "added": [], "roots": [], "emptied": [], "record": None}))
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out), "--check"]) == 1
    assert "pending .tfgen-journal (an interrupted build" in capsys.readouterr().err
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 0
    assert "0 added, 0 changed, 0 removed" in capsys.readouterr().out, "the backup was not put back"
    assert _leftovers(out) == []


@pytest.mark.parametrize("aside", ["pending", "old"])
def test_a_manifest_an_earlier_version_left_aside_when_killed_is_taken_back(tmp_path, capsys, aside):
    out = _built(tmp_path)
    os.rename(out / MANIFEST, out / f".{MANIFEST}.tfgen-{aside}")
    capsys.readouterr()
    assert main(["build", str(EXAMPLE), "--out", str(out)]) == 0, capsys.readouterr().err
    assert (out / MANIFEST).exists() and _leftovers(out) == []
