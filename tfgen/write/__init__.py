"""Write generated files into an output directory, owning only what tfgen wrote.

A manifest (`.tfgen-manifest.json`) lists the files of the last build; a
manifest that names anything but `<root>/<file>.tf.json` paths is a tampered
manifest and stops the build before anything is touched (exit 2). Every file
below OUT is reached through `O_NOFOLLOW` directory descriptors, so nothing is
written, renamed or removed through a symbolic link (`tree`).

A build holds an exclusive `flock` on `OUT/.tfgen.lock` while it compares,
stages and swaps, so two builds into one OUT run one after the other, the
second waiting up to `LOCK_WAIT` seconds (`lock`).

A build is all or nothing, even when killed: it writes a journal before it
changes anything, stages every new file (and the allocations record beside the
spec, swapped first, so the CIDRs an output uses are always recorded) next to
its target, renames them into place keeping each old file as a backup, and
commits by renaming the journal (`transaction`). A failure or Ctrl-C undoes it
on the spot; a kill is finished or undone by the next build, under the lock,
before it reads the manifest (`journal`).

The manifest also records the build's graph of roots (`roots`: root -> the
roots it needs), swapped with the files, so a reader of OUT (the orchestrator,
`tfgen ci`) sees the graph of exactly the files present (`read_roots`), and the
record of the fleet (`fleet`, `tfgen.lifecycle.record`) the next build compares
against (`read_previous`). What an apply settles of a retirement is written into
that record alone, under the same lock (`update_fleet`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .lock import LOCK, locked
from .journal import COMMITTED, JOURNAL, recover
from .journal import recover as recover_journal
from .transaction import replace_file, swap
from .transaction import _put, _stage, _sync
from .tree import _FILE, MANIFEST, _clean_staging, _kind, _manifest, _Out, graph_problem, owned_path, render_manifest
from ..errors import OutputConflictError, TfgenError

__all__ = ["MANIFEST", "LOCK", "LOCK_WAIT", "Changes", "Previous", "owned_path", "diff_output", "write_output",
           "read_roots", "read_previous", "read_waves", "update_fleet", "replace_file"]

LOCK_WAIT = 30.0


@dataclass
class Changes:
    """How an output directory differs from the files a build produces."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # *.tf.json beside tfgen's that tfgen does not own
    pending: list[str] = field(default_factory=list)  # the journal of an interrupted build (only when checking)

    @property
    def stale(self) -> list[str]:
        return sorted(
            [f"added   {p}" for p in self.added]
            + [f"changed {p}" for p in self.changed]
            + [f"removed {p}" for p in self.removed]
            + [f"pending {p} (an interrupted build: build again to finish or undo it)" for p in self.pending],
            key=lambda line: line[8:],
        )


def _check_names(files: dict[str, bytes]) -> None:
    wrong = sorted(rel for rel in files if not owned_path(rel))
    if wrong:
        raise TfgenError(f"tfgen would write {', '.join(wrong)}, outside the `<root>/<file>.tf.json` paths it owns; "
                         f"this is a bug in tfgen, please report it")


def _diff(files: dict[str, bytes], manifest: bytes, out: _Out, owned: set[str]) -> Changes:
    changes = Changes()
    for rel, content in sorted({**files, MANIFEST: manifest}.items()):
        present = out.read(rel)
        if present is None:
            changes.added.append(rel)
        elif present != content:
            if rel not in owned and rel != MANIFEST:
                raise OutputConflictError(
                    f"{out.shown(rel)} exists and was not written by tfgen; move it away or build into another --out"
                )
            changes.changed.append(rel)
        else:
            changes.unchanged.append(rel)
    changes.removed = sorted(rel for rel in owned - set(files) if out.read(rel) is not None)
    roots = sorted({rel.split("/")[0] for rel in files})
    changes.foreign = sorted(
        f"{root}/{name}" for root in roots for name in out.listing(root)
        if name.endswith(".tf.json") and not name.endswith("_override.tf.json")
        and f"{root}/{name}" not in files and f"{root}/{name}" not in owned
        and _kind(name, out.root(root)) == "file"
    )
    return changes


def _check_graph(files: dict[str, bytes], roots: dict[str, list[str]] | None, fleet: dict | None = None,
                 waves: dict | None = None) -> bytes:
    """The manifest of `files`, `roots`, the `fleet` record and the rollout's `waves`, after checking that the
    graph is one of their roots."""
    problem = None if roots is None else graph_problem(roots, files)
    if problem:
        raise TfgenError(f"tfgen would record a graph of roots that is wrong ({problem}); this is a bug in tfgen, "
                         f"please report it")
    return _manifest(files, roots, fleet, waves)


def diff_output(files: dict[str, bytes], out: str | Path, *, roots: dict[str, list[str]] | None = None,
                fleet: dict | None = None, waves: dict | None = None) -> Changes:
    """Compare `files` (relative path -> bytes), the graph `roots`, the `fleet` record and the rollout's `waves`
    with what `out` holds; writes nothing."""
    _check_names(files)
    manifest = _check_graph(files, roots, fleet, waves)
    handle = _Out(Path(out), create=False)
    try:
        changes = _diff(files, manifest, handle, handle.owned())
        changes.pending = [name for name in (JOURNAL, COMMITTED) if handle.fd is not None
                           and _kind(name, handle.fd) is not None]
        return changes
    finally:
        handle.close()


