"""Model -> Terraform JSON documents, one root module per environment (or, in the cells layout, per region
and per link of it: `cells.py` splits the environment's documents).

`emit_fleet` returns `{relative path: bytes}` for every file of every root;
each concern has its own emitter and file, in the order below. `root_graph`
says which roots need which (`graph.py`); `tfgen build` records it in the manifest.
"""

from __future__ import annotations

from ..model import LAYOUT_CELLS, Environment, Fleet
from .access import emit_access
from .addons import emit_addons
from .bastion import emit_bastion
from .bootstrap import emit_bootstrap
from .capability import emit_capability
from .cells import environment_roots, split_environment
from .clusters import emit_clusters
from ..derive.context import context_of
from .document import render
from .graph import root_graph
from .iam import emit_iam
from .logs import emit_logs
from .network import emit_network
from .outputs import emit_outputs
from .peering import emit_peering
from .protect import protect_documents
from .root import emit_providers, emit_terraform
from .security import emit_security
from .state import STATE_ROOT, emit_state_root
from .transit import emit_transit

__all__ = ["FILES", "emit_environment", "emit_documents", "environment_roots", "root_graph", "render_documents",
           "emit_fleet"]

FILES = {
    "terraform.tf.json": emit_terraform,
    "providers.tf.json": emit_providers,
    "network.tf.json": emit_network,
    "peering.tf.json": emit_peering,
    "transit.tf.json": emit_transit,
    "iam.tf.json": emit_iam,
    "logs.tf.json": emit_logs,
    "clusters.tf.json": emit_clusters,
    "security.tf.json": emit_security,
    "addons.tf.json": emit_addons,
    "access.tf.json": emit_access,
    "bastion.tf.json": emit_bastion,
    "capability.tf.json": emit_capability,
    "bootstrap.tf.json": emit_bootstrap,
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
    protect_documents(ctx, documents)
    return documents


def emit_documents(fleet: Fleet) -> dict[str, dict[str, dict]]:
    """The documents of every root module: `{root directory: {file name: document}}`."""
    roots = {}
    for env in fleet.environments.values():
        documents = emit_environment(fleet, env)
        if fleet.layout_of(env) == LAYOUT_CELLS:
            roots.update(split_environment(fleet, env, documents))
        else:
            roots[env.name] = documents
    state = emit_state_root(fleet)
    if state:
        roots[STATE_ROOT] = state
    return roots


def render_documents(roots: dict[str, dict[str, dict]]) -> dict[str, bytes]:
    """Rendered files, as `{"<root>/<file>": bytes}`."""
    return {f"{root}/{name}": render(document) for root, documents in roots.items()
            for name, document in documents.items()}


def emit_fleet(fleet: Fleet) -> dict[str, bytes]:
    """Every file of every root module, as `{"<root>/<file>": bytes}`."""
    return render_documents(emit_documents(fleet))
