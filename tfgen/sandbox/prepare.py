"""The sandbox's scratch directory and its copies of the built roots.

`in_account` is the fleet as the sandbox builds it: every environment in the
double's one account. `claim` takes a directory as scratch only when it is new,
empty or an earlier sandbox's. `prepare_root` makes a fresh copy of an environment's built root
where terraform runs: lowered to the offline provider through the double's
passes (`tfgen.sandbox.quirks`), every aliased provider pointed at the double,
stale state from an earlier run removed. It returns the `Lowered` record of the
copy, which the report and the checks read.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

from ..errors import ToolchainError
from ..model import Fleet
from ..terraform.lowering import Lowered
from ..terraform.toolchain import copy_root
from .quirks import sandbox_passes

__all__ = ["MARKER", "in_account", "claim", "prepare_root"]

MARKER = ".tfgen-sandbox"
_STATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup", ".terraform.tfstate.lock.info")


def claim(workdir: Path) -> None:
    """Use `workdir` as scratch only when it is new, empty or an earlier sandbox's."""
    if workdir.exists() and any(workdir.iterdir()) and not (workdir / MARKER).exists():
        raise ToolchainError(
            f"{workdir} is not empty and is not a tfgen sandbox scratch directory; "
            "give a new or empty directory to --workdir"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("scratch directory of `tfgen sandbox`; safe to delete\n")


def prepare_root(built: Path, copy: Path, *, endpoint: str, resolve: Callable[[str, str], str]) -> Lowered:
    """A fresh copy of root `built` in `copy` for the double at `endpoint`; what lowering changed.

    `resolve(region, parameter)` reads an SSM parameter from the double (for `resolve:ssm:` images).
    """
    copy.mkdir(parents=True, exist_ok=True)
    # State from an earlier run names resources of a double that no longer exists.
    for stale in [*copy.glob("*.tf.json"), *(copy / name for name in _STATE_FILES)]:
        stale.unlink(missing_ok=True)
    return copy_root(built, copy, endpoint=endpoint, passes=sandbox_passes(resolve))


def in_account(fleet: Fleet, account: str) -> Fleet:
    """A copy of `fleet` whose every environment deploys to `account` (an `assume_role` moves with it)."""
    fleet = copy.deepcopy(fleet)
    for env in fleet.environments.values():
        if env.assume_role and env.assume_role.count(":") >= 5:
            parts = env.assume_role.split(":")
            env.assume_role = ":".join(parts[:4] + [account] + parts[5:])
        env.account_id = account
    return fleet
