"""Write generated files into an output directory, owning only what tfgen wrote.

A manifest (`.tfgen-manifest.json`) lists the files of the last build. The
manifest is committed with the output, so it is input like any other file and
is trusted only as far as it names paths tfgen itself produces:
`<root>/<file>.tf.json`, exactly two parts, the root a lower-case name. Any
other entry, or a manifest that is not a list of such paths, is a tampered
manifest and stops the build before anything is touched (exit 2).

Every file below OUT is reached through directory descriptors opened with
`O_NOFOLLOW`, so no write, rename, unlink or rmdir ever passes through a
symbolic link: a link committed inside OUT cannot point a rebuild at the
repository, `.git` or anything else outside OUT.

A build holds an exclusive `flock` on `OUT/.tfgen.lock` while it compares,
stages and swaps, so two builds into one OUT run one after the other. A second
build waits up to `LOCK_WAIT` seconds: builds that happen to overlap (make -j,
two CI steps, an editor hook) both succeed, last one wins, instead of one
failing for no reason of the user's; a holder stuck longer than that is a real
problem and the waiter stops with a message saying who holds the lock.

A build is all or nothing. Every new file (and the allocations record beside
the spec, which is swapped first, so the CIDRs an output uses are always
recorded) is staged as `.<name>.tfgen-new` next to its target before anything
is replaced; only then are targets renamed into place, each old file kept as
`.<name>.tfgen-old` until the whole swap has succeeded. Any failure or
interrupt rolls every rename back. When the swap adds files, the manifest is
first replaced by one listing old and new files, so even a build killed in
mid-swap leaves only files tfgen owns; the next build removes its staging
leftovers under the lock and converges.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .lock import LOCK, locked
from .transaction import _Swap, _swap
from .tree import _FILE, MANIFEST, _clean_staging, _manifest, _Out, _kind, owned_path
from ..errors import OutputConflictError, TfgenError

__all__ = ["MANIFEST", "LOCK", "LOCK_WAIT", "Changes", "owned_path", "diff_output", "write_output", "replace_file"]

LOCK_WAIT = 30.0


@dataclass
class Changes:
    """How an output directory differs from the files a build produces."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # *.tf.json beside tfgen's that tfgen does not own

    @property
    def stale(self) -> list[str]:
        return sorted(
            [f"added   {p}" for p in self.added]
            + [f"changed {p}" for p in self.changed]
            + [f"removed {p}" for p in self.removed],
            key=lambda line: line[8:],
        )


def _check_names(files: dict[str, bytes]) -> None:
    wrong = sorted(rel for rel in files if not owned_path(rel))
    if wrong:
        raise TfgenError(f"tfgen would write {', '.join(wrong)}, outside the `<root>/<file>.tf.json` paths it owns; "
                         f"this is a bug in tfgen, please report it")


def _diff(files: dict[str, bytes], out: _Out, owned: set[str]) -> Changes:
    changes = Changes()
    for rel, content in sorted({**files, MANIFEST: _manifest(files)}.items()):
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


def diff_output(files: dict[str, bytes], out: str | Path) -> Changes:
    """Compare `files` (relative path -> bytes) with what `out` holds; writes nothing."""
    _check_names(files)
    handle = _Out(Path(out), create=False)
    try:
        return _diff(files, handle, handle.owned())
    finally:
        handle.close()


def write_output(files: dict[str, bytes], out: str | Path, *, record: tuple[Path, bytes] | None = None) -> Changes:
    """Make `out` hold exactly `files` among the files tfgen owns there, all or nothing.

    `record` is a file outside `out` (the allocations file) swapped in the same
    transaction, before the output, so the output never uses what is not recorded.
    """
    _check_names(files)
    handle = _Out(Path(out), create=True)
    try:
        with locked(handle, LOCK_WAIT):
            owned = handle.owned()
            roots = sorted({rel.split("/")[0] for rel in owned | set(files)})
            _clean_staging(handle.fd, lambda name: name == MANIFEST)
            for root in roots:
                _clean_staging(handle.root(root), _FILE.fullmatch)
            changes = _diff(files, handle, owned)
            _swap(files, handle, owned, changes, record)
    except BaseException:
        for root in reversed(handle.made):
            try:
                os.rmdir(root, dir_fd=handle.fd)
            except OSError:
                pass
        handle.close()
        if handle.made_out:
            try:
                handle.path.rmdir()
            except OSError:
                pass
        raise
    handle.close()
    return changes


def replace_file(path: Path, content: bytes) -> None:
    """Write `content` to `path` through a staged file and a rename (created 0o666 less the umask)."""
    path = Path(path)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    swap = _Swap()
    try:
        swap.stage(directory, path.name, content, path)
        swap.put(directory, path.name, path)
    except BaseException:
        swap.rollback()
        raise
    else:
        swap.finish()
    finally:
        os.close(directory)
