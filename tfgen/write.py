"""Write generated files into an output directory, owning only what tfgen wrote.

A manifest (`.tfgen-manifest.json`) lists the files of the last build. A build
writes each changed file through a temporary file and a rename, removes files
the manifest lists that are no longer produced, and touches nothing else:
`.terraform/`, `.terraform.lock.hcl`, state and the user's own files stay.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import OutputConflictError, TfgenError

__all__ = ["MANIFEST", "Changes", "diff_output", "write_output", "replace_file"]

MANIFEST = ".tfgen-manifest.json"


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


def _manifest(files: dict[str, bytes]) -> bytes:
    body = {"generator": "tfgen", "note": "files tfgen owns in this directory; do not edit them",
            "files": sorted(files)}
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


def _owned(out: Path) -> set[str]:
    path = out / MANIFEST
    if not path.exists():
        return set()
    try:
        files = set(json.loads(path.read_text())["files"])
    except (ValueError, KeyError, TypeError):
        raise TfgenError(f"{path} is not a tfgen manifest; restore it from version control or delete it") from None
    for rel in files:
        # tfgen deletes what its manifest lists: never anything outside the output directory.
        if not isinstance(rel, str) or Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise TfgenError(f"{path} lists {rel!r}, outside {out}; restore the manifest from version control")
    return files


def diff_output(files: dict[str, bytes], out: str | Path) -> Changes:
    """Compare `files` (relative path -> bytes) with what `out` holds."""
    out = Path(out)
    owned = _owned(out)
    changes = Changes()
    for rel, content in sorted({**files, MANIFEST: _manifest(files)}.items()):
        target = out / rel
        if not target.exists():
            changes.added.append(rel)
        elif target.read_bytes() != content:
            if rel not in owned and rel != MANIFEST:
                raise OutputConflictError(
                    f"{target} exists and was not written by tfgen; move it away or build into another --out"
                )
            changes.changed.append(rel)
        else:
            changes.unchanged.append(rel)
    changes.removed = sorted(p for p in owned - set(files) if (out / p).exists())
    roots = {Path(rel).parent for rel in files}
    changes.foreign = sorted(
        str(p.relative_to(out)) for root in roots if (out / root).is_dir()
        for p in (out / root).glob("*.tf.json")
        if str(p.relative_to(out)) not in files and not p.name.endswith("_override.tf.json")
    )
    return changes


def write_output(files: dict[str, bytes], out: str | Path) -> Changes:
    """Make `out` hold exactly `files` among the files tfgen owns there."""
    out = Path(out)
    changes = diff_output(files, out)
    everything = {**files, MANIFEST: _manifest(files)}
    _preflight(out, changes.added + changes.changed)
    for rel in changes.added + changes.changed:
        if rel != MANIFEST:
            replace_file(out / rel, everything[rel])
    for rel in changes.removed:
        (out / rel).unlink()
        _prune(out, (out / rel).parent)
    if MANIFEST in changes.added + changes.changed:
        replace_file(out / MANIFEST, everything[MANIFEST])
    return changes


def _preflight(out: Path, targets: list[str]) -> None:
    """Fail before writing anything when a target's directory is taken by a file."""
    for rel in targets:
        for parent in (out / rel).parents:
            if parent.exists() and not parent.is_dir():
                raise TfgenError(f"{parent} is a file, but tfgen needs a directory there; "
                                 f"move it away or build into another --out")
            if parent == out:
                break


def replace_file(path: Path, content: bytes) -> None:
    """Write `content` to `path` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _prune(out: Path, directory: Path) -> None:
    """Remove directories emptied by a removal, up to `out` (never one with other files)."""
    while directory != out and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
