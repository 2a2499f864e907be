"""Bootstrap of Argo CD on a private hub through AWS APIs only (issue #15).

The pipeline: `manifests` builds the AppProjects, root Application and
Namespace; `validate` checks manifests against Kubernetes' and Argo CD's
schemas; `script` renders the bash the bastion runs (pins from `tools`) and the
registration data it reads from S3 (every edge's Secret: what grows with the
fleet stays out of the script), and `document` wraps the script as an SSM Command
document's content; `repository` is a private repository's credential, read at
run time; `encoding` writes data no template can read; `seed` assembles a hub's
input from its Secrets and values. Nothing here talks to AWS or Kubernetes.
"""

from __future__ import annotations

from .document import document_content
from .errors import BootstrapError, ManifestError
from .manifests import environment_projects, namespace, root_application
from .script import (BootstrapInput, Registration, RepositoryCredential, TerraformRef, for_terraform, registration_data,
                     render_script, terraform_refs)
from .seed import seed_input
from .tools import DEFAULT_PINS, Artefact, ChartPin, Pins, ToolPin
from .validate import problems, validate_manifests

__all__ = ["BootstrapError", "ManifestError", "BootstrapInput", "Registration", "RepositoryCredential", "TerraformRef",
           "render_script", "registration_data", "for_terraform",
           "terraform_refs", "seed_input", "document_content", "environment_projects", "namespace", "root_application",
           "problems", "validate_manifests", "Pins", "ToolPin", "ChartPin", "Artefact", "DEFAULT_PINS"]
