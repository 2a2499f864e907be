"""CKV_TFGEN_4: no security group ingress from 0.0.0.0/0 or ::/0, except 80/443
on load-balancer groups.

A load-balancer group is one whose Terraform name, `name` or `name_prefix`
reads as a load balancer (`lb`, `alb`, `nlb`, `elb`, `load_balancer`,
`ingress` as a word), or that is tagged `Role = load-balancer`. Standalone
rules are judged by the group they reference.
"""

import re

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from tfgen_policy_support import blocks, entity_name, value

WORLD = {"0.0.0.0/0", "::/0"}
WEB_PORTS = {80, 443}
_LB_WORD = re.compile(r"(^|[_\-.])(lb|alb|nlb|elb|load[_-]?balancer|ingress)([_\-.]|$)", re.IGNORECASE)


def _is_lb(*names) -> bool:
    return any(isinstance(n, str) and _LB_WORD.search(n) for n in names)


def _ports(rule: dict) -> set[int] | None:
    """The ports a rule opens; None for all ports (protocol -1 or an unreadable range)."""
    protocol = str(value(rule, "protocol", value(rule, "ip_protocol", "")))
    if protocol in ("-1", "all"):
        return None
    try:
        low, high = int(value(rule, "from_port")), int(value(rule, "to_port"))
    except (TypeError, ValueError):
        return None
    if high - low > 1024:
        return None
    return set(range(low, high + 1))


def _from_world(rule: dict) -> bool:
    sources = []
    for key in ("cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"):
        item = rule.get(key) or []
        sources.extend(item if isinstance(item, list) else [item])
    flat = []
    for s in sources:
        flat.extend(s if isinstance(s, list) else [s])
    return any(s in WORLD for s in flat)


def _allowed(rule: dict, lb: bool) -> bool:
    if not _from_world(rule):
        return True
    ports = _ports(rule)
    return lb and ports is not None and ports <= WEB_PORTS


class WorldIngress(BaseResourceCheck):
    """CKV_TFGEN_4: ingress from anywhere only to 80/443 of load balancers."""

    def __init__(self) -> None:
        super().__init__(
            name="No security group ingress from 0.0.0.0/0 or ::/0 except 80/443 on load-balancer groups",
            id="CKV_TFGEN_4",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["aws_security_group", "aws_default_security_group",
                                 "aws_security_group_rule", "aws_vpc_security_group_ingress_rule"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        if self.entity_type in ("aws_security_group", "aws_default_security_group"):
            tags = value(conf, "tags") or {}
            lb = _is_lb(entity_name(self), value(conf, "name"), value(conf, "name_prefix")) or (
                isinstance(tags, dict) and value(tags, "Role") == "load-balancer")
            self.evaluated_keys = ["ingress"]
            rules = blocks(conf, "ingress")
        else:
            if self.entity_type == "aws_security_group_rule" and value(conf, "type") != "ingress":
                return CheckResult.PASSED
            lb = _is_lb(entity_name(self), value(conf, "security_group_id"))
            rules = [conf]
        return CheckResult.PASSED if all(_allowed(r, lb) for r in rules) else CheckResult.FAILED


check = WorldIngress()
