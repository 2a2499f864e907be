"""Stable VPC CIDRs from an environment's `cidr_pool`.

A VPC without a `cidr` gets the lowest free block of `vpc_prefix` (default /16)
in its environment's pool. Re-addressing a VPC destroys it, so every block
handed out is recorded in an allocations file beside the spec (see
`tfgen.spec.allocations`) and kept on the next run: adding, removing or
reordering regions or clusters never moves an existing VPC. New clusters are
allocated in sorted order of their `region/cluster` name, so the spec's order
does not matter either. Records of clusters that no longer exist become
tombstones (`Allocation.retired`): their VPCs exist until the retirement is
applied, so their blocks are never handed out before; the build drops a
tombstone once its retirement ended (`tfgen.lifecycle`), and a cluster that
comes back under its old name gets its block back.
"""

from __future__ import annotations

import bisect
import copy
import ipaddress
from dataclasses import dataclass, field

from ..errors import Finding, Severity
from ..model import Fleet
from ..spec.allocations import Recorded

__all__ = ["Allocation", "allocate"]


@dataclass
class Allocation:
    """The fleet with every pool-allocated CIDR filled in, and the record to keep."""

    fleet: Fleet
    record: dict[str, dict[str, str]] = field(default_factory=dict)  # env -> region/cluster -> cidr
    findings: list[Finding] = field(default_factory=list)
    retired: dict[str, dict[str, str]] = field(default_factory=dict)  # tombstones, as `record`


def allocate(fleet: Fleet, recorded: Recorded | dict[str, dict[str, str]]) -> Allocation:
    """Fill every missing VPC CIDR from its environment's pool, keeping recorded ones.

    Give it only a record without errors (`Recorded.broken`): an entry it cannot
    read would be allocated afresh.
    """
    if not isinstance(recorded, Recorded):
        recorded = Recorded(entries=recorded)
    if any(c.network.cidr is None for env in fleet.environments.values() for _, c in env.clusters()):
        fleet = copy.deepcopy(fleet)  # never change the caller's fleet
    result = Allocation(fleet, retired=_tombstones(fleet, recorded))
    for env in fleet.environments.values():
        wanted = sorted(
            ((f"{r.name}/{c.name}", c) for r, c in env.clusters() if c.network.cidr is None),
            key=lambda item: item[0],
        )
        if not wanted:
            continue
        origin = env.origin("cidr_pool")
        try:
            pool = ipaddress.IPv4Network(env.cidr_pool) if env.cidr_pool else None
        except ValueError:
            continue  # reported by the checks
        if pool is None:
            continue  # each cluster is reported as having no cidr
        if not pool.prefixlen <= env.vpc_prefix <= 28:
            result.findings.append(Finding(
                "NET201", f"vpc_prefix /{env.vpc_prefix} does not fit in the pool {pool}",
                f"use a vpc_prefix between /{pool.prefixlen} and /28", path=env.name, origin=origin))
            continue
        taken = _Taken()
        for _, c in env.clusters():
            if c.network.cidr is not None:
                try:
                    taken.add(ipaddress.IPv4Network(c.network.cidr))
                except ValueError:
                    pass
        tombs = result.retired.get(env.name, {})
        back = {n: tombs.pop(n) for n, _ in wanted if n in tombs}  # back under its old name: its block again
        for block in tombs.values():
            taken.add(ipaddress.IPv4Network(block))
        kept = {}
        old = {**back, **recorded.entries.get(env.name, {})}
        fresh = []
        explicit = [(f"{r.name}/{c.name}", _parse(c.network.cidr), c) for r, c in env.clusters()
                    if c.network.cidr is not None]
        for name, cluster in wanted:
            block = _parse(old.get(name))
            if block is None:
                fresh.append((name, cluster))
                continue
            if taken.overlaps(block):
                # Moving a recorded VPC would destroy it: the user must choose.
                other = next((n for n, b, _ in explicit if b is not None and b.overlaps(block)), "another VPC")
                blocker = next((c for n, b, c in explicit if n == other), None)
                result.findings.append(Finding(
                    "NET205", f"{name} was allocated {block} (recorded in the allocations file), "
                    f"which {other} now claims with its cidr; re-allocating would destroy {name}'s VPC",
                    f"give {other} another cidr, or pin {name} with `cidr: {block}` and re-address {other}",
                    path=f"{env.name}/{name}",
                    origin=(blocker.origin("cidr") if blocker else None) or cluster.origin()))
                taken.add(block)
                kept[name] = block
            else:
                kept[name] = block
                taken.add(block)
            if not block.subnet_of(pool):
                result.findings.append(Finding(
                    "NET208", f"{name} keeps {block} (recorded in the allocations file), which lies outside "
                    f"the environment's cidr_pool {pool}",
                    f"if the pool was changed on purpose, pin the VPC with `cidr: {block}`; otherwise restore "
                    f"the allocations file or the pool from version control",
                    path=f"{env.name}/{name}", origin=recorded.origins.get((env.name, name)) or cluster.origin(),
                    severity=Severity.WARNING))
        for name, cluster in wanted:
            if name in kept:
                cluster.network.cidr = str(kept[name])
        cursor = int(pool.network_address)
        size = 1 << (32 - env.vpc_prefix)
        end = int(pool.broadcast_address) + 1
        for name, cluster in fresh:
            cursor = taken.next_free(cursor, size, end)
            if cursor is None:
                result.findings.append(Finding(
                    "NET202", f"cidr_pool {pool} has no free /{env.vpc_prefix} left for {name}",
                    "enlarge the pool, use a longer vpc_prefix, or give this cluster a `cidr:`",
                    path=f"{env.name}/{name}", origin=cluster.origin("cidr") or origin))
                break
            block = ipaddress.IPv4Network((cursor, env.vpc_prefix))
            taken.add(block)
            cluster.network.cidr = str(block)
            kept[name] = block
            cursor += size
        result.record[env.name] = {name: str(block) for name, block in sorted(kept.items())}
    result.retired = {env: entries for env, entries in result.retired.items() if entries}
    return result


