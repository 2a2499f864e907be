"""What one hub's bootstrap script is made of, from its Secrets and values: the one assembly.

`tfgen build` calls it with Secrets whose endpoint, CA and roles are
`TerraformRef`s (`tfgen.emit.bootstrap`); the sandbox calls it with the Secrets
`tfgen gitops` renders from the applied outputs, and so can check that the
applied document and registration object hold exactly what tfgen meant.
"""

from __future__ import annotations

from .manifests import IN_CLUSTER, ROLE_LABEL, environment_projects, root_application
from .repository import repository_secret_name
from .script import BootstrapInput, Registration, RepositoryCredential

__all__ = ["seed_input"]


def seed_input(*, environment: str, hub_cluster_name: str, region: str, namespace: str, secrets: list[dict],
               values: dict, registration: Registration, repo: tuple[str, str, str] | None = None,
               credential: str | None = None, managed: bool = False, hub_server: str = IN_CLUSTER,
               chart_version: str | None = None) -> BootstrapInput:
    """The bootstrap of `environment`'s hub: `secrets` (edges labelled `tfgen.io/role: edge`), the chart's
    `values`, where the registration data is read from, and with `repo` (url, revision, path) the AppProjects
    and root Application (`credential`: the Secrets Manager secret ARN of a private repo). `managed`: EKS's
    Argo CD capability runs Argo CD (no chart; AppProjects name their source namespace)."""
    root: list[dict] = []
    repository = None
    if repo is not None:
        url, revision, path = repo
        servers = [s["stringData"]["server"] for s in secrets if s["metadata"]["labels"].get(ROLE_LABEL) == "edge"]
        root = environment_projects(environment, namespace=namespace, repo_url=url, edge_servers=servers,
                                    hub_server=hub_server, source_namespaces=[namespace] if managed else None)
        root.append(root_application(environment, namespace=namespace, repo_url=url, revision=revision, path=path,
                                     hub_server=hub_server))
        if credential is not None:
            repository = RepositoryCredential(url=url, secret_arn=credential, name=repository_secret_name(environment))
    return BootstrapInput(hub_cluster_name=hub_cluster_name, region=region, namespace=namespace, values=values,
                          registration=registration, manifests=secrets, root_manifests=root, repository=repository,
                          chart_version=chart_version, install_argo_cd=not managed)
