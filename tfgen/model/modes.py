"""The named choices of a fleet, as `StrEnum`s.

Each member is a `str` equal to its spelling in a spec (`Connectivity.MESH == "mesh"`),
so a plain string works wherever a member does, in YAML and in Python, and a
model holding either emits the same bytes. Values outside an enum are not refused
on assignment: the checks report them with every other finding.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Connectivity", "Layout", "Identity", "ArgoCD", "Nat"]


class Connectivity(StrEnum):
    """How an environment's VPCs route to each other."""

    HUB_AND_SPOKE = "hub-and-spoke"
    """Every edge VPC peered with the hub's."""
    MESH = "mesh"
    """Every VPC peered with every other."""
    TRANSIT_GATEWAY = "transit-gateway"
    """A transit gateway per region, the gateways peered."""


class Layout(StrEnum):
    """How an environment becomes Terraform roots."""

    ENVIRONMENT = "environment"
    """One root per environment, one provider per region."""
    CELLS = "cells"
    """A root per region and per link, at most two providers each (docs/cells.md)."""


class Identity(StrEnum):
    """How Argo CD and the EBS CSI driver get their AWS roles."""

    POD_IDENTITY = "pod-identity"
    """EKS Pod Identity."""
    IRSA = "irsa"
    """IAM roles for service accounts, through each cluster's OIDC provider."""


class ArgoCD(StrEnum):
    """Who runs Argo CD on the hub."""

    SELF_MANAGED = "self-managed"
    """tfgen's bootstrap installs the argo-cd chart."""
    MANAGED = "managed"
    """EKS's Argo CD capability."""
    NONE = "none"
    """Nobody tfgen knows: tfgen builds the GitOps path only."""


class Nat(StrEnum):
    """How many NAT gateways a cluster's VPC has."""

    SINGLE = "single"
    """One, in the first zone."""
    PER_AZ = "per_az"
    """One in every zone."""
