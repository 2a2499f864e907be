"""Switching an environment between layouts (`layout: environment` <-> `layout: cells`) without losing state.

Which environments a build would switch is `tfgen.checks.layout`'s (`build` refuses them, VAL137, unless
`allow_layout_change`; re-exported here). `layout` plans the moves: each resource from the root that holds it in the old layout to
the one that declares it in the new (`plan_migration`, offline, what `tfgen migrate` prints for review).
`state` is what a migration does to Terraform's state documents, pure: the moves and their refusals, the
states to push. `run` is the migration itself (`tfgen migrate --run`, `run_migration`): terraform pulls
every state, keeps backups, writes and checks each new root's state and outputs, and only then empties the
old roots'. Only `run` starts terraform; this package's face imports neither it nor the pipeline.
"""

from ..checks.layout import check_layout_change, layout_changes
from .layout import MigrationPlan, plan_migration

__all__ = ["MigrationPlan", "check_layout_change", "layout_changes", "plan_migration"]
