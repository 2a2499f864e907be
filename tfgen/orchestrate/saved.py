"""Saved plans: the PLANS directory `tfgen plan OUT --out-dir PLANS` writes and `tfgen apply PLANS` applies.

    PLANS/tfgen-plans.json          what each plan was made from (written last: a directory without it is
                                    not a set of saved plans)
    PLANS/<root>/plan.tfplan        Terraform's binary plan, what `terraform apply` applies
    PLANS/<root>/plan.json          `terraform show -json` of it, what the diff and the guard read
    PLANS/<root>/config/            a root removed since --affected's REF: its files at REF (it has no other)

The manifest records per root the digest of its configuration (every `*.tf` and `*.tf.json` Terraform loads
from the root, and the dependency lock file `terraform init` left), the lineage and serial of the state the
plan was made against (`terraform state pull`; none before a first apply), whether the plan changes
anything, the roots it needs, and why a root has no plan (`waiting`, `refused`, ...). A plan is stale when
its root's digest or state differs at apply time; Terraform also refuses a plan whose state moved on
("Saved plan is stale").

The directory is untrusted input (a CI artifact): the manifest is checked field by field, root names as a
build names them, files read only as regular files of bounded size.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .._version import __version__
from ..terraform.roots import read_bytes
from ..write.tree import owned_path
from .graph import UsageError
from .report import RunReport
from .terraform import StateId

__all__ = ["MANIFEST", "PLAN", "PLAN_JSON", "CONFIG", "SavedRoot", "SavedPlans", "is_saved", "digest_of",
           "save_plans", "read_saved"]

MANIFEST = "tfgen-plans.json"
PLAN, PLAN_JSON, CONFIG = "plan.tfplan", "plan.json", "config"
LOCK_FILE = ".terraform.lock.hcl"
_FORMAT = 1
_MAX_MANIFEST = 16 * 1024 * 1024
_STATUSES = ("planned", "waiting", "refused", "failed", "skipped", "interrupted", "not run")


@dataclass(frozen=True)
class SavedRoot:
    """One root of a set of saved plans."""

    root: str
    status: str  # planned (a plan is saved), else why not: waiting, refused, failed, ...
    reason: str = ""
    digest: str = ""  # of its configuration and lock file when planned
    state: StateId = StateId()
    changes: bool = False  # whether applying the plan changes anything
    destroy: bool = False  # a plan -destroy of a root removed since --affected's REF (its files in config/)
    needs: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "digest": self.digest, "lineage": self.state.lineage,
                "serial": self.state.serial, "changes": self.changes, "destroy": self.destroy,
                "needs": list(self.needs)}


@dataclass(frozen=True)
class SavedPlans:
    """A PLANS directory: where, which build it was planned from, with which terraform, and its roots."""

    directory: Path
    out: str  # OUT as `tfgen plan` was given it (apply resolves it from the working directory)
    terraform: str  # the version that planned (Terraform applies a plan only with the same version)
    workspace: str
    roots: dict[str, SavedRoot] = field(default_factory=dict)
    offline: bool = False  # plans of lowered copies: nothing to apply anywhere
    tfgen: str = __version__

    def plan(self, root: str) -> Path:
        return self.directory / root / PLAN

    def plan_json(self, root: str) -> Path:
        return self.directory / root / PLAN_JSON

    def config(self, root: str) -> Path:
        return self.directory / root / CONFIG

    def as_dict(self) -> dict:
        return {"generator": "tfgen", "format": _FORMAT, "tfgen": self.tfgen, "out": self.out,
                "terraform": self.terraform, "workspace": self.workspace, "offline": self.offline,
                "roots": {root: saved.as_dict() for root, saved in sorted(self.roots.items())}}


def is_saved(directory: str | Path) -> bool:
    """Whether `directory` holds saved plans (its manifest), rather than being a build."""
    return (Path(directory) / MANIFEST).is_file()


def digest_of(directory: Path, workdir: Path | None = None) -> str:
    """SHA-256 of the configuration Terraform loads from `directory` (`*.tf`, `*.tf.json`, by name) and of the
    dependency lock file in `workdir` (where terraform ran; default `directory`), when there is one."""
    digest = hashlib.sha256()
    names = sorted(p.name for p in directory.iterdir() if p.name.endswith((".tf", ".tf.json")))
    lock = (workdir or directory) / LOCK_FILE
    for name, path in [*((n, directory / n) for n in names), *([(LOCK_FILE, lock)] if lock.exists() else [])]:
        try:
            data = read_bytes(path)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc}); a root's files "
                             f"must be regular files") from None
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def _prepare(directory: Path) -> None:
    """`directory` emptied of earlier saved plans (only a new, empty or earlier PLANS directory is used)."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out-dir {directory} is a file; give a directory for the saved plans")
    if directory.is_dir() and any(directory.iterdir()):
        if not is_saved(directory):
            raise UsageError(f"--out-dir {directory} is not empty and holds no saved plans ({MANIFEST}); give a "
                             f"new or empty directory, or one an earlier `tfgen plan --out-dir` wrote")
        (directory / MANIFEST).unlink()  # first: an interrupted replacement is not taken for saved plans
        for entry in directory.iterdir():
            if entry.is_dir() and not entry.is_symlink() and owned_path(f"{entry.name}/x.tf.json"):
                shutil.rmtree(entry)
    directory.mkdir(parents=True, exist_ok=True)


