"""A build killed, failing or interrupted at any instant leaves nothing of the user's lost, and the next converges.

The writer's file-system operations (rename, replace, link, unlink, rmdir,
mkdir and every open that creates a file) are counted in a dry run of each scenario, and
for every N a forked build dies with `os._exit` right after its Nth operation:
no `finally`, no rollback, descriptors and the lock released by the kernel, as
with SIGKILL. In-process, the Nth operation instead fails (an I/O error) or
is interrupted (Ctrl-C), and the build must put the old output back itself. A
new operation added to the writer is one more N, covered without touching this
file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest

from tfgen.errors import TfgenError
from tfgen.write import MANIFEST, write_output
from tfgen.write.journal import COMMITTED, JOURNAL

KILLED = 86
_LEFTOVER = re.compile(r".*\.(tfgen-new|tfgen-old|tfgen-pending)$|\.tfgen-(journal|committed)(\..*)?|\.tfgen\.lock")


def _tf(name, version):
    return (json.dumps({"generated": name, "version": version}, indent=2) + "\n").encode()


OLD = {"app/main.tf.json": _tf("main", 1), "app/old.tf.json": _tf("old", 1), "gone/x.tf.json": _tf("x", 1),
       "gone/y.tf.json": _tf("y", 1), "keep/k.tf.json": _tf("k", 1)}
# changes app/main, adds app/added and the root fresh/, removes app/old and the whole root gone/, keeps keep/k
NEW = {"app/main.tf.json": _tf("main", 2), "app/added.tf.json": _tf("added", 2), "fresh/z.tf.json": _tf("z", 2),
       "keep/k.tf.json": _tf("k", 1)}
# another spec built into the same directory next
OTHER = {"app/main.tf.json": _tf("main", 3), "gone/x.tf.json": _tf("x", 3), "other/w.tf.json": _tf("w", 3)}
RECORD_OLD, RECORD_NEW = b"dev:\n  us-east-2/edge: 10.1.0.0/16\n", b"dev:\n  us-east-2/edge: 10.2.0.0/16\n"
# name -> (the output before the build: None for no directory, the record before it: None for none, a new record?)
SCENARIOS = {
    "no-record": (OLD, None, False),
    "record-changed": (OLD, RECORD_OLD, True),
    "record-added": (OLD, None, True),
    "first-build": (None, None, True),
}
USER = {"notes.txt": b"mine\n", "app/mine.tf": b"# mine\n", "app/.terraform/marker": b"x",
        "keep/terraform.tfstate": b"{}", "keep/.terraform.lock.hcl": b"lock"}


def _setup(tmp: Path, scenario: str) -> tuple[Path, Path]:
    before, record_before, _ = SCENARIOS[scenario]
    out, record = tmp / "out", tmp / "spec" / "fleet.allocations.yaml"
    record.parent.mkdir(parents=True)
    (record.parent / "fleet.yaml").write_bytes(b"project: demo\n")
    if record_before is not None:
        record.write_bytes(record_before)
    if before is not None:
        write_output(before, out)
        for rel, content in USER.items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(content)
    return out, record


def _build(scenario: str, out: Path, record: Path) -> None:
    write_output(NEW, out, record=(record, RECORD_NEW) if SCENARIOS[scenario][2] else None)


@contextmanager
def _watched(after, before=None):
    """Call `before(operation)` ahead of each writing file-system operation, `after(operation)` once it ran."""
    real = {name: getattr(os, name) for name in (
        "rename", "replace", "link", "unlink", "remove", "rmdir", "mkdir", "open")}

    def wrap(name):
        def operation(*args, **kwargs):
            flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
            watched = name != "open" or flags & os.O_CREAT
            if watched and before is not None:
                before(f"{name} {args[0]}")
            try:
                return real[name](*args, **kwargs)
            finally:
                if watched:
                    after(f"{name} {args[0]}")
        return operation

    for name in real:
        setattr(os, name, wrap(name))
    try:
        yield
    finally:
        for name, function in real.items():
            setattr(os, name, function)


def _operations(scenario: str) -> list[str]:
    """The operations a build of `scenario` makes, in order (a dry run)."""
    seen: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        out, record = _setup(Path(tmp), scenario)
        with _watched(seen.append):
            _build(scenario, out, record)
    return seen


def _killed_after(n: int, build) -> int:
    """Run `build` in a forked child that dies right after its nth operation; the child's exit code."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns into pytest
        try:
            count = 0

            def after(_operation):
                nonlocal count
                count += 1
                if count == n:
                    os._exit(KILLED)

            with _watched(after):
                build()
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _tfgen_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.tf.json")}


def _leftovers(*directories: Path) -> list[str]:
    return sorted(str(p) for d in directories if d.exists() for p in d.rglob("*") if _LEFTOVER.fullmatch(p.name))


def _assert_converged(out: Path, files: dict[str, bytes], record: Path, scenario: str) -> None:
    assert _tfgen_files(out) == files
    assert json.loads((out / MANIFEST).read_bytes())["files"] == sorted(files)
    assert _leftovers(out, record.parent) == []
    if SCENARIOS[scenario][0] is not None:
        assert {rel: (out / rel).read_bytes() for rel in USER} == USER, "a user's file was lost"
    roots = {p.name for p in out.iterdir() if p.is_dir()}
    assert roots == {rel.split("/")[0] for rel in files} | ({"app", "keep"} if SCENARIOS[scenario][0] else set()), \
        "a root directory was left behind, or one was removed with a user's file in it"


