"""Model -> Terraform JSON documents, one root module per environment.

`emit_fleet` returns `{relative path: bytes}` for every file of every root;
each concern has its own emitter and file, in the order below.
"""

from __future__ import annotations

from ..model import Environment, Fleet
from .clusters import emit_clusters
from .context import context_of
from .document import render
from .iam import emit_iam
from .logs import emit_logs
from .network import emit_network
from .outputs import emit_outputs
from .peering import emit_peering
from .root import emit_providers, emit_terraform
from .transit import emit_transit

__all__ = ["FILES", "emit_environment", "emit_fleet"]

FILES = {
    "terraform.tf.json": emit_terraform,
    "providers.tf.json": emit_providers,
    "network.tf.json": emit_network,
    "peering.tf.json": emit_peering,
    "transit.tf.json": emit_transit,
    "iam.tf.json": emit_iam,
    "logs.tf.json": emit_logs,
    "clusters.tf.json": emit_clusters,
    "outputs.tf.json": emit_outputs,
}


def emit_environment(fleet: Fleet, env: Environment) -> dict[str, dict]:
    """The documents of one environment's root module, by file name (empty ones left out)."""
    ctx = context_of(fleet, env)
    documents = {}
    for filename, emit in FILES.items():
        doc = emit(ctx)
        if doc:
            documents[filename] = doc.as_dict()
    return documents


def emit_fleet(fleet: Fleet) -> dict[str, bytes]:
    """Every file of every environment, as `{"<env>/<file>": bytes}`."""
    files = {}
    for env in fleet.environments.values():
        for filename, document in emit_environment(fleet, env).items():
            files[f"{env.name}/{filename}"] = render(document)
    return files
