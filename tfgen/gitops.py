"""Argo CD's cluster Secrets for every edge, from an applied environment's Terraform outputs.

`tfgen gitops OUT/ENV` reads `terraform output -json` of the root (or a saved
copy of it, `--outputs FILE`; both read by `tfgen.terraform.outputs`) and renders, for every edge the hub's Argo CD
manages (a `cluster_<key>` output with a `deployer_role_arn`), the declarative
cluster Secret Argo CD reads: label `argocd.argoproj.io/secret-type: cluster`,
`name`, `server` (the private endpoint) and `config` with `awsAuthConfig`
(cluster name, the edge's deployer role) and `tlsClientConfig.caData`. The
GitOps Bridge labels and annotations let ApplicationSets select clusters and
template from them. The Helm values of the hub's Argo CD that its identity
and its controller's shards need come with them: `AWS_REGION` on the three
components with Pod Identity (which does not set it; Argo CD 3.4+ reads it from
the environment), or the IRSA role annotation on their service accounts; the
application controller's replicas and sharding algorithm. With `argocd: managed` (the
`gitops` output's `argocd` field), EKS's Argo CD capability: every edge
(`role: edge`) gets a Secret whose `server` is its cluster ARN, without
`awsAuthConfig`, and there are no values. The Secret itself is built by
`tfgen.bootstrap.manifests.cluster_secret`, which the bootstrap's emitter
calls too (with Terraform references instead of values).

The outputs are untrusted input (a saved file can say anything, and Argo CD
sends its signed EKS tokens to whatever `server` says), so every value is
checked as Kubernetes and EKS accept it: Secret names DNS-1123 and unique per
environment, servers the EKS endpoints of the cluster's region, role ARNs IAM
roles of the environment's account, CA data a base64 PEM certificate. Every
problem names the output and field it came from; all are reported at once.
Output and field names come from the contract, `tfgen.derive.outputs`.
Nothing here talks to AWS.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import ssl
from dataclasses import dataclass, field

from .bootstrap.manifests import SECRET_TYPE_LABEL, argo_cd_values, cluster_secret
from .derive.outputs import CLUSTER as C, GITOPS, GITOPS_OUTPUT as G, is_cluster_output
from .errors import TfgenError
from .model import ARGOCD_MANAGED, ARGOCD_MODES, SHARDING_ALGORITHMS
from .terraform.outputs import GitOpsError, parse_outputs, read_outputs, terraform_outputs

__all__ = ["GitOpsError", "OutputsError", "Rendered", "LiveCluster", "read_outputs", "terraform_outputs",
           "parse_outputs", "render", "validate_secret", "check_secret", "to_yaml", "SECRET_TYPE_LABEL", "CLUSTER_READ",
           "GITOPS_READ", "MANAGED_CLUSTER_READ", "MANAGED_GITOPS_READ"]

# Matched with fullmatch: `$` would let a trailing newline through.
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
_ACCOUNT = re.compile(r"[0-9]{12}")
# IAM role names and paths: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
_ROLE_PATH_AND_NAME = r"(/[\x21-\x7e]*/)?[\w+=,.@-]{1,64}"
# The fields of the contract this module reads (tests check that emit writes each).
CLUSTER_READ = (C.region, C.cluster_name, C.cluster_endpoint, C.certificate_authority, C.deployer_role_arn,
                C.kubernetes_version, C.account_id, C.vpc_id, C.ebs_csi_role_arn)
GITOPS_READ = (G.environment, G.hub_region, G.identity, G.namespace, G.service_accounts, G.management_role_arn)
# What EKS's Argo CD capability needs instead: no deployer or management role, the cluster ARN as server.
MANAGED_CLUSTER_READ = tuple(f for f in CLUSTER_READ if f not in (C.deployer_role_arn, C.cluster_endpoint,
                                                                  C.certificate_authority)) + (C.cluster_arn,)
MANAGED_GITOPS_READ = tuple(f for f in GITOPS_READ if f != G.management_role_arn)


class OutputsError(TfgenError):
    """The outputs are read but lack what a Secret needs (exit 1): names the output and field."""

    exit_code = 1


@dataclass
class Rendered:
    """The Secrets, one per managed edge, and the Helm values of the hub's Argo CD."""

    secrets: list[dict] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    hub_region: str = ""

    def documents(self) -> list[dict]:
        return list(self.secrets)

    def as_dict(self) -> dict:
        return {"secrets": self.secrets, "values": self.values}