def save_plans(report: RunReport, directory: Path, *, out: str, terraform: str, needs: dict[str, tuple[str, ...]],
               sources: dict[str, Path], destroyed: frozenset[str] = frozenset(), offline: bool = False) -> SavedPlans:
    """Keep the plans of `report` (a `tfgen plan` run with `show` and `state`) in `directory`, with the manifest;
    `sources`: each root's files (removed roots: their files at REF, copied into `config/`)."""
    directory = Path(directory)
    _prepare(directory)
    roots = {}
    for result in report.roots:
        root = result.root
        planned = result.status == "ok" and result.plan_file is not None and result.review is not None
        if not planned:
            status = result.status if result.status in _STATUSES else "failed"
            roots[root] = SavedRoot(root, status, result.reason, needs=needs.get(root, ()),
                                    destroy=root in destroyed)
            continue
        (directory / root).mkdir()
        shutil.copyfile(result.plan_file, directory / root / PLAN)
        shutil.copyfile(result.plan_json, directory / root / PLAN_JSON)
        if root in destroyed:
            shutil.copytree(sources[root], directory / root / CONFIG)
        roots[root] = SavedRoot(root, "planned", digest=digest_of(sources[root], result.workdir),
                                state=result.state or StateId(), changes=result.review.any,
                                destroy=root in destroyed, needs=needs.get(root, ()))
    saved = SavedPlans(directory, out, terraform, report.workspace, roots, offline=offline)
    text = json.dumps(saved.as_dict(), indent=2, sort_keys=True) + "\n"
    temporary = directory / f".{MANIFEST}.tmp"
    temporary.write_text(text)
    os.replace(temporary, directory / MANIFEST)
    return saved


def _bad(directory: Path, what: str) -> UsageError:
    return UsageError(f"{directory / MANIFEST}: {what}; it is not a manifest `tfgen plan --out-dir` wrote. Fix: plan "
                      f"again into an empty directory (`tfgen plan OUT --out-dir {directory}`)")


def read_saved(directory: str | Path) -> SavedPlans:
    """The saved plans in `directory`, checked: a manifest tfgen wrote, root names a build can have, a plan
    file and its JSON for every planned root."""
    directory = Path(directory)
    try:
        document = json.loads(read_bytes(directory / MANIFEST, _MAX_MANIFEST))
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"{directory / MANIFEST}: cannot read it ({getattr(exc, 'strerror', None) or exc}); "
                         f"plan again (`tfgen plan OUT --out-dir {directory}`)") from None
    if not isinstance(document, dict) or document.get("generator") != "tfgen":
        raise _bad(directory, "not a tfgen manifest")
    if document.get("format") != _FORMAT:
        raise UsageError(f"{directory / MANIFEST}: saved by a tfgen whose format ({document.get('format')!r}) this "
                         f"one ({__version__}) cannot read; plan again with this tfgen")
    for key in ("out", "terraform", "workspace", "tfgen"):
        if not isinstance(document.get(key), str):
            raise _bad(directory, f"`{key}` is not a string")
    entries = document.get("roots")
    if not isinstance(entries, dict) or not entries:
        raise _bad(directory, "`roots` is not a map of the roots planned")
    roots = {}
    for root, entry in entries.items():
        roots[root] = _root(directory, root, entry)
    return SavedPlans(directory, document["out"], document["terraform"], document["workspace"], roots,
                      offline=document.get("offline") is True, tfgen=document["tfgen"])


def _root(directory: Path, root: str, entry: object) -> SavedRoot:
    if not isinstance(root, str) or not owned_path(f"{root}/x.tf.json"):
        raise _bad(directory, f"{root!r} is not a root name a build has")
    if not isinstance(entry, dict) or entry.get("status") not in _STATUSES:
        raise _bad(directory, f"`roots.{root}` has no status of {', '.join(_STATUSES)}")
    lineage, serial = entry.get("lineage"), entry.get("serial")
    needs = entry.get("needs", [])
    if not (lineage is None or isinstance(lineage, str)) or not (serial is None or (
            isinstance(serial, int) and not isinstance(serial, bool))) or (lineage is None) != (serial is None):
        raise _bad(directory, f"`roots.{root}`: lineage and serial are not a state's")
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise _bad(directory, f"`roots.{root}.needs` is not a list of roots")
    for key in ("reason", "digest"):
        if not isinstance(entry.get(key, ""), str):
            raise _bad(directory, f"`roots.{root}.{key}` is not a string")
    saved = SavedRoot(root, entry["status"], entry.get("reason", ""), entry.get("digest", ""),
                      StateId(lineage, serial), entry.get("changes") is True, entry.get("destroy") is True,
                      tuple(needs))
    if saved.status == "planned":
        if len(saved.digest) != 64:
            raise _bad(directory, f"`roots.{root}.digest` is not a SHA-256")
        for name in (PLAN, PLAN_JSON) + ((CONFIG,) if saved.destroy else ()):
            path = directory / root / name
            if path.is_symlink() or not (path.is_dir() if name == CONFIG else path.is_file()):
                raise UsageError(f"{path} is missing (or not a regular {'directory' if name == CONFIG else 'file'}); "
                                 f"the saved plans are incomplete: plan again (`tfgen plan OUT --out-dir "
                                 f"{directory}`)")
    return saved
