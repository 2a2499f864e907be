"""The EKS clusters of an applied environment through the API: each in its region and VPC, with a
private endpoint, and its node groups with their sizes."""

from __future__ import annotations

from ..expectation import Expectation
from .lookup import Check, Lookup

__all__ = ["check_clusters"]


def check_clusters(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Every EKS cluster exists in its region, in its VPC, with a private endpoint, and its node groups."""
    checks = []
    for cluster in expectation.clusters:
        eks = lookup.client("eks", cluster.region)
        if cluster.name not in eks.list_clusters()["clusters"]:
            checks.append(Check("cluster", cluster.label, False, f"no EKS cluster {cluster.name} in {cluster.region}"))
            continue
        info = eks.describe_cluster(name=cluster.name)["cluster"]
        config = info.get("resourcesVpcConfig", {})
        vpc, in_vpc = lookup.vpc(cluster), lookup.cluster_vpc(cluster.region, info)
        ok = (info.get("status") == "ACTIVE"
              and vpc is not None and in_vpc == vpc["VpcId"]
              and config.get("endpointPrivateAccess") is True
              and config.get("endpointPublicAccess") is False)
        access = "private" if config.get("endpointPublicAccess") is False else "PUBLIC"
        checks.append(Check("cluster", cluster.label, ok,
                            f"{cluster.name} {info.get('status')} in {in_vpc}, {access} endpoint"))
        existing = set(eks.list_nodegroups(clusterName=cluster.name)["nodegroups"])
        for group in cluster.node_groups:
            subject = f"{cluster.label}/{group.name}"
            if group.name not in existing:
                checks.append(Check("node group", subject, False, f"no node group {group.name} in {cluster.name}"))
                continue
            info = eks.describe_nodegroup(clusterName=cluster.name, nodegroupName=group.name)["nodegroup"]
            scaling = info.get("scalingConfig", {})
            sizes = (scaling.get("minSize"), scaling.get("maxSize"), scaling.get("desiredSize"))
            ok = info.get("status") == "ACTIVE" and sizes == (group.min_size, group.max_size, group.desired_size)
            checks.append(Check("node group", subject, ok,
                                f"{info.get('status')}, min/max/desired {'/'.join(map(str, sizes))}"))
    return checks
