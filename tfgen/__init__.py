"""tfgen: a multi-region EKS fleet described once, checked, and emitted as Terraform JSON.

    import tfgen
    fleet = tfgen.load("fleet.yaml")
    fleet.environment("development").add_region("eu-west-1", cidr="10.13.0.0/16")
    tfgen.build(fleet, out="out/")
"""

from .errors import (
    Finding,
    FindingsError,
    Origin,
    OutputConflictError,
    PolicyError,
    Severity,
    StaleOutputError,
    TfgenError,
    ToolchainError,
)
from .model import (
    Access,
    AccessEntry,
    Addon,
    Bastion,
    Cluster,
    Defaults,
    Environment,
    Fleet,
    GitOps,
    Network,
    NodeGroup,
    Region,
    StateBackend,
)
from .gate import GateReport, check_output
from .pipeline import BuildResult, build, render, validate
from .spec import load, loads

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load",
    "loads",
    "validate",
    "render",
    "build",
    "BuildResult",
    "check_output",
    "GateReport",
    "Fleet",
    "Environment",
    "Region",
    "Cluster",
    "Network",
    "NodeGroup",
    "Defaults",
    "StateBackend",
    "Access",
    "AccessEntry",
    "Addon",
    "GitOps",
    "Bastion",
    "Finding",
    "Origin",
    "Severity",
    "TfgenError",
    "FindingsError",
    "StaleOutputError",
    "OutputConflictError",
    "ToolchainError",
    "PolicyError",
]
