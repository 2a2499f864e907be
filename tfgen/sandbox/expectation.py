"""What an environment should look like in AWS once applied, read from the model.

The verifier compares the API's answers with this, never with Terraform's
state: VPCs by region, CIDR and Name tag, peerings between the hub's VPC and
each edge's, how many route tables each VPC has, clusters and node groups; the
GitOps path (`tfgen.derive.gitops_path`): who may open 443 on each control plane, the
management and deployer roles, the EBS CSI roles and the hub's bastion. Names
come from the same naming functions the emitters use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..derive import naming
from ..derive.gitops_path import api_sources, bootstraps, deployer_edges, edges_of, managed_argocd
from ..model import IRSA
from ..derive.connectivity import transit_peerings, transit_regions
from ..derive.context import context_of
from ..derive.tags import STANDARD_TAGS
from ..model import Fleet

__all__ = [
    "ExpectedNodeGroup",
    "ExpectedCluster",
    "ExpectedPeering",
    "ExpectedTransitGateway",
    "ExpectedBastion",
    "ExpectedGitOps",
    "ExpectedBootstrap",
    "Expectation",
    "expect_environment",
]


@dataclass(frozen=True)
class ExpectedNodeGroup:
    """A managed node group and its scaling."""

    name: str
    min_size: int
    max_size: int
    desired_size: int


@dataclass(frozen=True)
class ExpectedCluster:
    """A cluster, its VPC and what the VPC holds."""

    key: str
    region: str
    role: str
    name: str
    cidr: str
    subnets: int
    route_tables: int
    node_groups: tuple[ExpectedNodeGroup, ...]
    # The security group on the control plane and who may open 443 through it.
    api_group: str = ""
    api_cidrs: tuple[str, ...] = ()
    api_from_bastion: bool = False
    ebs_csi_role: str = ""
    deployer_role: str | None = None  # edges Argo CD manages
    private_subnets: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.region}/{self.key.removeprefix(naming.alias(self.region) + '_')}"


@dataclass(frozen=True)
class ExpectedPeering:
    """A peering from the requester's VPC (hub) to the accepter's (edge)."""

    name: str
    requester: ExpectedCluster
    accepter: ExpectedCluster

    @property
    def label(self) -> str:
        return f"{self.requester.label} <-> {self.accepter.label}"


@dataclass(frozen=True)
class ExpectedTransitGateway:
    """A region's transit gateway, the VPCs attached to it and the gateways it peers with."""

    region: str
    name: str
    attached: tuple[ExpectedCluster, ...]
    peers: tuple[str, ...]  # regions


@dataclass(frozen=True)
class ExpectedBastion:
    """The hub's SSM bastion: security group, role, instance profile and instance share `name`."""

    hub: ExpectedCluster
    name: str
    instance_type: str


@dataclass(frozen=True)
class ExpectedGitOps:
    """Argo CD on the hub: its management role and the edges whose deployer roles trust it."""

    management_role: str
    identity: str  # pod-identity | irsa
    namespace: str
    service_accounts: tuple[str, ...]
    hub: ExpectedCluster
    edges: tuple[ExpectedCluster, ...]


@dataclass(frozen=True)
class ExpectedBootstrap:
    """The hub's GitOps bootstrap: its SSM document (named `prefix` + a digest) in the hub's region, its
    registration data (`key` in `bucket`), and what both are assembled from besides the outputs
    (`tfgen.bootstrap.seed_input`)."""

    prefix: str
    region: str
    hub_cluster_name: str
    namespace: str
    managed: bool
    repo: tuple[str, str, str] | None
    chart_version: str | None
    bucket: str = ""
    key: str = ""
    credential: str | None = None  # the private repository's Secrets Manager secret
    bastion_role: str = ""


@dataclass(frozen=True)
class Expectation:
    """Everything one environment should have created."""

    environment: str
    project: str
    tags: dict[str, str]
    clusters: tuple[ExpectedCluster, ...]
    peerings: tuple[ExpectedPeering, ...]
    transit_gateways: tuple[ExpectedTransitGateway, ...] = ()
    identity: str = ""
    gitops: ExpectedGitOps | None = None
    bastion: ExpectedBastion | None = None
    bootstrap: ExpectedBootstrap | None = None
    kms_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # region -> every alias tfgen makes there

    @property
    def irsa(self) -> bool:
        return self.identity == IRSA

    @property
    def regions(self) -> list[str]:
        return sorted({c.region for c in self.clusters})

    def in_region(self, region: str) -> list[ExpectedCluster]:
        return [c for c in self.clusters if c.region == region]


