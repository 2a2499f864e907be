"""The resource-level diff of two builds: what applying the new one would do to what the old one made.

Per environment (its roots joined, so a resource that moves between the roots of one environment, as a layout
switch moves them, is a move and not a destroy plus a create; `tfgen.emit.cells.join_environment`), per managed
resource address: `create`, `delete`, `update`, `replace` or, for a move, `no-op` with the roots it moved
between. A changed argument replaces when the replacement table says it does (`tfgen.lifecycle.replacement`).
Then the changes travel along references (the one reference grammar): a resource that refers to an attribute of
a replaced resource sees a new value (unknown until applied) unless the attribute is a literal argument that
kept its value, and one that refers to what an in-place update changes sees it change; the referring argument
then replaces or updates the referrer by the same table, and so on until nothing more changes. A resource whose
`lifecycle.replace_triggered_by` names what changes is replaced (Terraform's rule: a whole resource when it is
replaced or updated, an attribute when its value changes).

A replacement is create-first when the resource is `create_before_destroy` or anything that depends on it,
directly or through others, is (Terraform makes a create-before-destroy resource's dependencies create-first
too); the guards need it, since a create-first replacement of what holds a unique name cannot apply.

This is what the build can know without the state: values Terraform reads back from AWS (drift) and the
provider's own conditional replacements are not modelled; a real plan (`terraform show -json`, read by
`tfgen.terraform.planjson`) is the last word, and feeds the same summary.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from ..derive import naming
from ..emit.cells import join_environment
from ..terraform.changes import Action, ResourceChange
from ..terraform.index import Root
from ..terraform.references import parse
from .replacement import CHANGES_ON_UPDATE, forces_replacement

__all__ = ["View", "views_of", "diff_builds", "create_first"]

_META = ("depends_on", "lifecycle", "provider", "count", "for_each")
_SHOWN = 60  # characters of a value a reason shows


@dataclass(frozen=True)
class View:
    """One environment of a build as one index: its root's, or its roots' joined (files named `root/file`)."""

    environment: str
    index: Root
    root: str | None  # the one root, or None when joined

    def root_of(self, address: str) -> str:
        if self.root is not None:
            return self.root
        file = self.index.file_of(address) or ""
        return file.split("/", 1)[0]


def views_of(roots: Mapping[str, Root], environment_of) -> dict[str, View]:
    """`{environment: View}` of a build's roots; `environment_of(root)` names each root's environment."""
    grouped: dict[str, dict[str, Root]] = defaultdict(dict)
    for name, index in roots.items():
        grouped[environment_of(name)][name] = index
    views = {}
    for environment, members in grouped.items():
        if len(members) == 1 and next(iter(members)) == environment:
            views[environment] = View(environment, members[environment], environment)
        else:
            views[environment] = View(environment, join_environment(members), None)
    return views


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else _json(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _differences(old: Any, new: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(dotted path without list indexes, old, new) of every argument that differs, at the shallowest level where
    a nested block's shape still matches."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if not path and key in _META:
                continue
            if old.get(key) != new.get(key):
                yield from _differences(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) \
            and all(isinstance(v, dict) for v in old + new):
        for a, b in zip(old, new):
            yield from _differences(a, b, path)
        return
    if isinstance(old, dict) and isinstance(new, list) and len(new) == 1:
        yield from _differences(old, new[0], path)
        return
    if isinstance(old, list) and len(old) == 1 and isinstance(new, dict):
        yield from _differences(old[0], new, path)
        return
    yield path, old, new


def _references(body: dict) -> list[tuple[str, str, str]]:
    """(argument path, resource address, first attribute) of every reference to a managed resource in `body`."""
    found: list[tuple[str, str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            if "{" in value:
                for ref in parse(value).references:
                    if ref.kind == "resource":
                        step = ref.path[0] if ref.path and isinstance(ref.path[0], str) else ""
                        found.append((path, ref.address, step))
        elif isinstance(value, dict):
            for key, item in value.items():
                if not path and key in _META:
                    continue
                walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                walk(item, path)

    walk(body, "")
    return found


@dataclass
class _Change:
    action: Action
    reasons: list[str]  # the arguments that differ, in path order
    paths: list[str]
    changed: set[str]  # top-level arguments whose value differs (literal or not)
    travelled: set[str] = field(default_factory=set)  # what reached it along references


def _literal(body: dict, attribute: str) -> Any:
    """The value of a top-level argument when it is written without references (None when not)."""
    value = body.get(attribute)
    if value is None:
        return None
    return value if not parse(_json(value)).references else None


def _ignored(body: dict) -> set[str]:
    """The argument paths `lifecycle.ignore_changes` names (indexes dropped): Terraform plans no change for them."""
    listed = (body.get("lifecycle") or {}).get("ignore_changes") or []
    return {re.sub(r"\[[^\]]*\]", "", item) for item in listed if isinstance(item, str)}


def _direct(type_: str, old: dict, new: dict) -> _Change:
    reasons, paths, changed = [], [], set()
    replace = False
    ignored = _ignored(new)
    for path, before, after in _differences(old, new):
        if any(path == i or path.startswith(i + ".") for i in ignored):
            continue
        changed.add(path.split(".", 1)[0])
        forced = forces_replacement(type_, path)
        replace = replace or forced
        if forced:
            paths.append(path)
        reasons.append(f"{path}: {_show(before)} -> {_show(after)}")
    if not reasons:
        return _Change(Action.NO_OP, [], [], set())
    return _Change(Action.REPLACE if replace else Action.UPDATE, reasons, paths, changed)


def _triggers(body: dict) -> list[tuple[str, str]]:
    """(resource address, attribute or "") of every entry of `lifecycle.replace_triggered_by` (bare references)."""
    found = []
    for entry in (body.get("lifecycle") or {}).get("replace_triggered_by") or []:
        if isinstance(entry, str):
            parts = re.sub(r"\[[^\]]*\]", "", entry.strip()).split(".")
            if len(parts) >= 2:
                found.append((".".join(parts[:2]), parts[2] if len(parts) > 2 else ""))
    return found


def create_first(index: Root) -> set[str]:
    """The resources of `index` Terraform replaces create-first: those that are `create_before_destroy`, and
    everything such a resource depends on, directly or through other blocks (references, `depends_on`,
    `replace_triggered_by`)."""
    depends: dict[str, set[str]] = {}
    for address, block in index.resources.items():
        targets = {r.address for r in index.references(address) if r.kind in ("resource", "data")}
        targets.update(index.depends_on(address))
        targets.update(target for target, _ in _triggers(block.body))
        depends[address] = targets
    todo = [a for a, b in index.resources.items()
            if b.kind == "resource" and (b.body.get("lifecycle") or {}).get("create_before_destroy") is True]
    forced = set(todo)
    while todo:
        for target in depends.get(todo.pop(), ()):
            if target not in forced:
                forced.add(target)
                todo.append(target)
    return forced


def _environment_diff(old: View | None, new: View | None) -> list[ResourceChange]:
    old_blocks = {a: b for a, b in old.index.resources.items() if b.kind == "resource"} if old else {}
    new_blocks = {a: b for a, b in new.index.resources.items() if b.kind == "resource"} if new else {}
    changes: dict[str, _Change] = {}
    for address in sorted(old_blocks.keys() & new_blocks.keys()):
        changes[address] = _direct(new_blocks[address].type, old_blocks[address].body, new_blocks[address].body)
    # What travels along references: from each replaced or updated resource to those that refer to it (nothing
    # travels when nothing changed, and a build that changes nothing is the common one: no walk then).
    todo = [a for a, c in changes.items() if c.action is not Action.NO_OP]
    referrers: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    triggers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for address in changes if todo else ():
        for path, target, attribute in _references(new_blocks[address].body):
            if target in changes:
                referrers[target].append((address, path, attribute))
        for target, attribute in _triggers(new_blocks[address].body):
            if target in changes:
                triggers[target].append((address, attribute))
    while todo:
        source = todo.pop()
        cause = changes[source]
        for referrer, attribute in triggers.get(source, ()):
            if attribute and not _travels(cause, new_blocks[source].type, new_blocks[source].body,
                                          old_blocks[source].body, attribute):
                continue
            change = changes[referrer]
            verb = "is replaced" if cause.action is Action.REPLACE else "changes"
            change.travelled.add(f"lifecycle.replace_triggered_by: {source} {verb}")
            if change.action is not Action.REPLACE:
                change.action = Action.REPLACE
                todo.append(referrer)
        for referrer, path, attribute in referrers.get(source, ()):
            if not _travels(cause, new_blocks[source].type, new_blocks[source].body, old_blocks[source].body,
                            attribute):
                continue
            change = changes[referrer]
            verb = "is replaced" if cause.action is Action.REPLACE else f"changes {attribute}"
            forced = forces_replacement(new_blocks[referrer].type, path)
            reason = f"{path}: {source} {verb}"
            before = change.action
            if forced and change.action is not Action.REPLACE:
                change.action = Action.REPLACE
            elif change.action is Action.NO_OP:
                change.action = Action.UPDATE
            change.travelled.add(reason)
            if forced and path not in change.paths:
                change.paths.append(path)
            if change.action is not before:
                todo.append(referrer)
    replacing = new is not None and any(c.action is Action.REPLACE for c in changes.values())
    first = create_first(new.index) if replacing else set()  # a walk of every block: only when it can matter
    found = []
    for address, change in changes.items():
        old_root, new_root = old.root_of(address), new.root_of(address)
        moved = [f"moved from root {old_root} to {new_root}"] if old_root != new_root else []
        if change.action is Action.NO_OP and not moved:
            continue
        block = new_blocks[address]
        reasons = tuple(moved + change.reasons + sorted(change.travelled))
        found.append(ResourceChange(new_root, address, block.type, change.action, reasons,
                                    tuple(sorted(change.paths)), old_blocks[address].body, block.body,
                                    create_first=change.action is Action.REPLACE and address in first))
    for address in sorted(old_blocks.keys() - new_blocks.keys()):
        block = old_blocks[address]
        found.append(ResourceChange(old.root_of(address), address, block.type, Action.DELETE, ("removed",),
                                    (), block.body, None))
    for address in sorted(new_blocks.keys() - old_blocks.keys()):
        block = new_blocks[address]
        found.append(ResourceChange(new.root_of(address), address, block.type, Action.CREATE, ("added",),
                                    (), None, block.body))
    return found


def _travels(cause: _Change, type_: str, new_body: dict, old_body: dict, attribute: str) -> bool:
    """Whether a reference to `attribute` of a changed `type_` resource sees a new value."""
    if cause.action is Action.REPLACE:
        literal = _literal(new_body, attribute)
        return literal is None or literal != _literal(old_body, attribute)
    return attribute in cause.changed or attribute in CHANGES_ON_UPDATE.get(type_, ())


def diff_builds(old: Mapping[str, Root], new: Mapping[str, Root], *, old_environment_of=naming.environment_of_root,
                new_environment_of=naming.environment_of_root) -> list[ResourceChange]:
    """Every resource change from the roots `old` (the previous build, `{root: index}`) to `new`, in environment
    and address order; `*_environment_of(root)` names each root's environment (the records know roots that
    `naming.environment_of_root` cannot tell apart)."""
    old_views = views_of(old, old_environment_of)
    new_views = views_of(new, new_environment_of)
    changes = []
    for environment in sorted(old_views.keys() | new_views.keys()):
        changes += _environment_diff(old_views.get(environment), new_views.get(environment))
    return changes
