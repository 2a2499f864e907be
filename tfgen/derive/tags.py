"""The tags tfgen puts on resources: made here, read by the emitters, the checks, the policies and the sandbox.

Every resource gets the spec's `tags` plus tfgen's own (`STANDARD_TAGS`)
through its provider's `default_tags`; subnets also carry `RESOURCE_TAGS`.
"""

from __future__ import annotations

__all__ = ["STANDARD_TAGS", "RESOURCE_TAGS", "MANAGED_BY", "standard_tags"]

# Project, environment and owner of every resource (the policies check them: CKV_TFGEN_1/2).
STANDARD_TAGS = ("Project", "Environment", "ManagedBy")
MANAGED_BY = "tfgen"
# The most tags tfgen puts on one resource besides the standard ones: a subnet's.
RESOURCE_TAGS = ("Name", "kubernetes.io/role/internal-elb", "kubernetes.io/cluster/<cluster>")


def standard_tags(user: dict[str, str], project: str, environment: str) -> dict[str, str]:
    """The tags of every resource of one root: the user's, then tfgen's own (which win)."""
    tags = dict(user)
    tags.update(zip(STANDARD_TAGS, (project, environment, MANAGED_BY)))
    return tags
