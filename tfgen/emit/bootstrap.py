"""The GitOps bootstrap: `terraform apply` installs Argo CD on the hub and registers the edges.

Through AWS APIs only (the hub API is private, and nothing in a plan needs
it): an SSM Command document holding tfgen's bootstrap script
(`tfgen.bootstrap`), and an association that runs it on the hub's bastion and
makes the apply wait for it (`wait_for_success_timeout_seconds`), so a failed
bootstrap fails the apply. What grows with the fleet is not in the document:
every edge's cluster Secret, the AppProjects and the root Application are the
*registration data*, which Terraform writes to a versioned S3 object
(`aws_s3_object`, built by the same functions `tfgen gitops` uses, with
Terraform references for what only the apply knows: endpoints, CA data, role
ARNs). The document names the object's `version_id`, so the script reads the
data written for it, and a changed object (a replaced edge's new endpoint)
changes the document, whose `document_version` re-runs the association.

Make-before-break, and deregistration before destroy: the document's and the
association's names carry a digest of the script and of the registration data
as built, so an edge added or removed is a new document and a new association,
and both are `create_before_destroy`: the new association is created (the
provider waits for its run) before the old one goes. Terraform also makes
create-before-destroy what they depend on, so a removed edge's cluster, access
entry and deployer role are destroyed only after the new association's run has
deregistered the edge (README: "From apply to GitOps").

The association's output goes to the same bucket: encrypted with its own KMS
key, private, TLS only, the output expiring after 90 days (`emit/buckets.py`).
The bastion's role may describe the hub, read the registration data, write the
output prefix, use that key and read the private repository's secret; its
access entry on the hub is in `emit/access.py`.
"""

from __future__ import annotations

import json

from ..bootstrap import (BootstrapInput, Registration, TerraformRef, document_content, for_terraform,
                         registration_data, render_script, seed_input)
from ..bootstrap.manifests import IN_CLUSTER, argo_cd_values, cluster_secret
from ..derive import naming
from ..derive.context import ClusterContext, EnvironmentContext
from ..derive.gitops_path import (CLUSTER_ADMIN, bootstraps, controller_sharding, deployer_edges, edges_of,
                                  managed_argocd)
from ..derive.naming import KmsPurpose, ref
from ..model import ADDONS, IRSA
from .access import association_name, deployer_role, entry_name, management_role
from .addons import ebs_csi_role
from .bastion import bastion_instance, bastion_role
from .buckets import emit_secure_bucket
from .capability import capability, capability_role, secret_statements
from .document import Document
from .iam import key_policy, policy_json

__all__ = ["emit_bootstrap", "bootstrap_input", "registration_object", "SCRIPT_TIMEOUT", "WAIT_TIMEOUT",
           "OUTPUT_DAYS", "CREATE_FIRST"]

# The script's own limit, and how long the apply waits (a fresh bastion's agent registers first).
SCRIPT_TIMEOUT = 1800
WAIT_TIMEOUT = 2400
OUTPUT_DAYS = 90
REGISTRATION_DAYS = 30  # how long a registration object's earlier versions are kept
CREATE_FIRST = {"create_before_destroy": True}


def registration_object(ctx: EnvironmentContext) -> str:
    return f"aws_s3_object.{ctx.hub.key}_registration"


def _secret(ctx: EnvironmentContext, c: ClusterContext, role: str = "edge") -> dict:
    env = ctx.env
    target = ({"server": TerraformRef(f"aws_eks_cluster.{c.key}.arn")} if managed_argocd(env) else {
        "server": TerraformRef(f"aws_eks_cluster.{c.key}.endpoint"),
        "role_arn": TerraformRef(f"{deployer_role(c)}.arn"),
        "ca_data": TerraformRef(f"aws_eks_cluster.{c.key}.certificate_authority[0].data")})
    return cluster_secret(name=c.eks_name, namespace=env.gitops.namespace, environment=env.name, region=c.region,
                          kubernetes_version=c.cluster.kubernetes_version, account_id=env.account,
                          vpc_id=TerraformRef(f"{c.vpc}.id"), ebs_csi_role_arn=TerraformRef(f"{ebs_csi_role(c)}.arn"),
                          role=role, **target)


