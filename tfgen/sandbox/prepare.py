"""The sandbox's scratch directory and its copies of the built roots.

`accounts_of` gives each environment an account of its own in the double (its
spec's, when no other environment has it), so account-wide settings of one
(EBS encryption by default) are not another's; `in_accounts` is the fleet as
the sandbox builds it, every environment for its account, and `in_scratch` that fleet with its pool
allocations recorded in the scratch directory; `without_backend_edges` is the sandbox's graph of the
build (its copies keep their state locally). `claim` takes a
directory as scratch only when it is new, empty or an earlier sandbox's.
`prepare_root` makes a fresh copy of a built root where terraform runs: lowered
to the offline provider through the double's passes (`tfgen.sandbox.quirks`),
every aliased provider pointed at the double with credentials of the root's
account, stale state from an earlier run removed. It returns the `Lowered`
record of the copy, which the report and the checks read.
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..emit.graph import backend_edges
from ..errors import ToolchainError
from ..model import Fleet
from ..orchestrate import RootGraph
from ..terraform.lowering import Lowered
from ..terraform.roots import read_root
from ..terraform.toolchain import OVERRIDE_FILE, copy_root
from .double import ACCOUNT
from .quirks import sandbox_passes

__all__ = ["MARKER", "accounts_of", "in_accounts", "in_scratch", "without_backend_edges", "claim", "prepare_root"]

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


def prepare_root(built: Path, copy: Path, *, endpoint: str, resolve: Callable[[str, str], str],
                 credentials: dict[str, str], keep_state: bool = False) -> Lowered:
    """A fresh copy of root `built` in `copy` for the double at `endpoint`, its providers acting with
    `credentials` (boto3's names: `AwsDouble.credentials`); what lowering changed.

    `resolve(region, parameter)` reads an SSM parameter from the double (for `resolve:ssm:` images).
    `keep_state`: the copy's state is this double's (a rehearsed change applies over it).
    """
    copy.mkdir(parents=True, exist_ok=True)
    # State from an earlier run names resources of a double that no longer exists.
    for stale in [*copy.glob("*.tf.json"), *(() if keep_state else (copy / name for name in _STATE_FILES))]:
        stale.unlink(missing_ok=True)
    lowered = copy_root(built, copy, endpoint=endpoint, passes=sandbox_passes(resolve))
    override = json.loads((copy / OVERRIDE_FILE).read_text())
    for provider in override["provider"]["aws"]:
        provider.update(access_key=credentials["aws_access_key_id"], secret_key=credentials["aws_secret_access_key"])
        if credentials.get("aws_session_token"):
            provider["token"] = credentials["aws_session_token"]
    (copy / OVERRIDE_FILE).write_text(json.dumps(override, indent=2, sort_keys=True) + "\n")
    return lowered


def accounts_of(fleet: Fleet) -> dict[str, str]:
    """`{environment: account}` in the double: the environment's own (`account_id`, or `assume_role`'s) when no
    other environment has it, else the next free one from 100000000001; never moto's default `ACCOUNT`,
    which `_state` keeps."""
    shared = Counter(env.account for env in fleet.environments.values())
    accounts = {name: env.account for name, env in fleet.environments.items()
                if env.account and shared[env.account] == 1 and env.account != ACCOUNT}
    spare = (f"{n:012d}" for n in itertools.count(100000000001) if f"{n:012d}" not in accounts.values())
    return {name: accounts.get(name) or next(spare) for name in fleet.environments}


def in_accounts(fleet: Fleet, accounts: dict[str, str]) -> Fleet:
    """A copy of `fleet` whose every environment deploys to its account of `accounts` (an `assume_role`
    moves with it), so key policies, trust conditions and ARNs name the account the roles are in."""
    fleet = copy.deepcopy(fleet)
    for name, env in fleet.environments.items():
        if env.assume_role and env.assume_role.count(":") >= 5:
            parts = env.assume_role.split(":")
            env.assume_role = ":".join(parts[:4] + [accounts[name]] + parts[5:])
        env.account_id = accounts[name]
    return fleet


def in_scratch(fleet: Fleet, accounts: dict[str, str], workdir: Path) -> Fleet:
    """`fleet` as the sandbox builds it into `workdir`: each environment in its account (`in_accounts`), pool
    allocations recorded in the scratch directory (starting from the spec's record), never beside the spec."""
    built = in_accounts(fleet, accounts)
    record = workdir / "allocations.yaml"
    if not record.exists() and fleet.allocations_file is not None and Path(fleet.allocations_file).is_file():
        shutil.copyfile(fleet.allocations_file, record)
    built.allocations_file = record
    return built


def without_backend_edges(graph: RootGraph, out: Path) -> RootGraph:
    """The build's `graph` of the roots in `out` less its state-backend edges: the sandbox's copies keep their
    state locally, so no root waits for the bucket's (`tfgen.sandbox.runner` says why the others stay)."""
    backend = set(backend_edges({root: read_root(out / root) for root in graph.roots}))
    return replace(graph, needs={root: tuple(n for n in needs if (root, n) not in backend)
                                 for root, needs in graph.needs.items()})
