"""A plan as `terraform show -json PLAN` describes it: per resource what happens and why, never from the
words Terraform prints for people.

`resource_changes[].change.actions` is `["create"]`, `["update"]`, `["delete"]`, `["delete", "create"]`
or `["create", "delete"]` (a replacement, whichever goes first), `["no-op"]`, `["read"]` or `["forget"]`
(Terraform 1.7's `removed` blocks); `action_reason` and `replace_paths` say why. Every value shown in a
reason is checked against `before_sensitive`/`after_sensitive` first: a sensitive value is never
printed. Facts: developer.hashicorp.com/terraform/internals/json-format (format 0.x of Terraform
0.12-1.0 and 1.x since 1.1 read alike; a major version tfgen does not know is refused, as the page asks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import TfgenError
from .changes import Action, ResourceChange

__all__ = ["PlanJson", "PlanJsonError", "read_plan", "load_plan", "tally", "CHANGING"]

_FORMATS = ("0", "1")  # major versions of the format this reader knows
_ACTIONS = {
    ("create",): Action.CREATE, ("update",): Action.UPDATE, ("delete",): Action.DELETE,
    ("delete", "create"): Action.REPLACE, ("create", "delete"): Action.REPLACE,
    ("no-op",): Action.NO_OP, ("read",): Action.READ, ("forget",): Action.FORGET,
}
# What a reviewer reads for each `action_reason` (the replace paths, where given, say more).
_REASONS = {
    "replace_because_tainted": "tainted: a create or apply failed part way",
    "replace_by_request": "replacement requested (-replace)",
    "replace_by_triggers": "replace_triggered_by names something that changes",
    "replace_because_cannot_update": "an argument that cannot be updated in place changes",
    "delete_because_no_resource_config": "no longer in the configuration",
    "delete_because_wrong_repetition": "count or for_each changed how it repeats",
    "delete_because_count_index": "its count index is no longer in range",
    "delete_because_each_key": "its for_each key is gone",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_no_move_target": "moved to an address that is not in the configuration",
    "delete_because_enabled_false": "enabled = false",
    "read_because_config_unknown": "its arguments are known only after apply",
    "read_because_dependency_pending": "it depends on a change not applied yet",
    "read_because_check_nested": "a check block reads it",
}
# Actions that change something (a plan with none of them has no changes).
CHANGING = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.FORGET)
_SHOWN = 80  # characters of a value shown in a reason
_LISTED = 5  # changed attributes named in an update's reason


class PlanJsonError(TfgenError):
    """A file that is not `terraform show -json` of a plan, or one in a format tfgen does not know."""


@dataclass(frozen=True)
class PlanJson:
    """What one root's plan does: each resource's change, which outputs change, and Terraform's verdict."""

    root: str
    terraform_version: str
    changes: tuple[ResourceChange, ...]
    outputs: tuple[str, ...]  # outputs whose value changes (created, updated or removed)
    moved: tuple[str, ...] = ()  # resources moved or imported and otherwise unchanged: applying records it
    errored: bool = False  # Terraform stopped planning on an error: the plan is partial

    @property
    def changed(self) -> tuple[ResourceChange, ...]:
        """The changes that do something (no no-op, no read)."""
        return tuple(c for c in self.changes if c.action in CHANGING)

    @property
    def any(self) -> bool:
        """Whether applying the plan changes anything: a resource, an output, or the state (moves, imports)."""
        return bool(self.changed or self.outputs or self.moved)


def tally(changes) -> dict[Action, int]:
    """How many of `changes` do each action (every action listed, 0 where none)."""
    counts = {action: 0 for action in Action}
    for change in changes:
        counts[change.action] += 1
    return counts


def load_plan(path: str | Path, *, root: str) -> PlanJson:
    """`read_plan` of the JSON in `path`, naming the file in every error."""
    path = Path(path)
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise PlanJsonError(f"{path}: cannot read it ({exc.strerror or exc}); plan again to make it") from None
    except (ValueError, RecursionError) as exc:
        raise PlanJsonError(f"{path}: not JSON ({exc}); it should be `terraform show -json` of {root}'s plan: "
                            f"plan again to make it") from None
    return read_plan(document, root=root, source=str(path))


def read_plan(document: Any, *, root: str, source: str = "the plan") -> PlanJson:
    """The plan of `root` that `document` (`terraform show -json PLAN`, parsed) describes."""
    if not isinstance(document, dict) or "format_version" not in document:
        raise PlanJsonError(f"{source}: not `terraform show -json` of a plan (no format_version); plan "
                            f"{root} again to make it")
    version = str(document["format_version"])
    if version.split(".")[0] not in _FORMATS:
        raise PlanJsonError(f"{source}: plan format {version}, which this tfgen cannot read (it reads "
                            f"{', '.join(f + '.x' for f in _FORMATS)}); upgrade tfgen")
    raw = document.get("resource_changes") or []
    if not isinstance(raw, list):
        raise PlanJsonError(f"{source}: resource_changes is not a list; plan {root} again to make it")
    changes = tuple(_change(entry, root, source) for entry in raw)
    outputs = document.get("output_changes") or {}
    if not isinstance(outputs, dict):
        raise PlanJsonError(f"{source}: output_changes is not an object; plan {root} again to make it")
    # An output's entry is a change representation itself: {"actions": [...], "before": ..., "after": ...}.
    changed = tuple(sorted(name for name, entry in outputs.items()
                           if _actions({"change": entry}, source, f"output.{name}") not in (("no-op",), ("read",))))
    moved = tuple(c.address for c, entry in zip(changes, raw) if c.action is Action.NO_OP and (
        entry.get("previous_address") not in (None, c.address) or isinstance(entry["change"].get("importing"), dict)))
    return PlanJson(root, str(document.get("terraform_version", "")), changes, changed, moved,
                    errored=bool(document.get("errored", False)))


