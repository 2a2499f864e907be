"""Resource changes rolled up into the fleet's words: per cluster, link, region and environment what happens.

`summarize(changes, record)` takes `ResourceChange`s from either source (the diff of two builds,
`tfgen.lifecycle.diff`, or a real plan's `terraform show -json`, `tfgen.terraform.planjson`) and the record of
the fleet (`tfgen.lifecycle.record`): each change goes to the object that owns its resource (`Record.owner`),
and each object gets one status:

- `new`: its anchor (a cluster's EKS cluster, a link's peering, a region's EBS key) is created;
- `DESTROYED`: its anchor is destroyed (an environment or a cells root: every resource of it);
- `REPLACED`: its anchor (for a cluster: its EKS cluster or its VPC) is replaced, with why, in the fleet's words
  (`vpc cidr 10.11.0.0/16 -> 10.16.0.0/16`);
- `updated in place`: anything else changes (what is replaced or destroyed in it is listed);
- `retiring`: it belongs to what an earlier build removed and an apply has not destroyed yet;
- `unchanged`: nothing (counted, not listed).

`FleetDiff` renders as text (what `tfgen build` and `tfgen diff` print), JSON (the same, for programs) and
Markdown (a pull request comment).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterable, Mapping

from ..terraform.changes import Action, ResourceChange
from .record import CLUSTER, ENVIRONMENT, LINK, REGION, FleetObject, Record
from .replacement import PROTECTED

__all__ = ["Status", "ROOT", "ObjectChange", "FleetDiff", "summarize"]

ROOT = "root"  # the kind of a cells root removed with everything in it


class Status(StrEnum):
    """What happens to one object of the fleet."""

    NEW = "new"
    UPDATED = "updated in place"
    REPLACED = "REPLACED"
    DESTROYED = "DESTROYED"
    RETIRING = "retiring"
    UNCHANGED = "unchanged"


# The resource whose fate is the object's, per kind of object.
ANCHORS = {
    CLUSTER: ("aws_eks_cluster", "aws_vpc"),
    LINK: ("aws_vpc_peering_connection", "aws_ec2_transit_gateway_peering_attachment"),
    REGION: ("aws_ebs_default_kms_key", "aws_kms_key", "aws_ec2_transit_gateway"),
}
# Arguments in the fleet's words; `{name}` is the resource's name after its object's key.
PHRASES = {
    ("aws_vpc", "cidr_block"): "vpc cidr",
    ("aws_subnet", "cidr_block"): "subnet cidr",
    ("aws_subnet", "availability_zone"): "zone",
    ("aws_eks_cluster", "name"): "cluster name",
    ("aws_eks_cluster", "role_arn"): "cluster role",
    ("aws_eks_cluster", "version"): "kubernetes version",
    ("aws_eks_cluster", "bootstrap_self_managed_addons"): "self-managed add-ons",
    ("aws_eks_node_group", "instance_types"): "node group {name} instance types",
    ("aws_eks_node_group", "capacity_type"): "node group {name} capacity type",
    ("aws_eks_node_group", "ami_type"): "node group {name} AMI type",
    ("aws_eks_node_group", "disk_size"): "node group {name} disk size",
    ("aws_eks_node_group", "node_group_name"): "node group {name} name",
    ("aws_eks_node_group", "subnet_ids"): "node group {name} subnets",
    ("aws_vpc_peering_connection", "peer_region"): "peer region",
    ("aws_kms_key", "customer_master_key_spec"): "key spec",
}
_CAUSED = re.compile(r"^(?P<path>[\w.]+): (?P<source>[\w.]+) (?:is replaced|changes(?: \w*)?)$")
_VALUES = re.compile(r"^(?P<path>[\w.]+): (?P<rest>.*)$")


@dataclass(frozen=True)
class ObjectChange:
    """One object and what happens to it: status, why (for a replacement), its resources' changes."""

    path: str
    kind: str
    status: Status
    why: tuple[str, ...] = ()
    changes: tuple[ResourceChange, ...] = ()
    protected: bool = False
    retiring: str = ""  # the retiring entry it belongs to

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(c.action.value for c in self.changes if c.action is not Action.NO_OP)
        return {action: counted[action] for action in ("create", "update", "replace", "delete") if counted[action]}

    def touched(self, action: Action, kinds: Iterable[str] = PROTECTED) -> list[ResourceChange]:
        """Its changes of `action` on resources of `kinds` (the guarded kinds by default)."""
        return [c for c in self.changes if c.action is action and c.type in kinds]

    def line(self) -> str:
        status = str(self.status)
        if self.why:
            status += f" (why: {'; '.join(self.why)})"
        counts = ", ".join(f"{n} to {a}" for a, n in self.counts.items())
        return f"{self.path}  {status}" + (f"  [{counts}]" if counts else "")

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "status": str(self.status), "why": list(self.why),
                "counts": self.counts, "protected": self.protected, "retiring": self.retiring,
                "resources": [{"root": c.root, "address": c.address, "action": c.action.value,
                               "reasons": list(c.reasons)} for c in self.changes]}