def _role_arn(account: str) -> re.Pattern:
    return re.compile(rf"arn:aws:iam::{account}:role/([!-~]*/)?[\w+=,.@-]{{1,64}}", re.ASCII)


def _endpoint(region: str) -> re.Pattern:
    # What EKS hands out: https://<32 hex>.<cell>.<region>.eks.amazonaws.com, no path, port or user part.
    return re.compile(rf"https://[0-9A-Fa-f]{{32}}\.[a-z0-9]{{1,8}}\.{region}\.eks\.amazonaws\.com", re.ASCII)


_ANY_ROLE_ARN = _role_arn("[0-9]{12}")
_ANY_ENDPOINT = _endpoint(_REGION.pattern)
_CLUSTER_ARN = re.compile(rf"arn:aws:eks:{_REGION.pattern}:[0-9]{{12}}:cluster/[A-Za-z0-9][A-Za-z0-9_-]{{0,99}}")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def _kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a bool", type(None): "null"}.get(
        type(value), "a number")


def _der_certificate(der: bytes) -> bool:
    """Whether `der` is one DER SEQUENCE of exactly its length that opens with another (a TBSCertificate)."""
    if len(der) < 4 or der[0] != 0x30:
        return False
    if der[1] < 0x80:
        length, head = der[1], 2
    else:
        size = der[1] & 0x7F
        if not 0 < size <= 4 or len(der) < 2 + size:
            return False
        length, head = int.from_bytes(der[2:2 + size], "big"), 2 + size
    return head + length == len(der) and head < len(der) and der[head] == 0x30


