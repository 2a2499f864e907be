"""Terraform state documents as a layout migration reads and writes them (format version 4, pulled and pushed
by `terraform state pull|push`).

`plan_moves` decides, from the addresses each new root declares and what every old and new root's state
holds, which resource entries go where, and refuses (as problems, all of them at once) an address no state
holds, one held twice with different objects, one in the wrong new root, or one an old root holds that no
new root declares (emptying the old root would forget it). An entry moves whole: its instances, their
attributes, private data and dependencies, exactly as Terraform wrote them, so the new root's plan compares
the configuration with the very state the old root had. `with_resources` and `emptied` make the documents to
push: each one serial above the state it replaces (Terraform refuses a push of an equal or lower serial, so
a state changed by someone else meanwhile is never overwritten), a new state with a lineage of its own.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Iterable, Mapping

__all__ = ["FORMAT", "Moves", "address_of", "managed", "identity", "plan_moves", "with_resources", "emptied",
           "not_held"]

FORMAT = 4  # the state format of Terraform 0.12 and later
_SHOWN = 8  # addresses named per problem; the rest are counted


def address_of(entry: dict) -> str:
    """`type.name` (`data.type.name`; `module.x.type.name` inside a module) of a state's resource entry."""
    address = f"{entry.get('type')}.{entry.get('name')}"
    if entry.get("mode") == "data":
        address = "data." + address
    return f"{entry['module']}.{address}" if entry.get("module") else address


def managed(state: dict | None) -> dict[str, dict]:
    """`{address: entry}` of the managed resources a state holds (data sources are read again by any plan)."""
    if not state:
        return {}
    return {address_of(entry): entry for entry in state.get("resources") or [] if entry.get("mode") == "managed"}


def identity(entry: dict) -> list[tuple]:
    """What names the real objects of an entry: each instance's key and `id`."""
    return sorted((str(i.get("index_key", "")), str((i.get("attributes") or {}).get("id")))
                  for i in entry.get("instances") or [])


@dataclass
class Moves:
    """What a migration writes: `into` each new root the entries it gains; `kept` the addresses a new root
    holds already (an earlier run wrote them); `emptied` the old roots whose state holds anything."""

    into: dict[str, list[dict]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)
    emptied: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(entries) for entries in self.into.values())


def _named(addresses: list[str]) -> str:
    shown = ", ".join(addresses[:_SHOWN])
    return shown + (f" and {len(addresses) - _SHOWN} more" if len(addresses) > _SHOWN else "")


def plan_moves(expected: Mapping[str, Iterable[str]], sources: Mapping[str, dict | None],
               targets: Mapping[str, dict | None]) -> tuple[Moves, list[str]]:
    """The moves that put each address of `expected` (`{new root: addresses it declares}`) into its new root's
    state, from the old roots' states (`sources`) and the new ones' (`targets`; None: no state yet); and
    every problem that forbids them."""
    owner = {address: root for root, addresses in expected.items() for address in addresses}
    old = {root: managed(state) for root, state in sources.items()}
    new = {root: managed(state) for root, state in targets.items()}
    moves = Moves(into={root: [] for root in targets}, kept={root: [] for root in targets},
                  emptied=sorted(root for root, state in sources.items()
                                 if state and (state.get("resources") or state.get("outputs"))))
    missing: list[str] = []
    problems: list[str] = []
    for address, root in sorted(owner.items()):
        holders = [source for source, held in old.items() if address in held]
        astray = [other for other, held in new.items() if other != root and address in held]
        if astray:
            problems.append(f"{address} is in the state of {astray[0]}, but the new layout declares it in {root}")
        if len(holders) > 1:
            problems.append(f"{address} is in the state of {' and '.join(holders)}: two states own one resource")
            continue
        there = new[root].get(address)
        if holders and there is not None:
            if identity(there) != identity(old[holders[0]][address]):
                problems.append(f"{address} is in the state of {holders[0]} and of {root} as different objects "
                                f"({identity(old[holders[0]][address])} and {identity(there)})")
            else:
                moves.kept[root].append(address)  # written by an earlier run that stopped before the end
        elif holders:
            moves.into[root].append(old[holders[0]][address])
        elif there is not None:
            moves.kept[root].append(address)
        else:
            missing.append(address)
    if missing:
        problems.append(f"{len(missing)} resource(s) the new roots declare are in no old root's state: "
                        f"{_named(missing)}")
    for source, held in sorted(old.items()):
        unknown = sorted(address for address in held if address not in owner)
        if unknown:
            problems.append(f"{source}'s state holds {len(unknown)} resource(s) no new root declares, which emptying "
                            f"it would forget: {_named(unknown)}")
    return moves, problems


def with_resources(state: dict | None, entries: list[dict], *, template: dict) -> dict:
    """`state` (None: a new state like `template`, with a lineage of its own) with `entries` added, one serial up."""
    if state is None:
        state = {**copy.deepcopy(template), "serial": 0, "lineage": str(uuid.uuid4()), "outputs": {},
                 "resources": []}
    written = copy.deepcopy(state)
    written["resources"] = sorted([*(written.get("resources") or []), *copy.deepcopy(entries)],
                                  key=lambda e: (e.get("module", ""), e.get("mode", ""), e.get("type", ""),
                                                 e.get("name", "")))
    written["serial"] = int(state.get("serial") or 0) + 1
    return written


def emptied(state: dict) -> dict:
    """`state` holding no resources, data sources or outputs, one serial up (its lineage kept)."""
    written = copy.deepcopy(state)
    written["resources"], written["outputs"] = [], {}
    written["serial"] = int(state.get("serial") or 0) + 1
    return written


def not_held(state: dict | None, entries: Iterable[dict]) -> list[str]:
    """The addresses of `entries` that `state` does not hold as the same objects."""
    held = managed(state)
    return sorted(address_of(e) for e in entries
                  if address_of(e) not in held or identity(held[address_of(e)]) != identity(e))
