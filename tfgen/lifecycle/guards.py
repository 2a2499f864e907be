"""Guards: a change that replaces or destroys what cannot come back is refused unless the user names it.

One rule per kind of loss, each returning findings (codes `CHG5xx` in the rule registry), one per object:

- CHG500: an EKS cluster, VPC or KMS key replaced (`--allow-replace PATH`);
- CHG501: one destroyed (`--allow-destroy PATH`);
- CHG502: an environment removed whose previous build had resources (`--allow-destroy ENV`);
- CHG503: a cells root removed whose previous build had resources (`--allow-destroy ENV[/REGION]`);
- CHG504: an object with `protect: true` replaced or destroyed, allowed or not (Terraform's `prevent_destroy`
  would stop the apply half-way): unprotect it first;
- CHG506: an EKS cluster replaced create-first under the name it holds, allowed or not: EKS refuses a second
  cluster of one name, so the apply would stop half-way; the fix is a new name beside it, or two applies;
- CHG505 (warning): an `--allow-*` name that matches nothing the change replaces or destroys (a typo allows
  nothing).

A name allows its object and everything under it: `development` every object of the environment,
`development/us-east-2` the region and its clusters, `development/us-east-2/edge` that cluster. The same
`guard` runs on a build's diff and on the roll-up of a real plan (`tfgen plan/apply`). `check_root_names` is
the model's side: an environment named like another environment's cells root (CHG510).
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from ..derive import naming
from ..errors import Finding, Origin, Severity, TfgenError
from ..model import LAYOUT_CELLS, Fleet
from ..terraform.changes import Action
from .summary import ROOT, FleetDiff, ObjectChange, Status
from .record import ENVIRONMENT

__all__ = ["guard", "check_allow_names", "check_root_names", "allows"]

_NAME = re.compile(r"_?[a-z0-9][a-z0-9_-]*(?:/[a-z0-9-]+(?:/[A-Za-z0-9_.-]+)?)?")
_KINDS = {"aws_eks_cluster": "EKS cluster", "aws_vpc": "VPC", "aws_kms_key": "KMS key"}


def check_allow_names(names: Iterable[str], flag: str) -> list[str]:
    """The names of `--allow-replace`/`--allow-destroy`, checked for shape (`env[/region[/cluster]]`, or a
    root); a malformed one is a usage error (exit 2)."""
    names = [str(n).strip().strip("/") for n in names]
    wrong = [n for n in names if not _NAME.fullmatch(n)]
    if wrong:
        raise TfgenError(f"{flag} {wrong[0]!r} is not a name of the fleet; fix: name an environment, "
                         f"`environment/region` or `environment/region/cluster` (e.g. development/us-east-2/edge)")
    return names


def allows(names: Iterable[str], path: str) -> bool:
    """Whether one of `names` is `path` or holds it (`development` holds `development/us-east-2/edge`)."""
    return any(path == n or path.startswith(n + "/") for n in names)


def _root_allowed(names: Iterable[str], root: str) -> bool:
    """A cells root is allowed by its environment, by any region of its cell, or by its own name."""
    names = list(names)
    env, _, cell = root.partition(naming.CELL_SEPARATOR)
    regions = [r for r in cell.split(naming.CELL_SEPARATOR) if r and r != naming.FAN_IN]
    return root in names or allows(names, env) or any(allows(names, f"{env}/{r}") for r in regions)


def _flag(flag: str, path: str) -> str:
    python = flag.removeprefix("--").replace("-", "_")
    return f"`{flag} {path}` (Python: `build(..., {python}=[{path!r}])`)"


def guard(diff: FleetDiff, *, allow_replace: Iterable[str] = (), allow_destroy: Iterable[str] = (),
          origin_of: Callable[[str], Origin | None] | None = None) -> list[Finding]:
    """The findings that refuse `diff` (errors), and the allow names that matched nothing (warnings)."""
    allow_replace, allow_destroy = list(allow_replace), list(allow_destroy)
    where = origin_of or (lambda path: None)
    removed_envs = {o.path for o in diff.objects if o.kind == ENVIRONMENT and o.status is Status.DESTROYED}
    findings: list[Finding] = []
    used: set[tuple[str, str]] = set()

    def allowed(names: list[str], flag: str, path: str, test=allows) -> bool:
        for name in names:
            if test([name], path):
                used.add((flag, name))
                return True
        return False

    for obj in diff.objects:
        if obj.status is Status.RETIRING:
            continue
        if obj.kind == ENVIRONMENT and obj.status is Status.DESTROYED:
            if not allowed(allow_destroy, "--allow-destroy", obj.path):
                findings.append(_removed_environment(obj, where(obj.path)))
            findings += _protected(obj, where(obj.path))
            continue
        if obj.kind == ROOT:
            if obj.path.split(naming.CELL_SEPARATOR, 1)[0] in removed_envs:
                continue
            if not allowed(allow_destroy, "--allow-destroy", obj.path, _root_allowed):
                findings.append(_removed_root(obj, where(obj.path)))
            continue
        if obj.path.split("/", 1)[0] in removed_envs:
            continue  # the environment's finding covers it
        replaced, destroyed = obj.touched(Action.REPLACE), obj.touched(Action.DELETE)
        clashing = [c for c in replaced if _same_name_first(c)]
        if clashing:
            allowed(allow_replace, "--allow-replace", obj.path)  # the name is not a typo: no CHG505 for it
            findings.append(_same_name(obj, clashing, where(obj.path)))
        elif replaced and not allowed(allow_replace, "--allow-replace", obj.path):
            findings.append(_lost("CHG500", obj, replaced, "replaces", "--allow-replace", where(obj.path)))
        if destroyed and not allowed(allow_destroy, "--allow-destroy", obj.path):
            findings.append(_lost("CHG501", obj, destroyed, "destroys", "--allow-destroy", where(obj.path)))
        if replaced or destroyed:
            findings += _protected(obj, where(obj.path))
    for flag, names in (("--allow-replace", allow_replace), ("--allow-destroy", allow_destroy)):
        for name in names:
            if (flag, name) not in used:
                findings.append(Finding(
                    "CHG505", f"{flag} {name} allows nothing: this change {'replaces' if 'replace' in flag else 'destroys'}"
                    f" nothing of {name}", "check the name against the fleet diff, or drop the flag",
                    path=name, severity=Severity.WARNING))
    return findings


def _what(changes) -> str:
    kinds = sorted({_KINDS.get(c.type, c.type) for c in changes})
    addresses = ", ".join(c.address for c in changes[:4]) + (f" and {len(changes) - 4} more" if len(changes) > 4 else "")
    return f"{' and '.join(kinds)} ({addresses})"


def _lost(code: str, obj: ObjectChange, changes, verb: str, flag: str, origin: Origin | None) -> Finding:
    why = f" (why: {'; '.join(obj.why)})" if obj.why else ""
    return Finding(code, f"this change {verb} {obj.path}'s {_what(changes)}{why}; what it holds is lost",
                   f"if that is meant, build with {_flag(flag, obj.path)}; otherwise undo the change in the spec",
                   path=obj.path, origin=origin)


def _same_name_first(change) -> bool:
    """An EKS cluster replaced create-first whose name stays: the new cluster would be created while the old one
    holds the name."""
    if change.type != "aws_eks_cluster" or not change.create_first:
        return False
    before, after = (change.before or {}).get("name"), (change.after or {}).get("name")
    return before is not None and before == after


def _same_name(obj: ObjectChange, changes, origin: Origin | None) -> Finding:
    why = f" (why: {'; '.join(obj.why)})" if obj.why else ""
    name = (changes[0].before or {}).get("name")
    return Finding(
        "CHG506", f"this change replaces {obj.path}'s EKS cluster ({changes[0].address}){why} under the name it "
        f"holds ({name}), and Terraform creates the new cluster before it destroys the old one (what depends on "
        f"the cluster is create_before_destroy: its node groups, the GitOps registration): EKS refuses a second "
        f"cluster of one name, so the apply would stop half-way, the new network made and the old cluster kept",
        f"rename the cluster in the spec together with the change and allow the old one's destroy "
        f"({_flag('--allow-destroy', obj.path)}): the new cluster is created beside the old one and registered "
        f"before the old one is deregistered and destroyed, in one apply; or remove the cluster, apply, and add it "
        f"back with the change (two applies, no cluster in between). --allow-replace cannot allow this one",
        path=obj.path, origin=origin)


def _removed_environment(obj: ObjectChange, origin: Origin | None) -> Finding:
    return Finding("CHG502", f"environment {obj.path} is not in the spec any more, but its previous build has "
                   f"resources; building would retire it (applying its root destroys everything in its state)",
                   f"if that is meant (or it was renamed), build with {_flag('--allow-destroy', obj.path)}; "
                   f"otherwise put it back in the spec", path=obj.path, origin=origin)


def _removed_root(obj: ObjectChange, origin: Origin | None) -> Finding:
    return Finding("CHG503", f"root {obj.path} is not in this build any more, but its previous build has "
                   f"{len(obj.changes)} resource(s); building would retire it (applying it destroys them)",
                   f"if that is meant, build with {_flag('--allow-destroy', obj.path)} (or its environment or "
                   f"region); otherwise put back what it held", path=obj.path, origin=origin)


def _protected(obj: ObjectChange, origin: Origin | None) -> list[Finding]:
    if not obj.protected:
        return []
    verb = "destroys" if obj.status is Status.DESTROYED or obj.touched(Action.DELETE) else "replaces"
    return [Finding("CHG504", f"this change {verb} {obj.path}, which has `protect: true`; Terraform refuses to "
                    f"destroy what is protected (prevent_destroy), so the apply would stop half-way",
                    f"set `protect: false` on {obj.path} (or its environment), build and apply that first; then "
                    f"make this change with its --allow-* flag", path=obj.path, origin=origin)]


def check_root_names(fleet: Fleet) -> list[Finding]:
    """CHG510: an environment whose root would be named like another environment's cells root
    (`a--us-east-1` beside environment `a` in the cells layout): one of the two would overwrite the other."""
    cells = [e for e in fleet.environments.values() if fleet.layout_of(e) == LAYOUT_CELLS]
    findings = []
    for env in fleet.environments.values():
        for other in cells:
            if other is not env and env.name.startswith(other.name + naming.CELL_SEPARATOR):
                findings.append(Finding(
                    "CHG510", f"environment {env.name} would have the root directory {env.name}, which is the name "
                    f"of a cells root of environment {other.name} ({other.name}--<cell>)",
                    f"rename environment {env.name} without `{other.name}{naming.CELL_SEPARATOR}` at its start",
                    path=env.name, origin=env.origin()))
    return findings