def _actions(entry: dict, source: str, address: str) -> tuple[str, ...]:
    change = entry.get("change")
    actions = change.get("actions") if isinstance(change, dict) else None
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise PlanJsonError(f"{source}: {address} has no change.actions list; plan again to make it")
    return tuple(actions)


def _change(entry: Any, root: str, source: str) -> ResourceChange:
    if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
        raise PlanJsonError(f"{source}: a resource change without an address; plan {root} again to make it")
    address = entry["address"]
    actions = _actions(entry, source, address)
    action = _ACTIONS.get(actions)
    if action is None:
        raise PlanJsonError(f"{source}: {address} has the actions {list(actions)}, which this tfgen does not know; "
                            f"upgrade tfgen (a plan it cannot read, it cannot show for review)")
    change = entry["change"]
    before, after = change.get("before"), change.get("after")
    paths = tuple(_path(p) for p in entry.get("replace_paths") or [] if isinstance(p, list))
    reasons = _reasons(entry, action, change, paths)
    return ResourceChange(
        root=root, address=address, type=str(entry.get("type", "")), action=action, reasons=reasons,
        replace_paths=paths, before=before if isinstance(before, dict) else None,
        after=after if isinstance(after, dict) else None, create_first=actions == ("create", "delete"))


def _reasons(entry: dict, action: Action, change: dict, paths: tuple[str, ...]) -> tuple[str, ...]:
    reasons = []
    previous = entry.get("previous_address")
    if isinstance(previous, str) and previous != entry["address"]:
        reasons.append(f"moved from {previous}")
    importing = change.get("importing")
    if isinstance(importing, dict):
        reasons.append(f"imported (id {importing.get('id', '?')})")
    if action is Action.REPLACE:
        # Terraform before 1.2 gives no replace_paths: then the arguments known on both sides that differ.
        given = [raw for raw in entry.get("replace_paths") or [] if isinstance(raw, list)]
        for raw in given or [[name] for name in _known_differences(change)][:_LISTED]:
            reasons.append(f"{_path(raw)}: {_shown(change, raw, 'before')} -> {_shown(change, raw, 'after')}")
    elif action is Action.UPDATE:
        names = _updated(change)
        if names:
            more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
            reasons.append(f"changes {', '.join(names[:_LISTED])}{more}")
    why = _REASONS.get(entry.get("action_reason") or "")
    if why and not (action is Action.REPLACE and paths and entry.get("action_reason") ==
                    "replace_because_cannot_update"):
        reasons.append(why)
    if entry.get("deposed"):
        reasons.append(f"the deposed object {entry['deposed']} (left by an earlier create_before_destroy)")
    return tuple(reasons)


def _path(steps: list) -> str:
    return ".".join(str(step) for step in steps)


def _at(value: Any, steps: list) -> tuple[bool, Any]:
    """(found, value) at `steps` in nested objects and lists; a `True` on the way (a whole sensitive or unknown
    block) counts for everything below it."""
    for step in steps:
        if value is True:
            return True, True
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return False, None
    return True, value


def _shown(change: dict, steps: list, side: str) -> str:
    """A value of the plan as a reason shows it: never a sensitive one, `(known after apply)` for an unknown."""
    sensitive = change.get(f"{side}_sensitive")
    if sensitive is True or _at(sensitive, steps)[1] is True:
        return "(sensitive)"
    if side == "after" and _at(change.get("after_unknown"), steps)[1] is True:
        return "(known after apply)"
    found, value = _at(change.get(side), steps)
    if not found or value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def _updated(change: Mapping) -> list[str]:
    """The top-level attributes an update changes (or makes unknown), sorted."""
    before = change.get("before") if isinstance(change.get("before"), dict) else {}
    after = change.get("after") if isinstance(change.get("after"), dict) else {}
    unknown = change.get("after_unknown") if isinstance(change.get("after_unknown"), dict) else {}
    names = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    names |= {name for name, value in unknown.items() if _any_true(value)}
    return sorted(names)


def _known_differences(change: Mapping) -> list[str]:
    """The top-level attributes whose value is known after the change and differs from before, sorted."""
    before = change.get("before") if isinstance(change.get("before"), dict) else {}
    after = change.get("after") if isinstance(change.get("after"), dict) else {}
    unknown = change.get("after_unknown") if isinstance(change.get("after_unknown"), dict) else {}
    empty = (None, {}, [], "")  # an unset block or map is read back as empty: no difference
    return sorted(name for name in set(before) & set(after)
                  if before[name] != after[name] and not (before[name] in empty and after[name] in empty)
                  and not _any_true(unknown.get(name)))


def _any_true(value: Any) -> bool:
    """Whether a nested structure of `after_unknown` marks anything unknown."""
    todo = [value]
    while todo:
        item = todo.pop()
        if item is True:
            return True
        todo.extend(item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
    return False
