"""What every rule module shares: how a finding is made, and the walk over clusters."""

from __future__ import annotations

import ipaddress
import itertools
import re
from typing import Callable, Iterable, Iterator

from ..errors import Finding, Severity
from ..model import Cluster, Environment, Fleet, Region

__all__ = ["Rule", "finding", "clusters", "parse_network", "cidr_problem", "cidr_fix", "written_block", "vpc_fix",
           "INSTANCE_TYPE", "K8S_VERSION"]

Rule = Callable[[Fleet], Iterable[Finding]]

# Patterns on user input, used with `fullmatch` only (`$` also matches before a trailing newline).
# EC2 instance types, for node groups and the bastion alike: family (with options: m7i-flex, u7i-12tb)
# dot size (metal-24xl included): t3.medium, m7g.2xlarge, c7i.metal-24xl.
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
K8S_VERSION = re.compile(r"1\.\d{1,2}", re.ASCII)


def finding(code, message, hint, *, path="", obj=None, field="", severity=Severity.ERROR) -> Finding:
    """A finding about `obj` (a model object), located at the spec line of its `field` (else of the object)."""
    origin = obj.origin(field) if obj is not None else None
    return Finding(code=code, message=message, hint=hint, path=path, origin=origin, severity=severity)


def clusters(fleet: Fleet) -> Iterator[tuple[Environment, Region, Cluster, str]]:
    """Every (environment, region, cluster, `env/region/cluster`) of the fleet."""
    for env in fleet.environments.values():
        for region, cluster in env.clusters():
            yield env, region, cluster, f"{env.name}/{region.name}/{cluster.name}"


# A CIDR block as AWS takes it: four decimal octets without leading zeros, a slash, a decimal prefix
# length. `ipaddress` also takes `/016`, netmasks (`/255.255.0.0`) and bare addresses; AWS does not.
_CANONICAL_CIDR = re.compile(r"(?:(?:0|[1-9]\d{0,2})\.){3}(?:0|[1-9]\d{0,2})/(?:0|[1-9]\d?)", re.ASCII)
_LOOSE_CIDR = re.compile(r"\s*(\d+)\s*\.\s*(\d+)\s*\.\s*(\d+)\s*\.\s*(\d+)\s*/\s*(\d+)\s*", re.ASCII)


def parse_network(value: str | None):
    """The IPv4 network `value` names when written as AWS takes it, else None (`cidr_problem` says why).

    Every CIDR check (VPC, subnet, pool) reads its value through here."""
    if not isinstance(value, str) or not _CANONICAL_CIDR.fullmatch(value):
        return None
    try:
        return ipaddress.IPv4Network(value)
    except ValueError:
        return None


def _spelled(value) -> str | None:
    """`value` spelled as AWS takes a CIDR block (its address kept), or None when it names no IPv4 block."""
    if not isinstance(value, str) or "/" not in value:
        return None
    loose = _LOOSE_CIDR.fullmatch(value)
    if loose is not None:
        text = ".".join(str(int(octet)) for octet in loose.groups()[:4]) + f"/{int(loose[5])}"
    else:
        try:  # a netmask instead of a prefix length: 10.0.0.0/255.255.0.0
            text = f"{value.strip().split('/')[0]}/{ipaddress.IPv4Network(value.strip(), strict=False).prefixlen}"
        except ValueError:
            return None
    try:
        ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return None
    return text


def cidr_problem(value) -> str:
    """Why `value` is not a CIDR block AWS takes, naming the block it likely means."""
    spelled = _spelled(value)
    if spelled is None:
        return f"{value!r} is not an IPv4 CIDR block such as 10.10.0.0/16"
    if spelled != value:
        return (f"{value!r} is not written as AWS takes a CIDR block (decimal octets without leading zeros, "
                f"a slash and a prefix length, no spaces); it means {spelled}")
    return f"{value} has host bits set; the block is {ipaddress.IPv4Network(value, strict=False)}"


def written_block(value) -> ipaddress.IPv4Network | None:
    """The block a CIDR `value` names, however it is spelled (host bits cleared); None when it names none."""
    spelled = _spelled(value)
    return None if spelled is None else ipaddress.IPv4Interface(spelled).network


def vpc_fix(value, accepts: Callable[[ipaddress.IPv4Network], bool], fallback: str, *,
            sizes: tuple[int, int] = (16, 28)) -> str:
    """The fix for a VPC `value` refused for its spelling, host bits or size: the first block the next run
    `accepts` (free in the environment, holding the subnets given) of a VPC's `sizes`: at the address written,
    the smallest that holds it when the block written is too small, else inside the block written; else
    `fallback`."""
    spelled = _spelled(value)
    if spelled is None:
        return fallback
    written = ipaddress.IPv4Interface(spelled)
    low, high = sizes
    prefix = written.network.prefixlen
    if prefix > high:
        candidates = (ipaddress.IPv4Network((written.ip, p), strict=False) for p in range(high, low - 1, -1))
    else:
        first = ipaddress.IPv4Network((written.ip, max(prefix, low)), strict=False)
        inside = written.network.subnets(new_prefix=low) if prefix < low else iter(())
        candidates = itertools.chain((first,), inside)
    for candidate in itertools.islice(candidates, _CANDIDATES):
        if accepts(candidate):
            return f"write {candidate}"
    return fallback


_CANDIDATES = 4096  # blocks tried inside a written block too large for a VPC (a /8 holds 256 /16s)


def cidr_fix(value, fallback: str) -> str:
    """The fix for a CIDR `value` that `parse_network` refused: the block written canonically, else `fallback`."""
    spelled = _spelled(value)
    return fallback if spelled is None else f"write {ipaddress.IPv4Network(spelled, strict=False)}"
