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

import fcntl
import json
import os
import re
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import OutputConflictError, TfgenError

__all__ = ["MANIFEST", "LOCK", "Changes", "owned_path", "diff_output", "write_output", "replace_file"]

MANIFEST = ".tfgen-manifest.json"
LOCK = ".tfgen.lock"
LOCK_WAIT = 30.0
_ROOT = re.compile(r"[a-z_][a-z0-9_-]*")
_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.tf\.json")
# `.tfgen-new`/`-old`/`-pending` are this writer's; `.XXXXXXXX.tmp` are mkstemp names of earlier versions.
_STAGED = re.compile(r"\.(?P<name>.+)\.(?:tfgen-new|tfgen-old|tfgen-pending|[a-z0-9_]{8}\.tmp)")


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


def owned_path(rel: object) -> bool:
    """Whether `rel` is a path tfgen may own in OUT: `<root>/<file>.tf.json`, nothing else."""
    if not isinstance(rel, str):
        return False
    parts = rel.split("/")
    return len(parts) == 2 and bool(_ROOT.fullmatch(parts[0])) and bool(_FILE.fullmatch(parts[1]))


def _manifest(files) -> bytes:
    body = {"generator": "tfgen", "note": "files tfgen owns in this directory; do not edit them",
            "files": sorted(files)}
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


def _tampered(path: Path, what: str) -> TfgenError:
    return TfgenError(f"{path} is not a manifest tfgen wrote ({what}); tfgen touched nothing. tfgen owns only "
                      f"`<root>/<file>.tf.json` paths: restore the manifest from version control, or delete it "
                      f"and the generated files and build again")


class _Out:
    """OUT, opened once; everything below it is reached by name from directory descriptors, never through a link."""

    def __init__(self, out: Path, *, create: bool):
        self.path = out
        self.fd: int | None = None
        self.made_out = False
        self.made: list[str] = []
        self._roots: dict[str, int | None] = {}
        if out.exists() and not out.is_dir():
            raise TfgenError(f"{out} is a file, but tfgen needs a directory there; move it away or build into "
                             f"another --out")
        if create and not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                out.mkdir()
                self.made_out = True
            except FileExistsError:
                pass
        if out.is_dir():
            self.fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)

    def close(self) -> None:
        for fd in self._roots.values():
            if fd is not None:
                os.close(fd)
        if self.fd is not None:
            os.close(self.fd)
        self._roots.clear()
        self.fd = None

    def forget(self, root: str) -> None:
        fd = self._roots.pop(root, None)
        if fd is not None:
            os.close(fd)

    def shown(self, rel: str) -> Path:
        return self.path / rel

    def root(self, name: str, *, create: bool = False) -> int | None:
        """The descriptor of directory `OUT/name` (None when absent and not created); refuses links and files."""
        if name in self._roots and (self._roots[name] is not None or not create):
            return self._roots[name]
        if self.fd is None:
            return None
        kind = _kind(name, self.fd)
        if kind is None:
            if not create:
                self._roots[name] = None
                return None
            try:
                os.mkdir(name, dir_fd=self.fd)
            except OSError as exc:
                raise TfgenError(f"{self.shown(name)}: cannot create it ({exc.strerror or exc}); nothing was "
                                 f"changed. Make {self.path} writable, then build again") from None
            self.made.append(name)
        elif kind == "link":
            raise TfgenError(f"{self.shown(name)} is a symbolic link; tfgen writes and removes files only in real "
                             f"directories inside {self.path}, never through a link: replace the link with a "
                             f"directory, or build into another --out")
        elif kind != "dir":
            raise TfgenError(f"{self.shown(name)} is a file, but tfgen needs a directory there; move it away or "
                             f"build into another --out")
        self._roots[name] = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=self.fd)
        return self._roots[name]

    def where(self, rel: str, *, create: bool = False) -> tuple[int | None, str]:
        """(directory descriptor, file name) of an owned path or the manifest."""
        if rel == MANIFEST:
            return self.fd, MANIFEST
        root, name = rel.split("/")
        return self.root(root, create=create), name

    def read(self, rel: str) -> bytes | None:
        """The bytes of a regular file at `rel`, None when absent; refuses links and anything else."""
        directory, name = self.where(rel)
        if directory is None:
            return None
        kind = _kind(name, directory)
        if kind is None:
            return None
        if kind != "file":
            what = "a symbolic link" if kind == "link" else "not a regular file"
            raise TfgenError(f"{self.shown(rel)} is {what}; tfgen replaces and removes only regular files it "
                             f"wrote, never through a link: move it away and build again")
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=directory)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def owned(self) -> set[str]:
        """The paths the manifest lists, each one a path tfgen produces; a tampered manifest stops here."""
        path = self.path / MANIFEST
        try:
            raw = self.read(MANIFEST)
        except TfgenError:
            raise _tampered(path, "it is a link or not a regular file") from None
        if raw is None:
            return set()
        try:
            files = json.loads(raw)["files"]
        except (ValueError, KeyError, TypeError):
            raise _tampered(path, "not JSON with a `files` list") from None
        if not isinstance(files, list):
            raise _tampered(path, f"`files` is {type(files).__name__}, not a list")
        for rel in files:
            if not owned_path(rel):
                outside = isinstance(rel, str) and (rel.startswith("/") or ".." in rel.split("/"))
                raise _tampered(path, f"it lists {rel!r}" + (f", outside {self.path}" if outside else
                                                           ", which is not a file tfgen generates"))
        if len(set(files)) != len(files):
            raise _tampered(path, "it lists a file twice")
        return set(files)

    def listing(self, root: str) -> list[str]:
        directory = self.root(root)
        return sorted(os.listdir(directory)) if directory is not None else []