@dataclass(frozen=True)
class FleetDiff:
    """The fleet's changes against a baseline (`against`: what it is compared with), object by object."""

    objects: tuple[ObjectChange, ...] = ()
    unchanged: int = 0
    against: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def of(self, status: Status) -> list[ObjectChange]:
        return [o for o in self.objects if o.status is status]

    @property
    def changed(self) -> bool:
        return any(o.status is not Status.RETIRING for o in self.objects)

    def text(self) -> str:
        """What `tfgen build` and `tfgen diff` print: changed objects, then a count of the unchanged ones."""
        head = f"fleet diff against {self.against}" if self.against else "fleet diff"
        lines = [f"{head}:"] if self.objects else [f"{head}: no changes"]
        width = max((len(o.path) for o in self.objects), default=0)
        for o in self.objects:
            lines.append("  " + o.line().replace(f"{o.path}  ", o.path.ljust(width) + "  ", 1))
        if self.unchanged:
            lines.append(f"  {self.unchanged} object(s) unchanged")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        rows = ["| object | status | why | resources |", "| --- | --- | --- | --- |"]
        for o in self.objects:
            counts = ", ".join(f"{n} to {a}" for a, n in o.counts.items())
            rows.append(f"| `{o.path}` | {o.status} | {_cell('; '.join(o.why))} | {counts} |")
        tail = [f"{self.unchanged} object(s) unchanged."] if self.unchanged else []
        return "\n".join([f"**Fleet diff** against {self.against or 'the previous build'}", "", *rows, "",
                          *tail, *[f"Note: {n}" for n in self.notes]]) + "\n"

    def as_dict(self) -> dict:
        return {"against": self.against, "objects": [o.as_dict() for o in self.objects],
                "unchanged": self.unchanged, "notes": list(self.notes)}


def _phrase(change: ResourceChange, obj: FleetObject | None, reason: str) -> str:
    """`reason` (`path: a -> b`) in the fleet's words where the table has them."""
    match = _VALUES.match(reason)
    if not match:
        return reason
    path = match.group("path")
    words = PHRASES.get((change.type, path))
    if words is None:
        return f"{change.type.removeprefix('aws_').replace('_', ' ')} {path.replace('_', ' ')}: {match.group('rest')}"
    name = change.address.rsplit(".", 1)[-1]
    key = next((k for k in (obj.keys if obj else ()) if name.startswith(k)), "")
    words = words.format(name=name[len(key):].strip("_") or name)
    return f"{words} {match.group('rest')}"


def _causes(change: ResourceChange, by_address: Mapping[str, ResourceChange], owners: Mapping[str, str],
            record: Record, seen: set[str] | None = None) -> list[str]:
    """Why `change` replaces its resource, followed back to the arguments that changed."""
    seen = set() if seen is None else seen
    seen.add(change.address)
    direct = [r for r in change.reasons if not _CAUSED.match(r) and _VALUES.match(r)
              and (not change.replace_paths or r.split(":", 1)[0] in change.replace_paths)]
    if direct:
        return [_phrase(change, record.objects.get(owners.get(change.address, "")), r) for r in direct]
    caused = [m for m in map(_CAUSED.match, change.reasons) if m]
    # What `replace_triggered_by` names is the cause; what else of it changed follows from the same change.
    triggers = [m for m in caused if m.group("path") == "lifecycle.replace_triggered_by"]
    found: list[str] = []
    explained = False
    for matches in (triggers, caused):
        for match in matches:
            source = by_address.get(match.group("source"))
            if source is None or source.action is not Action.REPLACE:
                continue
            explained = True  # a source already followed is explained where it was
            if source.address not in seen:
                found += [c for c in _causes(source, by_address, owners, record, seen) if c not in found]
        if explained:
            break
    return found or ([] if explained else [r for r in change.reasons if r not in ("removed", "added")][:1])


def _status(obj_kind: str, changes: list[ResourceChange]) -> Status:
    anchors = ANCHORS.get(obj_kind, ())
    actions = {c.action for c in changes if c.type in anchors}
    if Action.REPLACE in actions:
        return Status.REPLACED
    if Action.DELETE in actions and Action.CREATE not in actions:
        return Status.DESTROYED
    if Action.CREATE in actions and Action.DELETE not in actions:
        return Status.NEW
    real = [c for c in changes if c.action is not Action.NO_OP]
    if not anchors and real and all(c.action is Action.DELETE for c in real):
        return Status.DESTROYED
    return Status.UPDATED if changes else Status.UNCHANGED


