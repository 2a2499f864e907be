"""The swap: staged files renamed into place, every old file kept until all succeeded."""

from __future__ import annotations

import os
from pathlib import Path

from .tree import MANIFEST, _Out, _clean_staging, _kind, _manifest, _unlink
from ..errors import TfgenError


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
