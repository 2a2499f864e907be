"""The hub's bastion through the API: where it runs, how it is reached, what it may do."""

from __future__ import annotations

from ...derive.iam import SSM_CORE
from ..expectation import Expectation
from .lookup import Check, Lookup, ingress_of, name_of

__all__ = ["check_bastion"]


def check_bastion(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """The hub's bastion: running in a private subnet of the hub VPC, no public IP, no key pair,
    IMDSv2 required with hop limit 1, its security group without ingress, and an instance profile
    whose role has AmazonSSMManagedInstanceCore."""
    bastion = expectation.bastion
    if bastion is None:
        return []
    hub, subject = bastion.hub, f"{bastion.hub.label} {bastion.name}"
    ec2 = lookup.client("ec2", hub.region)
    found = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [bastion.name]}])["Reservations"]
             for i in r["Instances"]
             if name_of(i) == bastion.name and i.get("State", {}).get("Name") not in ("terminated", "shutting-down")]
    if len(found) != 1:
        return [Check("bastion", subject, False, f"{len(found)} running instances named {bastion.name}, expected 1")]
    instance = found[0]
    checks = []
    vpc = lookup.vpc(hub)
    subnet = next(iter(ec2.describe_subnets(SubnetIds=[instance["SubnetId"]])["Subnets"]), {})
    ok = (vpc is not None and subnet.get("VpcId") == vpc["VpcId"] and subnet.get("CidrBlock") in hub.private_subnets
          and not subnet.get("MapPublicIpOnLaunch"))
    checks.append(Check("bastion", f"{subject} subnet", ok,
                        f"{instance['SubnetId']} {subnet.get('CidrBlock')} in {subnet.get('VpcId')}; "
                        f"private subnets of the hub: {', '.join(hub.private_subnets)}"))
    public = instance.get("PublicIpAddress")
    checks.append(Check("bastion", f"{subject} public IP", not public, f"public IP {public}" if public else "none"))
    key = instance.get("KeyName")
    checks.append(Check("bastion", f"{subject} key pair", not key, f"key pair {key}" if key else "none"))
    metadata = instance.get("MetadataOptions")
    if metadata is None:
        checks.append(Check("bastion", f"{subject} IMDS", True, "not reported by the API (cannot check)"))
    else:
        ok = metadata.get("HttpTokens") == "required" and metadata.get("HttpPutResponseHopLimit") == 1
        checks.append(Check("bastion", f"{subject} IMDS", ok,
                            f"tokens {metadata.get('HttpTokens')}, hop limit {metadata.get('HttpPutResponseHopLimit')}"))
    ok = instance.get("InstanceType") == bastion.instance_type
    checks.append(Check("bastion", f"{subject} type", ok, str(instance.get("InstanceType"))))
    group_ids = ({g["GroupId"] for g in instance.get("SecurityGroups", [])}
                 | {g["GroupId"] for n in instance.get("NetworkInterfaces", []) for g in n.get("Groups", [])})
    group = lookup.security_group(hub.region, bastion.name, vpc["VpcId"] if vpc else None)
    ingress = ingress_of(group) if group else []
    ok = group is not None and group_ids == {group["GroupId"]} and not ingress
    checks.append(Check("bastion", f"{subject} security group", ok,
                        f"instance in {', '.join(sorted(group_ids)) or 'no group'}; "
                        + (f"{group['GroupId']} admits {len(ingress)} ingress rule(s)" if group
                           else f"no security group {bastion.name}")))
    profile_arn = (instance.get("IamInstanceProfile") or {}).get("Arn", "")
    iam = lookup.client("iam", expectation.regions[0])
    profile_name = profile_arn.rsplit("/", 1)[-1]
    roles = []
    if profile_arn:
        roles = [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName=profile_name)
                 ["InstanceProfile"]["Roles"]]
    attached = lookup.attached(roles[0]) if len(roles) == 1 else set()
    ok = profile_name == bastion.name and roles == [bastion.name] and attached == {SSM_CORE}
    checks.append(Check("bastion", f"{subject} instance profile", ok,
                        f"profile {profile_name or 'none'}, role(s) {', '.join(roles) or 'none'} with "
                        f"{', '.join(sorted(attached)) or 'no managed policy'}"))
    return checks
