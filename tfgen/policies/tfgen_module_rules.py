"""Rules that need a whole root module at once, which checkov 3.3.30 cannot give
a custom check on `*.tf.json`: output blocks carry no line numbers there, and
Python checks see one block at a time. `tfgen check` runs these next to
checkov, on each root's index (`tfgen.terraform.index`), and reports them like
checkov's results. checkov imports this file with the other policies and finds
no checks in it.

    TFGEN_9   no secret-looking values in outputs
    TFGEN_10  every VPC peering has routes in the requester's VPC and the accepter's VPC
    TFGEN_14  a security group of an EC2 instance admits nothing (the bastion is reached
              through Session Manager, which dials out)

An SSM document's size once applied is VAL444, the rule `tfgen build` runs too
(`tfgen.checks.ssm`); `tfgen check` runs it beside these.
"""

from __future__ import annotations

from typing import Iterator, Mapping

from tfgen.terraform.index import Root
from tfgen.terraform.references import references
from tfgen.terraform.roots import as_root

if __package__:  # imported by tfgen as tfgen.policies.tfgen_module_rules
    from .tfgen_policy_support import looks_secret, strings
else:  # loaded by checkov from the policy directory: it finds no checks here and never calls `evaluate`
    from tfgen_policy_support import looks_secret, strings

RULES = {
    "TFGEN_9": "No secret-looking values (keys, passwords, tokens) in outputs",
    "TFGEN_10": "VPC peering has routes on both sides: a route table of each VPC routes to the peer",
    "TFGEN_14": "Security group of an EC2 instance has no ingress (inline, aws_security_group_rule or "
                "aws_vpc_security_group_ingress_rule)",
}


def evaluate(root: Root | Mapping[str, dict]) -> Iterator[tuple[str, str, bool]]:
    """`(rule id, block address, passed)` for every block a rule applies to, over one root (its index, or
    `{file name: document}`)."""
    root = as_root(root)
    for name, block in sorted(root.outputs.items()):
        leaked = any(looks_secret(text) for text in strings(block.body.get("value")))
        yield "TFGEN_9", f"output.{name}", not leaked
    yield from _peering_routes(root)
    yield from _instance_groups(root)


def _targets(value) -> list[str]:
    """Every resource (`type.name`) a value refers to (a list of references or one string)."""
    return [r.address for r in references(value) if r.kind == "resource"]


def _target(value) -> str | None:
    return next(iter(_targets(value)), None) if isinstance(value, str) else None


def _peering_routes(root: Root) -> Iterator[tuple[str, str, bool]]:
    accepters = {b.address: _target(b.body.get("vpc_peering_connection_id"))
                 for b in root.of_type("aws_vpc_peering_connection_accepter")}
    vpcs_routed: dict[str, set[str]] = {}
    for block in root.of_type("aws_route"):
        peering = _target(block.body.get("vpc_peering_connection_id"))
        peering = accepters.get(peering, peering)
        vpc = _target(root.body(_target(block.body.get("route_table_id")) or "").get("vpc_id"))
        if peering and vpc:
            vpcs_routed.setdefault(peering, set()).add(vpc)
    for block in sorted(root.of_type("aws_vpc_peering_connection"), key=lambda b: b.address):
        sides = {_target(block.body.get("vpc_id")), _target(block.body.get("peer_vpc_id"))}
        routed = vpcs_routed.get(block.address, set())
        yield "TFGEN_10", block.address, None not in sides and sides <= routed


def _instance_groups(root: Root) -> Iterator[tuple[str, str, bool]]:
    groups = set()
    for block in root.of_type("aws_instance"):
        for key in ("vpc_security_group_ids", "security_groups"):
            groups.update(t for t in _targets(block.body.get(key)) if t.startswith("aws_security_group."))
    admitted = {group for group in groups if root.body(group).get("ingress")}
    for block in root.of_type("aws_vpc_security_group_ingress_rule") + root.of_type("aws_security_group_rule"):
        if block.type == "aws_vpc_security_group_ingress_rule" or block.body.get("type") == "ingress":
            admitted.update(t for t in _targets(block.body.get("security_group_id")) if t in groups)
    for group in sorted(groups):
        if group in root.resources:
            yield "TFGEN_14", group, group not in admitted
