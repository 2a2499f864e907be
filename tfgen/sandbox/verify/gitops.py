"""The GitOps path of an applied environment through the API: who may open 443 on each control
plane, the management and deployer roles, the EBS CSI roles, the OIDC providers (IRSA), and Argo
CD's cluster Secrets rendered from the root's outputs as `tfgen gitops` renders them."""

from __future__ import annotations

from typing import Callable, Sequence

from ...derive.iam import ASSUME_ROLE, EBS_CSI_POLICY, POD_IDENTITY_SERVICE, SESSION_ACTIONS, STS_AUDIENCE
from ..expectation import Expectation
from .lookup import Check, Lookup, as_set, ingress_of, policy_document, statements_of

__all__ = ["check_api_access", "check_gitops_roles", "check_ebs_csi_roles", "check_oidc_providers",
           "check_gitops_secrets", "check_secrets"]


def check_api_access(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Each control plane's API security group admits TCP 443 from exactly its sources: the hub
    VPC's CIDR on the edges Argo CD manages, the bastion's security group on the hub; nothing else."""
    checks = []
    bastion_group = None
    if expectation.bastion:
        hub_vpc = lookup.vpc(expectation.bastion.hub)
        bastion_group = lookup.security_group(expectation.bastion.hub.region, expectation.bastion.name,
                                              hub_vpc["VpcId"] if hub_vpc else None)
    for cluster in expectation.clusters:
        subject = f"{cluster.label} {cluster.api_group}"
        vpc = lookup.vpc(cluster)
        group = lookup.security_group(cluster.region, cluster.api_group, vpc["VpcId"] if vpc else None)
        if group is None:
            checks.append(Check("api access", subject, False, f"no security group {cluster.api_group} in the VPC"))
            continue
        wanted = [("tcp", 443, 443, cidr) for cidr in cluster.api_cidrs]
        if cluster.api_from_bastion:
            wanted.append(("tcp", 443, 443, bastion_group["GroupId"] if bastion_group else "the bastion's group"))
        seen = ingress_of(group)
        on_cluster = False
        eks = lookup.client("eks", cluster.region)
        if cluster.name in eks.list_clusters()["clusters"]:
            config = eks.describe_cluster(name=cluster.name)["cluster"].get("resourcesVpcConfig", {})
            on_cluster = group["GroupId"] in (config.get("securityGroupIds") or [])
        ok = sorted(seen, key=str) == sorted(wanted, key=str) and on_cluster
        shown = ", ".join(f"{p} {a}-{b} from {src}" for p, a, b, src in seen) or "no ingress"
        checks.append(Check("api access", subject, ok,
                            f"{group['GroupId']} admits {shown}; expected "
                            + (", ".join(f"{p} {a} from {src}" for p, a, _, src in wanted) or "nothing")
                            + ("" if on_cluster else f"; not on {cluster.name}'s control plane")))
    return checks


def check_gitops_roles(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Each edge's deployer role trusts the hub's management role (and nothing else); the
    management role may assume exactly the deployer roles, and trusts Argo CD's service accounts."""
    gitops = expectation.gitops
    if gitops is None:
        return []
    checks = []
    management = lookup.role(gitops.management_role)
    if management is None:
        return [Check("gitops role", gitops.management_role, False, "management role missing")]
    trust = statements_of(management["AssumeRolePolicyDocument"])
    if gitops.identity == "irsa":
        principals = {p for s in trust for p in as_set(s.get("Principal", {}).get("Federated"))}
        subjects = {v for s in trust for cond in s.get("Condition", {}).values()
                    for k, vals in cond.items() if k.endswith(":sub") for v in as_set(vals)}
        wanted = {f"system:serviceaccount:{gitops.namespace}:{a}" for a in gitops.service_accounts}
        ok = len(principals) == 1 and next(iter(principals)).startswith("arn:aws:iam::") and subjects == wanted
        detail = f"trusts {', '.join(sorted(principals)) or 'nobody'} for {', '.join(sorted(subjects)) or 'no account'}"
    else:
        services = {p for s in trust for p in as_set(s.get("Principal", {}).get("Service"))}
        actions = {a for s in trust for a in as_set(s.get("Action"))}
        ok = services == {POD_IDENTITY_SERVICE} and actions == set(SESSION_ACTIONS)
        detail = f"trusts {', '.join(sorted(services)) or 'nobody'} ({', '.join(sorted(actions))})"
    checks.append(Check("gitops role", f"management {gitops.management_role}", ok, detail))
    deployer_arns = {}
    for edge in gitops.edges:
        role = lookup.role(edge.deployer_role)
        subject = f"deployer {edge.label}"
        if role is None:
            checks.append(Check("gitops role", subject, False, f"no role {edge.deployer_role}"))
            continue
        deployer_arns[edge.deployer_role] = role["Arn"]
        statements = statements_of(role["AssumeRolePolicyDocument"])
        principals = {p for s in statements if s.get("Effect") == "Allow"
                      for kind, values in s.get("Principal", {}).items() for p in as_set(values)}
        actions = {a for s in statements for a in as_set(s.get("Action"))}
        ok = principals == {management["Arn"]} and ASSUME_ROLE in actions
        checks.append(Check("gitops role", subject, ok,
                            f"{edge.deployer_role} trusts {', '.join(sorted(principals)) or 'nobody'} "
                            f"({', '.join(sorted(actions))})"))
    iam = lookup.client("iam", expectation.regions[0])
    names = iam.list_role_policies(RoleName=gitops.management_role)["PolicyNames"]
    resources: set[str] = set()
    for name in names:
        document = policy_document(iam.get_role_policy(RoleName=gitops.management_role, PolicyName=name)["PolicyDocument"])
        for statement in statements_of(document):
            if statement.get("Effect") == "Allow" and ASSUME_ROLE in as_set(statement.get("Action")):
                resources |= as_set(statement.get("Resource"))
    wanted = set(deployer_arns.values())
    ok = resources == wanted and len(deployer_arns) == len(gitops.edges)
    missing, extra = sorted(wanted - resources), sorted(resources - wanted)
    checks.append(Check("gitops role", "management may assume", ok,
                        f"sts:AssumeRole on {len(resources)} role(s)"
                        + (f"; missing {', '.join(missing)}" if missing else "")
                        + (f"; not a deployer role: {', '.join(extra)}" if extra else "")))
    return checks


def check_ebs_csi_roles(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """Every cluster's EBS CSI role exists with AmazonEBSCSIDriverPolicy attached."""
    checks = []
    for cluster in expectation.clusters:
        if not cluster.ebs_csi_role:
            continue
        role = lookup.role(cluster.ebs_csi_role)
        if role is None:
            checks.append(Check("ebs csi role", cluster.label, False, f"no role {cluster.ebs_csi_role}"))
            continue
        attached = lookup.attached(cluster.ebs_csi_role)
        checks.append(Check("ebs csi role", cluster.label, EBS_CSI_POLICY in attached,
                            f"{cluster.ebs_csi_role} has {', '.join(sorted(attached)) or 'no managed policy'}"))
    return checks


def check_oidc_providers(expectation: Expectation, lookup: Lookup) -> list[Check]:
    """With IRSA, an IAM OIDC provider for each cluster's issuer, for the audience sts.amazonaws.com."""
    if not expectation.irsa:
        return []
    iam = lookup.client("iam", expectation.regions[0])
    providers = {}
    for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        info = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])
        providers[info["Url"].removeprefix("https://")] = info
    checks = []
    for cluster in expectation.clusters:
        eks = lookup.client("eks", cluster.region)
        if cluster.name not in eks.list_clusters()["clusters"]:
            checks.append(Check("oidc provider", cluster.label, False, f"no EKS cluster {cluster.name}"))
            continue
        issuer = (eks.describe_cluster(name=cluster.name)["cluster"].get("identity", {})
                  .get("oidc", {}).get("issuer", ""))
        info = providers.get(issuer.removeprefix("https://"))
        ok = info is not None and info.get("ClientIDList") == [STS_AUDIENCE]
        checks.append(Check("oidc provider", cluster.label, ok,
                            f"{issuer}: " + (f"audiences {', '.join(info.get('ClientIDList', []))}" if info
                                             else "no IAM OIDC provider")))
    return checks


