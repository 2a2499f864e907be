"""Read a fleet spec (YAML) into the model.

This package checks the *shape* of a spec: YAML syntax, known keys, value types.
Whether values make sense (a CIDR parses, a region exists, one hub per
environment) is for `tfgen.checks`, which sees YAML- and Python-built fleets
alike. Every finding carries the file and line of the key it is about.

Modules: `loader` (the bounded YAML loader every YAML input goes through: size,
nesting, alias expansion, merge keys), `keys` (the table of every key: its kind,
meaning, required keys), `reader` (keys and types -> the model), `sections`
(access, addons, gitops, bastion), `schema` (the JSON Schema generated from
`keys`), `allocations` (the record of pool CIDRs beside the spec).

Format (see docs/spec.md for the full reference)::

    project: multi-region-clusters
    tags: {Owner: platform}
    aws_provider: ">= 5.100, < 7.0"
    state: {backend: s3, bucket: mrc-tfstate, region: us-east-1}
    environments:
      development:
        assume_role: arn:aws:iam::111111111111:role/platform-deployer   # account_id: "111111111111" when no role
        defaults: {kubernetes_version: "1.35", az_count: 3, nat: single,
                   node_groups: {workers: {instance_types: [t3.medium], min: 1, max: 3, desired: 1}}}
        connectivity: hub-and-spoke              # or mesh, transit-gateway
        cidr_pool: 10.0.0.0/12                   # VPCs without a cidr get the next free /16
        links: [[us-east-2/edge, eu-west-1/edge-a]]   # extra peerings
        reach: [[us-east-2/edge, eu-west-1/edge-a]]   # required reachability, checked
        hub: {region: us-east-1, cidr: 10.10.0.0/16}
        regions:
          us-east-2: {cidr: 10.11.0.0/16}            # one edge cluster named "edge"
          eu-west-1:
            clusters: {edge-a: {cidr: 10.13.0.0/16}, edge-b: {cidr: 10.14.0.0/16}}
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import Finding, Origin, SpecError
from ..model import Fleet
from .loader import read_text
from .reader import Reader

__all__ = ["load", "loads", "read", "Reading", "allocations_path", "record_beside"]


def allocations_path(spec: str | Path) -> Path:
    """The allocations file that belongs to a spec file: `<spec stem>.allocations.yaml` beside it."""
    spec = Path(spec)
    stem = spec.name[: -len(spec.suffix)] if spec.suffix else spec.name
    return spec.with_name(f"{stem}.allocations.yaml")


def record_beside(spec: str | Path) -> Path | None:
    """The allocations file of a spec with a real path (see `allocations_path`), or None when the spec
    has no directory of its own to keep one in.

    A real path is a regular file (or a link to one) outside /dev and /proc: a pipe,
    a terminal, /dev/stdin, /dev/fd/N or /proc/self/fd/N (process substitution)
    names a file descriptor, and a record beside it would land in /dev, where no
    one commits it, or fail; the next build would then move every pool VPC.
    /dev/shm is the exception: a directory of ordinary files (in memory)."""
    spec = Path(spec)
    try:
        regular = stat.S_ISREG(spec.stat().st_mode)
    except (OSError, ValueError):
        return None
    absolute = Path(os.path.abspath(spec))
    under = absolute.parts[1:3] if absolute.anchor == "/" else ()
    if not regular or under[:1] == ("proc",) or (under[:1] == ("dev",) and under != ("dev", "shm")):
        return None
    return allocations_path(spec)


@dataclass(frozen=True)
class Reading:
    """A spec as far as it could be read: its `fleet` when it has no shape findings; else the `findings`, what
    could be read of it (`partial`, None when nothing could) and the lines whose value findings only repeat a
    shape finding (`explained`, see `Reader.explained`)."""

    fleet: Fleet | None
    findings: list[Finding]
    partial: Fleet | None = None
    explained: frozenset[Origin] = frozenset()


def read(path: str | Path) -> Reading:
    """Read the spec at `path` as far as it can be read; raises only `TfgenError` for a file it cannot open."""
    path = Path(path)
    try:
        text = read_text(path)
    except SpecError as exc:
        return Reading(None, list(exc.findings))
    reader = Reader(str(path))
    data = reader.parse(text)
    fleet = reader.fleet(data) if data is not None else None
    if reader.findings or fleet is None:
        return Reading(None, list(reader.findings), fleet, reader.explained())
    fleet.allocations_file = record_beside(path)
    return Reading(fleet, [])


def load(path: str | Path) -> Fleet:
    """Read the spec at `path`; raise `SpecError` with every shape problem found.

    The fleet's `allocations_file` is set beside the spec when it has a real path
    (`record_beside`); a spec read from a pipe gets none, so a build that would
    allocate from a pool refuses (NET204) until `allocations_file` is set."""
    reading = read(path)
    if reading.fleet is None:
        raise SpecError(reading.findings, reading.partial)
    return reading.fleet


def loads(text: str, *, filename: str = "<spec>") -> Fleet:
    """Read a spec from a string; `filename` is used in findings."""
    reader = Reader(filename)
    data = reader.parse(text)
    fleet = reader.fleet(data) if data is not None else None
    if reader.findings or fleet is None:
        raise SpecError(reader.findings, fleet)
    return fleet

