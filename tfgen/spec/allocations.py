"""The allocations record beside a spec: VPC CIDRs handed out from pools, read back and written.

`<spec>.allocations.yaml` (committed with the spec) keeps every block
`tfgen.derive.allocation` handed out, so no VPC ever moves (re-addressing a VPC
destroys it). A record tfgen cannot read (a typo, host bits, IPv6, an entry
or environment twice after a merge) is an error at its line and stops the
build: dropping it would move the VPC.

The blocks of clusters removed from the spec stay as tombstones under
`_retired` (no environment can be named so) until their retirement was
applied: their VPCs still exist until then, and a new cluster given the same
block could not be peered with what still routes to the old one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import Finding, Origin, Severity
from .loader import read_yaml

__all__ = ["RETIRED", "Recorded", "read_allocations", "render_allocations"]

_HEADER = (
    "# VPC CIDRs tfgen allocated from each environment's cidr_pool.\n"
    "# Written by `tfgen build`; commit it with the spec. Changing a line re-addresses\n"
    "# (destroys) that VPC; to pin a CIDR for good, move it into the spec as `cidr:`.\n"
)
RETIRED = "_retired"
_RETIRED_HEADER = "# Blocks of removed clusters, kept until their retirement was applied (never handed out before).\n"


@dataclass
class Recorded:
    """The allocations file as read: its entries, the line of each, and what is wrong with it.

    A wrong entry is never dropped: dropping it would hand its VPC a new block
    on the next build, and applying that destroys the VPC. Every problem is an
    error finding at the file's line, and the build stops until it is fixed."""

    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    retired: dict[str, dict[str, str]] = field(default_factory=dict)  # tombstones: env -> region/cluster -> cidr

    @property
    def broken(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


def _scalar(node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str" else None


def read_allocations(path: str | Path | None) -> Recorded:
    """The recorded allocations (empty when there is no file), with a finding for each unreadable line.

    Read through the spec's bounded loader (size, nesting, aliases), and only
    from a regular file: a record that is a device, a pipe or a directory, not
    UTF-8 or not YAML is a NET206 finding at its file:line, never a hang."""
    recorded = Recorded()
    if path is None:
        return recorded
    path = Path(path)
    restore = "restore the file from version control (`git log -p` on it shows the last good version)"
    tree, recorded.findings = read_yaml(path, what="allocations file", code="NET206", hint=restore)
    if tree is None:
        return recorded
    if not isinstance(tree, yaml.MappingNode):
        recorded.findings.append(_bad(path, tree, "expected `environment: {region/cluster: cidr}`", restore))
        return recorded
    envs: dict[str, int] = {}
    for env_node, block in tree.value:
        env = _scalar(env_node)
        if env == RETIRED and isinstance(block, yaml.MappingNode):
            _read_retired(recorded, path, block, restore)
            continue
        if env is None or not isinstance(block, yaml.MappingNode):
            recorded.findings.append(_bad(path, env_node, "expected `environment: {region/cluster: cidr}`", restore))
            continue
        if env in envs:
            recorded.findings.append(_bad(
                path, env_node, f"environment {env} is recorded twice (first on line {envs[env]}), "
                "as a bad merge leaves it", "keep one block per environment with every entry of both, "
                "each cluster once; " + restore, code="NET207"))
        envs.setdefault(env, env_node.start_mark.line + 1)
        entries = recorded.entries.setdefault(env, {})
        for key_node, value_node in block.value:
            _read_entry(recorded, path, env, entries, key_node, value_node, restore)
    for env, entries in recorded.entries.items():
        _check_disjoint(recorded, path, env, entries)
    return recorded


def _read_retired(recorded: Recorded, path: Path, tree, restore: str) -> None:
    """The `_retired` section: `environment: {region/cluster: cidr}` per environment, read as entries are."""
    for env_node, block in tree.value:
        env = _scalar(env_node)
        if env is None or not isinstance(block, yaml.MappingNode):
            recorded.findings.append(_bad(path, env_node, f"expected `{RETIRED}: {{environment: {{region/cluster: "
                                                          "cidr}}}`", restore))
            continue
        scratch = Recorded()
        entries = scratch.entries.setdefault(env, {})
        for key_node, value_node in block.value:
            _read_entry(scratch, path, env, entries, key_node, value_node, restore)
        recorded.findings += scratch.findings
        recorded.retired.setdefault(env, {}).update(entries)


def _bad(path: Path, node, message: str, hint: str, *, code: str = "NET206", env: str = "") -> Finding:
    return Finding(code, f"allocations file: {message}", hint, path=env,
                   origin=Origin(str(path), node.start_mark.line + 1))


def _read_entry(recorded: Recorded, path: Path, env: str, entries: dict[str, str], key_node, value_node,
                restore: str) -> None:
    name, value = _scalar(key_node), _scalar(value_node)
    if name is None or value is None:
        recorded.findings.append(_bad(path, key_node, "expected `region/cluster: cidr` with both as plain text",
                                      restore, env=env))
        return
    if name in entries:
        first = recorded.origins[(env, name)].line
        recorded.findings.append(_bad(
            path, key_node, f"{env}: {name} is recorded twice (first on line {first})",
            f"keep the line whose block the VPC has today (see the Terraform state); {restore}",
            code="NET207", env=f"{env}/{name}"))
        return
    origin = Origin(str(path), key_node.start_mark.line + 1)
    try:
        block = ipaddress.ip_network(value)
    except ValueError:
        try:
            ipaddress.ip_network(value, strict=False)
            problem = f"{value} has host bits set"
        except ValueError:
            problem = f"{value!r} is not a CIDR block"
        recorded.findings.append(Finding(
            "NET206", f"allocations file: {env}: {name} is recorded as {problem}", restore,
            path=f"{env}/{name}", origin=origin))
        return
    if block.version != 4:
        recorded.findings.append(Finding(
            "NET206", f"allocations file: {env}: {name} is recorded as {value}, an IPv6 block; VPCs are "
            "addressed from IPv4 pools", restore, path=f"{env}/{name}", origin=origin))
        return
    entries[name] = value
    recorded.origins[(env, name)] = origin


def _check_disjoint(recorded: Recorded, path: Path, env: str, entries: dict[str, str]) -> None:
    """Two entries of one environment on one block: CIDRs nest or are disjoint, so sorted starts find every overlap."""
    blocks = sorted((ipaddress.IPv4Network(cidr), name) for name, cidr in entries.items())
    for (a, a_name), (b, b_name) in zip(blocks, blocks[1:]):
        if b.network_address <= a.broadcast_address:
            recorded.findings.append(Finding(
                "NET207", f"allocations file: {env}: {b_name} ({b}) overlaps {a_name} ({a}), recorded on line "
                f"{recorded.origins[(env, a_name)].line}",
                "one of the two lines was changed by hand or by a merge; keep the block each VPC has today "
                "(see the Terraform state) and restore the file from version control",
                path=f"{env}/{b_name}", origin=recorded.origins[(env, b_name)]))


def render_allocations(record: dict[str, dict[str, str]], retired: dict[str, dict[str, str]] | None = None) -> bytes:
    """The allocations file's content: sorted, stable, with a header saying what it is; the tombstones of
    `retired` last, under `_retired`."""
    body = {env: dict(sorted(entries.items())) for env, entries in sorted(record.items()) if entries}
    tombs = {env: dict(sorted(entries.items())) for env, entries in sorted((retired or {}).items()) if entries}
    text = _HEADER
    if body or not tombs:
        text += yaml.safe_dump(body, default_flow_style=False, sort_keys=False)
    if tombs:
        text += _RETIRED_HEADER + yaml.safe_dump({RETIRED: tombs}, default_flow_style=False, sort_keys=False)
    return text.encode()


