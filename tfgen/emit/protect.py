"""`protect: true` as Terraform sees it: `lifecycle.prevent_destroy` on what cannot come back.

On a protected cluster (or every cluster of a protected environment): its EKS cluster, its VPC and its KMS keys
(Kubernetes secrets, logs, the hub's bootstrap output); on a protected environment also each region's EBS key.
`terraform plan` then fails rather than destroy or replace one; tfgen's guards say so before the build writes
anything (`tfgen.lifecycle.guards`, CHG504).
"""

from __future__ import annotations

from ..derive import naming
from ..derive.context import EnvironmentContext
from ..derive.naming import KmsPurpose

__all__ = ["PROTECTED", "protected_names", "protect_documents"]

# The kinds a build refuses to replace or destroy unless named, and that `protect` pins.
PROTECTED = ("aws_eks_cluster", "aws_vpc", "aws_kms_key")


def protected_names(ctx: EnvironmentContext) -> set[tuple[str, str]]:
    """(type, name) of every resource `protect` pins in one environment."""
    names: set[tuple[str, str]] = set()
    for c in ctx.clusters:
        if c.cluster.protect or ctx.env.protect:
            names |= {("aws_eks_cluster", c.key), ("aws_vpc", c.key)}
            names |= {("aws_kms_key", f"{c.key}_{purpose.value}") for purpose in KmsPurpose}
    if ctx.env.protect:
        names |= {("aws_kms_key", naming.region_stem(region, KmsPurpose.EBS.value)) for region in ctx.regions}
    return names


def protect_documents(ctx: EnvironmentContext, documents: dict[str, dict]) -> None:
    """Set `lifecycle.prevent_destroy` on the protected resources of one environment's documents."""
    names = protected_names(ctx)
    if not names:
        return
    for document in documents.values():
        for type_, named in (document.get("resource") or {}).items():
            for name, body in named.items():
                if (type_, name) in names:
                    body.setdefault("lifecycle", {})["prevent_destroy"] = True
