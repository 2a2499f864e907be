"""Rules on each cluster: its name and version, node groups, network (VPC, zones, subnets), zone names."""

from __future__ import annotations

import ipaddress
import re
from typing import Iterator

from ..derive.layout import MAX_ZONES, MIN_SUBNET_PREFIX, carve, zones_of
from ..errors import Finding, Severity
from ..model import NAT_MODES, ROLES, Cluster, Environment, Fleet, Region
from ..model.regions import REGIONS, is_known_region
from .support import (INSTANCE_TYPE, K8S_VERSION, cidr_fix, cidr_problem, clusters, finding, parse_network, vpc_fix,
                      written_block)

__all__ = ["check_clusters", "check_networks", "check_node_group_values", "check_zone_names", "PODS_PER_NODE"]

_CLUSTER_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
# Addresses a node takes with the VPC CNI: its own plus one per pod (a t3.medium runs up to 17 pods).
PODS_PER_NODE = 30


# -- clusters -------------------------------------------------------------------


def check_clusters(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in clusters(fleet):
        if not _CLUSTER_NAME.fullmatch(cluster.name):
            yield finding("VAL141", f"cluster name {cluster.name!r} is not usable in AWS names",
                           "use lower-case letters, digits and dashes, starting with a letter",
                           path=path, obj=cluster)
        if cluster.role not in ROLES:
            yield finding("VAL142", f"role {cluster.role!r} is not a cluster role", "use hub or edge",
                           path=path, obj=cluster)
        if not isinstance(cluster.kubernetes_version, str) or not K8S_VERSION.fullmatch(cluster.kubernetes_version):
            yield finding("VAL143", f"kubernetes_version {cluster.kubernetes_version!r} is not an EKS version",
                           'write it quoted as major.minor, e.g. "1.35"', path=path, obj=cluster,
                           field="kubernetes_version")
        if not cluster.node_groups:
            yield finding("VAL144", "the cluster has no node groups", "add one under `node_groups:`",
                           path=path, obj=cluster, severity=Severity.WARNING)
        for group in cluster.node_groups.values():
            yield from _check_node_group(group, f"{path}/{group.name}")


def _check_node_group(group, path: str) -> Iterator[Finding]:
    if not _CLUSTER_NAME.fullmatch(group.name):
        yield finding("VAL151", f"node group name {group.name!r} is not usable in AWS names",
                       "use lower-case letters, digits and dashes, starting with a letter", path=path, obj=group)
    if not (0 <= group.min_size <= group.desired_size <= group.max_size) or group.max_size < 1:
        yield finding("VAL152", f"node group sizes min {group.min_size}, desired {group.desired_size}, "
                       f"max {group.max_size} are inconsistent",
                       "make 0 <= min <= desired <= max and max >= 1", path=path, obj=group, field="desired_size")
    if not group.instance_types:
        yield finding("VAL153", "the node group has no instance types", "list at least one, e.g. [t3.medium]",
                       path=path, obj=group, field="instance_types")
    if group.capacity_type not in ("ON_DEMAND", "SPOT"):
        yield finding("VAL154", f"capacity_type {group.capacity_type!r} is not ON_DEMAND or SPOT",
                       "use ON_DEMAND or SPOT", path=path, obj=group, field="capacity_type")
    if not (20 <= group.disk_size <= 16384):
        yield finding("VAL155", f"disk_size {group.disk_size} GiB is outside 20..16384",
                       "use at least 20 GiB", path=path, obj=group, field="disk_size")


def check_networks(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in clusters(fleet):
        yield from _check_network(env, region, cluster, path)


def _check_network(env: Environment, region: Region, cluster: Cluster, path: str) -> Iterator[Finding]:
    net = cluster.network
    if net.nat not in NAT_MODES:
        yield finding("VAL161", f"nat {net.nat!r} is not a NAT layout", "use `single` or `per_az`",
                       path=path, obj=net, field="nat")
    if net.cidr is None:
        yield finding("VAL162", "the cluster's VPC has no cidr and its environment no cidr_pool",
                       "add `cidr: 10.x.0.0/16` to the cluster, or `cidr_pool:` to the environment",
                       path=path, obj=net)
        return
    vpc, block = parse_network(net.cidr), written_block(net.cidr)
    if block is not None and not 16 <= block.prefixlen <= 28:  # the size rule first: its fix is a VPC's size
        yield finding("VAL164", f"VPC {net.cidr} is /{block.prefixlen}; AWS allows /16 to /28",
                       vpc_fix(net.cidr, _free_in(env, cluster), "use a prefix between /16 and /28"),
                       path=path, obj=net, field="cidr")
        return
    if vpc is None:
        fallback = cidr_fix(net.cidr, "write the VPC block as network address and prefix, e.g. 10.11.0.0/16")
        clash = next((f"{name} ({other})" for name, other in _others(env, cluster)
                      if block is not None and block.overlaps(other)), None)
        if clash:
            fallback += f", but that overlaps the VPC of {clash}: choose a block free in the environment"
        yield finding("VAL163", f"cidr: {cidr_problem(net.cidr)}", vpc_fix(net.cidr, _free_in(env, cluster), fallback),
                       path=path, obj=net, field="cidr")
        return
    if not is_known_region(region.name) and not net.availability_zones:
        return  # reported by check_regions; zones cannot be derived
    if net.availability_zones:
        zones = list(net.availability_zones)
        if net.az_count is not None and net.az_count != len(zones):
            yield finding("VAL177", f"az_count {net.az_count} contradicts the {len(zones)} listed availability_zones; "
                           f"the list wins: the VPC gets {len(zones)} zone(s) ({', '.join(map(str, zones))})",
                           "drop `az_count` (the list decides), or list as many zones as az_count says",
                           path=path, obj=net, field="az_count", severity=Severity.WARNING)
        for zone in zones:
            if not zone.startswith(region.name):
                yield finding("VAL165", f"zone {zone} is not in region {region.name}",
                               f"name zones of {region.name}, e.g. {region.name}a", path=path, obj=net,
                               field="availability_zones")
        if len(set(zones)) != len(zones):
            yield finding("VAL166", "availability_zones lists a zone twice", "list each zone once",
                           path=path, obj=net, field="availability_zones")
    else:
        known = REGIONS[region.name]
        if net.az_count is not None and not 1 <= net.az_count <= min(MAX_ZONES, len(known)):
            yield finding("VAL167", f"az_count {net.az_count}: tfgen knows {len(known)} zones in {region.name}",
                           f"use 1 to {min(MAX_ZONES, len(known))}, or list `availability_zones:` explicitly",
                           path=path, obj=net, field="az_count")
            return
        zones = zones_of(cluster, region.name)
    if len(zones) > MAX_ZONES:
        yield finding("VAL167", f"{len(zones)} zones; tfgen lays out at most {MAX_ZONES}",
                       f"use at most {MAX_ZONES} zones", path=path, obj=net, field="availability_zones")
        return
    subnets = []
    for tier in ("private", "public"):
        given = getattr(net, f"{tier}_subnets")
        field = f"{tier}_subnets"
        if given is None:
            continue
        if len(given) != len(zones):
            yield finding("VAL168", f"{len(given)} {tier} subnets for {len(zones)} zones",
                           f"give one {tier} subnet per zone ({', '.join(zones)}), or leave them out to carve them",
                           path=path, obj=net, field=field)
        for cidr in given:
            block = parse_network(cidr)
            if block is None:
                yield finding("VAL169", f"{tier} subnet: {cidr_problem(cidr)}",
                               cidr_fix(cidr, "write each subnet as network address and prefix"), path=path,
                               obj=net, field=field)
                continue
            if not block.subnet_of(vpc):
                yield finding("VAL170", f"{tier} subnet {block} is outside the VPC {vpc}",
                               f"choose subnets inside {vpc}", path=path, obj=net, field=field)
            if block.prefixlen > MIN_SUBNET_PREFIX:
                yield finding("VAL171", f"{tier} subnet {block} is smaller than /{MIN_SUBNET_PREFIX}",
                               f"AWS subnets are /16 to /{MIN_SUBNET_PREFIX}", path=path, obj=net, field=field)
            subnets.append((block, field))
    if net.private_subnets is None or net.public_subnets is None:
        try:
            private, public = carve(str(vpc), len(zones))
        except ValueError as exc:
            yield finding("VAL172", str(exc), "use a VPC of /22 or larger, or list the subnets explicitly",
                           path=path, obj=net, field="cidr")
            return
        if net.private_subnets is None:
            subnets += [(ipaddress.IPv4Network(c), "private_subnets") for c in private]
        if net.public_subnets is None:
            subnets += [(ipaddress.IPv4Network(c), "public_subnets") for c in public]
    for i, (a, field_a) in enumerate(subnets):
        for b, field_b in subnets[i + 1:]:
            if a.overlaps(b):
                yield finding("VAL173", f"subnets {a} and {b} overlap", "make every subnet of a VPC disjoint",
                               path=path, obj=net, field=field_b)
    # AWS keeps 5 addresses of every subnet; nodes and (with the VPC CNI) their pods live in the private ones.
    usable = sum(b.num_addresses - 5 for b, f in subnets if f == "private_subnets")
    nodes = sum(g.max_size for g in cluster.node_groups.values() if isinstance(g.max_size, int))
    if nodes and usable < nodes:
        yield finding("VAL174", f"private subnets hold {usable} usable addresses (AWS keeps 5 per subnet), "
                       f"fewer than the {nodes} nodes the node groups may grow to",
                       "give the VPC larger private subnets", path=path, obj=net, field="private_subnets")
    elif nodes and usable < nodes * PODS_PER_NODE:
        yield finding("VAL175", f"private subnets hold {usable} usable addresses for up to {nodes} nodes; "
                       f"with the VPC CNI each node takes an address per pod (~{PODS_PER_NODE})",
                       "give the VPC larger private subnets, or lower the node groups' max",
                       path=path, obj=net, field="private_subnets", severity=Severity.WARNING)


def _others(env: Environment, cluster: Cluster) -> Iterator[tuple[str, ipaddress.IPv4Network]]:
    """The VPCs of the environment's other clusters that parse, by `region/cluster`."""
    for region, other in env.clusters():
        block = parse_network(other.network.cidr) if other is not cluster else None
        if block is not None:
            yield f"{region.name}/{other.name}", block


def _free_in(env: Environment, cluster: Cluster):
    """Whether a VPC block for `cluster` passes the next run's network rules: it overlaps no other VPC of the
    environment, holds the subnets given, and is large enough to carve the rest from."""
    given = [parse_network(c) for tier in (cluster.network.private_subnets, cluster.network.public_subnets)
             for c in tier or ()]

    def accepts(block: ipaddress.IPv4Network) -> bool:
        if any(block.overlaps(other) for _, other in _others(env, cluster)):
            return False
        if not all(s is not None and s.subnet_of(block) for s in given):
            return False
        if cluster.network.private_subnets is None or cluster.network.public_subnets is None:
            try:
                carve(str(block), 1)
            except ValueError:
                return False
        return True
    return accepts


_LABEL_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")


def _label_key_ok(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and not (len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return bool(_LABEL_NAME.fullmatch(name))


def check_node_group_values(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in clusters(fleet):
        for group in cluster.node_groups.values():
            where = f"{path}/{group.name}"
            for kind in group.instance_types:
                if not INSTANCE_TYPE.fullmatch(kind):
                    yield finding("VAL156", f"instance type {kind!r} is not family.size",
                                   "write an EC2 instance type such as t3.medium or m7g.2xlarge", path=where,
                                   obj=group, field="instance_types")
            for key, value in group.labels.items():
                if not _label_key_ok(key):
                    yield finding("VAL157", f"node label key {key!r} is not a Kubernetes label key",
                                   "use [prefix/]name: name up to 63 letters, digits, - _ . starting and ending "
                                   "alphanumeric; prefix a DNS subdomain", path=where, obj=group, field="labels")
                if value and not _LABEL_NAME.fullmatch(value):
                    yield finding("VAL157", f"node label value {value!r} of {key!r} is not a Kubernetes label "
                                   "value", "use up to 63 letters, digits, - _ . starting and ending alphanumeric",
                                   path=where, obj=group, field="labels")


_ZONE_SUFFIX = re.compile(r"[a-z]|-[a-z0-9]+(?:-[a-z0-9]+)*")


def check_zone_names(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in clusters(fleet):
        for zone in cluster.network.availability_zones or ():
            if zone.startswith(region.name) and not _ZONE_SUFFIX.fullmatch(zone[len(region.name):]):
                yield finding("VAL176", f"zone {zone!r} is not an availability zone name",
                               f"write the region and the zone letter, e.g. {region.name}a", path=path,
                               obj=cluster.network, field="availability_zones")


