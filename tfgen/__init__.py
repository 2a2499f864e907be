"""tfgen: a multi-region EKS fleet described once, checked, and emitted as Terraform JSON.

    import tfgen
    fleet = tfgen.load("fleet.yaml")
    fleet.environment("development").add_region("eu-west-1", cidr="10.13.0.0/16")
    tfgen.build(fleet, out="out/")

The public names below are imported on first use (PEP 562), so `import tfgen`
and every `tfgen` verb pay only for what they use: `tfgen check` never loads
the network checks (networkx), `tfgen build` never loads the policy gate.
Only these names are attributes of `tfgen`; import a submodule to use it
(`import tfgen.pipeline`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__ as __version__

# public name -> the module that defines it
_HOMES = {
    "load": "spec",
    "loads": "spec",
    "validate": "pipeline",
    "render": "pipeline",
    "build": "pipeline",
    "BuildResult": "pipeline",
    "check_output": "gate",
    "GateReport": "gate",
    "Fleet": "model",
    "Environment": "model",
    "Region": "model",
    "Cluster": "model",
    "Network": "model",
    "NodeGroup": "model",
    "Defaults": "model",
    "StateBackend": "model",
    "Access": "model",
    "AccessEntry": "model",
    "Addon": "model",
    "GitOps": "model",
    "GitOpsRepo": "model",
    "IdentityCenter": "model",
    "Bastion": "model",
    "Link": "model",
    "Reach": "model",
    "Connectivity": "model",
    "Layout": "model",
    "Identity": "model",
    "ArgoCD": "model",
    "Nat": "model",
    "Rollout": "model",
    "Finding": "errors",
    "Origin": "errors",
    "Severity": "errors",
    "TfgenError": "errors",
    "FindingsError": "errors",
    "SpecError": "errors",
    "StaleOutputError": "errors",
    "OutputConflictError": "errors",
    "ToolchainError": "errors",
    "PolicyError": "errors",
}

__all__ = ["__version__"] + list(_HOMES)


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tfgen' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for editors and type checkers: the same names, imported eagerly and re-exported (`X as X`)
    from .errors import (
        Finding as Finding,
        FindingsError as FindingsError,
        Origin as Origin,
        OutputConflictError as OutputConflictError,
        PolicyError as PolicyError,
        Severity as Severity,
        SpecError as SpecError,
        StaleOutputError as StaleOutputError,
        TfgenError as TfgenError,
        ToolchainError as ToolchainError,
    )
    from .gate import (
        GateReport as GateReport,
        check_output as check_output,
    )
    from .model import (
        Access as Access,
        AccessEntry as AccessEntry,
        Addon as Addon,
        ArgoCD as ArgoCD,
        Bastion as Bastion,
        Cluster as Cluster,
        Connectivity as Connectivity,
        Defaults as Defaults,
        Environment as Environment,
        Fleet as Fleet,
        GitOps as GitOps,
        GitOpsRepo as GitOpsRepo,
        Identity as Identity,
        IdentityCenter as IdentityCenter,
        Layout as Layout,
        Link as Link,
        Nat as Nat,
        Network as Network,
        NodeGroup as NodeGroup,
        Reach as Reach,
        Rollout as Rollout,
        Region as Region,
        StateBackend as StateBackend,
    )
    from .pipeline import (
        BuildResult as BuildResult,
        build as build,
        render as render,
        validate as validate,
    )
    from .spec import (
        load as load,
        loads as loads,
    )