def bootstrap_input(ctx: EnvironmentContext) -> BootstrapInput:
    """What the hub's bootstrap is made of: the edges' Secrets, the chart's values, the root app, where the
    registration data is (its version a reference to the object Terraform writes)."""
    env, hub, gitops = ctx.env, ctx.hub, ctx.env.gitops
    managed = managed_argocd(env)
    names = {(r.name, c.name) for r, c in edges_of(env)}
    secrets = [_secret(ctx, c) for c in ctx.edges if (c.region, c.cluster.name) in names]
    hub_server = IN_CLUSTER
    if managed:  # the capability has no in-cluster target: the hub is registered by ARN too
        secrets.append(_secret(ctx, hub, role="hub"))
        hub_server = TerraformRef(f"aws_eks_cluster.{hub.key}.arn")
    replicas, sharding = controller_sharding(env)
    values = {} if managed else argo_cd_values(
        identity=env.identity, service_accounts=list(gitops.service_accounts), hub_region=hub.region,
        management_role_arn=TerraformRef(f"{management_role(ctx)}.arn") if deployer_edges(env) else None,
        controller_replicas=replicas, sharding=sharding)
    repo = (gitops.repo.url, gitops.repo.revision, gitops.repo.path) if gitops.repo is not None else None
    registration = Registration(
        bucket=naming.bootstrap_bucket_name(ctx.fleet.project, env.name, env.account),
        key=naming.bootstrap_registration_key(hub.eks_name), region=hub.region,
        version=TerraformRef(f"{registration_object(ctx)}.version_id"))
    return seed_input(environment=env.name, hub_cluster_name=hub.eks_name, region=hub.region,
                      namespace=gitops.namespace, secrets=secrets, values=values, registration=registration,
                      repo=repo, credential=gitops.repo.secret_arn if gitops.repo else None, managed=managed,
                      hub_server=hub_server, chart_version=gitops.chart_version)


def _waits_for(ctx: EnvironmentContext) -> list[str]:
    """What must be in place before the script runs: the hub's nodes and add-ons, Argo CD's identity,
    the bastion's access, and every edge's access entry for Argo CD (or the capability)."""
    env, hub = ctx.env, ctx.hub
    after = [f"aws_eks_node_group.{naming.node_group_name(hub.key, g)}" for g in sorted(hub.cluster.node_groups)]
    after += [f"aws_eks_addon.{naming.addon_name(hub.key, a)}" for a in ADDONS]
    bastion = entry_name(hub, ref(f"{bastion_role(ctx)}.arn"), "bastion")
    after += [f"aws_eks_access_entry.{bastion}",
              f"aws_eks_access_policy_association.{association_name(bastion, CLUSTER_ADMIN)}",
              f"aws_iam_role_policy.{hub.key}_bastion_bootstrap"]
    managed = managed_argocd(env)
    if managed:
        after += [capability(ctx), f"aws_eks_access_policy_association.{hub.key}_argocd_capability"]
    elif env.identity != IRSA and deployer_edges(env):
        after += [f"aws_eks_pod_identity_association.{naming.service_account_name(hub.key, env.gitops.namespace, a)}"
                  for a in env.gitops.service_accounts]
    names = {(r.name, c.name) for r, c in edges_of(env)}
    for c in ctx.edges:
        if (c.region, c.cluster.name) in names:
            kind, principal = (("capability", capability_role(ctx)) if managed else ("deployer", deployer_role(c)))
            entry = entry_name(c, ref(f"{principal}.arn"), kind)
            after += [f"aws_eks_access_entry.{entry}",
                      f"aws_eks_access_policy_association.{association_name(entry, CLUSTER_ADMIN)}"]
    return after


