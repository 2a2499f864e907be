"""Argo CD's cluster Secrets for every edge, from an applied environment's Terraform outputs.

`tfgen gitops OUT/ENV` reads `terraform output -json` of the root (or a saved
copy of it, `--outputs FILE`) and renders, for every edge the hub's Argo CD
manages (a `cluster_<key>` output with a `deployer_role_arn`), the declarative
cluster Secret Argo CD reads: label `argocd.argoproj.io/secret-type: cluster`,
`name`, `server` (the private endpoint) and `config` with `awsAuthConfig`
(cluster name, the edge's deployer role) and `tlsClientConfig.caData`. The
GitOps Bridge labels and annotations let ApplicationSets select clusters and
template from them. The Helm values of the hub's Argo CD that its identity
needs come with them: `AWS_REGION` on the three components with Pod Identity
(which does not set it; Argo CD 3.4+ reads it from the environment), or the
IRSA role annotation on their service accounts.

Everything rendered is validated (required fields present and non-empty, an
https server, base64 CA data, DNS-1123 names); a problem names the output and
field it came from. Nothing here talks to AWS.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TfgenError

__all__ = ["GitOpsError", "OutputsError", "Rendered", "read_outputs", "terraform_outputs", "render",
           "validate_secret", "to_yaml", "SECRET_TYPE_LABEL"]

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Helm values keys of the argo-cd chart, per Argo CD service account.
_COMPONENTS = {
    "argocd-application-controller": ("controller", "env"),
    "argocd-server": ("server", "env"),
    "argocd-applicationset-controller": ("applicationSet", "extraEnv"),
}
_CLUSTER_FIELDS = ("region", "cluster_name", "cluster_endpoint", "certificate_authority", "deployer_role_arn",
                   "kubernetes_version", "account_id", "vpc_id", "ebs_csi_role_arn")
_GITOPS_FIELDS = ("environment", "hub_region", "identity", "namespace", "service_accounts", "management_role_arn")


class GitOpsError(TfgenError):
    """The outputs cannot be read (usage: exit 2)."""


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


def terraform_outputs(root: str | Path, *, terraform: str | None = None, env: dict | None = None) -> dict:
    """`terraform output -json` in `root`, parsed."""
    root = Path(root)
    if not root.is_dir():
        raise GitOpsError(f"{root} is not a directory; give the applied root of an environment (out/<env>)")
    binary = terraform
    if binary is None:
        from .errors import ToolchainError
        from .terraform.toolchain import find_terraform

        try:
            binary = find_terraform()
        except ToolchainError as exc:
            raise GitOpsError(f"terraform is not on PATH ({exc}); run `terraform output -json > outputs.json` "
                              "where the state is and give it with --outputs") from None
    try:
        result = subprocess.run([binary, "output", "-json", "-no-color"], cwd=root, capture_output=True,
                                text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitOpsError(f"cannot run `terraform output -json` in {root}: {exc}") from None
    if result.returncode:
        raise GitOpsError(f"`terraform output -json` in {root} failed (exit {result.returncode}): "
                          f"{result.stderr.strip()[-500:]}")
    return _parse(result.stdout, f"`terraform output -json` in {root}")


def read_outputs(path: str | Path) -> dict:
    """A saved `terraform output -json` (or a plain `{name: value}` mapping)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise GitOpsError(f"cannot read outputs file {path}: {exc.strerror or exc}") from None
    return _parse(text, str(path))


