"""The hub's bastion: how a person reaches the private hub API, without SSH.

An instance in the hub VPC's first private subnet with no public address, no
key pair, no inbound rule and no user data; Session Manager reaches it over
the NAT gateway (the SSM agent dials out on 443), and port forwarding through
it opens the hub API (docs/gitops.md: "Reaching the hub"). IMDSv2 only with a hop
limit of 1 (pods and containers cannot borrow its credentials), an encrypted
gp3 root volume, and a role with AmazonSSMManagedInstanceCore (plus, when it
runs the GitOps bootstrap, the policy `emit/bootstrap.py` gives it). Its AMI
is a launch template's `resolve:ssm:` parameter (or an AMI id from the spec):
EC2 resolves it at launch, so planning needs no AWS API and a re-plan stays
empty.
"""

from __future__ import annotations

from ..derive import naming
from ..derive.iam import ASSUME_ROLE, EC2_SERVICE, SSM_CORE
from ..derive.naming import ref
from ..derive.context import EnvironmentContext
from .document import Document
from .iam import policy_json
from .security import bastion_security_group

__all__ = ["emit_bastion", "bastion_instance", "bastion_role", "ANYWHERE"]

ANYWHERE = "0.0.0.0/0"
# IMDSv2 only, one hop: a container on the instance cannot reach its credentials.
_IMDSV2 = {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1}


def bastion_instance(ctx: EnvironmentContext) -> str:
    return f"aws_instance.{ctx.hub.key}_bastion"


def bastion_role(ctx: EnvironmentContext) -> str:
    return f"aws_iam_role.{ctx.hub.key}_bastion"


def emit_bastion(ctx: EnvironmentContext) -> Document:
    doc = Document()
    bastion = ctx.env.bastion
    if not bastion.enabled or not any(c.cluster.is_hub for c in ctx.clusters):
        return doc
    hub = ctx.hub
    stem, region = f"{hub.key}_bastion", hub.region
    name = naming.bastion_name(hub.eks_name)
    group = doc.resource(
        "aws_security_group", bastion_security_group(ctx).split(".", 1)[1], region=region,
        name=name, description=f"Bastion of {hub.eks_name}: no inbound; HTTPS out to Session Manager and the hub API",
        vpc_id=ref(f"{hub.vpc}.id"), tags={"Name": name},
    )
    doc.resource("aws_vpc_security_group_egress_rule", f"{stem}__https", region=region,
                 security_group_id=ref(f"{group}.id"), ip_protocol="tcp", from_port=443, to_port=443,
                 cidr_ipv4=ANYWHERE, description="HTTPS to Session Manager (through NAT) and the hub API")
    role = doc.resource(
        "aws_iam_role", stem, region=region, name=name, description=f"Session Manager instance role of {name}",
        assume_role_policy=policy_json({"Effect": "Allow", "Principal": {"Service": EC2_SERVICE},
                                        "Action": ASSUME_ROLE}),
    )
    doc.resource("aws_iam_role_policy_attachment", f"{stem}_ssm", region=region, role=ref(f"{role}.name"),
                 policy_arn=SSM_CORE)
    profile = doc.resource("aws_iam_instance_profile", stem, region=region, name=name, role=ref(f"{role}.name"))
    template = doc.resource(
        "aws_launch_template", stem, region=region,
        name=name, description=f"AMI of {name}, resolved by EC2 at launch",
        image_id=bastion.ami,
        update_default_version=True,
        metadata_options=_IMDSV2,
    )
    subnet = hub.layout.private[0]
    doc.resource(
        "aws_instance", stem, region=region,
        launch_template={"id": ref(f"{template}.id"), "version": ref(f"{template}.latest_version")},
        instance_type=bastion.instance_type,
        subnet_id=ref(f"aws_subnet.{naming.subnet_name(hub.key, 'private', region, subnet.zone)}.id"),
        vpc_security_group_ids=[ref(f"{group}.id")],
        associate_public_ip_address=False,
        iam_instance_profile=ref(f"{profile}.name"),
        monitoring=True,
        ebs_optimized=True,
        metadata_options=_IMDSV2,
        root_block_device={"volume_type": "gp3", "volume_size": 20, "encrypted": True, "delete_on_termination": True},
        tags={"Name": name},
    )
    return doc
