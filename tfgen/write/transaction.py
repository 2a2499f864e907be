"""One build's changes to OUT (and to the allocations record), as a journaled transaction.

In order: the journal is written; the root directories the build needs are
created; every new file is staged as `.<name>.tfgen-new` next to its target;
then the record, the files, the removals and last the manifest are renamed
into place, each old file kept as `.<name>.tfgen-old`; the journal is renamed
to `.tfgen-committed`; the backups and emptied roots go; the journal goes.

Any failure or interrupt before the commit undoes every step (`journal.undo`),
and so does the next build when this process was killed: the output is the
old one or the new one, file by file never a mix of what no build wrote.

The record is refused when it is a symbolic link (or not a regular file):
renaming a new record over a link would replace the link and leave its target
stale, and writing through it would let a committed link aim a build at any
file. A record is not shareable anyway: a build drops the entries of clusters
its spec does not have, so two specs sharing one would erase each other's.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import journal as _journal
from .journal import COMMITTED, JOURNAL, STAGED_JOURNAL, Journal, Record, digest
from .tree import MANIFEST, _clean_staging, _kind, _Out, _unlink
from ..errors import TfgenError


def _stage(directory: int, name: str, content: bytes, shown: Path) -> None:
    """Write `content` to `.<name>.tfgen-new` beside `name`, on disk (fsync) before anything is renamed."""
    tmp = f".{name}.tfgen-new"
    try:
        _unlink(tmp, directory)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise TfgenError(f"{shown}: cannot write it ({exc.strerror or exc}); nothing was changed. Make its "
                         f"directory writable and check free space, then build again") from None


def _put(directory: int, name: str, shown: Path) -> None:
    """Rename the staged file over `name`, the old one kept as `.<name>.tfgen-old` until the commit.

    The backup is a hard link, so `name` holds the old bytes or the new ones at
    every instant; where links are not supported it is renamed aside instead."""
    try:
        if _kind(name, directory) is not None:
            backup = f".{name}.tfgen-old"
            try:
                os.link(name, backup, src_dir_fd=directory, dst_dir_fd=directory, follow_symlinks=False)
            except OSError:
                os.rename(name, backup, src_dir_fd=directory, dst_dir_fd=directory)
        os.rename(f".{name}.tfgen-new", name, src_dir_fd=directory, dst_dir_fd=directory)
    except OSError as exc:
        raise TfgenError(f"{shown}: cannot replace it ({exc.strerror or exc}); every file was put back as it "
                         f"was. Fix what stops the replacement, then build again") from None


def _remove(directory: int, name: str, shown: Path) -> None:
    try:
        os.rename(name, f".{name}.tfgen-old", src_dir_fd=directory, dst_dir_fd=directory)
    except OSError as exc:
        raise TfgenError(f"{shown}: cannot remove it ({exc.strerror or exc}); every file was put back as it "
                         f"was. Fix what stops the removal, then build again") from None


def _sync(directory: int) -> None:
    """Make the renames in `directory` durable; best effort, as some file systems cannot sync a directory."""
    try:
        os.fsync(directory)
    except OSError:
        pass


def check_record(path: Path) -> None:
    """Refuse an allocations record that is a link or not a regular file, before anything is written."""
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        raise TfgenError(
            f"{path} is a symbolic link to {target}; tfgen never writes through a link, and replacing the link "
            f"with the new record would leave {target} stale. Nothing was written. Replace the link with the record "
            f"itself (`cp --remove-destination {target} {path}`), then build again; a record belongs to one spec, "
            f"as each build drops the entries of clusters its spec does not have")
    if path.exists() and not path.is_file():
        raise TfgenError(f"{path} is not a regular file, but tfgen records the allocated CIDRs there; move it "
                         f"away, then build again")


def swap(files: dict[str, bytes], manifest_bytes: bytes, out: _Out, changes,
         record: tuple[Path, bytes] | None) -> None:
    """Make the changes `_diff` found (the manifest being `manifest_bytes`), all or nothing, crash-safe."""
    writes = [rel for rel in changes.added + changes.changed if rel != MANIFEST]
    manifest = MANIFEST in changes.added + changes.changed
    if not (writes or changes.removed or manifest or record):
        return
    new_roots = sorted({rel.split("/")[0] for rel in files})
    plan = Journal(
        files={**{rel: digest(files[rel]) for rel in writes}, **{rel: None for rel in changes.removed},
               **({MANIFEST: digest(manifest_bytes)} if manifest else {})},
        added=[rel for rel in changes.added],
        roots=[root for root in new_roots if _kind(root, out.fd) is None],
        emptied=sorted({rel.split("/")[0] for rel in changes.removed} - set(new_roots)),
    )
    record_dir = None
    if record is not None:
        path = Path(os.path.abspath(record[0]))
        check_record(path)
        plan.record = Record(path, digest(record[1]), not path.exists())
        record_dir = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if record_dir is not None:
            _clean_staging(record_dir, lambda name: name == path.name)
        _begin(out, plan)
        try:
            _apply(files, manifest_bytes, out, plan, writes, changes.removed, record_dir, record)
        except BaseException as exc:
            if _kind(COMMITTED, out.fd) is not None:  # interrupted just after the commit: the next build finishes it
                raise
            try:
                failed = _journal.undo(out, plan)
            except OSError as undo_error:
                failed = [f"{out.path} ({undo_error.strerror or undo_error})"]
            if not failed:
                _unlink(JOURNAL, out.fd)
            elif isinstance(exc, TfgenError):
                raise TfgenError(f"{exc} (not quite: cannot put back {', '.join(failed)}; the next build finishes "
                                 f"undoing it)") from None
            raise
    finally:
        if record_dir is not None:
            os.close(record_dir)
    try:  # committed: what is left is clean-up, which the next build redoes if this one cannot
        _sync(out.fd)
        _journal.finish(out, plan)
        os.unlink(COMMITTED, dir_fd=out.fd)
    except OSError:
        pass


def _begin(out: _Out, plan: Journal) -> None:
    """Put the journal on disk, complete, before anything else changes."""
    try:
        _stage(out.fd, JOURNAL, plan.render(), out.shown(JOURNAL))
        os.rename(STAGED_JOURNAL, JOURNAL, src_dir_fd=out.fd, dst_dir_fd=out.fd)
    except BaseException as exc:
        _unlink(STAGED_JOURNAL, out.fd)
        if isinstance(exc, OSError):
            raise TfgenError(f"{out.shown(JOURNAL)}: cannot write it ({exc.strerror or exc}); nothing was changed. "
                             f"Make {out.path} writable, then build again") from None
        raise
    _sync(out.fd)


def _apply(files, manifest_bytes, out: _Out, plan: Journal, writes, removed, record_dir, record) -> None:
    """Create, stage, rename, commit: every step the journal `plan` describes."""
    for root in plan.roots:
        out.root(root, create=True)
    if record is not None:
        _stage(record_dir, record[0].name, record[1], record[0])
    for rel in writes:
        directory, name = out.where(rel, create=True)
        _stage(directory, name, files[rel], out.shown(rel))
    if MANIFEST in plan.files:
        _stage(out.fd, MANIFEST, manifest_bytes, out.shown(MANIFEST))
    if record is not None:
        _put(record_dir, record[0].name, record[0])
        _sync(record_dir)
    for rel in writes:
        _put(*out.where(rel), out.shown(rel))
    for rel in removed:
        _remove(*out.where(rel), out.shown(rel))
    for root in sorted({rel.split("/")[0] for rel in writes + removed}):
        _sync(out.root(root))
    if MANIFEST in plan.files:
        _put(out.fd, MANIFEST, out.shown(MANIFEST))
    _sync(out.fd)
    try:
        os.rename(JOURNAL, COMMITTED, src_dir_fd=out.fd, dst_dir_fd=out.fd)
    except OSError as exc:
        raise TfgenError(f"{out.shown(JOURNAL)}: cannot record that the build is complete ({exc.strerror or exc}); "
                         f"every file was put back as it was. Make {out.path} writable, then build again") from None


def replace_file(path: Path, content: bytes) -> None:
    """Write `content` to `path` through a staged file and one rename (created 0o666 less the umask)."""
    path = Path(path)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _stage(directory, path.name, content, path)
        try:
            os.rename(f".{path.name}.tfgen-new", path.name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException as exc:
            _unlink(f".{path.name}.tfgen-new", directory)
            if isinstance(exc, OSError):
                raise TfgenError(f"{path}: cannot replace it ({exc.strerror or exc}); it was left as it was. Fix "
                                 f"what stops the replacement, then try again") from None
            raise
    finally:
        os.close(directory)