OPERATIONS = {scenario: _operations(scenario) for scenario in SCENARIOS}
# Every operation of every scenario runs in the full suite; the fast tier runs every tenth, and the
# first and last of each scenario, so it still crosses every phase (journal, swap, commit, cleanup).
KILLS = [pytest.param(scenario, n, operation, marks=() if n % 10 == 0 or n in (1, len(operations)) else
                      pytest.mark.slow) for scenario, operations in OPERATIONS.items()
         for n, operation in enumerate(operations, start=1)]


def test_the_dry_run_sees_every_kind_of_operation():
    """Guards the tests below: a dry run that saw nothing would leave them with no case to run."""
    kinds = {case.values[2].split()[0] for case in KILLS}
    assert {"rename", "link", "unlink", "rmdir", "mkdir", "open"} <= kinds, kinds
    assert len(KILLS) > 4 * 20


@pytest.mark.parametrize("next_build", ["same", "other"])
@pytest.mark.parametrize(("scenario", "n", "operation"), KILLS,
                         ids=[f"{c.values[0]}-{c.values[1]}-{c.values[2].split()[0]}" for c in KILLS])
def test_a_build_killed_after_any_operation_is_recovered_by_the_next(tmp_path, scenario, n, operation, next_build):
    out, record = _setup(tmp_path, scenario)
    before, record_before, writes_record = SCENARIOS[scenario]
    before = before or {}
    assert _killed_after(n, lambda: _build(scenario, out, record)) == KILLED, f"not killed after {operation}"

    # Killed: every file tfgen owns is the old version or the new one, and the user's files are all there.
    # A changed file is never missing, a removed one is there or not, an added one is new or not there yet.
    for rel in set(before) | set(NEW):
        present = (out / rel).read_bytes() if (out / rel).exists() else None
        assert present in (before.get(rel), NEW.get(rel)), f"{rel} is neither version after a kill at {operation}"
    assert (record.read_bytes() if record.exists() else None) in (record_before, RECORD_NEW if writes_record else None)
    assert set(_tfgen_files(out)) <= set(before) | set(NEW)
    if SCENARIOS[scenario][0] is not None:
        assert {rel: (out / rel).read_bytes() for rel in USER} == USER
    committed, pending = (out / COMMITTED).exists(), (out / JOURNAL).exists()

    if next_build == "same":
        _build(scenario, out, record)
        _assert_converged(out, NEW, record, scenario)
        if writes_record:
            assert record.read_bytes() == RECORD_NEW
    else:
        write_output(OTHER, out)
        _assert_converged(out, OTHER, record, scenario)
        present = record.read_bytes() if record.exists() else None
        if not writes_record:
            assert present == record_before
        elif committed:
            assert present == RECORD_NEW, "a committed build's record was put back"
        elif pending:
            assert present == record_before, "an interrupted build's record was kept without its output"


# The full suite kills the recovering build at each of its steps; the fast tier at every third (1, 4, 7, ...:
# in the rollback, in the new build's staging, swap and clean-up), and after its last, where it finishes.
@pytest.mark.parametrize("stride", [pytest.param(3, id="every-third-step"),
                                    pytest.param(1, id="every-step", marks=pytest.mark.slow)])
def test_a_build_killed_while_it_recovers_is_recovered_by_the_one_after(tmp_path, stride):
    """Recovery is idempotent: kill the first build half-way, then the recovering one at each of its steps."""
    scenario = "record-changed"
    n = next(n for s, n, operation in (c.values for c in KILLS)
             if s == scenario and operation.startswith("rename") and "main" in operation)
    for m in range(1, 200, stride):
        case = tmp_path / str(m)
        out, record = _setup(case, scenario)
        assert _killed_after(n, lambda: _build(scenario, out, record)) == KILLED
        assert (out / JOURNAL).exists()
        status = _killed_after(m, lambda: write_output(OTHER, out))
        write_output(OTHER, out)
        _assert_converged(out, OTHER, record, scenario)
        assert record.read_bytes() == RECORD_OLD, f"killed recovery at step {m} did not put the record back"
        if status == 0:
            break
        assert status == KILLED
    else:
        pytest.fail("the recovering build never finished")


def _snapshot(*directories: Path) -> dict[str, bytes | None]:
    return {str(p): p.read_bytes() if p.is_file() else None for d in directories if d.exists()
            for p in sorted(d.rglob("*")) if p.name != ".tfgen.lock"}


@pytest.mark.parametrize("error", [OSError(5, "Input/output error"), KeyboardInterrupt()], ids=["io-error", "ctrl-c"])
@pytest.mark.parametrize(("scenario", "n", "operation"), KILLS,
                         ids=[f"{c.values[0]}-{c.values[1]}-{c.values[2].split()[0]}" for c in KILLS])
def test_a_build_failing_at_any_operation_puts_the_old_output_back_or_completes(tmp_path, scenario, n, operation,
                                                                                error):
    out, record = _setup(tmp_path, scenario)
    before = _snapshot(tmp_path)
    count = 0

    def fail(_operation):
        nonlocal count
        count += 1
        if count == n:
            raise error

    with _watched(lambda _operation: None, before=fail):
        try:
            _build(scenario, out, record)
            raised = None
        except (TfgenError, KeyboardInterrupt) as exc:
            raised = exc
    assert count >= n, f"{operation} was not reached"
    if raised is not None and n <= OPERATIONS[scenario].index(f"rename {JOURNAL}") + 1:  # before the commit
        assert _snapshot(tmp_path) == before, f"a failure at {operation} did not put everything back"
    else:  # a failure the writer works around (a link refused: it renames), or clean-up the next build finishes
        assert _tfgen_files(out) == NEW
    if isinstance(raised, TfgenError):
        assert ".tfgen-new" not in str(raised) and ".tfgen-old" not in str(raised), raised
    _build(scenario, out, record)
    _assert_converged(out, NEW, record, scenario)
