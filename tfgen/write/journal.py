"""The journal: what a build is about to change, on disk before it changes anything.

A build writes `OUT/.tfgen-journal` (staged and renamed into place, so it is
never half-written) before it creates a directory or a staging file, and
renames it to `OUT/.tfgen-committed` once every target has been renamed into
place. The next build, under the lock and before it reads the manifest, looks
for either and so never meets a half-swapped OUT:

- `.tfgen-journal`: the build stopped part-way; it is undone. Each target's
  backup `.<name>.tfgen-old` is renamed back; a target the build added is
  removed, but only while it still holds the bytes the build wrote (its sha256
  is in the journal), so a file someone put there since is kept; staging files
  and the root directories the build created (when empty) go.
- `.tfgen-committed`: every rename was done; it is finished. The backups go,
  and so do root directories that no longer hold any file.

Both are idempotent, so a build killed while it recovers is recovered by the
next. The allocations record outside OUT is a target like the others, named by
its absolute path. The journal is input too (it could be committed by
mistake): one that is not exactly what tfgen writes stops the build before
anything is touched.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .tree import _ROOT, MANIFEST, _kind, _Out, _unlink, owned_path
from ..errors import TfgenError

JOURNAL = ".tfgen-journal"
COMMITTED = ".tfgen-committed"
STAGED_JOURNAL = f".{JOURNAL}.tfgen-new"
_SHA = re.compile(r"[0-9a-f]{64}")


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class Record:
    """The allocations record outside OUT, as a target of the build."""

    path: Path  # absolute
    sha256: str
    added: bool  # absent before the build


@dataclass
class Journal:
    files: dict[str, str | None] = field(default_factory=dict)  # target in OUT -> sha256 of new bytes, None: removed
    added: list[str] = field(default_factory=list)  # targets absent before the build
    roots: list[str] = field(default_factory=list)  # root directories the build creates
    emptied: list[str] = field(default_factory=list)  # roots the build leaves without a file of tfgen's
    record: Record | None = None

    def render(self) -> bytes:
        record = None if self.record is None else {
            "path": str(self.record.path), "sha256": self.record.sha256, "added": self.record.added}
        body = {"generator": "tfgen", "note": "a tfgen build in progress; the next build finishes or undoes it",
                "files": self.files, "added": sorted(self.added), "roots": sorted(self.roots),
                "emptied": sorted(self.emptied), "record": record}
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


def _tampered(path: Path, what: str) -> TfgenError:
    return TfgenError(f"{path} is not a journal tfgen wrote ({what}); tfgen touched nothing. A journal is left by "
                      f"an interrupted build: restore {path.parent} from version control, delete {path.name}, and "
                      f"build again")


def parse(raw: bytes, path: Path) -> Journal:
    """The journal in `raw`, checked to name only targets tfgen writes."""
    try:
        body = json.loads(raw)
        files, added, roots, emptied, record = (body[key] for key in ("files", "added", "roots", "emptied", "record"))
    except (ValueError, KeyError, TypeError):
        raise _tampered(path, "not JSON with `files`, `added`, `roots`, `emptied` and `record`") from None
    if not isinstance(files, dict) or not all(
            (owned_path(rel) or rel == MANIFEST) and (sha is None or (isinstance(sha, str) and _SHA.fullmatch(sha)))
            for rel, sha in files.items()):
        raise _tampered(path, "`files` is not a map of `<root>/<file>.tf.json` paths to sha256 digests")
    if not isinstance(added, list) or not all(isinstance(rel, str) and files.get(rel) for rel in added):
        raise _tampered(path, "`added` lists a file the journal does not write")
    for roots_ in (roots, emptied):
        if not isinstance(roots_, list) or not all(isinstance(r, str) and _ROOT.fullmatch(r) for r in roots_):
            raise _tampered(path, "`roots` or `emptied` is not a list of root directory names")
    if record is not None:
        try:
            record = Record(Path(record["path"]), record["sha256"], record["added"])
        except (KeyError, TypeError):
            raise _tampered(path, "`record` has no `path`, `sha256` and `added`") from None
        if not (isinstance(record.added, bool) and isinstance(record.sha256, str) and _SHA.fullmatch(record.sha256)
                and record.path.is_absolute() and ".." not in record.path.parts):
            raise _tampered(path, "`record` is not an absolute path with a sha256 digest")
    return Journal(files, added, roots, emptied, record)


def _read_digest(name: str, directory: int) -> str | None:
    if _kind(name, directory) != "file":
        return None
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=directory)
    with os.fdopen(fd, "rb") as handle:
        return digest(handle.read())


def _undo_one(directory: int, name: str, sha: str | None, added: bool) -> None:
    backup = f".{name}.tfgen-old"
    if _kind(backup, directory) == "file":
        os.rename(backup, name, src_dir_fd=directory, dst_dir_fd=directory)
        if _kind(backup, directory) == "file":  # a hard link to `name` itself, which rename leaves in place
            os.unlink(backup, dir_fd=directory)
    elif added and sha is not None and _read_digest(name, directory) == sha:
        os.unlink(name, dir_fd=directory)
    _unlink(f".{name}.tfgen-new", directory)


def _finish_one(directory: int, name: str) -> None:
    for leftover in (f".{name}.tfgen-old", f".{name}.tfgen-new"):
        if _kind(leftover, directory) == "file":
            os.unlink(leftover, dir_fd=directory)


# tfgen.spec.allocations_path names every record so (a test holds the two together).
RECORD_SUFFIX = ".allocations.yaml"


def _targets(out: _Out, journal: Journal):
    """(directory, name, sha256, added, shown path) of every target; the record's directory is opened here."""
    record = journal.record
    if record is not None:
        try:
            directory = os.open(record.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            directory = None  # moved away with its record: nothing of it to put back or clean
        if directory is not None:
            # The journal lies in OUT, which is committed input: it may name any path. Undo deletes an
            # added record only when it is named as tfgen names records, so a crafted journal cannot
            # aim the deletion at another file whose content it knows; anything else is left in place.
            deletable = record.added and record.path.name.endswith(RECORD_SUFFIX)
            try:
                yield directory, record.path.name, record.sha256, deletable, record.path
            finally:
                os.close(directory)
    for rel, sha in sorted(journal.files.items()):
        directory, name = out.where(rel)
        if directory is not None:
            yield directory, name, sha, rel in journal.added, out.shown(rel)


def undo(out: _Out, journal: Journal) -> list[str]:
    """Put every target back as it was before the journal's build; what could not be put back, for people."""
    failed = []
    for directory, name, sha, added, shown in _targets(out, journal):
        try:
            _undo_one(directory, name, sha, added)
        except OSError as exc:
            failed.append(f"{shown} ({exc.strerror or exc})")
    for root in sorted(journal.roots, reverse=True):
        try:
            remove_if_empty(out, root)
        except OSError as exc:
            failed.append(f"{out.shown(root)} ({exc.strerror or exc})")
    return failed


def finish(out: _Out, journal: Journal) -> None:
    """Remove the backups of a build whose every rename was done, and the roots it emptied."""
    for directory, name, _sha, _added, _shown in _targets(out, journal):
        _finish_one(directory, name)
    for root in sorted(journal.emptied):
        remove_if_empty(out, root)


def remove_if_empty(out: _Out, root: str) -> None:
    """Remove root directory `root` unless it is absent or holds a file that is not tfgen's."""
    out.forget(root)
    try:
        os.rmdir(root, dir_fd=out.fd)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise


def recover(out: _Out) -> None:
    """Finish or undo the build a journal in OUT records, then remove the journal; a no-op without one."""
    _unlink(STAGED_JOURNAL, out.fd)
    found = {name: out.read(name) for name in (JOURNAL, COMMITTED)}
    if all(raw is not None for raw in found.values()):
        raise _tampered(out.shown(COMMITTED), f"{JOURNAL} is there too")
    if found[COMMITTED] is not None:
        try:
            finish(out, parse(found[COMMITTED], out.shown(COMMITTED)))
            os.unlink(COMMITTED, dir_fd=out.fd)
        except OSError as exc:
            raise TfgenError(f"{out.path}: cannot finish the build that was interrupted there ({exc.strerror or exc})"
                             f"; make {out.path} and its roots writable, then build again") from None
    elif found[JOURNAL] is not None:
        plan = parse(found[JOURNAL], out.shown(JOURNAL))
        try:
            failed = undo(out, plan)
        except OSError as exc:
            failed = [f"{plan.record.path if plan.record else out.path} ({exc.strerror or exc})"]
        if failed:
            raise TfgenError(f"cannot put back {', '.join(failed)} as it was before the build that was interrupted "
                             f"in {out.path}; make it writable, then build again: the next build finishes undoing it")
        _unlink(JOURNAL, out.fd)