def _parse(text: str, where: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise GitOpsError(f"{where} is not JSON ({exc}); expected the output of `terraform output -json`") from None
    if not isinstance(data, dict):
        raise GitOpsError(f"{where} is not a JSON object of outputs")
    # `terraform output -json` wraps each value as {"sensitive": ..., "type": ..., "value": ...}.
    if data and all(isinstance(v, dict) and "value" in v for v in data.values()):
        return {name: item["value"] for name, item in data.items()}
    return data


def _field(outputs: dict, output: str, name: str):
    value = outputs[output].get(name) if isinstance(outputs.get(output), dict) else None
    if value is None or value == "" or value == []:
        raise OutputsError(f"output {output}: field {name} is missing or empty"
                           + ("" if output in outputs else f" (no output {output})"))
    return value


def render(outputs: dict) -> Rendered:
    """The Secrets and Helm values for `outputs` (`{name: value}`); raises OutputsError when incomplete."""
    if "gitops" not in outputs:
        raise OutputsError("output gitops is missing: GitOps is off for this environment or it has no hub "
                           "(nothing for Argo CD to manage)")
    gitops = {name: _field(outputs, "gitops", name) for name in _GITOPS_FIELDS}
    namespace = str(gitops["namespace"])
    edges = sorted(name for name, value in outputs.items()
                   if name.startswith("cluster_") and isinstance(value, dict) and value.get("role") != "hub")
    managed = [name for name in edges if "deployer_role_arn" in outputs[name] or outputs[name].get("role") == "edge"]
    if not managed:
        raise OutputsError("no cluster_<key> output of an edge: nothing for Argo CD on the hub to manage")
    rendered = Rendered(hub_region=str(gitops["hub_region"]))
    for output in managed:
        c = {name: _field(outputs, output, name) for name in _CLUSTER_FIELDS}
        name = str(c["cluster_name"])
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    SECRET_TYPE_LABEL: "cluster",
                    "environment": str(gitops["environment"]),
                    "region": str(c["region"]),
                    "cluster_name": name,
                    "kubernetes_version": str(c["kubernetes_version"]),
                    "enable_aws_ebs_csi_driver": "true",
                },
                "annotations": {
                    "aws_region": str(c["region"]),
                    "aws_account_id": str(c["account_id"]),
                    "aws_vpc_id": str(c["vpc_id"]),
                    "aws_cluster_name": name,
                    "aws_ebs_csi_driver_iam_role_arn": str(c["ebs_csi_role_arn"]),
                },
            },
            "type": "Opaque",
            "stringData": {
                "name": name,
                "server": str(c["cluster_endpoint"]),
                "config": json.dumps({
                    "awsAuthConfig": {"clusterName": name, "roleARN": str(c["deployer_role_arn"])},
                    "tlsClientConfig": {"caData": str(c["certificate_authority"])},
                }, sort_keys=True),
            },
        }
        problems = validate_secret(secret)
        if problems:
            raise OutputsError(f"output {output}: " + "; ".join(problems))
        rendered.secrets.append(secret)
    rendered.values = _helm_values(gitops)
    return rendered


def _helm_values(gitops: dict) -> dict:
    """The argo-cd chart's values for the hub's identity: AWS_REGION (Pod Identity) or the IRSA role."""
    values: dict = {}
    for account in gitops["service_accounts"]:
        if account not in _COMPONENTS:
            continue
        component, env_key = _COMPONENTS[account]
        if gitops["identity"] == "irsa":
            values.setdefault(component, {})["serviceAccount"] = {
                "name": account, "annotations": {"eks.amazonaws.com/role-arn": str(gitops["management_role_arn"])}}
        else:
            values.setdefault(component, {})[env_key] = [{"name": "AWS_REGION", "value": str(gitops["hub_region"])}]
    return values


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
        elif len(value) > (253 if key == "name" else 63) or not _DNS1123_SUBDOMAIN.fullmatch(value) \
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
    for key in ("name", "server", "config"):
        if not data.get(key):
            problems.append(f"stringData.{key} is missing or empty")
    server = str(data.get("server") or "")
    if server and not server.startswith("https://"):
        problems.append(f"stringData.server {server!r} is not an https:// URL")
    if data.get("config"):
        try:
            config = json.loads(data["config"])
        except ValueError:
            return problems + ["stringData.config is not JSON"]
        auth = config.get("awsAuthConfig") or {}
        for key in ("clusterName", "roleARN"):
            if not auth.get(key):
                problems.append(f"config awsAuthConfig.{key} is missing or empty")
        if auth.get("roleARN") and not str(auth["roleARN"]).startswith("arn:"):
            problems.append(f"config awsAuthConfig.roleARN {auth['roleARN']!r} is not an ARN")
        ca = (config.get("tlsClientConfig") or {}).get("caData")
        if not ca:
            problems.append("config tlsClientConfig.caData is missing or empty")
        else:
            try:
                base64.b64decode(ca, validate=True)
            except (binascii.Error, ValueError):
                problems.append("config tlsClientConfig.caData is not base64")
    return problems


def to_yaml(documents: list[dict]) -> str:
    """Multi-document YAML, keys in the order rendered."""
    import yaml

    return "".join("---\n" + yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in documents)
