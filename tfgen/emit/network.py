"""Per cluster: the VPC, subnets, internet and NAT gateways, route tables."""

from __future__ import annotations

from ..derive import naming
from ..derive.naming import ref
from ..derive.context import ClusterContext, EnvironmentContext
from .document import Document

__all__ = ["emit_network"]

ANYWHERE = "0.0.0.0/0"


def emit_network(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for cluster in ctx.clusters:
        _emit_cluster_network(doc, cluster)
    return doc


def _emit_cluster_network(doc: Document, c: ClusterContext) -> None:
    key, region, layout = c.key, c.region, c.layout
    vpc = doc.resource(
        "aws_vpc", key, region=region,
        cidr_block=layout.cidr,
        enable_dns_support=True,
        enable_dns_hostnames=True,
        tags={"Name": c.eks_name},
    )
    # An unmanaged default security group allows all traffic between its members;
    # adopting it with no rules closes it.
    doc.resource("aws_default_security_group", key, region=region, vpc_id=ref(f"{vpc}.id"),
                 tags={"Name": f"{c.eks_name}-default-closed"})
    igw = doc.resource("aws_internet_gateway", key, region=region, vpc_id=ref(f"{vpc}.id"),
                       tags={"Name": c.eks_name})

    subnets: dict[tuple[str, str], str] = {}
    for subnet in layout.public + layout.private:
        name = naming.subnet_name(key, subnet.tier, region, subnet.zone)
        role_tag = "kubernetes.io/role/elb" if subnet.tier == "public" else "kubernetes.io/role/internal-elb"
        subnets[subnet.tier, subnet.zone] = doc.resource(
            "aws_subnet", name, region=region,
            vpc_id=ref(f"{vpc}.id"),
            cidr_block=subnet.cidr,
            availability_zone=subnet.zone,
            map_public_ip_on_launch=False,
            tags={
                "Name": f"{c.eks_name}-{subnet.tier}-{naming.zone_suffix(region, subnet.zone)}",
                role_tag: "1",
                f"kubernetes.io/cluster/{c.eks_name}": "shared",
            },
        )

    nats: dict[str, str] = {}
    for zone in layout.nat_zones:
        name = naming.nat_name(key, region, zone)
        suffix = naming.zone_suffix(region, zone)
        eip = doc.resource("aws_eip", name, region=region, tags={"Name": f"{c.eks_name}-nat-{suffix}"},
                           depends_on=[igw])
        nats[zone] = doc.resource(
            "aws_nat_gateway", name, region=region,
            allocation_id=ref(f"{eip}.id"),
            subnet_id=ref(f"{subnets['public', zone]}.id"),
            tags={"Name": f"{c.eks_name}-{suffix}"},
            depends_on=[igw],
        )

    public_rt = _route_table(doc, c, "public")
    doc.resource("aws_route", naming.internet_route_name(naming.route_table_name(key, 'public', region)), region=region,
                 route_table_id=ref(f"{public_rt}.id"), destination_cidr_block=ANYWHERE,
                 gateway_id=ref(f"{igw}.id"))
    for subnet in layout.public:
        _associate(doc, c, subnets["public", subnet.zone], public_rt)

    for subnet in layout.private:
        table = f"private:{subnet.zone}"
        rt = _route_table(doc, c, table)
        doc.resource("aws_route", naming.internet_route_name(naming.route_table_name(key, table, region)), region=region,
                     route_table_id=ref(f"{rt}.id"), destination_cidr_block=ANYWHERE,
                     nat_gateway_id=ref(f"{nats[layout.nat_zone_for(subnet.zone)]}.id"))
        _associate(doc, c, subnets["private", subnet.zone], rt)


def _route_table(doc: Document, c: ClusterContext, table: str) -> str:
    name = naming.route_table_name(c.key, table, c.region)
    label = table.replace("private:", "private-").replace(c.region, "")
    return doc.resource("aws_route_table", name, region=c.region, vpc_id=ref(f"{c.vpc}.id"),
                        tags={"Name": f"{c.eks_name}-{label}"})


def _associate(doc: Document, c: ClusterContext, subnet: str, route_table: str) -> None:
    doc.resource("aws_route_table_association", subnet.split(".", 1)[1], region=c.region,
                 subnet_id=ref(f"{subnet}.id"), route_table_id=ref(f"{route_table}.id"))