def expect_environment(fleet: Fleet, environment: str) -> Expectation:
    """The expectation for environment `environment` of `fleet` (its pool CIDRs already allocated)."""
    ctx = context_of(fleet, fleet.environment(environment))
    env = ctx.env
    has_hub = any(c.cluster.is_hub for c in ctx.clusters)
    managed = {(r.name, c.name) for r, c in deployer_edges(env)}
    clusters = {}
    for c in ctx.clusters:
        sources = [kind for kind, _ in api_sources(env, env.regions[c.region], c.cluster)]
        clusters[c.key] = ExpectedCluster(
            key=c.key,
            region=c.region,
            role=c.cluster.role,
            name=c.eks_name,
            cidr=c.layout.cidr,
            subnets=len(c.layout.public) + len(c.layout.private),
            route_tables=len(c.layout.route_tables),
            node_groups=tuple(
                ExpectedNodeGroup(g.name, g.min_size, g.max_size, g.desired_size)
                for g in sorted(c.cluster.node_groups.values(), key=lambda g: g.name)
            ),
            api_group=naming.api_security_group_name(c.eks_name),
            api_cidrs=(ctx.hub.layout.cidr,) if "hub-cidr" in sources and has_hub else (),
            api_from_bastion="bastion" in sources,
            ebs_csi_role=naming.ebs_csi_role_name(c.eks_name),
            deployer_role=(naming.deployer_role_name(c.eks_name)
                           if (c.region, c.cluster.name) in managed else None),
            private_subnets=tuple(s.cidr for s in c.layout.private),
        )
    pairs = tuple(
        ExpectedPeering(naming.peering_name(r.key, a.key), clusters[r.key], clusters[a.key])
        for r, a in ctx.peerings()
    )
    gateway_peerings = transit_peerings(ctx.env)
    gateways = tuple(
        ExpectedTransitGateway(
            region=region,
            name=naming.transit_gateway_label(fleet.project, environment, region),
            attached=tuple(c for c in clusters.values() if c.region == region),
            peers=tuple(sorted({b for a, b in gateway_peerings if a == region}
                               | {a for a, b in gateway_peerings if b == region})),
        )
        for region in transit_regions(ctx.env)
    )
    gitops = bastion = bootstrap = None
    if has_hub and bootstraps(env) and edges_of(env):
        repo = env.gitops.repo
        bootstrap = ExpectedBootstrap(
            prefix=naming.bootstrap_document_prefix(ctx.hub.eks_name), region=ctx.hub.region,
            hub_cluster_name=ctx.hub.eks_name, namespace=env.gitops.namespace, managed=managed_argocd(env),
            repo=(repo.url, repo.revision, repo.path) if repo else None, chart_version=env.gitops.chart_version,
            bucket=naming.bootstrap_bucket_name(fleet.project, environment, env.account),
            key=naming.bootstrap_registration_key(ctx.hub.eks_name), credential=repo.secret_arn if repo else None,
            bastion_role=naming.bastion_name(ctx.hub.eks_name))
    if has_hub:
        hub = clusters[ctx.hub.key]
        edges = tuple(c for c in clusters.values() if c.deployer_role)
        if edges:
            gitops = ExpectedGitOps(
                management_role=naming.management_role_name(ctx.hub.eks_name), identity=env.identity,
                namespace=env.gitops.namespace, service_accounts=tuple(env.gitops.service_accounts),
                hub=hub, edges=edges)
        if env.bastion.enabled:
            bastion = ExpectedBastion(hub, naming.bastion_name(ctx.hub.eks_name), env.bastion.instance_type)
    return Expectation(
        environment=environment,
        project=fleet.project,
        tags=dict(zip(STANDARD_TAGS[:2], (fleet.project, environment))),
        clusters=tuple(clusters.values()),
        peerings=pairs,
        transit_gateways=gateways,
        identity=env.identity,
        gitops=gitops,
        bastion=bastion,
        bootstrap=bootstrap,
        kms_aliases={region: tuple(sorted(
            [naming.ebs_kms_alias(fleet.project, environment, region)]
            + [naming.kms_alias(c.name, purpose) for c in clusters.values() if c.region == region
               for purpose in (naming.KmsPurpose.EKS, naming.KmsPurpose.LOGS)]
            + [naming.kms_alias(bootstrap.hub_cluster_name, naming.KmsPurpose.BOOTSTRAP) for _ in (1,)
               if bootstrap and bootstrap.region == region])) for region in ctx.regions},
    )
