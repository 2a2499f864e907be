"""Fleet upgrades: `tfgen upgrade` plans a Kubernetes upgrade across a fleet in waves, inside EKS's rules.

Modules: `planner` (the steps from the spec's current state to the target: one
minor per step and wave, node groups and add-ons after their control plane, the
VPC CNI in steps of its own; the calendar and what a stalled fleet pays),
`render` (the plan as text and JSON), `writer` (the spec rewritten to the next
step, comments and order kept), `insights` (EKS upgrade insights of the next
wave's clusters, where credentials exist), `runner` (`tfgen apply --waves`),
`command` (the CLI's `upgrade` and `apply --waves`). The rollout as waves of
roots, which a build records, is derived with the rest of the build
(`tfgen.derive.waves`).
"""

from .planner import STEP_KINDS, AddonMove, ClusterState, EnvironmentPlan, Step, UpgradePlan, plan_upgrade

__all__ = ["plan_upgrade", "UpgradePlan", "EnvironmentPlan", "Step", "AddonMove", "ClusterState", "STEP_KINDS"]
