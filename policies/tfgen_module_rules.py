"""Rules that need a whole root module at once, which checkov 3.3.30 cannot give
a custom check on `*.tf.json`: output blocks carry no line numbers there, and
Python checks see one block at a time. `tfgen check` runs these next to
checkov and reports them like checkov's results. checkov imports this file
with the other policies and finds no checks in it.

    TFGEN_9   no secret-looking values in outputs
    TFGEN_10  every VPC peering has routes in the requester's VPC and the accepter's VPC
"""

from __future__ import annotations

import re
from typing import Iterator

if __package__:  # imported by tfgen as tfgen.policies.tfgen_module_rules
    from .tfgen_policy_support import looks_secret, strings
else:  # loaded by checkov from the policy directory
    from tfgen_policy_support import looks_secret, strings

RULES = {
    "TFGEN_9": "No secret-looking values (keys, passwords, tokens) in outputs",
    "TFGEN_10": "VPC peering has routes on both sides: a route table of each VPC routes to the peer",
}
_REFERENCE = re.compile(r"\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\.[A-Za-z0-9_]+)*\}")


def evaluate(documents: list[dict]) -> Iterator[tuple[str, str, bool]]:
    """`(rule id, block address, passed)` for every block a rule applies to, over one root's documents."""
    outputs, resources = {}, {}
    for document in documents:
        outputs.update(document.get("output") or {})
        for type_, items in (document.get("resource") or {}).items():
            for name, body in (items or {}).items():
                resources[f"{type_}.{name}"] = body or {}
    for name, body in sorted(outputs.items()):
        leaked = any(looks_secret(text) for text in strings((body or {}).get("value")))
        yield "TFGEN_9", f"output.{name}", not leaked
    yield from _peering_routes(resources)


def _target(value) -> str | None:
    match = _REFERENCE.search(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _peering_routes(resources: dict[str, dict]) -> Iterator[tuple[str, str, bool]]:
    accepters = {}
    for address, body in resources.items():
        if address.startswith("aws_vpc_peering_connection_accepter."):
            accepters[address] = _target(body.get("vpc_peering_connection_id"))
    vpcs_routed: dict[str, set[str]] = {}
    for address, body in resources.items():
        if not address.startswith("aws_route."):
            continue
        peering = _target(body.get("vpc_peering_connection_id"))
        peering = accepters.get(peering, peering)
        table = resources.get(_target(body.get("route_table_id")) or "", {})
        vpc = _target(table.get("vpc_id"))
        if peering and vpc:
            vpcs_routed.setdefault(peering, set()).add(vpc)
    for address, body in sorted(resources.items()):
        if not address.startswith("aws_vpc_peering_connection."):
            continue
        sides = {_target(body.get("vpc_id")), _target(body.get("peer_vpc_id"))}
        routed = vpcs_routed.get(address, set())
        yield "TFGEN_10", address, None not in sides and sides <= routed