def _kind(name: str, directory: int) -> str | None:
    try:
        mode = os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None
    return "link" if stat.S_ISLNK(mode) else "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


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


@contextmanager
def _locked(out: _Out):
    """Hold the exclusive lock on OUT. The lock file is removed on release; a waiter that
    then holds the lock of a removed file sees it is not the file at the path and retries."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fd = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666, dir_fd=out.fd)
        except OSError as exc:
            raise TfgenError(f"{out.path / LOCK}: cannot open the build lock ({exc.strerror or exc}); remove it if "
                             f"it is a link or a directory, make {out.path} writable, then build again") from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TfgenError(
                            f"another tfgen build has been writing {out.path} for over {LOCK_WAIT:.0f} s "
                            f"(it holds {out.path / LOCK}); wait for it to finish, or stop it, and build again"
                        ) from None
                    time.sleep(0.05)
            try:
                current = os.stat(LOCK, dir_fd=out.fd, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
        except BaseException:
            os.close(fd)
            raise
        if current:
            break
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(LOCK, dir_fd=out.fd)
        except OSError:
            pass
        os.close(fd)


class _Swap:
    """Staged files and the renames that put them in place, undone in reverse on any failure."""

    def __init__(self) -> None:
        self.staged: list[tuple[int, str]] = []
        self.backups: list[tuple[int, str]] = []
        self.undo: list[tuple] = []

    def stage(self, directory: int, name: str, content: bytes, shown: Path, tag: str = "new") -> None:
        tmp = f".{name}.tfgen-{tag}"
        try:
            _unlink(tmp, directory)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=directory)
            self.staged.append((directory, tmp))
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise TfgenError(f"{shown}: cannot write it ({exc.strerror or exc}); nothing was changed. Make its "
                             f"directory writable and check free space, then build again") from None

    def put(self, directory: int, name: str, shown: Path, tag: str = "new", *, keep_old: bool = True) -> None:
        """Rename the staged file over `name`; the old file is kept until `finish` (or put back by `rollback`)."""
        tmp, old = f".{name}.tfgen-{tag}", f".{name}.tfgen-old"
        try:
            if keep_old and _kind(name, directory) is not None:
                os.rename(name, old, src_dir_fd=directory, dst_dir_fd=directory)
                self.backups.append((directory, old))
                self.undo.append(("rename", directory, old, name))
            elif keep_old:
                self.undo.append(("unlink", directory, name))
            os.rename(tmp, name, src_dir_fd=directory, dst_dir_fd=directory)
            self.staged.remove((directory, tmp))
        except OSError as exc:
            raise TfgenError(f"{shown}: cannot replace it ({exc.strerror or exc}); every file was put back as it "
                             f"was. Fix what stops the replacement, then build again") from None

    def remove(self, directory: int, name: str, shown: Path) -> None:
        old = f".{name}.tfgen-old"
        try:
            os.rename(name, old, src_dir_fd=directory, dst_dir_fd=directory)
        except OSError as exc:
            raise TfgenError(f"{shown}: cannot remove it ({exc.strerror or exc}); every file was put back as it "
                             f"was. Fix what stops the removal, then build again") from None
        self.backups.append((directory, old))
        self.undo.append(("rename", directory, old, name))

    def rollback(self) -> None:
        for action in reversed(self.undo):
            try:
                if action[0] == "rename":
                    os.rename(action[2], action[3], src_dir_fd=action[1], dst_dir_fd=action[1])
                else:
                    _unlink(action[2], action[1])
            except OSError:
                pass
        self.undo.clear()
        self.backups.clear()
        self.discard()

    def discard(self) -> None:
        for directory, tmp in self.staged:
            _unlink(tmp, directory)
        self.staged.clear()

    def finish(self) -> None:
        self.undo.clear()
        for directory, old in self.backups:
            try:
                _unlink(old, directory)
            except OSError:
                pass  # a leftover backup is removed by the next build
        self.backups.clear()


def _unlink(name: str, directory: int) -> None:
    try:
        os.unlink(name, dir_fd=directory)
    except FileNotFoundError:
        pass


def _clean_staging(directory: int | None, keep) -> None:
    """Remove staging files a dead build left in `directory`, for target names `keep` accepts."""
    if directory is None:
        return
    for name in os.listdir(directory):
        match = _STAGED.fullmatch(name)
        if match and keep(match.group("name")) and _kind(name, directory) == "file":
            _unlink(name, directory)


def write_output(files: dict[str, bytes], out: str | Path, *, record: tuple[Path, bytes] | None = None) -> Changes:
    """Make `out` hold exactly `files` among the files tfgen owns there, all or nothing.

    `record` is a file outside `out` (the allocations file) swapped in the same
    transaction, before the output, so the output never uses what is not recorded.
    """
    _check_names(files)
    handle = _Out(Path(out), create=True)
    try:
        with _locked(handle):
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


def _swap(files: dict[str, bytes], out: _Out, owned: set[str], changes: Changes,
          record: tuple[Path, bytes] | None) -> None:
    writes = [rel for rel in changes.added + changes.changed if rel != MANIFEST]
    manifest_changes = MANIFEST in changes.added + changes.changed
    swap = _Swap()
    record_dir = None
    try:
        if record is not None:
            path, content = record
            record_dir = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            _clean_staging(record_dir, lambda name: name == path.name)
            swap.stage(record_dir, path.name, content, path)
        for rel in writes:
            directory, name = out.where(rel, create=True)
            swap.stage(directory, name, files[rel], out.shown(rel))
        pending = owned | set(files)
        if pending != owned:
            swap.stage(out.fd, MANIFEST, _manifest(pending), out.shown(MANIFEST), tag="pending")
        if manifest_changes:
            swap.stage(out.fd, MANIFEST, _manifest(files), out.shown(MANIFEST))

        if record is not None:
            swap.put(record_dir, record[0].name, record[0])
        if pending != owned:
            swap.put(out.fd, MANIFEST, out.shown(MANIFEST), tag="pending")
        for rel in writes:
            directory, name = out.where(rel)
            swap.put(directory, name, out.shown(rel))
        for rel in changes.removed:
            directory, name = out.where(rel)
            swap.remove(directory, name, out.shown(rel))
        if manifest_changes:
            swap.put(out.fd, MANIFEST, out.shown(MANIFEST), keep_old=pending == owned)
    except BaseException:
        swap.rollback()
        raise
    else:
        swap.finish()
    finally:
        if record_dir is not None:
            os.close(record_dir)
    for root in sorted({rel.split("/")[0] for rel in changes.removed}):
        if not out.listing(root):
            out.forget(root)
            try:
                os.rmdir(root, dir_fd=out.fd)
            except OSError:
                pass


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