def _tombstones(fleet: Fleet, recorded: Recorded) -> dict[str, dict[str, str]]:
    """The record's tombstones plus the entries of clusters (and environments) the fleet no longer has; a cluster
    that is back with a `cidr` of its own needs none."""
    tombs = {env: dict(entries) for env, entries in recorded.retired.items()}
    for env_name, entries in recorded.entries.items():
        env = fleet.environments.get(env_name)
        live = {f"{r.name}/{c.name}" for r, c in env.clusters()} if env is not None else set()
        for name, block in entries.items():
            if name not in live:
                tombs.setdefault(env_name, {})[name] = block
    for env in fleet.environments.values():
        for r, c in env.clusters():
            if c.network.cidr is not None:
                tombs.get(env.name, {}).pop(f"{r.name}/{c.name}", None)
    return {env: entries for env, entries in tombs.items() if entries}


def _parse(value: str | None) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value) if value else None
    except ValueError:
        return None


class _Taken:
    """CIDR blocks in use. CIDRs nest or are disjoint, so a block overlaps a used
    one exactly when a used block starts inside it, or one of its (at most 32)
    supernets is in use: sorted starts plus a set answer both in O(log n)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.blocks: set[tuple[int, int]] = set()

    def add(self, block: ipaddress.IPv4Network) -> None:
        start = int(block.network_address)
        if (start, block.prefixlen) in self.blocks:
            return
        bisect.insort(self.starts, start)
        self.blocks.add((start, block.prefixlen))

    def _container_end(self, start: int, prefixlen: int) -> int | None:
        for p in range(prefixlen, -1, -1):
            base = start & ~((1 << (32 - p)) - 1) & 0xFFFFFFFF
            if (base, p) in self.blocks:
                return base + (1 << (32 - p))
        return None

    def overlaps(self, block: ipaddress.IPv4Network) -> bool:
        start, end = int(block.network_address), int(block.broadcast_address) + 1
        i = bisect.bisect_left(self.starts, start)
        if i < len(self.starts) and self.starts[i] < end:
            return True
        return self._container_end(start, block.prefixlen) is not None

    def next_free(self, cursor: int, size: int, end: int) -> int | None:
        """The first aligned block of `size` at or after `cursor` and before `end` that is free."""
        prefixlen = 33 - size.bit_length()
        cursor = -(-cursor // size) * size
        while cursor + size <= end:
            container = self._container_end(cursor, prefixlen)
            if container is not None:
                cursor = -(-container // size) * size
                continue
            i = bisect.bisect_left(self.starts, cursor)
            if i < len(self.starts) and self.starts[i] < cursor + size:
                cursor += size
                continue
            return cursor
        return None
