"""Rules that need a whole root module at once, which checkov 3.3.30 cannot give
a custom check on `*.tf.json`: output blocks carry no line numbers there, and
Python checks see one block at a time. `tfgen check` runs these next to
checkov and reports them like checkov's results. checkov imports this file
with the other policies and finds no checks in it.

    TFGEN_9   no secret-looking values in outputs
    TFGEN_10  every VPC peering has routes in the requester's VPC and the accepter's VPC
    TFGEN_14  a security group of an EC2 instance admits nothing (the bastion is reached
              through Session Manager, which dials out)
    TFGEN_16  an SSM document fits SSM's 64 KB once applied, every reference at its shortest
              value (the rule `tfgen build` runs as VAL444, from tfgen.checks.ssm)
"""

from __future__ import annotations

import re
from typing import Iterator

if __package__:  # imported by tfgen as tfgen.policies.tfgen_module_rules
    from ..checks.ssm import SSM_DOCUMENT_LIMIT, resolved_sizes
    from .tfgen_policy_support import looks_secret, strings
else:  # loaded by checkov from the policy directory: it finds no checks here and never calls `evaluate`
    from tfgen_policy_support import looks_secret, strings

RULES = {
    "TFGEN_9": "No secret-looking values (keys, passwords, tokens) in outputs",
    "TFGEN_10": "VPC peering has routes on both sides: a route table of each VPC routes to the peer",
    "TFGEN_14": "Security group of an EC2 instance has no ingress (inline, aws_security_group_rule or "
                "aws_vpc_security_group_ingress_rule)",
    "TFGEN_16": "SSM document fits SSM's 64 KB once applied (each reference at its shortest value; "
                "each edge's CA certificate in the GitOps bootstrap's is about 1.5 KB)",
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
    yield from _instance_groups(resources)
    for address, body in sorted(resources.items()):
        if address.startswith("aws_ssm_document.") and isinstance(body.get("content"), str):
            yield "TFGEN_16", address, resolved_sizes(body["content"])[0] <= SSM_DOCUMENT_LIMIT


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


def _targets(value) -> list[str]:
    """Every `type.name` a value refers to (a list of references or one string)."""
    found = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            found.extend(m.group(1) for m in _REFERENCE.finditer(item))
    return found


def _instance_groups(resources: dict[str, dict]) -> Iterator[tuple[str, str, bool]]:
    groups = set()
    for address, body in resources.items():
        if address.startswith("aws_instance."):
            for key in ("vpc_security_group_ids", "security_groups"):
                groups.update(t for t in _targets(body.get(key)) if t.startswith("aws_security_group."))
    admitted = {group for group in groups if resources.get(group, {}).get("ingress")}
    for address, body in resources.items():
        kind = address.split(".", 1)[0]
        if kind == "aws_vpc_security_group_ingress_rule" or (
                kind == "aws_security_group_rule" and body.get("type") == "ingress"):
            admitted.update(t for t in _targets(body.get("security_group_id")) if t in groups)
    for group in sorted(groups):
        if group in resources:
            yield "TFGEN_14", group, group not in admitted