def _cell(text: str) -> str:
    """Text that stays in one Markdown table cell (a why quotes values, which may hold `|` or newlines)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def summarize(changes: Iterable[ResourceChange], record: Record, *, against: str = "") -> FleetDiff:
    """The fleet's changes object by object; `record` says which objects exist (and which are retiring)."""
    changes = [c for c in changes if c.action not in (Action.READ,)]
    owners: dict[str, str] = {}
    grouped: dict[str, list[ResourceChange]] = {}
    for change in changes:
        owner = record.owner(change.root, change.address)
        owners[change.address] = owner
        grouped.setdefault(owner, []).append(change)
    retiring = record.retiring_objects()
    live_roots = {root for env in record.environments.values() for root in env.roots}
    by_address = {c.address: c for c in changes}
    result: list[ObjectChange] = []
    statuses: dict[str, Status] = {}
    waiting = {}
    for path in sorted(grouped.keys() | retiring.keys()):
        found = grouped.get(path, [])
        obj = record.objects.get(path) or (retiring[path][1] if path in retiring else None)
        kind = obj.kind if obj else ENVIRONMENT
        if path in retiring:
            entry = retiring[path][0]
            if found:
                result.append(ObjectChange(path, kind, Status.RETIRING, (), tuple(found), obj.protected, entry.path))
            else:
                waiting[entry.path] = entry
            continue
        status = _status(kind, found)
        statuses[path] = status
        why: list[str] = []
        if status is Status.REPLACED:
            for change in found:
                if change.type in ANCHORS.get(kind, ()) and change.action is Action.REPLACE:
                    why += [c for c in _causes(change, by_address, owners, record) if c not in why]
        elif status is Status.UPDATED:
            for change in found:
                if change.action in (Action.REPLACE, Action.DELETE) and change.type in PROTECTED:
                    why.append(f"{change.address} {'replaced' if change.action is Action.REPLACE else 'destroyed'}")
        if status is not Status.UNCHANGED:
            result.append(ObjectChange(path, kind, status, tuple(why), tuple(found), bool(obj and obj.protected)))
    for path, entry in waiting.items():  # nothing of it in these changes: one line per retirement
        why = (f"{len(entry.objects)} object(s); destroyed by an apply of {', '.join(entry.roots)}",)
        result.append(ObjectChange(path, entry.kind, Status.RETIRING, why, (), False, path))
    result = _environments(result, record, statuses)
    result += _removed_roots(changes, record, live_roots)
    listed = {o.path for o in result}
    unchanged = sum(1 for o in record.objects.values() if o.kind != ENVIRONMENT and o.path not in listed)
    return FleetDiff(tuple(sorted(result, key=lambda o: o.path)), unchanged, against)


def _environments(result: list[ObjectChange], record: Record, statuses: Mapping[str, Status]) -> list[ObjectChange]:
    """An environment is new (or DESTROYED) when every object of it is; otherwise it is listed only for changes
    to what no object of it owns."""
    out = [o for o in result if o.kind != ENVIRONMENT]
    own = {o.path: o for o in result if o.kind == ENVIRONMENT}
    for env in record.environments.values():
        members = [o for o in record.objects.values() if o.environment == env.path and o.kind != ENVIRONMENT]
        states = {statuses.get(o.path, Status.UNCHANGED) for o in members}
        changes = own.get(env.path).changes if env.path in own else ()
        if members and states == {Status.NEW}:
            out.append(ObjectChange(env.path, ENVIRONMENT, Status.NEW, (), changes, env.protected))
        elif members and states == {Status.DESTROYED}:
            out.append(ObjectChange(env.path, ENVIRONMENT, Status.DESTROYED, ("environment removed",), changes,
                                    env.protected))
        elif env.path in own:
            out.append(own.pop(env.path))
        own.pop(env.path, None)
    out += own.values()  # roots no environment of the record has (`_state`)
    return out


def _removed_roots(changes: list[ResourceChange], record: Record, live_roots: set[str]) -> list[ObjectChange]:
    """A root (not an environment's own) whose every change destroys something and that no live environment
    has: a cells root removed with everything in it (retiring roots are the record's retiring entries')."""
    by_root: dict[str, list[ResourceChange]] = {}
    for change in changes:
        by_root.setdefault(change.root, []).append(change)
    whole = {root: entry for entry in record.retiring.values() for root in entry.whole}
    found = []
    for root, found_changes in sorted(by_root.items()):
        if root in live_roots or root in record.environments or root in whole:
            continue
        if all(c.action is Action.DELETE for c in found_changes):
            found.append(ObjectChange(root, ROOT, Status.DESTROYED, ("root removed",), tuple(found_changes)))
    return found
