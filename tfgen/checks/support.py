"""What every rule module shares: how a finding is made, and the walk over clusters."""

from __future__ import annotations

import ipaddress
from typing import Callable, Iterable, Iterator

from ..errors import Finding, Severity
from ..model import Cluster, Environment, Fleet, Region

__all__ = ["Rule", "finding", "clusters", "parse_network", "cidr_problem"]

Rule = Callable[[Fleet], Iterable[Finding]]


def finding(code, message, hint, *, path="", obj=None, field="", severity=Severity.ERROR) -> Finding:
    """A finding about `obj` (a model object), located at the spec line of its `field` (else of the object)."""
    origin = obj.origin(field) if obj is not None else None
    return Finding(code=code, message=message, hint=hint, path=path, origin=origin, severity=severity)


def clusters(fleet: Fleet) -> Iterator[tuple[Environment, Region, Cluster, str]]:
    """Every (environment, region, cluster, `env/region/cluster`) of the fleet."""
    for env in fleet.environments.values():
        for region, cluster in env.clusters():
            yield env, region, cluster, f"{env.name}/{region.name}/{cluster.name}"


def parse_network(value: str | None):
    """The IPv4 network `value` names, or None when it names none (the caller reports why)."""
    try:
        return ipaddress.IPv4Network(value)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError, TypeError):
        return None


def cidr_problem(value: str) -> str:
    """Why `value` is not a CIDR block, with the likely intended value."""
    try:
        ipaddress.IPv4Network(value, strict=False)
    except (ValueError, TypeError):
        return f"{value!r} is not an IPv4 CIDR block such as 10.10.0.0/16"
    fixed = ipaddress.IPv4Network(value, strict=False)
    return f"{value} has host bits set; the block is {fixed}"