def write_output(files: dict[str, bytes], out: str | Path, *, record: tuple[Path, bytes] | None = None,
                 roots: dict[str, list[str]] | None = None, fleet: dict | None = None,
                 waves: dict | None = None) -> Changes:
    """Make `out` hold exactly `files` among the files tfgen owns there, all or nothing.

    `record` is a file outside `out` (the allocations file) swapped in the same
    transaction, before the output, so the output never uses what is not recorded.
    `roots` (root -> the roots it needs), the `fleet` record and the rollout's `waves` go into the manifest with
    the files.
    """
    _check_names(files)
    manifest = _check_graph(files, roots, fleet, waves)
    try:
        handle = _Out(Path(out), create=True)
    except OSError as exc:
        raise _cannot(Path(out), exc) from None
    try:
        with locked(handle, LOCK_WAIT):
            recover(handle)
            _adopt_legacy_manifest(handle)
            owned = handle.owned()
            roots = sorted({rel.split("/")[0] for rel in owned | set(files)})
            _clean_staging(handle.fd, lambda name: name == MANIFEST)
            for root in roots:
                _clean_staging(handle.root(root), _FILE.fullmatch)
            changes = _diff(files, manifest, handle, owned)
            swap(files, manifest, handle, changes, record)
    except BaseException as exc:
        handle.close()
        if handle.made_out:
            try:
                handle.path.rmdir()
            except OSError:
                pass
        if isinstance(exc, OSError):  # while recovering or cleaning up: the swap reports its own
            raise _cannot(handle.path, exc) from None
        raise
    handle.close()
    return changes


def read_roots(out: str | Path) -> dict[str, list[str]] | None:
    """The graph of roots the manifest in `out` records (None when there is no manifest, or it has no graph).

    The manifest is checked as a build checks it; a tampered one raises `TfgenError` (exit 2).
    """
    handle = _Out(Path(out), create=False)
    try:
        return handle.manifest()[1] if handle.fd is not None else None
    finally:
        handle.close()



def read_waves(out: str | Path) -> dict | None:
    """The rollout's waves the manifest in `out` records (`tfgen.derive.waves`); None when it records none."""
    handle = _Out(Path(out), create=False)
    try:
        if handle.fd is None:
            return None
        waves = handle.body().get("waves")  # checked as a build checks it
        return waves if isinstance(waves, dict) else None
    finally:
        handle.close()


@dataclass(frozen=True)
class Previous:
    """The build OUT holds, as its manifest records it: its files, its graph of roots, its fleet record."""

    files: frozenset[str]
    roots: dict[str, list[str]] | None
    fleet: dict | None
    pending: bool = False  # an interrupted build's journal is there (read as it is, not recovered)


def read_previous(out: str | Path, *, recover: bool = False) -> Previous | None:
    """The build `out` holds (None when there is none: no directory, no manifest).

    With `recover` (a build, which is about to write anyway) an interrupted build is finished or undone first,
    under the build lock; otherwise the manifest is read as it is and `pending` says so."""
    handle = _Out(Path(out), create=False)
    try:
        if handle.fd is None:
            return None
        if recover:
            with locked(handle, LOCK_WAIT):
                recover_journal(handle)
                _adopt_legacy_manifest(handle)
                return _previous(handle)
        previous = _previous(handle)
        pending = any(_kind(name, handle.fd) is not None for name in (JOURNAL, COMMITTED))
        return Previous(previous.files, previous.roots, previous.fleet, True) if previous and pending else previous
    except OSError as exc:
        raise _cannot(Path(out), exc) from None
    finally:
        handle.close()


def _previous(handle: _Out) -> Previous | None:
    files, roots = handle.manifest()
    if not files:
        return None
    fleet = handle.body().get("fleet")
    return Previous(frozenset(files), roots, fleet if isinstance(fleet, dict) else None)


def update_fleet(out: str | Path, change) -> bool:
    """Rewrite the `fleet` record of `out`'s manifest as `change(record)` returns it (None: leave it), under
    the build lock, in one rename; whether it changed. Nothing else of the manifest or OUT is touched."""
    handle = _Out(Path(out), create=False)
    if handle.fd is None:
        return False
    try:
        with locked(handle, LOCK_WAIT):
            recover_journal(handle)
            body = handle.body()
            if not body:
                return False
            new = change(body.get("fleet"))
            if new is None or new == body.get("fleet"):
                return False
            body["fleet"] = new
            _stage(handle.fd, MANIFEST, render_manifest(body), handle.shown(MANIFEST))
            _put(handle.fd, MANIFEST, handle.shown(MANIFEST))
            _unlink_backup(handle)
            _sync(handle.fd)
            return True
    except OSError as exc:
        raise _cannot(Path(out), exc) from None
    finally:
        handle.close()


def _unlink_backup(handle: _Out) -> None:
    try:
        os.unlink(f".{MANIFEST}.tfgen-old", dir_fd=handle.fd)
    except FileNotFoundError:
        pass


def _cannot(out: Path, exc: OSError) -> TfgenError:
    where = f" {exc.filename}" if isinstance(exc.filename, str) else ""
    return TfgenError(f"{out}: cannot prepare the build ({exc.strerror or exc}{where and ':' + where}); make {out} "
                      f"and its directories writable, then build again")


def _adopt_legacy_manifest(out: _Out) -> None:
    """Take back the manifest a build of an earlier tfgen (with no journal) left aside when it was killed."""
    if _kind(MANIFEST, out.fd) is not None:
        return
    for tag in ("pending", "old"):  # the pending manifest lists the old files and the new ones
        aside = f".{MANIFEST}.tfgen-{tag}"
        if _kind(aside, out.fd) == "file":
            os.rename(aside, MANIFEST, src_dir_fd=out.fd, dst_dir_fd=out.fd)
            return