def check_gitops_secrets(expectation: Expectation, client: Callable[[str, str], object],
                         outputs: Callable[[], dict], *, left_out: Sequence[str] = ()) -> list[Check]:
    """Render Argo CD's cluster Secrets from the applied root's outputs (`outputs()`, as `tfgen gitops`
    renders them) and check each against its edge in the double (`check_secrets`).
    `left_out`: output fields lowering left out of the copy, named when a Secret cannot be made."""
    from ...gitops import OutputsError, render

    if expectation.gitops is None:
        return []
    note = f" (lowering left out output field(s) {', '.join(left_out)})" if left_out else ""
    try:
        rendered = render(outputs())
    except OutputsError as exc:
        return [Check("gitops secret", expectation.environment, False, f"tfgen gitops cannot render: {exc}{note}")]
    return check_secrets("gitops secret", rendered.secrets, expectation, client, note=note)


def check_secrets(kind: str, secrets: list[dict], expectation: Expectation, client: Callable[[str, str], object],
                  *, note: str = "") -> list[Check]:
    """One Secret per edge Argo CD manages, and each reaches its edge as EKS and IAM describe it
    (`tfgen.gitops.check_secret`, the one check of a Secret against its cluster); `kind` names the checks."""
    from ...gitops import LiveCluster, check_secret

    by_name = {s["stringData"]["name"]: s for s in secrets}
    checks = []
    for edge in expectation.gitops.edges if expectation.gitops else ():
        secret = by_name.pop(edge.name, None)
        if secret is None:
            checks.append(Check(kind, edge.label, False, f"no Secret for {edge.name}{note}"))
            continue
        info = client("eks", edge.region).describe_cluster(name=edge.name)["cluster"]
        role = (client("iam", edge.region).get_role(RoleName=edge.deployer_role)["Role"]["Arn"]
                if edge.deployer_role else None)
        ok, detail = check_secret(secret, LiveCluster(endpoint=info.get("endpoint"), arn=info.get("arn"),
                                                      ca_data=info.get("certificateAuthority", {}).get("data"),
                                                      role_arn=role))
        checks.append(Check(kind, edge.label, ok, detail + note))
    for name in by_name:
        checks.append(Check(kind, name, False, "a Secret for a cluster Argo CD should not manage"))
    return checks