def _ca_problem(data: str) -> str | None:
    try:
        pem = base64.b64decode(data, validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return "is not base64"
    blocks = _PEM.findall(pem)
    if not blocks or _PEM.sub("", pem).strip():
        return "is base64, but not of PEM certificates (-----BEGIN CERTIFICATE----- ...) and nothing else"
    for block in blocks:
        try:
            der = ssl.PEM_cert_to_DER_cert(block)
        except (ValueError, binascii.Error):
            der = b""
        if not _der_certificate(der):
            return "holds a PEM block that is not a DER certificate"
    return None


def _field(outputs: dict, output: str, name: str, problems: list[str]):
    value = outputs[output].get(name) if isinstance(outputs.get(output), dict) else None
    if value is None or value == "" or value == []:
        problems.append(f"output {output}: field {name} is missing or empty"
                        + ("" if output in outputs else f" (no output {output})"))
        return None
    if name == G.service_accounts:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.append(f"output {output}: field {name} is {_kind(value)}, not a list of service account names")
            return None
    elif not isinstance(value, str):
        problems.append(f"output {output}: field {name} is {_kind(value)}, not a string")
        return None
    return value


def _cluster_problems(c: dict, account: str) -> list[str]:
    """What is wrong with a managed cluster's fields, as EKS, IAM and Kubernetes would see it."""
    found = []
    region = c[C.region]
    if not _REGION.fullmatch(region):
        found.append(f"field {C.region} {region!r} is not an AWS region name")
    name = c[C.cluster_name]
    if len(name) > 100 or not _DNS1123_SUBDOMAIN.fullmatch(name):
        found.append(f"field {C.cluster_name} {name!r} is not a DNS-1123 name (lower-case letters, digits, '-', "
                     "at most 100 characters), which the Secret's name must be: rename the cluster in the spec")
    if C.cluster_arn in c:
        arn = f"arn:aws:eks:{region}:{c[C.account_id]}:cluster/{name}"
        if c[C.cluster_arn] != arn:
            found.append(f"field {C.cluster_arn} {c[C.cluster_arn]!r} is not {arn}, the ARN of the cluster the "
                         "output names: EKS's Argo CD capability deploys to the cluster it names")
    if C.cluster_endpoint in c and _REGION.fullmatch(region) \
            and not _endpoint(re.escape(region)).fullmatch(c[C.cluster_endpoint]):
        found.append(f"field {C.cluster_endpoint} {c[C.cluster_endpoint]!r} is not the EKS endpoint of a cluster "
                     f"in {region} (https://<32 hex digits>.<id>.{region}.eks.amazonaws.com): Argo CD sends its "
                     "EKS tokens to it")
    problem = _ca_problem(c[C.certificate_authority]) if C.certificate_authority in c else None
    if problem:
        found.append(f"field {C.certificate_authority} {problem}: give the cluster's "
                     "certificateAuthority.data from EKS")
    if not _ACCOUNT.fullmatch(c[C.account_id]):
        found.append(f"field {C.account_id} {c[C.account_id]!r} is not a 12-digit AWS account id")
    for key in (k for k in (C.deployer_role_arn, C.ebs_csi_role_arn) if k in c):
        if _ACCOUNT.fullmatch(account) and not _role_arn(account).fullmatch(c[key]):
            found.append(f"field {key} {c[key]!r} is not the ARN of an IAM role in the environment's account "
                         f"{account} (arn:aws:iam::{account}:role/NAME)")
    if not re.fullmatch(r"vpc-[0-9a-f]{8,17}", c[C.vpc_id]):
        found.append(f"field {C.vpc_id} {c[C.vpc_id]!r} is not a VPC id (vpc-<hex>)")
    return found


def render(outputs: dict, *, account: str | None = None) -> Rendered:
    """The Secrets and Helm values for `outputs` (`{name: value}`); raises OutputsError naming every
    problem's output and field. `account`: the AWS account the roles must be in (default: the outputs'
    `account_id`, one for the environment)."""
    if not isinstance(outputs, dict):
        raise OutputsError("the outputs are not a JSON object of outputs")
    if GITOPS not in outputs:
        raise OutputsError("output gitops is missing: GitOps is off for this environment or it has no hub "
                           "(nothing for Argo CD to manage)")
    problems: list[str] = []
    if not isinstance(outputs[GITOPS], dict):
        problems.append(f"output {GITOPS} is {_kind(outputs[GITOPS])}, not an object of GitOps fields")
    mode = outputs[GITOPS].get(G.argocd) if isinstance(outputs[GITOPS], dict) else None
    if mode is not None and mode not in ARGOCD_MODES:
        problems.append(f"output {GITOPS}: field {G.argocd} {mode!r} is not one of {', '.join(ARGOCD_MODES)}")
    as_capability = mode == ARGOCD_MANAGED
    gitops = {name: _field(outputs, GITOPS, name, problems)
              for name in (MANAGED_GITOPS_READ if as_capability else GITOPS_READ)}
    clusters = {}
    for name, value in sorted(outputs.items()):
        if is_cluster_output(name) and not isinstance(value, dict):
            problems.append(f"output {name} is {_kind(value)}, not an object of cluster fields")
        elif is_cluster_output(name):
            clusters[name] = value
    managed = [name for name, value in clusters.items() if value.get(C.role) != "hub" and (
        value.get(C.role) == "edge" or (C.deployer_role_arn in value and not as_capability))]
    if not managed and not problems:
        raise OutputsError("no cluster_<key> output of an edge: nothing for Argo CD on the hub to manage")
    accounts = {str(v.get(C.account_id)): n for n, v in clusters.items() if v.get(C.account_id) is not None}
    if account is None and len(accounts) > 1:
        problems.append("outputs " + ", ".join(sorted(accounts.values())) + f": field {C.account_id} differs "
                        f"({', '.join(sorted(accounts))}); one environment deploys to one account")
    account = account if account is not None else next(iter(accounts), "")
    if gitops.get(G.management_role_arn) and _ACCOUNT.fullmatch(account) \
            and not _role_arn(account).fullmatch(gitops[G.management_role_arn]):
        problems.append(f"output {GITOPS}: field {G.management_role_arn} {gitops[G.management_role_arn]!r} is not "
                        f"the ARN of an IAM role in the environment's account {account}")
    rendered = Rendered(hub_region=str(gitops[G.hub_region] or ""))
    named: dict[str, str] = {}
    for output in managed:
        before = len(problems)
        c = {name: _field(outputs, output, name, problems)
             for name in (MANAGED_CLUSTER_READ if as_capability else CLUSTER_READ)}
        if len(problems) > before:
            continue
        field_problems = _cluster_problems(c, account)
        problems += [f"output {output}: {p}" for p in field_problems]
        name = c[C.cluster_name]
        if name in named:
            problems.append(f"outputs {named[name]} and {output}: field {C.cluster_name} is {name!r} in both; "
                            "one Secret would replace the other and leave an edge unmanaged")
        named.setdefault(name, output)
        if field_problems or None in gitops.values():
            continue
        secret = _secret(c, gitops, as_capability)
        problems += [f"output {output}: {p}" for p in validate_secret(secret)]
        rendered.secrets.append(secret)
    shards = _sharding(outputs[GITOPS], problems) if isinstance(outputs[GITOPS], dict) and not as_capability else {}
    if problems:
        raise OutputsError("\n  ".join(problems))
    if not as_capability:
        rendered.values = argo_cd_values(identity=gitops[G.identity], service_accounts=gitops[G.service_accounts],
                                         hub_region=gitops[G.hub_region],
                                         management_role_arn=gitops[G.management_role_arn], **shards)
    return rendered


def _sharding(gitops, problems: list[str]) -> dict:
    """The application controller's replicas and algorithm in the `gitops` output (an older output has none)."""
    replicas, algorithm = gitops.get(G.controller_replicas, 1), gitops.get(G.sharding, SHARDING_ALGORITHMS[0])
    if type(replicas) is not int or not 1 <= replicas <= 1000:
        problems.append(f"output {GITOPS}: field {G.controller_replicas} {replicas!r} is not a number of replicas")
    if algorithm not in SHARDING_ALGORITHMS:
        problems.append(f"output {GITOPS}: field {G.sharding} {algorithm!r} is not one of {', '.join(SHARDING_ALGORITHMS)}")
    return {"controller_replicas": replicas, "sharding": algorithm}


def _secret(c: dict, gitops: dict, as_capability: bool) -> dict:
    """The Secret of checked cluster fields `c`: the one builder the bootstrap uses too."""
    return cluster_secret(
        name=c[C.cluster_name], namespace=gitops[G.namespace], environment=gitops[G.environment],
        region=c[C.region], kubernetes_version=c[C.kubernetes_version], account_id=c[C.account_id],
        vpc_id=c[C.vpc_id], ebs_csi_role_arn=c[C.ebs_csi_role_arn],
        **({"server": c[C.cluster_arn]} if as_capability else
           {"server": c[C.cluster_endpoint], "role_arn": c[C.deployer_role_arn],
            "ca_data": c[C.certificate_authority]}))


def validate_secret(secret: dict) -> list[str]:
    """What is wrong with an Argo CD cluster Secret (empty when nothing)."""
    problems = []
    meta = secret.get("metadata") or {}
    data = secret.get("stringData") or {}
    for key in ("apiVersion", "kind"):
        if not secret.get(key):
            problems.append(f"{key} is missing")
    for key in ("name", "namespace"):
        value = meta.get(key)
        if not value:
            problems.append(f"metadata.{key} is missing")
        elif not isinstance(value, str) or len(value) > (253 if key == "name" else 63) \
                or not _DNS1123_SUBDOMAIN.fullmatch(value) \
                or (key == "namespace" and "." in value):
            problems.append(f"metadata.{key} {value!r} is not a DNS-1123 name")
    labels = meta.get("labels") or {}
    if labels.get(SECRET_TYPE_LABEL) != "cluster":
        problems.append(f"label {SECRET_TYPE_LABEL}: cluster is missing")
    for key, value in labels.items():
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            problems.append(f"label {key} value {value!r} is not a valid label value")
    for key, value in (meta.get("annotations") or {}).items():
        if not value:
            problems.append(f"annotation {key} is empty")
    server = str(data.get("server") or "")
    by_arn = bool(_CLUSTER_ARN.fullmatch(server))  # EKS's Argo CD capability: no config, no awsAuthConfig
    for key in ("name", "server") + (() if by_arn else ("config",)):
        if not data.get(key):
            problems.append(f"stringData.{key} is missing or empty")
    if server and not by_arn and not _ANY_ENDPOINT.fullmatch(server):
        problems.append(f"stringData.server {server!r} is not an EKS endpoint (https://<hex>.<id>.<region>"
                        ".eks.amazonaws.com) nor an EKS cluster ARN (arn:aws:eks:<region>:<account>:cluster/<name>)")
    if data.get("config") and not by_arn:
        try:
            config = json.loads(data["config"])
        except ValueError:
            return problems + ["stringData.config is not JSON"]
        if not isinstance(config, dict):
            return problems + ["stringData.config is not a JSON object"]
        auth = config.get("awsAuthConfig") or {}
        for key in ("clusterName", "roleARN"):
            if not auth.get(key):
                problems.append(f"config awsAuthConfig.{key} is missing or empty")
        if auth.get("roleARN") and not _ANY_ROLE_ARN.fullmatch(str(auth["roleARN"])):
            problems.append(f"config awsAuthConfig.roleARN {auth['roleARN']!r} is not an IAM role ARN")
        ca = (config.get("tlsClientConfig") or {}).get("caData")
        if not ca:
            problems.append("config tlsClientConfig.caData is missing or empty")
        elif _ca_problem(str(ca)):
            problems.append(f"config tlsClientConfig.caData {_ca_problem(str(ca))}")
    return problems


@dataclass(frozen=True)
class LiveCluster:
    """An edge as EKS and IAM describe it once applied: what its cluster Secret must name."""

    endpoint: str | None = None
    ca_data: str | None = None
    arn: str | None = None
    role_arn: str | None = None  # its deployer role's


def check_secret(secret: dict, cluster: LiveCluster) -> tuple[bool, str]:
    """Whether Argo CD's cluster Secret `secret` (as `render` makes it) reaches `cluster` as it is: the
    endpoint and CA EKS gives it and its deployer role, or, with EKS's Argo CD capability, its ARN; and a
    line that says what the Secret names and where it differs."""
    data = secret.get("stringData") or {}
    server = str(data.get("server") or "")
    if _CLUSTER_ARN.fullmatch(server):
        return server == cluster.arn, f"server {server}" + ("" if server == cluster.arn else
                                                            f" != cluster ARN {cluster.arn}")
    try:
        config = json.loads(data.get("config") or "{}")
    except ValueError:
        config = None
    if not isinstance(config, dict):
        return False, f"server {server}; config is not a JSON object"
    role = (config.get("awsAuthConfig") or {}).get("roleARN")
    ca_ok = (config.get("tlsClientConfig") or {}).get("caData") == cluster.ca_data
    detail = (f"server {server}" + ("" if server == cluster.endpoint else f" != endpoint {cluster.endpoint}")
              + f"; roleARN {role}" + ("" if role == cluster.role_arn else f" != deployer role {cluster.role_arn}")
              + ("" if ca_ok else "; caData is not the cluster's CA"))
    return server == cluster.endpoint and role == cluster.role_arn and ca_ok, detail


def to_yaml(documents: list[dict]) -> str:
    """Multi-document YAML, keys in the order rendered."""
    import yaml

    return "".join("---\n" + yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in documents)