def emit_bootstrap(ctx: EnvironmentContext) -> Document:
    doc = Document()
    env = ctx.env
    if not bootstraps(env) or not edges_of(env) or not any(c.cluster.is_hub for c in ctx.clusters):
        return doc
    if managed_argocd(env) and env.gitops.identity_center is None:
        return doc  # VAL436 refuses the spec
    hub = ctx.hub
    stem, region = f"{hub.key}_bootstrap", hub.region
    key = doc.resource("aws_kms_key", stem, region=region,
                       description=f"Encrypts the GitOps bootstrap data and output of {hub.eks_name}",
                       enable_key_rotation=True, deletion_window_in_days=30, policy=key_policy(env.account))
    doc.resource("aws_kms_alias", stem, region=region, name=naming.kms_alias(hub.eks_name, KmsPurpose.BOOTSTRAP),
                 target_key_id=ref(f"{key}.key_id"))
    bucket = emit_secure_bucket(
        doc, stem, region=region, bucket=naming.bootstrap_bucket_name(ctx.fleet.project, env.name, env.account),
        key_arn=ref(f"{key}.arn"), force_destroy=True,  # run logs and data Terraform rewrites: destroy may empty it
        rules=[{"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7}},
               {"id": "expire-bootstrap-output", "status": "Enabled",
                "filter": {"prefix": naming.BOOTSTRAP_OUTPUT_PREFIX}, "expiration": {"days": OUTPUT_DAYS},
                "noncurrent_version_expiration": {"noncurrent_days": 7}},
               {"id": "expire-earlier-registrations", "status": "Enabled",
                "filter": {"prefix": naming.BOOTSTRAP_REGISTRATION_PREFIX},
                "noncurrent_version_expiration": {"noncurrent_days": REGISTRATION_DAYS}}])
    repo = env.gitops.repo
    credential = repo.secret_arn if repo is not None and not managed_argocd(env) else None
    doc.resource(
        "aws_iam_role_policy", f"{hub.key}_bastion_bootstrap", region=region,
        name="gitops-bootstrap",
        role=ref(f"{bastion_role(ctx)}.name"),
        policy=policy_json(
            {"Sid": "KubeconfigOfTheHub", "Effect": "Allow", "Action": "eks:DescribeCluster",
             "Resource": ref(f"aws_eks_cluster.{hub.key}.arn")},
            {"Sid": "ReadTheRegistration", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
             "Resource": ref(f"{bucket}.arn") + "/" + naming.bootstrap_registration_key(hub.eks_name)},
            {"Sid": "WriteTheBootstrapOutput", "Effect": "Allow", "Action": "s3:PutObject",
             "Resource": ref(f"{bucket}.arn") + "/" + naming.BOOTSTRAP_OUTPUT_PREFIX + "*"},
            {"Sid": "SeeTheOutputBucketIsEncrypted", "Effect": "Allow", "Action": "s3:GetEncryptionConfiguration",
             "Resource": ref(f"{bucket}.arn")},
            {"Sid": "UseTheBootstrapKey", "Effect": "Allow",
             "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], "Resource": ref(f"{key}.arn")},
            *(secret_statements(credential, repo.kms_key_arn) if credential else ()),
        ),
    )
    inp = bootstrap_input(ctx)
    data = registration_data(inp)
    registration = doc.resource(
        "aws_s3_object", registration_object(ctx).split(".", 1)[1], region=region,
        bucket=ref(f"{bucket}.id"), key=inp.registration.key, content=for_terraform(data),
        content_type="application/json", server_side_encryption="aws:kms", kms_key_id=ref(f"{key}.arn"),
        depends_on=[f"aws_s3_bucket_versioning.{stem}"])  # a version id for the document to name
    content = json.dumps(document_content(render_script(inp), timeout_seconds=SCRIPT_TIMEOUT), sort_keys=True)
    digest = naming.bootstrap_digest(content, data)
    document = doc.resource("aws_ssm_document", stem, region=region,
                            name=naming.bootstrap_document_name(hub.eks_name, digest),
                            document_type="Command", document_format="JSON", content=content,
                            lifecycle=dict(CREATE_FIRST))
    doc.resource(
        "aws_ssm_association", stem, region=region,
        name=ref(f"{document}.name"),
        association_name=naming.bootstrap_association_name(hub.eks_name, digest),
        document_version=ref(f"{document}.latest_version"),
        targets=[{"key": "InstanceIds", "values": [ref(f"{bastion_instance(ctx)}.id")]}],
        max_concurrency="1", max_errors="0",
        wait_for_success_timeout_seconds=WAIT_TIMEOUT,
        output_location={"s3_bucket_name": ref(f"{bucket}.id"), "s3_key_prefix": naming.BOOTSTRAP_OUTPUT_PREFIX},
        depends_on=_waits_for(ctx) + [registration, f"aws_s3_bucket_policy.{stem}",
                                      f"aws_s3_bucket_server_side_encryption_configuration.{stem}"],
        lifecycle=dict(CREATE_FIRST),
    )
    return doc
