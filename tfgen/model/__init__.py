"""The fleet as plain Python objects.

A `Fleet` holds environments; an environment holds regions; a region holds
clusters; one cluster per environment is the hub, the others are edges, and
each cluster owns its network. Nothing here knows about YAML or emits
Terraform: the spec reader builds these objects, the checks read them, the
emitters turn what is derived from them into Terraform JSON.

Values are checked by `tfgen.checks`, not on assignment, so a Python user can
build and change a fleet freely and get every finding at once from `build`.

Modules: `modes` (the named choices as `StrEnum`s: connectivity, layout,
identity, Argo CD, NAT), `parts` (clusters, networks, node groups, access,
add-ons, GitOps, bastion, and the constants naming their values), `fleet`
(environments and the fleet), `regions` (the zones tfgen knows per region), `kubernetes` (the
EKS version calendar), `addons` (the add-on versions per minor), `rollout` (the waves an
upgrade takes).
"""

from .modes import ArgoCD, Connectivity, Identity, Layout, Nat
from .rollout import Rollout
from .fleet import LAYOUT_CELLS, LAYOUT_ENVIRONMENT, LAYOUTS, Environment, Fleet, StateBackend
from .parts import (
    ADDONS,
    ARGOCD_MANAGED,
    ARGOCD_MODES,
    ARGOCD_NONE,
    ARGOCD_SELF_MANAGED,
    ARGOCD_SERVICE_ACCOUNTS,
    AUTHENTICATION_MODES,
    AUTH_API,
    AUTH_API_AND_CONFIG_MAP,
    Access,
    AccessEntry,
    Addon,
    BASTION_AMI,
    Bastion,
    CONNECTIVITY_MODES,
    Cluster,
    DEFAULT_AMI_TYPE,
    DEFAULT_EDGE_NAME,
    DEFAULT_HUB_NAME,
    DEFAULT_KUBERNETES_VERSION,
    DEFAULT_VPC_PREFIX,
    Defaults,
    EDGE,
    GitOps,
    GitOpsRepo,
    IdentityCenter,
    HUB,
    HUB_AND_SPOKE,
    IDENTITY_MODES,
    IRSA,
    Link,
    MESH,
    NAT_MODES,
    NAT_PER_AZ,
    NAT_SINGLE,
    Network,
    NodeGroup,
    POD_IDENTITY,
    ROLES,
    Reach,
    Region,
    SUPPORT_EXTENDED,
    SUPPORT_STANDARD,
    SUPPORT_TYPES,
    TRANSIT_GATEWAY,
)

__all__ = [
    "Connectivity",
    "Layout",
    "Identity",
    "ArgoCD",
    "Nat",
    "HUB",
    "EDGE",
    "ROLES",
    "NAT_SINGLE",
    "NAT_PER_AZ",
    "NAT_MODES",
    "HUB_AND_SPOKE",
    "MESH",
    "TRANSIT_GATEWAY",
    "CONNECTIVITY_MODES",
    "DEFAULT_VPC_PREFIX",
    "DEFAULT_KUBERNETES_VERSION",
    "DEFAULT_AMI_TYPE",
    "SUPPORT_STANDARD",
    "SUPPORT_EXTENDED",
    "SUPPORT_TYPES",
    "POD_IDENTITY",
    "IRSA",
    "IDENTITY_MODES",
    "AUTH_API",
    "AUTH_API_AND_CONFIG_MAP",
    "AUTHENTICATION_MODES",
    "ADDONS",
    "ARGOCD_SERVICE_ACCOUNTS",
    "ARGOCD_SELF_MANAGED",
    "ARGOCD_MANAGED",
    "ARGOCD_NONE",
    "ARGOCD_MODES",
    "BASTION_AMI",
    "DEFAULT_EDGE_NAME",
    "DEFAULT_HUB_NAME",
    "NodeGroup",
    "AccessEntry",
    "Access",
    "Addon",
    "GitOps",
    "GitOpsRepo",
    "IdentityCenter",
    "Bastion",
    "Network",
    "Cluster",
    "Region",
    "Link",
    "Reach",
    "Defaults",
    "Environment",
    "StateBackend",
    "Fleet",
    "Rollout",
    "LAYOUT_CELLS",
    "LAYOUT_ENVIRONMENT",
    "LAYOUTS",
]
