"""After `terraform destroy`: nothing the environment created is left, region by region."""

from __future__ import annotations

from typing import Callable

from ..expectation import Expectation
from .lookup import GONE, Check, Lookup, live

__all__ = ["check_nothing_left"]


def check_nothing_left(expectation: Expectation, client: Callable[[str, str], object], *,
                       keep: tuple[str, ...] = ()) -> list[Check]:
    """After destroy: nothing the environment created is left, region by region. `keep`: names of clusters
    that stay (a retirement's check): a name of theirs is not left over, even where a gone cluster's name starts
    it (`edge` gone, `edge-b` kept)."""
    lookup = Lookup(expectation, client)
    kept = tuple(f"{name}-" for name in keep)

    def theirs(name: str) -> bool:  # a kept cluster's
        return bool(kept) and name.startswith(kept)

    def ours(name: str, prefixes: tuple[str, ...]) -> bool:
        return name.startswith(prefixes) and not theirs(name)

    checks = []
    cidrs = {c.cidr for c in expectation.clusters}
    for region in expectation.regions:
        ec2, eks = client("ec2", region), client("eks", region)
        names = {c.name for c in expectation.in_region(region)}
        left = {
            "VPCs": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]
                     if not v.get("IsDefault") and (lookup.tagged(v) or v["CidrBlock"] in cidrs)],
            "subnets": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if lookup.tagged(s)],
            "internet gateways": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]
                                  if lookup.tagged(g)],
            "NAT gateways": [g["NatGatewayId"] for g in ec2.describe_nat_gateways()["NatGateways"]
                             if lookup.tagged(g) and g.get("State") not in GONE],
            "Elastic IPs": [a.get("AllocationId", "?") for a in ec2.describe_addresses()["Addresses"]
                            if lookup.tagged(a)],
            "route tables": [t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]
                             if lookup.tagged(t)],
            "peerings": [p["VpcPeeringConnectionId"] for p in lookup.peerings_in(region)
                         if p["Status"]["Code"] not in GONE
                         and {p["RequesterVpcInfo"].get("CidrBlock"), p["AccepterVpcInfo"].get("CidrBlock")} <= cidrs],
            "EKS clusters": sorted(names & set(eks.list_clusters()["clusters"])),
            "transit gateways": [g["TransitGatewayId"] for g in live(ec2.describe_transit_gateways()["TransitGateways"])
                                 if lookup.tagged(g)],
            "KMS aliases": [a["AliasName"] for a in client("kms", region).list_aliases()["Aliases"]
                            if a["AliasName"] in expectation.kms_aliases.get(region, ())
                            and not theirs(a["AliasName"].removeprefix("alias/"))],
            "KMS keys": _live_keys(lookup, client("kms", region)),
            "security groups": [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]
                                if g.get("GroupName") != "default" and lookup.tagged(g)],
            "instances": [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                          if lookup.tagged(i) and i.get("State", {}).get("Name") not in ("terminated", "shutting-down")],
            "launch templates": [t["LaunchTemplateName"] for t in ec2.describe_launch_templates()["LaunchTemplates"]
                                 if ours(t["LaunchTemplateName"], tuple(f"{n}-" for n in names))],
            "EBS encryption by default": (["enabled"] if ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
                                          else []),
        }
        for kind, ids in left.items():
            checks.append(Check("left over", f"{region} {kind}", not ids,
                                f"still there: {', '.join(ids)}" if ids else "none"))
    iam = client("iam", expectation.regions[0])
    stems = tuple(f"{c.name}-" for c in expectation.clusters)
    global_left = {
        "IAM roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if ours(r["RoleName"], stems)],
        "IAM instance profiles": [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
                                  if ours(p["InstanceProfileName"], stems)],
    }
    if expectation.irsa:
        global_left["IAM OIDC providers"] = [
            p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
            if any(f"oidc.eks.{region}." in p["Arn"] for region in expectation.regions)]
    for kind, ids in global_left.items():
        checks.append(Check("left over", kind, not ids, f"still there: {', '.join(ids)}" if ids else "none"))
    return checks


def _live_keys(lookup: Lookup, kms) -> list[str]:
    """KMS keys tagged as the environment's that are not scheduled for deletion (destroy schedules them)."""
    left = []
    for key in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("KeyState") in ("PendingDeletion", "Disabled") or meta.get("KeyManager") == "AWS":
            continue
        tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
        if lookup.tagged({"Tags": [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in tags]}):
            left.append(key["KeyId"])
    return left
