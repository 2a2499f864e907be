"""OUT as tfgen sees it: directories reached only through `O_NOFOLLOW` descriptors, and the manifest.

Every file below OUT is reached by name from a directory descriptor opened with
`O_NOFOLLOW`, so no read, write, rename, unlink or rmdir ever passes through a
symbolic link: a link committed inside OUT cannot point a rebuild at the
repository, `.git` or anything else outside OUT.

The manifest is committed with the output, so it is input like any other file
and is trusted only as far as it names paths tfgen itself produces:
`<root>/<file>.tf.json`, exactly two parts, the root a lower-case name. Its
`roots` map (root -> the roots it needs, see `tfgen.emit.graph`) is trusted
only as a graph of those roots without cycles; its `fleet` record
(`tfgen.lifecycle.record`) only as data the lifecycle stage reads back.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import stat
from pathlib import Path

from ..errors import TfgenError

MANIFEST = ".tfgen-manifest.json"
_ROOT = re.compile(r"[a-z_][a-z0-9_-]*")
_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.tf\.json")
# `.tfgen-new`/`-old`/`-pending` are this writer's; `.XXXXXXXX.tmp` are mkstemp names of earlier versions.
_STAGED = re.compile(r"\.(?P<name>.+)\.(?:tfgen-new|tfgen-old|tfgen-pending|[a-z0-9_]{8}\.tmp)")


def owned_path(rel: object) -> bool:
    """Whether `rel` is a path tfgen may own in OUT: `<root>/<file>.tf.json`, nothing else."""
    if not isinstance(rel, str):
        return False
    parts = rel.split("/")
    return len(parts) == 2 and bool(_ROOT.fullmatch(parts[0])) and bool(_FILE.fullmatch(parts[1]))


def _manifest(files, roots: dict[str, list[str]] | None = None, fleet: dict | None = None,
              waves: dict | None = None) -> bytes:
    body: dict = {"generator": "tfgen", "note": "files tfgen owns in this directory; do not edit them",
                  "files": sorted(files)}
    if roots is not None:
        body["roots"] = {root: sorted(needs) for root, needs in roots.items()}
    if fleet is not None:
        body["fleet"] = fleet
    if waves is not None:
        body["waves"] = waves  # the rollout's waves of roots (tfgen.derive.waves), for `tfgen apply --waves`
    return render_manifest(body)


def render_manifest(body: dict) -> bytes:
    """A manifest's bytes: sorted keys, two-space indent, trailing newline."""
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


def graph_problem(roots: object, files) -> str | None:
    """What is wrong with a `roots` map for `files` (None when it is a graph of their roots without cycles)."""
    if not isinstance(roots, dict):
        return f"`roots` is {type(roots).__name__}, not a map of root to the roots it needs"
    have = {rel.split("/")[0] for rel in files if isinstance(rel, str)}
    for root, needs in roots.items():
        if not _ROOT.fullmatch(root) or root not in have:
            return f"`roots` names {root!r}, which is not a root of its `files`"
        if not isinstance(needs, list) or not all(isinstance(n, str) and n in roots for n in needs):
            return f"`roots.{root}` is not a list of roots of this build"
        if root in needs or len(set(needs)) != len(needs):
            return f"`roots.{root}` names {root!r} itself or a root twice"
    if topological(roots) is None:
        return "`roots` has a cycle, so no root could go first"
    return None


def topological(roots: dict[str, list[str]]) -> list[str] | None:
    """Every root after the roots it needs (of those ready, by name): Kahn's algorithm, without recursion, so
    a graph hundreds of roots deep is no deeper a stack; None when the roots needing each other form a cycle."""
    waiting = {root: len(set(needs)) for root, needs in roots.items()}
    needed_by: dict[str, list[str]] = {root: [] for root in roots}
    for root, needs in roots.items():
        for needed in set(needs):
            needed_by[needed].append(root)
    ready = sorted(root for root, count in waiting.items() if count == 0)
    order = []
    while ready:
        root = heapq.heappop(ready)
        order.append(root)
        for other in needed_by[root]:
            waiting[other] -= 1
            if waiting[other] == 0:
                heapq.heappush(ready, other)
    return order if len(order) == len(roots) else None


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
        """(directory descriptor, file name) of an owned path, or of a name in OUT itself (the manifest)."""
        if "/" not in rel:
            return self.fd, rel
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
        return self.manifest()[0]

    def manifest(self) -> tuple[set[str], dict[str, list[str]] | None]:
        """The manifest's files and its roots graph (None when absent: an earlier tfgen, or no manifest)."""
        path = self.path / MANIFEST
        try:
            raw = self.read(MANIFEST)
        except TfgenError:
            raise _tampered(path, "it is a link or not a regular file") from None
        if raw is None:
            return set(), None
        try:
            body = json.loads(raw)
            files, roots = body["files"], body.get("roots")
        except (ValueError, KeyError, TypeError, AttributeError):
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
        problem = None if roots is None else graph_problem(roots, files)
        if problem:
            raise _tampered(path, problem)
        return set(files), roots

    def body(self) -> dict:
        """The manifest as a whole (checked as `manifest` checks it); {} when there is none."""
        self.manifest()
        raw = self.read(MANIFEST)
        return json.loads(raw) if raw is not None else {}

    def listing(self, root: str) -> list[str]:
        directory = self.root(root)
        return sorted(os.listdir(directory)) if directory is not None else []


def _kind(name: str, directory: int) -> str | None:
    try:
        mode = os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None
    return "link" if stat.S_ISLNK(mode) else "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def _unlink(name: str, directory: int) -> None:
    """Remove `name` if it is there."""
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


