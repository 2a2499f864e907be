"""Who may use each cluster's Kubernetes API, and Argo CD's identity chain.

Clusters authenticate in API mode (access entries only; see docs/design.md "Access"),
so every grant is an `aws_eks_access_entry` plus one
`aws_eks_access_policy_association` per policy and scope, made after its
entry. The GitOps chain (`tfgen.derive.gitops_path`) becomes: a management role on
the hub that Argo CD's service accounts use (EKS Pod Identity associations,
or IRSA trust on the hub's OIDC provider), allowed only to assume the edges'
deployer roles; per edge a deployer role with no permission policy whose
trust names the management role, and an access entry for it with
AmazonEKSClusterAdminPolicy at cluster scope. With `argocd: managed` there
are no such roles: each edge's access entry is for the capability's role
(`emit/capability.py`). When the bootstrap runs (`gitops_path.bootstraps`),
the hub grants the bastion's role AmazonEKSClusterAdminPolicy: the argo-cd
chart installs CRDs, ClusterRoles and bindings and a namespace, which nothing
narrower than cluster admin may create.
"""

from __future__ import annotations

from ..derive import naming
from ..derive.gitops_path import CLUSTER_ADMIN, bootstraps, deployer_edges, edges_of, managed_argocd
from ..derive.iam import SESSION_ACTIONS, access_policy_arn
from ..model import IRSA, AccessEntry
from ..derive.naming import ref
from ..derive.context import ClusterContext, EnvironmentContext
from .bastion import bastion_role
from .capability import capability_role
from .document import Document
from .iam import policy_json, workload_trust

__all__ = ["emit_access", "management_role", "deployer_role", "entry_name", "association_name"]

# The stem of the access entry of a principal tfgen makes (its ARN is a reference, not a name to read).
_LABELS = {"deployer": "argocd-deployer", "capability": "argocd-capability", "bastion": "bastion-bootstrap"}

def management_role(ctx: EnvironmentContext) -> str:
    return f"aws_iam_role.{ctx.hub.key}_argocd"


def deployer_role(c: ClusterContext) -> str:
    return f"aws_iam_role.{c.key}_deployer"


def entry_name(c: ClusterContext, principal: str, kind: str | None = None) -> str:
    """The access entry of `principal` on cluster `c`; `kind` for principals tfgen makes (see _LABELS)."""
    return naming.principal_name(c.key, _LABELS[kind] if kind else principal)


def association_name(entry: str, policy: str, scope: tuple[str, ...] = ()) -> str:
    """The policy association of `policy` (in namespaces `scope`; none: cluster-wide) on access entry `entry`."""
    return f"{entry}__" + naming.aws_name(policy, *scope, limit=200).lower().replace("-", "_")


def emit_access(ctx: EnvironmentContext) -> Document:
    doc = Document()
    managed = {(r.name, c.name) for r, c in deployer_edges(ctx.env)}
    edges = [c for c in ctx.edges if (c.region, c.cluster.name) in managed]
    by_capability = managed_argocd(ctx.env) and ctx.env.gitops.identity_center is not None
    targets = {(r.name, c.name) for r, c in edges_of(ctx.env)} if by_capability else set()
    if edges:
        _emit_management_role(doc, ctx, edges)
    for c in ctx.clusters:
        entries = list(ctx.env.access_entries(c.cluster))
        labels = {}
        if (c.region, c.cluster.name) in targets:
            labels[ref(f"{capability_role(ctx)}.arn")] = "capability"
            entries.append(AccessEntry(principal=ref(f"{capability_role(ctx)}.arn"), policy=CLUSTER_ADMIN))
        if c.cluster.is_hub and bootstraps(ctx.env):
            labels[ref(f"{bastion_role(ctx)}.arn")] = "bastion"
            entries.append(AccessEntry(principal=ref(f"{bastion_role(ctx)}.arn"), policy=CLUSTER_ADMIN))
        if c in edges:
            address = doc.resource(
                "aws_iam_role", f"{c.key}_deployer", region=c.region,
                name=naming.deployer_role_name(c.eks_name),
                description=f"Argo CD on the {ctx.env.name} hub deploys to {c.eks_name} as this role",
                assume_role_policy=policy_json({
                    "Sid": "ArgoCdOnTheHub",
                    "Effect": "Allow",
                    "Principal": {"AWS": ref(f"{management_role(ctx)}.arn")},
                    "Action": list(SESSION_ACTIONS),
                }),
            )
            labels[ref(f"{address}.arn")] = "deployer"
            entries.append(AccessEntry(principal=ref(f"{address}.arn"), policy=CLUSTER_ADMIN))
        _emit_entries(doc, c, entries, labels)
    return doc


def _emit_management_role(doc: Document, ctx: EnvironmentContext, edges: list[ClusterContext]) -> None:
    hub, gitops = ctx.hub, ctx.env.gitops
    accounts = [f"{gitops.namespace}/{a}" for a in gitops.service_accounts]
    address = doc.resource(
        "aws_iam_role", f"{hub.key}_argocd", region=hub.region,
        name=naming.management_role_name(hub.eks_name),
        description=f"Argo CD on {hub.eks_name}: assumes the deployer role of each edge, nothing else",
        assume_role_policy=workload_trust(ctx, hub, accounts),
    )
    doc.resource(
        "aws_iam_role_policy", f"{hub.key}_argocd", region=hub.region,
        name="assume-edge-deployer-roles",
        role=ref(f"{address}.name"),
        policy=policy_json({
            "Sid": "AssumeEdgeDeployerRoles",
            "Effect": "Allow",
            "Action": list(SESSION_ACTIONS),
            "Resource": [ref(f"{deployer_role(c)}.arn") for c in edges],
        }),
    )
    if ctx.env.identity == IRSA:
        return  # the trust policy names the service accounts on the hub's OIDC provider
    for account in gitops.service_accounts:
        doc.resource(
            "aws_eks_pod_identity_association", naming.service_account_name(hub.key, gitops.namespace, account),
            region=hub.region,
            cluster_name=ref(f"aws_eks_cluster.{hub.key}.name"),
            namespace=gitops.namespace,
            service_account=account,
            role_arn=ref(f"{address}.arn"),
            depends_on=[f"aws_eks_addon.{naming.addon_name(hub.key, 'eks-pod-identity-agent')}"],
        )


def _emit_entries(doc: Document, c: ClusterContext, entries: list[AccessEntry], labels: dict[str, str]) -> None:
    by_principal: dict[str, list[AccessEntry]] = {}
    for entry in entries:
        by_principal.setdefault(entry.principal, []).append(entry)
    for principal, grants in sorted(by_principal.items()):
        name = entry_name(c, principal, labels.get(principal))
        entry = doc.resource("aws_eks_access_entry", name, region=c.region,
                             cluster_name=ref(f"aws_eks_cluster.{c.key}.name"),
                             principal_arn=principal, type="STANDARD")
        seen = set()
        for grant in grants:
            scope = tuple(sorted(grant.namespaces))
            if (grant.policy, scope) in seen:
                continue
            seen.add((grant.policy, scope))
            access_scope = ({"type": "namespace", "namespaces": list(scope)} if scope else {"type": "cluster"})
            doc.resource("aws_eks_access_policy_association", association_name(name, grant.policy, scope),
                         region=c.region,
                         cluster_name=ref(f"aws_eks_cluster.{c.key}.name"),
                         principal_arn=ref(f"{entry}.principal_arn"),
                         policy_arn=access_policy_arn(grant.policy),
                         access_scope=access_scope,
                         depends_on=[entry])
